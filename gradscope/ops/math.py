"""Pointwise math: inverse and hyperbolic trigonometry, logarithms, the gamma family, erfinv, xlogy,
logaddexp, fmod/remainder, frac, nan_to_num, lerp."""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops import special
from gradscope.ops.elementwise import fused_multiply_add
from gradscope.ops.registry import primitive

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _pass(g, s):
    return g


acos = primitive("acos", np.arccos, "AcosBackward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: -g / s.xp.sqrt(1 - s.self * s.self),))
asin = primitive("asin", np.arcsin, "AsinBackward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: g / s.xp.sqrt(1 - s.self * s.self),))
atan = primitive("atan", np.arctan, "AtanBackward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: g / (s.self * s.self + 1),))
def _atan2_scale(s):
    # NOTE: 1 / (x² + y²) taken as 0 at the origin, so both gradients are 0 there, as PyTorch's
    squares = s.self * s.self + s.other * s.other
    return s.xp.where(squares == 0, 0.0, 1 / s.xp.where(squares == 0, 1.0, squares))


atan2 = primitive("atan2", np.arctan2, "Atan2Backward0", inputs=("self", "other"),
                  saves=(("self", "other"), ("self", "other")),
                  vjp=(lambda g, s: g * s.other * _atan2_scale(s),
                       lambda g, s: g * -s.self * _atan2_scale(s)))
cosh = primitive("cosh", np.cosh, "CoshBackward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: g * s.xp.sinh(s.self),))
sinh = primitive("sinh", np.sinh, "SinhBackward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: g * s.xp.cosh(s.self),))
tan = primitive("tan", np.tan, "TanBackward0", inputs=("self",), saves=("result",),
                vjp=(lambda g, s: g * (1 + s.result * s.result),))
expm1 = primitive("expm1", np.expm1, "Expm1Backward0", inputs=("self",), saves=("result",),
                  vjp=(lambda g, s: g * (s.result + 1),))
log2 = primitive("log2", np.log2, "Log2Backward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: g / (s.self * _LN2),))
log10 = primitive("log10", np.log10, "Log10Backward0", inputs=("self",), saves=("self",),
                  vjp=(lambda g, s: g / (s.self * _LN10),))

# the gamma family: each derivative is the next op, so gradients of any order exist
lgamma = primitive("lgamma", special.lgamma, "LgammaBackward0", inputs=("self",), saves=("self",),
                   vjp=(lambda g, s: g * s.xp.digamma(s.self),))
digamma = primitive("digamma", special.digamma, "DigammaBackward0", inputs=("self",), saves=("self",),
                    vjp=(lambda g, s: g * s.xp.polygamma(1, s.self),))
polygamma = primitive("polygamma", lambda a, n: special.polygamma(n, a), "PolygammaBackward0", inputs=("self",),
                      params=("n",), saves=("self",), vjp=(lambda g, s: g * s.xp.polygamma(s.n + 1, s.self),))
# x.polygamma_(n) is an op of its own in PyTorch
polygamma_ = primitive("polygamma_", lambda a, n: special.polygamma(n, a), "PolygammaBackward1", inputs=("self",),
                       params=("n",), saves=("self",), vjp=(lambda g, s: g * s.xp.polygamma(s.n + 1, s.self),))
# NOTE: PyTorch saves the input and recomputes erfinv for the gradient (√π/2 · exp(erfinv(x)²))
erfinv = primitive("erfinv", special.erfinv, "ErfinvBackward0", inputs=("self",), saves=("self",),
                   vjp=(lambda g, s: g * _HALF_SQRT_PI * s.xp.exp(s.xp.erfinv(s.self) ** 2),))


def _xlogy_self_vjp(g, s):
    # NOTE: log y, except where x = 0 and y <= 0 (x log y is only defined at x = 0 there): 0, as PyTorch's
    xp, other = s.xp, s.other
    log_other = float(np.log(np.float64(other))) if isinstance(other, (int, float)) else xp.log(other)
    return xp.where((s.self == 0) & (other <= 0), 0 * g, g * log_other)


xlogy = primitive("xlogy", special.xlogy, "XlogyBackward0", inputs=("self", "other"),
                  saves=(("self", "other"), ("self", "other")),
                  vjp=(_xlogy_self_vjp, lambda g, s: g * s.self / s.other))
# xlogy(x, 2.0): the number is a parameter
xlogy_scalar_other = primitive("xlogy_scalar_other", special.xlogy, "XlogyBackward2", inputs=("self",),
                               params=("other",), saves=("self",), vjp=(_xlogy_self_vjp,))
# xlogy(2.0, y)
xlogy_scalar_self = primitive("xlogy_scalar_self", lambda other, x: special.xlogy(x, other), "XlogyBackward1",
                              inputs=("other",), params=("self",), saves=("other",),
                              vjp=(lambda g, s: g * s.self / s.other,))
logaddexp = primitive("logaddexp", np.logaddexp, "LogaddexpBackward0", inputs=("self", "other"),
                      saves=(("self", "other"), ("self", "other")),
                      vjp=(lambda g, s: g / (1 + s.xp.exp(s.other - s.self)),
                           lambda g, s: g / (1 + s.xp.exp(s.self - s.other))))


def python_remainder(a, b):
    """a − b · floor(a / b) (Python's %), with PyTorch's zeros: its kernel corrects C's fmod, whose zero has the
    dividend's sign, where NumPy's remainder gives a zero the divisor's (-3. % 3 is -0. in PyTorch)."""
    result = np.remainder(a, b)
    if result.dtype.kind == "f":
        result = np.where(result == 0, np.copysign(result, a), result)
    return result


# fmod and remainder: the quotient they subtract is piecewise constant, so the divisor's gradient is
# −quotient (rounded toward 0 for fmod, down for remainder: floor division's, as PyTorch's div(rounding_mode=
# "floor"), so 2 // -inf is -1 and inf // 2 nan, where floor(2 / -inf) is -0 and floor(inf / 2) inf) and the
# dividend's passes unchanged
fmod_scalar = primitive("fmod", np.fmod, "FmodBackward0", inputs=("self",), params=("other",), vjp=(_pass,),
                        unsaved=("other",))
fmod_tensor = primitive("fmod_tensor", np.fmod, "FmodBackward1", inputs=("self", "other"),
                        saves=((), ("self", "other")),
                        vjp=(_pass, lambda g, s: -g * s.xp.trunc(s.self / s.other)))
remainder_scalar = primitive("remainder", python_remainder, "RemainderBackward0", inputs=("self",), params=("other",),
                             vjp=(_pass,), unsaved=("other",))
remainder_tensor = primitive("remainder_tensor", python_remainder, "RemainderBackward1", inputs=("self", "other"),
                             saves=((), ("self", "other")),
                             vjp=(_pass, lambda g, s: -g * s.xp.floor_divide(s.self, s.other)))
frac = primitive("frac", lambda a: a - np.trunc(a), "FracBackward0", inputs=("self",), vjp=(_pass,))
# NOTE: the gradient is grad · isfinite(x), a product as in PyTorch: an infinite grad at a replaced value is nan
nan_to_num = primitive("nan_to_num", lambda a, nan, posinf, neginf: np.nan_to_num(a, nan=nan, posinf=posinf,
                                                                                   neginf=neginf),
                       "NanToNumBackward0", inputs=("self",), params=("nan", "posinf", "neginf"),
                       unsaved=("nan", "posinf", "neginf"), saves=("self",),
                       vjp=(lambda g, s: g * s.xp.isfinite(s.self),))


def _lerp(a, end, weight):
    # PyTorch's formula: from whichever end the weight is nearer, so lerp(a, b, 1) is exactly b; each a fused
    # multiply-add in float32
    step = end - a
    near = np.abs(weight) < 0.5
    if np.ndim(near) == 0:
        if step.dtype.kind == "f":  # a number weight in the tensors' dtype, as PyTorch's kernel takes it
            weight = step.dtype.type(weight)
        out = (fused_multiply_add(a, weight, step, a + weight * step) if near else
               fused_multiply_add(end, -(1 - weight), step, end - step * (1 - weight)))
    else:
        out = np.where(near, fused_multiply_add(a, weight, step, a + weight * step),
                       fused_multiply_add(end, -(1 - weight), step, end - step * (1 - weight)))
    return out.astype(np.result_type(a, end), copy=False)


lerp_scalar = primitive("lerp", _lerp, "LerpBackward0", inputs=("self", "end"), params=("weight",),
                        vjp=(lambda g, s: g * (1 - s.weight), lambda g, s: g * s.weight))
lerp_tensor = primitive("lerp_tensor", _lerp, "LerpBackward1", inputs=("self", "end", "weight"),
                        saves=("weight", "weight", ("self", "end")),
                        vjp=(lambda g, s: g * (1 - s.weight), lambda g, s: g * s.weight,
                             lambda g, s: g * (s.end - s.self)))
