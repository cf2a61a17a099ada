"""A disconnected layer: `aux` is built and registered but forward never uses it.

Its parameters never reach the loss, so they get no gradient at all (`.grad` stays None); the
parameter table lists them as "no grad" and `gradscope check --rule connected` fails naming them.
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.aux = nn.Linear(8, 8)  # meant to be applied after body; forgotten in forward
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


model = Net()
x = torch.randn(10, 4)
y = torch.randn(10, 1)


def loss():
    return nn.functional.mse_loss(model(x), y)
