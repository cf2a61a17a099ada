"""`torch.distributions.GeneralizedPareto`: the tails of other distributions (Exponential at concentration 0,
Pareto above, Uniform at -1), sampled by its inverse CDF from PyTorch's uniforms for the same seed."""

from __future__ import annotations

import math
from numbers import Number

from gradscope.autograd.factories import ones_like, rand, tensor, zeros_like
from gradscope.autograd.functions import isclose, where
from gradscope.autograd.rearrange import broadcast_to
from gradscope.autograd.tensor import Size, Tensor
from gradscope.distributions import constraints
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.utils import broadcast_all


class GeneralizedPareto(Distribution):
    """GeneralizedPareto(loc, scale, concentration): survival (1 + concentration · z)^(−1/concentration) for
    z = (x − loc) / scale, e^(−z) at concentration 0.

    >>> GeneralizedPareto(0.0, 1.0, 0.5).log_prob(torch.tensor(1.0))
    tensor(-1.2164)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        numbers = all(isinstance(v, Number) for v in (loc, scale, concentration))
        super().__init__(Size() if numbers else self.loc.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _safe_concentration(self, zero: Tensor) -> tuple[Tensor, Tensor]:
        """Where the concentration is (close to) `zero`, the exponential limit is taken: 1 stands in for it there,
        so that the other branch stays finite (and its gradient too)."""
        at_zero = isclose(self.concentration, zero)
        return at_zero, where(at_zero, ones_like(self.concentration), self.concentration)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.icdf(rand(self._extended_shape(sample_shape), dtype=self.loc.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        # NOTE: PyTorch compares with a 0 of the default dtype here: a float64 concentration raises (isclose refuses
        # mixed dtypes), in log_prob and the survival function (cdf) alone
        at_zero, concentration = self._safe_concentration(tensor(0.0))
        exponent = 1 / concentration + ones_like(z)
        # NOTE: an exponent of 0 (concentration -1, the uniform) times log1p(-z) would be 0 · -inf at the edge
        general = where(exponent == 0, exponent, exponent * (concentration * z).log1p())
        return -self.scale.log() - where(at_zero, z, general)

    def log_survival_function(self, value: Tensor) -> Tensor:
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        at_zero, concentration = self._safe_concentration(tensor(0.0))  # see log_prob
        return where(at_zero, -z, -(concentration * z).log1p() / concentration)

    def log_cdf(self, value: Tensor) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value: Tensor) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        at_zero, concentration = self._safe_concentration(zeros_like(self.concentration))
        log_survival = (-value).log1p()
        general = self.loc + self.scale / concentration * (-concentration * log_survival).expm1()
        return where(at_zero, self.loc - self.scale * log_survival, general)

    @property
    def mean(self) -> Tensor:
        finite = self.concentration < 1
        concentration = where(finite, self.concentration, 0.5)
        return where(finite, self.loc + self.scale / (1 - concentration), math.nan)

    @property
    def variance(self) -> Tensor:
        finite = self.concentration < 0.5
        concentration = where(finite, self.concentration, 0.25)
        return where(finite, self.scale**2 / ((1 - concentration) ** 2 * (1 - 2 * concentration)), math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    def entropy(self) -> Tensor:
        return broadcast_to(self.scale.log() + self.concentration + 1, self._batch_shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = where(self.concentration < 0, self.loc - self.scale / self.concentration, math.inf)
        return constraints.interval(self.loc, upper)
