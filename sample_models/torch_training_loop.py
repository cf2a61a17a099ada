"""An unmodified PyTorch training loop: DataLoader, AdamW, a cosine schedule and gradient clipping.

    gradscope inspect sample_models/torch_training_loop.py    # records every backward pass of the loop
    gradscope check sample_models/torch_training_loop.py
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

features = torch.randn(64, 5)
targets = (features[:, :1] * 1.5 - features[:, 1:2]).tanh()
loader = DataLoader(TensorDataset(features, targets), batch_size=16, shuffle=True)

model = nn.Sequential(nn.Linear(5, 16), nn.GELU(), nn.Linear(16, 1))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
criterion = nn.MSELoss()

for epoch in range(2):
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
    print(f"epoch {epoch} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.5f}")
