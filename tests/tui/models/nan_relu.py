"""The browser tests' own NaN model (a frozen copy of an early sample_models/nan_log.py).

The ReLU zeroes some activations and `log` of them is -inf; the backward of log turns that into
NaN. The tests check exact tree lines, counts and labels on it, so it must not change with the
samples.
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 4)

    def forward(self, h):
        scores = torch.relu(self.proj(h))
        return scores.log()  # log(0) = -inf wherever the ReLU is off


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.head = Head()

    def forward(self, x):
        return self.head(torch.tanh(self.encoder(x)))


model = Model()
x = torch.randn(16, 6)
mask = (torch.rand(16, 4) > 0.5).float()


def loss():
    return (model(x) * mask).mean()
