"""Activation primitives with PyTorch's fused kernels and node names (hardtanh, elu, softplus, …).

Each rule picks the gradient at the kinks as PyTorch's `*_backward` kernel does: hardtanh and
hardsigmoid pass nothing at their edges, elu/celu take the exponential branch at 0, threshold passes
nothing at or below the threshold and a NaN's gradient through, as it keeps the NaN. In-place
variants that PyTorch differentiates through the result (`elu_`, `celu_`) are separate primitives
saving the result, as PyTorch's EluBackward1; threshold_ saves its input under ThresholdBackward1.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops import activation_backwards as A
from gradscope.ops.activation_backwards import rule as backward_rule
from gradscope.ops.elementwise import at_least, at_most
from gradscope.ops.namespace import _sigmoid
from gradscope.ops.nn import _axes, _softmax
from gradscope.ops.registry import primitive, to_input


def _hardtanh(a, min_val, max_val):  # a clamp: relu6(-0.0) is -0.0
    return at_most(at_least(a, min_val), max_val).astype(a.dtype, copy=False)


# NOTE: hardtanh_backward passes the gradient strictly inside (min_val, max_val): 0 at both edges
hardtanh = primitive("hardtanh", _hardtanh, "HardtanhBackward0", inputs=("self",), params=("min_val", "max_val"),
                     saves=("self",), vjp=(backward_rule(A.hardtanh_backward, "min_val", "max_val"),))


def _elu(a, alpha, scale, input_scale):
    negative = np.expm1(at_most(a, 0) * input_scale) * (alpha * scale)  # elu(-0.0) is -0.0
    return np.where(a > 0, a * scale, negative).astype(a.dtype, copy=False)


def _elu_vjp(input_scale):
    def rule(g, s):
        # NOTE: x = 0 takes the exponential branch: elu'(0) = alpha · scale · input_scale; as PyTorch's kernel it
        # tests x <= 0, so a NaN x takes the linear branch (its gradient is g · scale, not NaN)
        xp, x, scale = s.xp, s.self, input_scale(s)
        negative = xp.exp(xp.where(x > 0, 0.0, x) * scale) * (scale * s.alpha * s.scale)
        return g * xp.where(x <= 0, negative, s.scale)
    return rule


_NEGATIVE_SLOPE = ("In-place elu backward calculation is triggered with a negative slope which is not supported. This "
                   "is caused by calling in-place forward function with a negative slope, please call out-of-place "
                   "version instead.")


def _elu_result_vjp(input_scale):
    def rule(g, s):
        # the in-place kernel only has the result: elu'(x) = input_scale · (result + alpha · scale) where x <= 0
        if s.alpha < 0:
            raise RuntimeError(_NEGATIVE_SLOPE)
        xp, y = s.xp, s.result
        return g * xp.where(y <= 0, (y + s.alpha * s.scale) * input_scale(s), s.scale)  # a NaN: linear, as above
    return rule


def _elu_input_scale(s):
    return s.input_scale


def _celu_input_scale(s):
    # NOTE: PyTorch's celu backward takes 1 / alpha in single precision (1.0 / alpha.toFloat())
    return 1.0 / float(np.float32(s.alpha))


def _elu_primitive(name: str, node: str, input_scale, from_result: bool, unsaved: tuple = ()):
    return primitive(name, _elu, node, inputs=("self",), params=("alpha", "scale", "input_scale"), unsaved=unsaved,
                     saves=("result" if from_result else "self",),
                     vjp=((_elu_result_vjp if from_result else _elu_vjp)(input_scale),), opmath_vjp=True)


elu = _elu_primitive("elu", "EluBackward0", _elu_input_scale, from_result=False)
elu_result = _elu_primitive("elu_result", "EluBackward1", _elu_input_scale, from_result=True)
# celu(x, alpha) is elu with input_scale 1/alpha, under its own node
celu = _elu_primitive("celu", "CeluBackward0", _celu_input_scale, from_result=False, unsaved=("scale", "input_scale"))
celu_result = _elu_primitive("celu_result", "CeluBackward1", _celu_input_scale, from_result=True,
                             unsaved=("scale", "input_scale"))


def _threshold(a, threshold, value):
    return np.where(a <= threshold, value, a).astype(a.dtype, copy=False)  # a NaN stays NaN, as PyTorch's


threshold = primitive("threshold", _threshold, "ThresholdBackward0", inputs=("self",), params=("threshold", "value"),
                      unsaved=("value",), saves=("self",), vjp=(backward_rule(A.threshold_backward_at, "threshold"),))
# threshold_ keeps the input it overwrote and masks with it, as the out-of-place op, under its own node
threshold_inplace = primitive("threshold_inplace", _threshold, "ThresholdBackward1", inputs=("self",),
                              params=("threshold", "value"), unsaved=("value",), saves=("self",),
                              vjp=(backward_rule(A.threshold_backward_at, "threshold"),))


def _hardsigmoid(a):
    return (np.minimum(np.maximum(a + 3, 0), 6) / 6).astype(a.dtype, copy=False)


# NOTE: PyTorch's kernel scales by 1/6 rounded to single precision, in every dtype
_ONE_SIXTH = float(np.float32(1 / 6))
hardsigmoid = primitive("hardsigmoid", _hardsigmoid, "HardsigmoidBackward0", inputs=("self",), saves=("self",),
                        vjp=(lambda g, s: s.xp.where((s.self > -3) & (s.self < 3), g * _ONE_SIXTH, 0.0),),
                        opmath_vjp=True)


def _hardswish_vjp(g, s):
    # NOTE: PyTorch's slope: 0 up to -3 (included), x/3 + 1/2 strictly inside, 1 from 3 on and at a NaN x
    xp, x = s.xp, s.self
    return xp.where(x <= -3, 0.0, xp.where(x < 3, g * (x / 3 + 0.5), g))


def _hardswish(a):
    # NOTE: PyTorch's order, x · clamp(x + 3, 0, 6) / 6: x · hardsigmoid(x) divides first, 1 ulp off in ~30%
    return (a * np.minimum(np.maximum(a + 3, 0), 6) / 6).astype(a.dtype, copy=False)


hardswish = primitive("hardswish", _hardswish, "HardswishBackward0", inputs=("self",),
                      saves=("self",), vjp=(_hardswish_vjp,), opmath_vjp=True)


def _softplus(a, beta, threshold):
    scaled = a * beta
    # log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)) never overflows
    smooth = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / beta
    return np.where(scaled > threshold, a, smooth).astype(a.dtype, copy=False)


def _softplus_vjp(g, s):
    xp = s.xp
    scaled = s.self * s.beta
    return xp.where(scaled > s.threshold, g, g * xp.sigmoid(scaled))


softplus = primitive("softplus", _softplus, "SoftplusBackward0", inputs=("self",), params=("beta", "threshold"),
                     saves=("self",), vjp=(_softplus_vjp,), opmath_vjp=True)


def _log_sigmoid(a):
    return (np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))).astype(a.dtype, copy=False)


# PyTorch's CPU forward also saves `buffer`, exp(-|x|), which no rule here needs: computed when read
log_sigmoid = primitive("log_sigmoid", _log_sigmoid, "LogSigmoidBackward0", inputs=("self",), saves=("self",),
                        lazy={"buffer": lambda s: np.exp(-np.abs(s.self))},
                        vjp=(lambda g, s: g * s.xp.sigmoid(-s.self),), opmath_vjp=True)


def _mish(a):
    return (a * np.tanh(_softplus(a, 1, 20))).astype(a.dtype, copy=False)


def _mish_vjp(g, s):
    xp, x = s.xp, s.self
    # tanh(softplus(x)) = ((1 + e^x)² - 1) / ((1 + e^x)² + 1), in e = exp(-|x|) (no overflow) on each side of 0.
    # NOTE: not 1 - 2(1 - σ)² / (1 + (1 - σ)²): below x ≈ -17 in float32 it cancels to 0 (PyTorch: tanh(softplus(x))
    # ≈ e^x), so mish'(-20) lost its e^x term (-4.12e-8 for PyTorch's -3.92e-8)
    e = xp.exp(-xp.abs(x))
    tanh_softplus = xp.where(x > 0, (1 + 2 * e) / (1 + 2 * e + 2 * e * e), e * (e + 2) / (e * (e + 2) + 2))
    sigmoid = xp.sigmoid(x)
    return g * (tanh_softplus + x * sigmoid * (1 - tanh_softplus * tanh_softplus))


mish = primitive("mish", _mish, "MishBackward0", inputs=("self",), saves=("self",), vjp=(_mish_vjp,), opmath_vjp=True)


def _glu(a, dim):
    first, second = np.split(a, 2, axis=dim)
    return (first * _sigmoid(second)).astype(a.dtype, copy=False)


def _glu_vjp(g, s):
    xp = s.xp
    half = s.self.shape[s.dim] // 2
    first, second = xp.split(s.self, (half, half), s.dim)
    gate = xp.sigmoid(second)
    return xp.concat([g * gate, g * first * gate * (1 - gate)], s.dim)


glu = primitive("glu", _glu, "GluBackward0", inputs=("self",), params=("dim",), saves=("self",), vjp=(_glu_vjp,))


def _prelu(a, weight):
    return np.where(a > 0, a, weight * a).astype(a.dtype, copy=False)


def _prelu_backward(grad_output, a, weight):
    """PyTorch's _prelu_kernel_backward: the input's gradient, and the weight's before it is summed to its shape."""
    positive = a > 0
    return (np.where(positive, grad_output, grad_output * weight).astype(a.dtype, copy=False),
            np.where(positive, 0.0, grad_output * a).astype(a.dtype, copy=False))


