"""`torch.distributions.Chi2`: Gamma(df / 2, 1 / 2)."""

from __future__ import annotations

from gradscope.autograd.tensor import Tensor
from gradscope.distributions import constraints
from gradscope.distributions.gamma import Gamma


class Chi2(Gamma):
    """χ²(df): Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, self._get_checked_instance(Chi2, _instance))

    @property
    def df(self) -> Tensor:
        return self.concentration * 2

