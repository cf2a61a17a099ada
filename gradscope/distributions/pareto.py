"""`torch.distributions.Pareto`: scale · e^X for X ~ Exponential(alpha), with PyTorch's samples for the same
seed."""

from __future__ import annotations

from gradscope.autograd.tensor import Tensor
from gradscope.distributions import constraints
from gradscope.distributions.exponential import Exponential
from gradscope.distributions.transformed_distribution import TransformedDistribution
from gradscope.distributions.transforms import AffineTransform, ExpTransform
from gradscope.distributions.utils import broadcast_all


class Pareto(TransformedDistribution):
    """Pareto(scale, alpha): density alpha · scale^alpha / x^(alpha+1) on x ≥ scale."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale, alpha, validate_args: bool | None = None) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        super().__init__(Exponential(self.alpha, validate_args=validate_args),
                         [ExpTransform(), AffineTransform(loc=0, scale=self.scale)], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Pareto, _instance)
        new.scale, new.alpha = self.scale.expand(batch_shape), self.alpha.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())