def _prelu_double_backward(index: int):
    """PreluKernelBackwardBackward0's rule for input `index` (grad_output, self, weight), given the gradients of
    both outputs (None where one got none). NOTE: PyTorch's formulas take x = 0 as positive here, where its first
    derivative takes the weight's branch: at 0 the second derivative is PyTorch's, not the first one's derivative."""
    def rule(gg, s):
        xp, (grad_input, grad_weight) = s.xp, gg
        nonnegative = s.self >= 0
        if index == 0:
            terms = ([] if grad_input is None else [xp.where(nonnegative, grad_input, grad_input * s.weight)]) + (
                [] if grad_weight is None else [xp.where(nonnegative, 0.0, grad_weight * s.self)])
            return terms[0] if len(terms) == 1 else terms[0] + terms[1]
        other = grad_weight if index == 1 else grad_input
        if other is None:
            return xp.zeros_like(s.self)
        return xp.where(nonnegative, 0.0, s.grad_output * other)
    return rule


prelu_backward = primitive(
    "prelu_backward", _prelu_backward, "PreluKernelBackwardBackward0", inputs=("grad_output", "self", "weight"),
    outputs=2, saves=(("self", "weight"), ("grad_output", "self"), ("grad_output", "self")),
    vjp=(_prelu_double_backward(0), _prelu_double_backward(1), _prelu_double_backward(2)))


