"""More pointwise primitives: inverse hyperbolic functions, exp2, erfc, sinc, logit, i0 (and i1, its
derivative), mvlgamma, sgn, angle, degree/radian conversions, hypot, copysign, fmax/fmin, logaddexp2, nextafter, ldexp,
frexp, addcmul/addcdiv, and the zero-gradient nodes of comparisons done in place."""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops import special
from gradscope.ops.elementwise import fused_multiply_add
from gradscope.ops.math import python_remainder
from gradscope.ops.namespace import torch_sign
from gradscope.ops.registry import Primitive, primitive

_LN2 = math.log(2.0)
_DEGREE = math.pi / 180
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _zeros(g, s):
    return s.xp.zeros_like(g)


def _pass(g, s):
    return g


asinh = primitive("asinh", np.arcsinh, "AsinhBackward0", inputs=("self",), saves=("self",),
                  vjp=(lambda g, s: g / s.xp.sqrt(s.self * s.self + 1),))
acosh = primitive("acosh", np.arccosh, "AcoshBackward0", inputs=("self",), saves=("self",),
                  vjp=(lambda g, s: g / s.xp.sqrt((s.self - 1) * (s.self + 1)),))
atanh = primitive("atanh", np.arctanh, "AtanhBackward0", inputs=("self",), saves=("self",),
                  vjp=(lambda g, s: g / (1 - s.self * s.self),))
exp2 = primitive("exp2", np.exp2, "Exp2Backward0", inputs=("self",), saves=("result",),
                 vjp=(lambda g, s: g * s.result * _LN2,))

_erfc_elements = np.frompyfunc(math.erfc, 1, 1)


def _erfc(a: np.ndarray) -> np.ndarray:
    # NOTE: 1 - erf(x) would lose every digit in the tail; math.erfc keeps them
    return np.asarray(_erfc_elements(a), dtype=a.dtype)


