"""Pairwise distances whose forward is finite but whose backward is NaN.

An embedding's pairwise distances are computed as sqrt(sum of squares). The distance of each point
to itself is 0, and sqrt's derivative at 0 is infinite; the backward multiplies it by the zero
difference, and NaN reaches every parameter. The loss itself is finite, so only the gradients say
something is wrong: `gradscope gradcheck` reports the non-finite analytical gradient and names
SqrtBackward0 and its line (not a mismatch to fix with a larger --eps).

    gradscope gradcheck sample_models/nan_backward.py
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class Embedding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        z = self.fc(x)
        differences = z[:, None, :] - z[None, :, :]
        return (differences ** 2).sum(-1).sqrt()  # the diagonal is sqrt(0): an infinite derivative


model = Embedding()
x = torch.randn(5, 3)


def loss():
    return model(x).mean()
