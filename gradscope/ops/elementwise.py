"""Elementwise primitives: arithmetic, unary math, activations, selection."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from gradscope.ops.activation_backwards import leaky_relu_backward
from gradscope.ops.activation_backwards import rule as backward_rule
from gradscope.ops.namespace import (
    _FLOAT32,
    _FLOAT64,
    _ZERO32,
    _ZERO64,
    _sigmoid,
    sigmoid_backward,
    tanh_backward,
    torch_sign,
)
from gradscope.ops.namespace import relu_backward as _relu_backward
from gradscope.ops.namespace import threshold_backward as _threshold_backward
from gradscope.ops.registry import primitive


def _add(a, b, alpha):
    return a + b if alpha == 1 else fused_multiply_add(a, np.float32(alpha), b, a + alpha * b)


def _sub(a, b, alpha):
    try:
        return a - b if alpha == 1 else fused_multiply_add(a, -np.float32(alpha), b, a - alpha * b)
    except TypeError:  # NumPy refuses bool − bool too, in its words
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.") from None


def fused_multiply_add(a, x, y, result):
    """`result` (a + x·y rounded twice, as NumPy computes it) as PyTorch's CPU kernels give it in float32: one fused
    multiply-add, one rounding (add/sub with alpha, addcmul, lerp). Exact through float64, where the product of two
    float32 numbers is exact (x and y must be float32 values). float64's fused multiply-add has no such shortcut: its
    result is left as NumPy computes it (a last-bit difference from PyTorch's, now and then)."""
    if type(result) is np.ndarray and result.dtype == _FLOAT32:
        exact = np.asarray(a, np.float64) + np.asarray(x, np.float64) * np.asarray(y, np.float64)
        return exact.astype(_FLOAT32)
    return result


add = primitive("add", _add, "AddBackward0", inputs=("self", "other"), params=("alpha",),
                vjp=(lambda g, s: g,
                     lambda g, s: g if s.alpha == 1 else g * s.alpha))
sub = primitive("sub", _sub, "SubBackward0", inputs=("self", "other"), params=("alpha",),
                vjp=(lambda g, s: g,
                     lambda g, s: -g if s.alpha == 1 else g * -s.alpha))
# `1 - x` is rsub(x, 1): self is the tensor being subtracted, the number is a parameter
rsub = primitive("rsub", lambda a, other, alpha: _sub(other, a, alpha), "RsubBackward1",
                 inputs=("self",), params=("other", "alpha"), unsaved=("other",),
                 vjp=(lambda g, s: -g if s.alpha == 1 else g * -s.alpha,))
# torch.rsub(x, y) with two tensors: y − alpha · x
rsub_tensor = primitive("rsub_tensor", lambda a, other, alpha: _sub(other, a, alpha), "RsubBackward0",
                        inputs=("self", "other"), params=("alpha",),
                        vjp=(lambda g, s: -g if s.alpha == 1 else g * -s.alpha, lambda g, s: g))
mul = primitive("mul", np.multiply, "MulBackward0", inputs=("self", "other"),
                saves=("other", "self"), weak_numbers=True,
                vjp=(lambda g, s: g * s.other,
                     lambda g, s: g * s.self))
div = primitive("div", np.true_divide, "DivBackward0", inputs=("self", "other"),
                saves=("other", ("self", "other")), weak_numbers=True,
                vjp=(lambda g, s: g / s.other,
                     lambda g, s: -g * (s.self / s.other / s.other)))


def _div_rounded(a, b, rounding_mode):
    if rounding_mode is None:
        return np.true_divide(a, b)
    if rounding_mode == "floor":
        return np.floor_divide(a, b)
    out = np.trunc(np.true_divide(a, b))  # NOTE: integers are divided as floats, then truncated back
    dtype = np.result_type(a, b)
    return out.astype(dtype, copy=False) if out.dtype != dtype else out


def _div_rounded_vjp(g, s):
    return g / s.other if s.rounding_mode is None else s.xp.zeros_like(g)


def _div_rounded_other_vjp(g, s):
    return -g * (s.self / s.other / s.other) if s.rounding_mode is None else s.xp.zeros_like(g)


# `torch.div(a, b, rounding_mode=…)`: a rounded quotient is piecewise constant, so PyTorch gives both inputs a
# zero gradient (and the true quotient's when the mode is given as None)
div_rounded = primitive("div_rounded", _div_rounded, "DivBackward2", inputs=("self", "other"),
                        params=("rounding_mode",), saves=("other", ("self", "other")), weak_numbers=True,
                        vjp=(_div_rounded_vjp, _div_rounded_other_vjp))
neg = primitive("neg", np.negative, "NegBackward0", inputs=("self",), vjp=(lambda g, s: -g,), keeps_meta=True)


def scalar_power(a, exponent):
    """a ** exponent for a number exponent as PyTorch's CPU kernel computes it in float32 and float64: 2, 3 and -2
    as products (x·x·x, 1/(x·x)), 0.5 and -0.5 through sqrt, -1 as 1/x, any other through pow. NumPy's pow of 3 or
    -2 rounds once where the products round twice: last-bit differences in ~30% of elements (x ** 3 in a model's
    features, the gradient of x ** 4) that drift a training run away from PyTorch's."""
    dtype = a.dtype
    if dtype is _FLOAT32 or dtype is _FLOAT64:
        if exponent == 2:
            return a * a
        if exponent == 3:
            return a * a * a
        if exponent == 0.5:
            return np.sqrt(a)
        if exponent == -0.5:
            return 1 / np.sqrt(a)
        if exponent == -1:
            return 1 / a
        if exponent == -2:
            return 1 / (a * a)
    return np.power(a, exponent)


def _pow_scalar_vjp(g, s):
    if s.exponent == 0:
        return s.xp.zeros_like(g)
    base = s.self
    power = base ** (s.exponent - 1) if s.xp.is_tensor else scalar_power(base, s.exponent - 1)
    return g * (s.exponent * power)


def _pow_base_vjp(g, s):
    # NOTE: PyTorch takes the base's gradient as 0 wherever the exponent is 0, even at 0 ** 0 (0 * inf).
    return g * s.xp.where(s.exponent == 0, 0.0, s.exponent * s.self ** (s.exponent - 1))


def _pow_exponent_vjp(g, s):
    # NOTE: d/db a**b = a**b log a; PyTorch defines it as 0 where a == 0 and b >= 0 (log 0 = -inf).
    xp = s.xp
    return g * xp.where((s.self == 0) & (s.exponent >= 0), 0.0, s.result * xp.log(s.self))


pow_scalar = primitive("pow", scalar_power, "PowBackward0", inputs=("self",), params=("exponent",),
                       saves=("self",), vjp=(_pow_scalar_vjp,))
def integer_power(base, exponent):
    """base ** exponent elementwise; for integers as PyTorch's kernel: a negative exponent gives 1 for a base of 1,
    ±1 for -1 and 0 for any other (NumPy refuses negative integer powers)."""
    if np.result_type(base, exponent).kind not in "iu" or not np.any(np.less(exponent, 0)):
        return np.power(base, exponent)
    negative = exponent < 0
    result = np.power(base, np.where(negative, 0, exponent))
    inverse = np.where(base == 1, 1, np.where(base == -1, np.where(exponent % 2 == 0, 1, -1), 0))
    return np.where(negative, inverse, result).astype(result.dtype, copy=False)


pow_tensor = primitive("pow_tensor", integer_power, "PowBackward1", inputs=("self", "exponent"),
                       saves=(("self", "exponent"), ("self", "exponent", "result")),
                       vjp=(_pow_base_vjp, _pow_exponent_vjp))


def _pow_base_scalar_vjp(g, s):
    # NOTE: d/dx 0**x = 0**x log 0: PyTorch takes 0 where x >= 0 and keeps -inf (times 0**x) elsewhere
    if s.self == 0:
        return g * s.xp.where(s.exponent >= 0, 0.0, s.result * -math.inf)
    return g * s.result * float(np.log(s.self))


# `2 ** x`: self is the Python number, exponent the tensor
pow_base_scalar = primitive("pow_base_scalar", lambda exponent, base: integer_power(base, exponent), "PowBackward2",
                            inputs=("exponent",), params=("self",), saves=(("exponent", "result"),),
                            vjp=(_pow_base_scalar_vjp,))

exp = primitive("exp", np.exp, "ExpBackward0", inputs=("self",), saves=("result",),
                vjp=(lambda g, s: g * s.result,), keeps_meta=True)
log = primitive("log", np.log, "LogBackward0", inputs=("self",), saves=("self",),
                vjp=(lambda g, s: g / s.self,), keeps_meta=True)
log1p = primitive("log1p", np.log1p, "Log1PBackward0", inputs=("self",), saves=("self",),
                  vjp=(lambda g, s: g / (s.self + 1),), keeps_meta=True)
sqrt = primitive("sqrt", np.sqrt, "SqrtBackward0", inputs=("self",), saves=("result",),
                 vjp=(lambda g, s: g / (2 * s.result),), keeps_meta=True)
rsqrt = primitive("rsqrt", lambda a: 1 / np.sqrt(a), "RsqrtBackward0", inputs=("self",), saves=("result",),
                  vjp=(lambda g, s: -0.5 * g * s.result * s.result * s.result,), keeps_meta=True)
reciprocal = primitive("reciprocal", np.reciprocal, "ReciprocalBackward0", inputs=("self",), saves=("result",),
                       vjp=(lambda g, s: -g * s.result * s.result,), keeps_meta=True)
sin = primitive("sin", np.sin, "SinBackward0", inputs=("self",), saves=("self",),
                vjp=(lambda g, s: g * s.xp.cos(s.self),), keeps_meta=True)
cos = primitive("cos", np.cos, "CosBackward0", inputs=("self",), saves=("self",),
                vjp=(lambda g, s: -g * s.xp.sin(s.self),), keeps_meta=True)
tanh = primitive("tanh", np.tanh, "TanhBackward0", inputs=("self",), saves=("result",),
                 vjp=(lambda g, s: s.xp.tanh_backward(g, s.result),), keeps_meta=True, array_vjp=tanh_backward,
                 opmath_vjp=True)
sigmoid = primitive("sigmoid", _sigmoid, "SigmoidBackward0", inputs=("self",), saves=("result",),
                    vjp=(lambda g, s: s.xp.sigmoid_backward(g, s.result),), keeps_meta=True,
                    array_vjp=sigmoid_backward)  # NOTE: PyTorch's float16 kernel rounds every step: not opmath_vjp


def _zero_keeping_signs(zero: np.ndarray):
    """`zero` if np.maximum(zero, a) gives a's own -0.0 and -nan (not +0.0) in every loop NumPy takes here (short,
    long, strided), else None. PyTorch's relu is `x < 0 ? 0 : x`: relu(-0.0) is -0.0; NumPy's maximum returns one
    of two equal operands, which one depending on the loop (SIMD or not, the platform's max instruction)."""
    for n in (1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000):
        for step in (1, 2):
            a = np.full(n * step, -0.0, zero.dtype)
            a[::2] = -np.nan
            a = a[::step]
            if not np.signbit(np.maximum(zero, a)).all():
                return None
    for value in (-0.0, -np.nan):  # a 0-dim one
        if not np.signbit(np.maximum(zero, np.array(value, zero.dtype))):
            return None
    return zero


_RELU_ZERO32, _RELU_ZERO64 = _zero_keeping_signs(_ZERO32), _zero_keeping_signs(_ZERO64)
# relu's zero of each dtype whose np.maximum keeps signs (one dict read per call, not two dtype tests)
_RELU_ZEROS = {dtype: zero for dtype, zero in ((_ZERO32.dtype, _RELU_ZERO32), (_ZERO64.dtype, _RELU_ZERO64))
               if zero is not None}
_maximum = np.maximum


def _second_wins_ties() -> bool:
    """Whether np.maximum(bound, a) and np.minimum(bound, a) give a when the two are equal (a signed zero against
    the other zero, as a scalar bound or an array one) in every loop NumPy takes here."""
    for extreme in (np.maximum, np.minimum):
        for dtype in (np.float32, np.float64):
            for n in (1, 8, 9, 33):
                for zero in (0.0, -0.0):
                    a = np.full(n, -zero, dtype)
                    for bound in (zero, np.full(n, zero, dtype)):
                        if (np.signbit(extreme(bound, a)) != np.signbit(a)).any():
                            return False
    return True


_SECOND_WINS_TIES = _second_wins_ties()


def at_least(a, bound):
    """max(a, bound), a where they are equal and NaN where a is NaN, as PyTorch's clamp_min (`a < bound ? bound :
    a`): clamp_min(-0.0, 0.0) is -0.0."""
    return np.maximum(bound, a) if _SECOND_WINS_TIES else np.where(a < bound, bound, a)


def at_most(a, bound):
    """min(a, bound), a where they are equal and NaN where a is NaN, as PyTorch's clamp_max."""
    return np.minimum(bound, a) if _SECOND_WINS_TIES else np.where(a > bound, bound, a)


def _relu(a):
    dtype = a.dtype  # NOTE: 0 in a float array's dtype: NumPy's path for a Python 0 costs ~2.3k instructions more
    zero = _RELU_ZEROS.get(dtype)
    if zero is not None:
        return _maximum(zero, a)  # NOTE: zero first: this NumPy then keeps a -0.0 (see _zero_keeping_signs)
    if dtype.kind == "f":  # selects: exact in any loop, ~10x dearer than maximum
        zero = np.zeros((), dtype)
        return np.where(a < zero, zero, a)
    return np.maximum(a, 0)


# relu's forward on a float32 and a float64 array as C callables, for fused.unary: `_relu`'s own call (its zero first)
# without its frame, or `_relu` where this NumPy's maximum has no sign-keeping zero of that dtype
RELU_FLOAT_FORWARDS = tuple(_relu if zero is None else functools.partial(_maximum, zero)
                            for zero in (_RELU_ZERO32, _RELU_ZERO64))


# NOTE: relu'(0) = 0, as PyTorch's threshold_backward (0 where result <= 0: a NaN result passes g), which
# selects rather than multiplies: an infinite gradient where the unit is off gives 0, not inf * 0 = nan.
relu = primitive("relu", _relu, "ReluBackward0", inputs=("self",), saves=("result",),
                 vjp=(lambda g, s: s.xp.relu_backward(g, s.result),), keeps_meta=True, array_vjp=_relu_backward)
# relu's backward as an op of its own, as in PyTorch: differentiating it again stays connected to the
# result (with a zero derivative there), so gradients of gradients are zeros rather than missing
threshold_backward = primitive(
    "threshold_backward", _threshold_backward,
    "ThresholdBackwardBackward0", inputs=("grad_output", "self"), saves=("self",),
    vjp=(lambda gg, s: s.xp.where(s.self <= 0, 0.0, gg), lambda gg, s: s.xp.zeros_like(gg)))
leaky_relu = primitive("leaky_relu", lambda a, slope: np.where(a > 0, a, a * slope), "LeakyReluBackward0",
                       inputs=("self",), params=("negative_slope",), saves=("self",),
                       vjp=(backward_rule(leaky_relu_backward, "negative_slope"),))
_LEAKY_NEGATIVE_SLOPE = (
    "In-place leakyReLu backward calculation is triggered with a negative slope which is not supported. This is "
    "caused by calling in-place forward function with a negative slope, please call out-of-place version instead. "
    "File an issue at https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu backward "
    "calculation with negative slope")


def _leaky_relu_result_vjp(g, s):
    # the in-place kernel only has the result, which has the input's sign when the slope is not negative
    if s.negative_slope < 0:
        raise RuntimeError(_LEAKY_NEGATIVE_SLOPE)
    return s.xp.apply(leaky_relu_backward, (g, s.result), (s.negative_slope,))


# leaky_relu_ (nn.LeakyReLU(inplace=True)): PyTorch's in-place kernel differentiates through its result
leaky_relu_result = primitive("leaky_relu_result", lambda a, slope: np.where(a > 0, a, a * slope),
                              "LeakyReluBackward1", inputs=("self",), params=("negative_slope",), saves=("result",),
                              vjp=(_leaky_relu_result_vjp,))
silu = primitive("silu", lambda a: a * _sigmoid(a), "SiluBackward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: g * s.xp.sigmoid(s.self) * (1 + s.self * (1 - s.xp.sigmoid(s.self))),),
                 keeps_meta=True, opmath_vjp=True)
# NOTE: |x|'(0) = sign(0) = 0, and PyTorch's sign of a NaN is 0 too (the namespace's sign is PyTorch's).
abs = primitive("abs", np.abs, "AbsBackward0", inputs=("self",), saves=("self",),  # noqa: A001
                vjp=(lambda g, s: g * s.xp.sign(s.self),), complex_vjp=(lambda g, s: g * s.xp.sgn(s.self),))


def _zero_grad(g, s):
    """Zeros, as PyTorch's zeros_like(grad): not g · 0, which is NaN where g is NaN or ±inf (lp_pool's
    sign(out) · |out| takes an inf there when a window's sum overflows)."""
    return s.xp.zeros_like(g)


sign = primitive("sign", torch_sign, "SignBackward0", inputs=("self",), vjp=(_zero_grad,))
floor = primitive("floor", np.floor, "FloorBackward0", inputs=("self",), vjp=(_zero_grad,))
ceil = primitive("ceil", np.ceil, "CeilBackward0", inputs=("self",), vjp=(_zero_grad,))
round = primitive("round", np.round, "RoundBackward0", inputs=("self",), vjp=(_zero_grad,))  # noqa: A001
# round(x, decimals=d) is an op of its own in PyTorch, even for d = 0
round_decimals = primitive("round_decimals", lambda a, decimals: np.round(a, decimals), "RoundBackward1",
                           inputs=("self",), params=("decimals",), unsaved=("decimals",), vjp=(_zero_grad,))
trunc = primitive("trunc", np.trunc, "TruncBackward0", inputs=("self",), vjp=(_zero_grad,))


def _clamp(a, lo, hi):
    if lo is not None:
        a = at_least(a, lo)
    if hi is not None:
        a = at_most(a, hi)
    return a


def _clamp_vjp(g, s):
    # NOTE: the gradient passes at the bounds themselves (x == min gets 1), as in PyTorch.
    mask = True
    if s.min is not None:
        mask = s.self >= s.min
    if s.max is not None:
        mask = (s.self <= s.max) & mask if s.min is not None else s.self <= s.max
    return g if mask is True else s.xp.where(mask, g, 0.0)


clamp = primitive("clamp", _clamp, "ClampBackward1", inputs=("self",), params=("min", "max"), saves=("self",),
                  vjp=(_clamp_vjp,))
clamp_min = primitive("clamp_min", at_least, "ClampMinBackward0", inputs=("self",), params=("min",),
                      saves=("self",), vjp=(lambda g, s: s.xp.where(s.self >= s.min, g, 0.0),))
clamp_max = primitive("clamp_max", at_most, "ClampMaxBackward0", inputs=("self",), params=("max",),
                      saves=("self",), vjp=(lambda g, s: s.xp.where(s.self <= s.max, g, 0.0),))
# tensor bounds are inputs: they get the gradient of the elements they clamp
clamp_min_tensor = primitive("clamp_min_tensor", at_least, "ClampMinBackward1", inputs=("self", "min"),
                             saves=(("self", "min"), ("self", "min")),
                             vjp=(lambda g, s: s.xp.where(s.self >= s.min, g, 0.0),
                                  lambda g, s: s.xp.where(s.self < s.min, g, 0.0)))
clamp_max_tensor = primitive("clamp_max_tensor", at_most, "ClampMaxBackward1", inputs=("self", "max"),
                             saves=(("self", "max"), ("self", "max")),
                             vjp=(lambda g, s: s.xp.where(s.self <= s.max, g, 0.0),
                                  lambda g, s: s.xp.where(s.self > s.max, g, 0.0)))
# a missing bound is passed as -inf or inf, so one declaration serves clamp(min=t), clamp(max=t) and both
clamp_tensor = primitive(
    "clamp_tensor", lambda a, lo, hi: at_most(at_least(a, lo), hi), "ClampBackward0",
    inputs=("self", "min", "max"), saves=(("self", "min", "max"),) * 3,
    # NOTE: where min > max the result is max, so max alone gets the gradient there
    vjp=(lambda g, s: s.xp.where((s.self >= s.min) & (s.self <= s.max), g, 0.0),
         lambda g, s: s.xp.where((s.self < s.min) & (s.min < s.max), g, 0.0),
         lambda g, s: s.xp.where((s.self > s.max) | (s.max < s.min), g, 0.0)))


def _max_min_vjp(loser_mask):
    def rule(g, s):
        # NOTE: ties split the gradient evenly between both inputs, and only the loser gets 0, as PyTorch's
        # masked_fill(self < other, 0): a NaN loses no comparison, so both inputs of a NaN result get g
        xp = s.xp
        return xp.where(loser_mask(s), 0.0, xp.where(s.self == s.other, g / 2, g))
    return rule


maximum = primitive("maximum", np.maximum, "MaximumBackward0", inputs=("self", "other"),
                    saves=(("self", "other"), ("self", "other")),
                    vjp=(_max_min_vjp(lambda s: s.self < s.other), _max_min_vjp(lambda s: s.other < s.self)))
minimum = primitive("minimum", np.minimum, "MinimumBackward0", inputs=("self", "other"),
                    saves=(("self", "other"), ("self", "other")),
                    vjp=(_max_min_vjp(lambda s: s.self > s.other), _max_min_vjp(lambda s: s.other > s.self)))
# the condition is a parameter (a bool array): it has no gradient and no edge in the graph
where = primitive("where", lambda a, b, condition: np.where(condition, a, b), "WhereBackward0",
                  inputs=("self", "other"), params=("condition",), held=("condition",),
                  vjp=(lambda g, s: s.xp.where(s.condition, g, 0.0),
                       lambda g, s: s.xp.where(s.condition, 0.0, g)))
clone = primitive("clone", np.copy, "CloneBackward0", inputs=("self",), vjp=(lambda g, s: g,), keeps_meta=True)
def to_dtype(a, dtype):
    """`a` in `dtype`: complex to real keeps the real part, with PyTorch's warning; to bool, whether it is nonzero."""
    if a.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        if np.dtype(dtype).kind == "b":
            return a != 0
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=2)
        a = a.real
    return a.astype(dtype)


