"""`torch.distributions.HalfNormal`, with PyTorch's samples for the same seed."""

from __future__ import annotations

import math

from gradscope.autograd.tensor import Tensor
from gradscope.distributions._families import _Folded
from gradscope.distributions.normal import Normal


class HalfNormal(_Folded):
    """|Normal(0, scale)|."""

    def __init__(self, scale, validate_args: bool | None = None) -> None:
        super().__init__(Normal(0, scale, validate_args=False), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)

