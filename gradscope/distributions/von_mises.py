"""`torch.distributions.VonMises`: a circular distribution of angles, with PyTorch's samples for the same seed
(Best and Fisher's rejection sampler, run in float64 on whole batches of PyTorch's uniforms)."""

from __future__ import annotations

import math

from gradscope import _dtypes
from gradscope.autograd.factories import empty, rand
from gradscope.autograd.functions import where
from gradscope.autograd.grad_mode import no_grad
from gradscope.autograd.tensor import Size, Tensor
from gradscope.distributions import constraints
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.utils import broadcast_all, lazy_property

# Abramowitz and Stegun 9.8.1-9.8.4: I0 and I1 as polynomials in (x/3.75)² below 3.75, and e^x/√x times one
# in 3.75/x above (the coefficients PyTorch uses, lowest degree first)
_SMALL = {
    0: (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2),
    1: (0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3),
}
_LARGE = {
    0: (0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1, 0.2635537e-1,
        -0.1647633e-1, 0.392377e-2),
    1: (0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1, -0.2895312e-1,
        0.1787654e-1, -0.420059e-2),
}


def _polynomial(y: Tensor, coefficients: tuple[float, ...]) -> Tensor:
    """Σ cᵢ yⁱ by Horner's rule, from the highest degree down."""
    result = coefficients[-1]
    for coefficient in reversed(coefficients[:-1]):
        result = coefficient + y * result
    return result


def _log_bessel_i(x: Tensor, order: int) -> Tensor:
    """log I_order(x) for x > 0 and order 0 or 1."""
    y = x / 3.75
    small = _polynomial(y * y, _SMALL[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _polynomial(3.75 / x, _LARGE[order]).log()
    return where(x < 3.75, small.log(), large)


def _rejection_sample(loc: Tensor, concentration: Tensor, proposal_r: Tensor, x: Tensor) -> Tensor:
    """Best and Fisher's sampler: every round draws three uniforms per element, still waiting or not, and keeps
    the accepted angles of the elements still waiting; the angle is then turned by `loc` into [-π, π)."""
    done = x.new_zeros(x.shape, dtype=_dtypes.bool)
    while not done.all():
        u1, u2, u3 = rand((3, *x.shape), dtype=loc.dtype).unbind()
        z = (math.pi * u1).cos()
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
        if accept.any():
            x = where(accept, (u3 - 0.5).sign() * f.acos(), x)
            done = done | accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """VonMises(loc, concentration): density e^(concentration · cos(x − loc)) / (2π I0(concentration)); `loc` and
    values are angles in radians, any real number (read modulo 2π). No rsample, as PyTorch's.

    >>> VonMises(torch.tensor(0.0), torch.tensor(2.0)).log_prob(torch.tensor(0.5))
    tensor(-0.5831)
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * (value - self.loc).cos()
        return log_prob - math.log(2 * math.pi) - _log_bessel_i(self.concentration, 0)

    # the sampler runs in float64: in float32 it hangs for concentrations near 1e-4 (PyTorch's issue 88443)
    @lazy_property
    def _loc(self) -> Tensor:
        return self.loc.to(_dtypes.float64)

    @lazy_property
    def _concentration(self) -> Tensor:
        return self.concentration.to(_dtypes.float64)

    @lazy_property
    def _proposal_r(self) -> Tensor:
        kappa = self._concentration
        tau = 1 + (1 + 4 * kappa**2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        # NOTE: below 1e-5 the exact form cancels to nothing; its Taylor expansion stands in
        return where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho**2) / (2 * rho))

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            x = empty(self._extended_shape(sample_shape), dtype=self._loc.dtype)
            return _rejection_sample(self._loc, self._concentration, self._proposal_r, x).to(self.loc.dtype)

    def expand(self, batch_shape, _instance=None):
        # a new instance of the type (a subclass's too), as PyTorch's: the base class's expand is not implemented
        validate_args = self.__dict__.get("_validate_args")
        return type(self)(self.loc.expand(batch_shape), self.concentration.expand(batch_shape),
                          validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        """The circular mean."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        """The circular variance, 1 − I1(concentration) / I0(concentration)."""
        return 1 - (_log_bessel_i(self.concentration, 1) - _log_bessel_i(self.concentration, 0)).exp()