to_copy = primitive("to_copy", to_dtype, "ToCopyBackward0", inputs=("self",),
                    params=("dtype",), attrs=("self_scalar_type",), unsaved=("dtype", "self_scalar_type"),
                    vjp=(lambda g, s: s.xp.cast(g, s.self_scalar_type),))
# in-place building blocks: x.copy_(src), x.fill_(v), x.zero_(), x[idx] = v with advanced indexing
copy = primitive("copy", lambda a, src: np.broadcast_to(src, a.shape).astype(a.dtype), "CopyBackwards",
                 inputs=("self", "src"), vjp=(lambda g, s: s.xp.zeros_like(g), lambda g, s: g))
fill = primitive("fill", lambda a, value: np.full_like(a, value), "FillBackward2", inputs=("self",),
                 params=("value",), vjp=(lambda g, s: s.xp.zeros_like(g),))
# x.fill_(v) with a 0-dim tensor v (and x[...] = v): v gets the sum of the gradient (the engine sums it)
fill_tensor = primitive("fill_tensor", lambda a, value: np.full_like(a, value), "FillBackward3",
                        inputs=("self", "value"), vjp=(lambda g, s: s.xp.zeros_like(g), lambda g, s: g))
# torch.fill(x, v): a new tensor of x's shape and dtype, every element v (FillBackward0; a 0-dim tensor v, whose
# gradient is the sum of the output's: FillBackward1)
fill_new = primitive("fill_new", lambda a, value: np.full_like(a, value), "FillBackward0", inputs=("self",),
                     params=("value",), vjp=(lambda g, s: s.xp.zeros_like(g),))