erfc = primitive("erfc", _erfc, "ErfcBackward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: -g * _TWO_OVER_SQRT_PI * s.xp.exp(-s.self * s.self),))


def _sinc(a: np.ndarray) -> np.ndarray:
    return np.sinc(a).astype(a.dtype, copy=False)


def _sinc_vjp(g, s):
    # NOTE: (πx cos πx − sin πx) / (πx²), taken as 0 wherever πx² is 0 (x = 0, and tiny x where it underflows),
    # as PyTorch's sinc_backward
    xp, x = s.xp, s.self
    angle = x * math.pi
    denominator = x * x * math.pi
    zero = denominator == 0
    return g * xp.where(zero, 0.0, (angle * xp.cos(angle) - xp.sin(angle)) / xp.where(zero, 1.0, denominator))


sinc = primitive("sinc", _sinc, "SincBackward0", inputs=("self",), saves=("self",), vjp=(_sinc_vjp,))


def _logit(a: np.ndarray, eps) -> np.ndarray:
    if eps is not None:
        a = np.clip(a, eps, 1 - eps)
    return np.log(a / (1 - a))


def _logit_vjp(g, s):
    # NOTE: PyTorch's logit_backward: nan outside [0, 1] without eps; with it 0 outside [eps, 1 − eps], nan included.
    # That is its vectorised loop's; the scalar loop for a tensor's tail (past the last full SIMD vector, so a small
    # tensor's every element) gives g · inf at ±0 (+inf at -0.0) and keeps nan with eps. Torch 2.13 on this AMD
    # host: logit(full((1,), -0.0)) backward gives +inf, full((64,), -0.0) -inf. Here: the vectorised loop's.
    xp, x = s.xp, s.self
    if s.eps is None:
        return xp.where((x < 0.0) | (x > 1.0), math.nan, g / (x * (1 - x)))
    return xp.where((x >= s.eps) & (x <= 1 - s.eps), g / (x * (1 - x)), 0.0)


logit = primitive("logit", _logit, "LogitBackward0", inputs=("self",), params=("eps",), saves=("self",),
                  vjp=(_logit_vjp,))


def _i1(a: np.ndarray) -> np.ndarray:
    """The modified Bessel function I₁: its power series up to |x| = 30 (positive terms, no cancellation),
    the asymptotic series e^|x| / √(2π|x|) · Σ … beyond (its terms shrink until k ≈ 2|x|)."""
    x = np.asarray(a, dtype=np.float64)
    size = np.abs(x)
    small = np.where(size <= 30, size, 0.0)
    half = small / 2
    term = half.copy()
    series = term.copy()
    for k in range(1, 80):
        term = term * half * half / (k * (k + 1))
        series = series + term
    large = np.where(size > 30, size, 30.0)
    coefficient, asymptotic = 1.0, np.ones_like(large)
    for k in range(1, 30):
        coefficient *= (4 - (2 * k - 1) ** 2) / (8 * k)
        asymptotic = asymptotic + coefficient * (-1) ** k / large ** k
    with np.errstate(over="ignore"):
        asymptotic = asymptotic * np.exp(large) / np.sqrt(2 * math.pi * large)
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    # NOTE: PyTorch's kernel computes e^|x| in the input's dtype: inf once that overflows (|x| > 88.72 in float32)
    out = np.where(size > math.log(np.finfo(dtype).max), math.inf, np.where(size <= 30, series, asymptotic))
    # and nan at ±inf (e^∞ / √∞ there), +0 at −0 (odd by a test x < 0), as PyTorch's
    return np.where(np.isnan(x) | np.isinf(x), np.nan, np.where(x < 0, -out, out)).astype(dtype, copy=False)


def _i1_vjp(g, s):
    # I₁' = I₀ − I₁ / x; ½ where |x| ≤ the dtype's eps and at nan (a failed `|x| > eps`), as PyTorch's i1_backward
    xp, x = s.xp, s.self
    not_tiny = xp.abs(x) > float(np.finfo(xp.dtype_of(x)).eps)
    ratio = s.result / xp.where(not_tiny, x, 1.0)
    return g * xp.where(not_tiny, xp.apply(i0, (x,)) - ratio, 0.5)


# NOTE: PyTorch's torch.special.i1; here it is what i0's gradient calls, so that it has gradients of any order
i1 = primitive("i1", _i1, "SpecialI1Backward0", inputs=("self",), saves=(("self", "result"),), vjp=(_i1_vjp,))
i0 = primitive("i0", lambda a: np.i0(a).astype(a.dtype, copy=False), "I0Backward0", inputs=("self",),
               saves=("self",), vjp=(lambda g, s: g * s.xp.apply(i1, (s.self,)),))


def _mvlgamma(a, p):
    """log Γ_p(a) = p(p − 1)/4 · log π + Σ_{i<p} lgamma(a − i/2)."""
    out = sum(special.lgamma(a - i / 2) for i in range(p)) + p * (p - 1) / 4 * math.log(math.pi)
    return np.asarray(out).astype(a.dtype, copy=False)


def _mvlgamma_vjp(g, s):
    total = s.xp.digamma(s.self)
    for i in range(1, s.p):
        total = total + s.xp.digamma(s.self - i / 2)
    return g * total


mvlgamma = primitive("mvlgamma", _mvlgamma, "MvlgammaBackward0", inputs=("self",), params=("p",), saves=("self",),
                     vjp=(_mvlgamma_vjp,))
# the gradient of sgn (sign for real inputs) is zero; PyTorch's node saves both anyway


def _sgn_complex_vjp(g, s):
    # sgn(z) = z / |z|: PyTorch's (g − sgn² · conj(g)) / 2|z|, and 0 at z = 0
    xp = s.xp
    magnitude = xp.abs(s.self)
    zero = magnitude == 0
    return xp.where(zero, 0.0, (g - s.result * s.result * xp.conj(g)) / (2 * xp.where(zero, 1.0, magnitude)))


sgn = primitive("sgn", torch_sign, "SgnBackward0", inputs=("self",), saves=(("self", "result"),), vjp=(_zeros,),
                complex_vjp=(_sgn_complex_vjp,))
deg2rad = primitive("deg2rad", lambda a: a * np.asarray(_DEGREE, a.dtype), "Deg2RadBackward0", inputs=("self",),
                    vjp=(lambda g, s: g * _DEGREE,))
rad2deg = primitive("rad2deg", lambda a: a * np.asarray(1 / _DEGREE, a.dtype), "Rad2DegBackward0",
                    inputs=("self",), vjp=(lambda g, s: g * (1 / _DEGREE),))



def _angle(a):
    if a.dtype.kind == "c":
        return np.angle(a)
    # the argument of a real number: π below 0 (−0.0 included as 0), nan kept
    return np.where(a < 0, math.pi, np.where(a != a, math.nan, 0.0)).astype(a.dtype, copy=False)


def _angle_complex_vjp(g, s):
    # d angle = (x dy − y dx) / |z|²: the gradient g · iz / |z|², 0 at z = 0 as PyTorch's
    xp, z = s.xp, s.self
    squared = xp.real(z * xp.conj(z))
    zero = squared == 0
    return xp.where(zero, 0.0, g * z * 1j / xp.where(zero, 1.0, squared))


angle = primitive("angle", _angle, "AngleBackward0", inputs=("self",), saves=("self",), vjp=(_zeros,),
                  complex_vjp=(_angle_complex_vjp,))
hypot = primitive("hypot", np.hypot, "HypotBackward0", inputs=("self", "other"),
                  saves=(("self", "result"), ("other", "result")),
                  vjp=(lambda g, s: g * s.self / s.result, lambda g, s: g * s.other / s.result))


def _copysign_vjp(g, s):
    # NOTE: ±1, the ratio result / self, taken as 0 where self is 0, as PyTorch's
    xp, x = s.xp, s.self
    zero = x == 0
    return g * xp.where(zero, 0.0, s.result / xp.where(zero, 1.0, x))


copysign = primitive("copysign", np.copysign, "CopysignBackward0", inputs=("self", "other"),
                     saves=(("self", "result"),), vjp=(_copysign_vjp, _zeros))
copysign_scalar = primitive("copysign_scalar", np.copysign, "CopysignBackward1", inputs=("self",), params=("other",),
                            saves=(("self", "result"),), vjp=(_copysign_vjp,))


def _fmax_fmin(self_wins):
    # NOTE: unlike maximum, ties go to self alone; a nan loses to a number
    def self_rule(g, s):
        return s.xp.where(self_wins(s.self, s.other) | (s.other != s.other), g, 0.0)

    def other_rule(g, s):
        return s.xp.where(self_wins(s.self, s.other) | (s.other != s.other), 0.0, g)
    return self_rule, other_rule


fmax = primitive("fmax", np.fmax, "FmaxBackward0", inputs=("self", "other"),
                 saves=(("self", "other"),) * 2, vjp=_fmax_fmin(lambda a, b: a >= b))
fmin = primitive("fmin", np.fmin, "FminBackward0", inputs=("self", "other"),
                 saves=(("self", "other"),) * 2, vjp=_fmax_fmin(lambda a, b: a <= b))
logaddexp2 = primitive("logaddexp2", np.logaddexp2, "Logaddexp2Backward0", inputs=("self", "other"),
                       saves=(("self", "other"),) * 2,
                       vjp=(lambda g, s: g / (1 + s.xp.exp((s.other - s.self) * _LN2)),
                            lambda g, s: g / (1 + s.xp.exp((s.self - s.other) * _LN2))))
# the next representable number: piecewise constant in other, the identity almost everywhere in self
nextafter = primitive("nextafter", np.nextafter, "NextafterBackward0", inputs=("self", "other"),
                      saves=(("self", "other"),) * 2, vjp=(_pass, _zeros))


def _ldexp(a, exponent):
    return a * np.exp2(exponent).astype(a.dtype, copy=False)


ldexp = primitive("ldexp", _ldexp, "LdexpBackward0", inputs=("self", "other"), saves=("other", "result"),
                  vjp=(lambda g, s: g * 2.0 ** s.other, lambda g, s: g * s.result * _LN2))


def _integer_power_of_two(g, s):
    # NOTE: PyTorch computes self's gradient as g · pow(2, other) in other's integer dtype, where 2 ** −k is 0
    xp = s.xp
    return g * xp.where(s.other < 0, 0.0, 2.0 ** xp.cast(s.other, g.dtype))


# ldexp(x, n) with an integer tensor n (the usual call): n keeps its dtype, and has no gradient
ldexp_integer = primitive("ldexp_integer", _ldexp, "LdexpBackward0", inputs=("self", "other"),
                          saves=("other", "result"), vjp=(_integer_power_of_two, _zeros))


def _frexp(a):
    mantissa, exponent = np.frexp(a)
    return mantissa, exponent.astype(np.int32)


frexp = primitive("frexp", _frexp, "FrexpBackward0", inputs=("self",), outputs=2, differentiable_outputs=(0,),
                  output_names=("mantissa", "exponent"), saves=("exponent",),
                  vjp=(lambda g, s: g[0] / 2.0 ** s.xp.cast(s.exponent, g[0].dtype),))


def _addcmul(a, tensor1, tensor2, value):
    scaled = tensor1 if value == 1 else value * tensor1  # NOTE: PyTorch's kernel: fma(value·tensor1, tensor2, a)
    return fused_multiply_add(a, scaled, tensor2, a + scaled * tensor2)


def _addcdiv(a, tensor1, tensor2, value):
    return a + (tensor1 / tensor2 if value == 1 else value * tensor1 / tensor2)


addcmul = primitive("addcmul", _addcmul, "AddcmulBackward0", inputs=("self", "tensor1", "tensor2"),
                    params=("value",), saves=((), "tensor2", "tensor1"),
                    vjp=(_pass, lambda g, s: g * s.tensor2 * s.value, lambda g, s: g * s.tensor1 * s.value))
addcdiv = primitive("addcdiv", _addcdiv, "AddcdivBackward0", inputs=("self", "tensor1", "tensor2"),
                    params=("value",), saves=((), "tensor2", ("tensor1", "tensor2")),
                    vjp=(_pass, lambda g, s: g * s.value / s.tensor2,
                         lambda g, s: -g * s.value * s.tensor1 / (s.tensor2 * s.tensor2)))
def _not_implemented(name: str):
    def rule(g, s):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return rule


def _no_inplace_derivative(name: str):
    def rule(g, s):
        raise NotImplementedError(f"the derivative for 'inplace version of {name}' is not implemented.")
    return rule


# NOTE: outside the op table on purpose: PyTorch records these only to refuse a backward through them (their
# node's name() is torch::autograd::NotImplemented: node.py names it)
floor_divide = Primitive("floor_divide", lambda a, b: np.floor_divide(a, b), "NotImplemented",
                         inputs=("self", "other"), vjp=(_not_implemented("floor_divide"),) * 2)
floor_divide_scalar = Primitive("floor_divide_scalar", lambda a, other: np.floor_divide(a, other), "NotImplemented",
                                inputs=("self",), params=("other",), vjp=(_not_implemented("floor_divide"),),
                                unsaved=("other",))
# their in-place forms' nodes name the in-place op in their refusal (`x //= 2`)
floor_divide_inplace = Primitive("floor_divide_", lambda a, b: np.floor_divide(a, b), "NotImplemented",
                                 inputs=("self", "other"), vjp=(_not_implemented("floor_divide_"),) * 2)
floor_divide_scalar_inplace = Primitive("floor_divide_scalar_", lambda a, other: np.floor_divide(a, other),
                                        "NotImplemented", inputs=("self",), params=("other",),
                                        vjp=(_not_implemented("floor_divide_"),), unsaved=("other",))
# `torch.remainder(2, x)`, `2 % x`: PyTorch has no derivative for a number's remainder by a tensor
remainder_of_number = Primitive("remainder_of_number", lambda other, number: python_remainder(number, other),
                                "NotImplemented", inputs=("other",), params=("self",),
                                vjp=(_not_implemented("remainder"),), unsaved=("self",))
# x.asinh_(), x.acosh_(), x.atanh_(): PyTorch has no derivative for these in-place forms (its nodes, AsinhBackward1 …,
# refuse a backward), while the out-of-place functions have one
asinh_ = Primitive("asinh_", np.arcsinh, "AsinhBackward1", inputs=("self",), vjp=(_no_inplace_derivative("asinh"),))
acosh_ = Primitive("acosh_", np.arccosh, "AcoshBackward1", inputs=("self",), vjp=(_no_inplace_derivative("acosh"),))
atanh_ = Primitive("atanh_", np.arctanh, "AtanhBackward1", inputs=("self",), vjp=(_no_inplace_derivative("atanh"),))


def _heaviside(a, values):
    return np.where(a == 0, values, a > 0).astype(a.dtype, copy=False)


heaviside = Primitive("heaviside", _heaviside, "NotImplemented", inputs=("self", "values"),
                      vjp=(_not_implemented("heaviside"),) * 2)
heaviside_inplace = Primitive("heaviside_", _heaviside, "NotImplemented", inputs=("self", "values"),
                              vjp=(_not_implemented("heaviside_"),) * 2)


def _comparison(name: str, ufunc) -> tuple[Primitive, Primitive]:
    """`x.lt_(y)` writes 0/1 in x's dtype; PyTorch records a node whose gradients are zero (LtBackward0 for a
    number, LtBackward1 for a tensor)."""
    def forward(a, other):
        return ufunc(a, other).astype(a.dtype)
    node = name.capitalize()
    return (primitive(f"{name}_scalar_inplace", forward, f"{node}Backward0", inputs=("self",), params=("other",),
                      vjp=(_zeros,)),
            primitive(f"{name}_tensor_inplace", forward, f"{node}Backward1", inputs=("self", "other"),
                      vjp=(_zeros, _zeros)))


COMPARISONS = {name: _comparison(name, ufunc) for name, ufunc in (
    ("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
    ("ge", np.greater_equal))}
