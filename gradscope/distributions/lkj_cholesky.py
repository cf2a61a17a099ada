"""`torch.distributions.LKJCholesky`: lower Cholesky factors of correlation matrices, sampled by the onion method
(Lewandowski, Kurowicka and Joe, 2009, section 3) from PyTorch's Beta and normal draws for the same seed."""

from __future__ import annotations

import math

from gradscope import _runtime
from gradscope.autograd.factories import arange, randn
from gradscope.autograd.pointwise import lgamma
from gradscope.autograd.pointwise_extra import mvlgamma
from gradscope.autograd.shape_functions import cat
from gradscope.autograd.tensor import Size, Tensor
from gradscope.distributions import constraints
from gradscope.distributions.beta import Beta
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.utils import broadcast_all


class LKJCholesky(Distribution):
    """LKJCholesky(dim, concentration): L with L Lᵀ a dim × dim correlation matrix M of density ∝ det(M)^(η − 1)
    for η = concentration (uniform over correlation matrices at 1). Its `sample` is no rsample, as PyTorch's.

    >>> LKJCholesky(3, 0.5).sample().shape
    torch.Size([3, 3])
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # row i of L is √y · a uniform direction in its first i coordinates, y ~ Beta(i/2, η + (dim − 2)/2 − i/2)
        # (row 0 is e₀: its Beta is never read)
        offset = arange(dim - 1, dtype=self.concentration.dtype)
        offset = cat([offset.new_zeros((1,)), offset])
        marginal = self.concentration + 0.5 * (dim - 2)
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), Size((dim, dim)), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()) -> Tensor:
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        normal = randn(self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
        direction = normal / normal.norm(dim=-1, keepdim=True)  # row 0 is 0/0: set to 0 below
        direction[..., 0, :].fill_(0.0)
        w = y.sqrt() * direction
        # NOTE: tiny, not 0: the diagonal's square root must stay differentiable where a row's norm reaches 1
        diagonal = (1 - (w**2).sum(dim=-1)).clamp(min=_runtime.finfo(w.dtype).tiny).sqrt()
        w += diagonal.diag_embed()
        return w

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diagonal = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - arange(2, self.dim + 1)
        unnormalized = (order * diagonal.log()).sum(dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalizer = 0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1) - lgamma(alpha) * dm1
        return unnormalized - normalizer
