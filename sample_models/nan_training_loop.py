"""A training loop that goes NaN at one step, though that step's loss is still finite.

Each batch's features go through `torch.log` before the model sees them (a fixed preprocessing
step: the features don't require grad, so no autograd node records it). Batch 3 carries a zero
feature: log(0) = -inf. The first layer turns it into ±inf, tanh saturates to ±1, and the loss
that step is finite. In the backward pass tanh's derivative is 0 there and 0 · -inf is NaN: the
first layer's weight gradient is NaN, SGD writes NaN into the weight, and from the next step on
every value, loss and gradient is NaN.

    python sample_models/nan_training_loop.py       # losses go nan after step 3
    gradscope inspect sample_models/nan_training_loop.py    # names step 3 and the log line
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)

BAD_STEP = 3  # the batch with a zero feature
STEPS = 8

model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for step in range(STEPS):
    raw = torch.rand(16, 4) + 0.5  # positive measurements
    if step == BAD_STEP:
        raw[5, 2] = 0.0  # a sensor reading of zero
    target = raw.sum(dim=1, keepdim=True)
    features = torch.log(raw)  # log(0) = -inf: born outside the autograd graph
    loss = ((model(features) - target) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.4f}")
