"""A recurrent cell unrolled in a Python loop: the graph depends on the sequence length.

The same weights are used at every step, so their gradients sum the contributions of all steps;
the graph tree shows the shared weight nodes once and links their reuses.
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class ElmanCell(nn.Module):
    def __init__(self, inputs: int, hidden: int) -> None:
        super().__init__()
        self.input = nn.Linear(inputs, hidden)
        self.recurrent = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x, h):
        return torch.tanh(self.input(x) + self.recurrent(h))


cell = ElmanCell(3, 5)
readout = nn.Linear(5, 1)
sequence = torch.randn(7, 2, 3)  # 7 steps, batch of 2
target = torch.randn(2, 1)


def loss():
    h = torch.zeros(2, 5)
    for x in sequence:  # the loop length decides the graph
        h = cell(x, h)
    return nn.functional.mse_loss(readout(h), target)
