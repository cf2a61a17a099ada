"""`torch.distributions.LogisticNormal`: a Normal pushed onto the simplex by stick-breaking."""

from __future__ import annotations

from gradscope.autograd.tensor import Tensor
from gradscope.distributions import constraints
from gradscope.distributions.normal import Normal
from gradscope.distributions.transformed_distribution import TransformedDistribution
from gradscope.distributions.transforms import StickBreakingTransform


class LogisticNormal(TransformedDistribution):
    """StickBreakingTransform of Normal(loc, scale): on the simplex of one more dimension."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(LogisticNormal, _instance))

    @property
    def loc(self) -> Tensor:
        return self.base_dist.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.base_dist.scale
