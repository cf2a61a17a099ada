"""`torch.distributions.InverseGamma`: 1 / X for X ~ Gamma(concentration, rate), with PyTorch's samples for
the same seed and Gamma's reparameterisation gradients."""

from __future__ import annotations

import math

from gradscope.autograd.functions import where
from gradscope.autograd.tensor import Tensor
from gradscope.distributions import constraints
from gradscope.distributions.gamma import Gamma
from gradscope.distributions.transformed_distribution import TransformedDistribution
from gradscope.distributions.transforms import PowerTransform


class InverseGamma(TransformedDistribution):
    """InverseGamma(concentration, rate) on x > 0."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args: bool | None = None) -> None:
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        super().__init__(base_dist, PowerTransform(-base_dist.rate.new_ones(())), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(InverseGamma, _instance))

    @property
    def concentration(self) -> Tensor:
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        return self.base_dist.rate

    @property
    def mean(self) -> Tensor:
        return where(self.concentration > 1, self.rate / (self.concentration - 1), math.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        result = self.rate.square() / ((self.concentration - 1).square() * (self.concentration - 2))
        return where(self.concentration > 2, result, math.inf)

    def entropy(self) -> Tensor:
        return (self.concentration + self.rate.log() + self.concentration.lgamma()
                - (1 + self.concentration) * self.concentration.digamma())
