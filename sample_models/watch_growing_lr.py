"""A training loop that diverges: the learning rate grows by half each step until the updates overshoot.

The loss falls at first, then the gradient norms climb, the weights blow up, and after a few dozen
steps the forward pass overflows to inf and then NaN.

    gradscope watch sample_models/watch_growing_lr.py                     # stops at the first non-finite step
    gradscope watch sample_models/watch_growing_lr.py --rule grad-spike   # stops earlier, at the first spike
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)

features = torch.randn(64, 8)
targets = features @ torch.randn(8, 1) + 0.1 * torch.randn(64, 1)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=1.5)
criterion = nn.MSELoss()

for _ in range(200):
    loss = criterion(model(features), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
print(f"final loss {loss.item():.4f}")