def _prelu_vjps(g, s, wanted) -> list:
    grads = s.xp.apply(prelu_backward, (g, s.self, s.weight))
    return [None if meta is None else to_input(grad, meta, s.xp) for grad, meta in zip(grads, wanted, strict=True)]


# weight arrives shaped to broadcast against self (C at dim 1); the engine sums its gradient back.
# NOTE: x = 0 takes the weight's branch: d/dx = weight, d/dweight = x = 0
prelu = primitive("prelu", _prelu, "PreluKernelBackward0", inputs=("self", "weight"),
                  saves=(("self", "weight"), ("self", "weight")),
                  vjp=(lambda g, s: s.xp.apply(prelu_backward, (g, s.self, s.weight))[0],
                       lambda g, s: s.xp.apply(prelu_backward, (g, s.self, s.weight))[1]), joint_vjp=_prelu_vjps)


def _safe_softmax(a, dim):
    out = _softmax(a, dim)
    masked_rows = np.all(a == -np.inf, axis=_axes(a, dim), keepdims=True)
    return np.where(masked_rows, 0, out).astype(a.dtype, copy=False)


# attention's softmax: a row masked out entirely (all -inf) gives zeros, not nan, and so does its gradient
# (the rule reads the result only, as softmax's)
safe_softmax = primitive("safe_softmax", _safe_softmax, "SafeSoftmaxBackward0", inputs=("self",), params=("dim",),
                         saves=("result",),
                         vjp=(lambda g, s: s.result * (g - s.xp.sum(g * s.result, _axes(g, s.dim), True)),))


def _rrelu(a, noise, lower, upper, training):
    """Training: each element at or below 0 times its own slope, drawn from U(lower, upper) into `noise` (1 where
    the element is positive); otherwise leaky_relu with the mean slope."""
    if training:
        return (a * noise).astype(a.dtype, copy=False)
    return np.where(a > 0, a, a * ((lower + upper) / 2)).astype(a.dtype, copy=False)


_RRELU_PARAMS = ("noise", "lower", "upper", "training")
rrelu_with_noise = primitive("rrelu_with_noise", _rrelu, "RreluWithNoiseBackward0", inputs=("self",),
                             params=_RRELU_PARAMS, saves=("self",),
                             vjp=(backward_rule(A.rrelu_with_noise_backward, *_RRELU_PARAMS),))
# x.rrelu_(): differentiated through the result, as PyTorch's RreluWithNoiseBackward1 (positive slopes keep signs)
rrelu_with_noise_result = primitive("rrelu_with_noise_result", _rrelu, "RreluWithNoiseBackward1", inputs=("self",),
                                    params=_RRELU_PARAMS, saves=("result",),
                                    vjp=(backward_rule(A.rrelu_with_noise_backward, *_RRELU_PARAMS, reads="result"),))
