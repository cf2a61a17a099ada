"""Dead ReLUs: a hidden layer whose bias is so negative that most units never fire.

A dead unit outputs 0 for the whole batch, so its weights get exactly zero gradient and never
recover; the parameter table shows the zero fraction of `model.hidden.weight`'s gradient.
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)

model = nn.Sequential()
model.add_module("hidden", nn.Linear(10, 32))
model.add_module("relu", nn.ReLU())
model.add_module("out", nn.Linear(32, 1))
with torch.no_grad():
    model.hidden.bias.fill_(-4.0)  # pushes most pre-activations below zero
    model.hidden.bias[:4] = 1.0  # a few units stay alive

x = torch.randn(64, 10)
y = torch.randn(64, 1)


def loss():
    return nn.functional.mse_loss(model(x), y)
