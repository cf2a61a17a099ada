"""A correct model whose values are near 1e11, where finite differences with the default step are noise.

A straight-line orbit fitted to positions in metres: the offset is about 1.5e11 (one astronomical
unit). At that magnitude float64 values are 3e-5 apart, so gradcheck's default step of 1e-6 is lost
when added to the offset, and the finite differences say 0 where the gradient is not. The backward is
right: `gradscope gradcheck` answers "inconclusive at this scale" (exit 3), not "failed", and
suggests a step the finite differences can resolve (`--eps 2000` passes).

    gradscope gradcheck sample_models/large_values.py
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class Orbit(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.offset = nn.Parameter(torch.tensor([1.496e11, -2.1e9]))  # metres
        self.velocity = nn.Parameter(torch.tensor([3.0e4, 1.2e3]))  # metres per second

    def forward(self, t):
        return self.offset + t[:, None] * self.velocity


model = Orbit()
t = torch.arange(6) * 60.0  # seconds
observed = torch.tensor([1.496e11 + 12.5, -2.1e9 - 4.0]) + t[:, None] * torch.tensor([3.0e4 + 0.02, 1.2e3 - 0.01])


def loss():
    return ((model(t) - observed) ** 2).mean()
