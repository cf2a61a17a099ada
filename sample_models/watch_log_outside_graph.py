"""A training loop whose data goes bad at one step, outside the autograd graph.

The features are log-counts. At step 37 one count is 0: `torch.log` makes -inf on data that doesn't
require grad (no node records it), tanh saturates, and that step's loss is still finite. Its gradient
is NaN, the optimiser writes NaN into model.0.weight, and every later step is NaN.

    gradscope watch sample_models/watch_log_outside_graph.py    # stops at step 37 and names the log line
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)
BAD_STEP = 37

model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
criterion = nn.MSELoss()

for step in range(100):
    counts = torch.randint(1, 20, (32, 6)).float()
    if step == BAD_STEP:
        counts[3, 2] = 0.0  # an empty bin in one batch
    target = (counts[:, :1] > 10).float()
    features = torch.log(counts)  # -inf where a count is 0
    loss = criterion(model(features), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"final loss {loss.item():.4f}")
