"""`torch.distributions.Gamma` and `Chi2`. Samples are PyTorch's for the same seed (gradscope runs its
Marsaglia-Tsang sampler, `_standard_gamma`); `rsample`'s gradients are its implicit reparameterisation
ones (StandardGammaBackward0)."""

from __future__ import annotations

from numbers import Number

from gradscope import _runtime
from gradscope.autograd.factories import as_tensor
from gradscope.autograd.pointwise import digamma, lgamma, xlogy
from gradscope.autograd.pointwise_extra import igamma
from gradscope.autograd.random_functions import _standard_gamma
from gradscope.autograd.tensor import Size, Tensor
from gradscope.distributions import constraints
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.exp_family import ExponentialFamily
from gradscope.distributions.utils import broadcast_all


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate): density ∝ x^(concentration−1) e^(−rate·x) on x ≥ 0.

        prior = Gamma(torch.tensor(2.0), torch.tensor(0.5)); prior.rsample((10,))
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, Number) and isinstance(rate, Number)
        super().__init__(Size() if scalar else self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration, new.rate = self.concentration.expand(batch_shape), self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=_runtime.finfo(value.dtype).tiny)  # in place, outside the graph
        return value

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value) - self.rate * value
                - lgamma(self.concentration))

    def entropy(self) -> Tensor:
        return (self.concentration - self.rate.log() + lgamma(self.concentration)
                + (1.0 - self.concentration) * digamma(self.concentration))

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return igamma(self.concentration, self.rate * value)

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()

