"""Exploding gradients: twelve linear layers initialised far too large (std 3, no normalisation).

Each layer multiplies activations and gradients by roughly 3·√width·0.75 ≈ 9, so after twelve
layers the first layers' gradients are ~1e10 times too large; `gradscope check --rule grad-norm`
fails on it.
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)

layers = []
for _ in range(12):
    layer = nn.Linear(16, 16)
    with torch.no_grad():
        layer.weight.normal_(0.0, 3.0)
    layers += [layer, nn.LeakyReLU(0.5)]
model = nn.Sequential(*layers)
x = torch.randn(8, 16)


def loss():
    return model(x).mean()
