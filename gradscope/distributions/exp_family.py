"""`torch.distributions.ExponentialFamily`: distributions of density exp(⟨θ, t(x)⟩ − F(θ) + k(x)), whose
entropy (and KL between two of one type) follow from the log-normaliser F by differentiation."""

from __future__ import annotations

from gradscope.autograd.engine import grad
from gradscope.autograd.tensor import Tensor
from gradscope.distributions.distribution import Distribution


class ExponentialFamily(Distribution):
    """Subclasses give `_natural_params` (θ), `_log_normalizer(*θ)` (F) and `_mean_carrier_measure` (E[k(x)])."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """F(θ) − ⟨θ, ∇F(θ)⟩ − E[k(x)], ∇F by autograd (Bregman divergence of F)."""
        result = -self._mean_carrier_measure
        natural_params = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*natural_params)
        gradients = grad(log_normalizer.sum(), natural_params, create_graph=True)
        result += log_normalizer
        for param, gradient in zip(natural_params, gradients):
            result -= (param * gradient).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
