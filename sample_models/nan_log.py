"""A log that sees 0 deep in the graph: the forward makes -inf, the backward NaN.

The head gates its scores with a fixed 0/1 mask, and `log` of a gated-off score is -inf. In the
backward pass log's derivative 1/x is infinite there, the gate multiplies that by 0, and NaN
flows into every parameter. `gradscope inspect` names `log`, its line and its module scope as the
culprit, and the nodes above and below as the ones that only passed the NaN on.
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 4)
        self.gate = torch.tensor([1.0, 0.0, 1.0, 1.0])  # the second score is switched off

    def forward(self, h):
        scores = torch.sigmoid(self.proj(h)) * self.gate
        return scores.log()  # log(0) = -inf wherever the gate is off


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