fill_new_tensor = primitive("fill_new_tensor", lambda a, value: np.full_like(a, value), "FillBackward1",
                            inputs=("self", "value"), vjp=(lambda g, s: s.xp.zeros_like(g), lambda g, s: g))
zero = primitive("zero", np.zeros_like, "ZeroBackward0", inputs=("self",), vjp=(lambda g, s: s.xp.zeros_like(g),))
# x.uniform_(), x.normal_(): the generator's values (a parameter) replace x's; the gradient is zero
uniform = primitive("uniform", lambda a, values: values, "UniformBackward0", inputs=("self",), params=("values",),
                    vjp=(lambda g, s: s.xp.zeros_like(g),))
normal = primitive("normal", lambda a, values: values, "NormalBackward0", inputs=("self",), params=("values",),
                   vjp=(lambda g, s: s.xp.zeros_like(g),))


def _index_put(a, values, indices, mask, accumulate):
    out = a.copy()
    out[indices] = values
    return out


index_put = primitive("index_put", _index_put, "IndexPutBackward0", inputs=("self", "values"),
                      # `mask`: the positions not written (self's gradient); `accumulate` False, as PyTorch shows
                      params=("indices", "mask", "accumulate"), held=("indices",), unsaved=("mask",),
                      # NOTE: zeros where values were put, not g · mask: a nan or inf gradient there is dropped too
                      vjp=(lambda g, s: s.xp.where(s.mask, g, s.xp.zeros_like(g)),
                           lambda g, s: s.xp.getitem(g, s.indices)))
