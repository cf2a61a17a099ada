"""TD(λ) with eligibility traces (seed 003): gradients of a value estimate, accumulated by hand.

Each step computes v(s), calls v.backward(), folds p.grad into the eligibility trace z and then
overwrites p.grad with the update direction — the pattern from the seed, on a tiny linear model.
It has no loss() function, so gradscope runs it as __main__ and records every backward.
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)

model = nn.Linear(4, 1)
alpha, gamma, lamda = 0.1, 0.9, 0.8
z_theta = [torch.zeros_like(p) for p in model.parameters()]
states = torch.randn(6, 4)
rewards = torch.randn(6)

for t in range(len(states) - 1):
    model.zero_grad()
    v = model(states[t]).squeeze()
    v.backward()
    with torch.no_grad():
        delta = rewards[t] + gamma * model(states[t + 1]).squeeze() - v
    for i, p in enumerate(model.parameters()):
        z_theta[i][:] = gamma * lamda * z_theta[i] + p.grad
        p.grad[:] = alpha * delta * z_theta[i]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(p.grad)

print("final weights", model.weight.detach().numpy().round(3))
