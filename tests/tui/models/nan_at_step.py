"""A training loop whose pass 2 (counting from 0) meets a zero under a square root: SqrtBackward0 turns the
finite gradient into inf there; every other pass is finite. gradscope records it as __main__."""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)
model = nn.Linear(2, 1)

for step in range(4):
    x = torch.tensor([[1.0, 0.0 if step == 2 else 1.0]], requires_grad=True)
    loss = model(x.sqrt()).sum()
    model.zero_grad()
    loss.backward()
