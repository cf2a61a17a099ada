"""`torch.distributions.NegativeBinomial`: a Poisson of Gamma-distributed rate, with PyTorch's samples for the
same seed."""

from __future__ import annotations

from gradscope.autograd.grad_mode import no_grad
from gradscope.autograd.pointwise import lgamma
from gradscope.autograd.random_functions import poisson
from gradscope.autograd.tensor import Size, Tensor
from gradscope.distributions import constraints
from gradscope.distributions._families import _ProbsOrLogits
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.gamma import Gamma
from gradscope.distributions.utils import lazy_property
from gradscope.nn.functional import logsigmoid


class NegativeBinomial(_ProbsOrLogits):
    """The number of successes before `total_count` failures, each trial a success with `probs`."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0), "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args: bool | None = None) -> None:
        self._set_parameter(total_count, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = Size(batch_shape)
        self._expand_parameters(new, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    @lazy_property
    def _gamma(self) -> Gamma:
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(), validate_args=False)

    def sample(self, sample_shape=()) -> Tensor:
        """A Poisson draw of a Gamma-distributed rate."""
        with no_grad():
            return poisson(self._gamma.sample(sample_shape=sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        log_normalization = (-lgamma(self.total_count + value) + lgamma(1.0 + value) + lgamma(self.total_count))
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization

