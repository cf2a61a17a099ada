"""`torch.distributions.HalfCauchy`, with PyTorch's samples for the same seed."""

from __future__ import annotations

import math

from gradscope.autograd.factories import full
from gradscope.autograd.tensor import Tensor
from gradscope.distributions._families import _Folded
from gradscope.distributions.cauchy import Cauchy


class HalfCauchy(_Folded):
    """|Cauchy(0, scale)|."""

    def __init__(self, scale, validate_args: bool | None = None) -> None:
        super().__init__(Cauchy(0, scale, validate_args=False), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

