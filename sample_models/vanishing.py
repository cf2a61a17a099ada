"""Vanishing gradients: a deep stack of sigmoid layers.

sigmoid'(x) ≤ 1/4, so every layer shrinks the gradient; the first layer's gradient is orders of
magnitude smaller than the last one's (`gradscope check --rule vanishing` fails on it).
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)

depth = 20
model = nn.Sequential(*[module for _ in range(depth) for module in (nn.Linear(8, 8), nn.Sigmoid())])
x = torch.randn(16, 8)
target = torch.rand(16, 8)


def loss():
    return nn.functional.mse_loss(model(x), target)
