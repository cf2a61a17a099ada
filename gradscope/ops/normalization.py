"""Normalisation primitives: layer norm, batch norm and group norm, one fused op each (PyTorch's native_*
kernels and node names), sharing one forward and one set of VJP rules.

Each normalises x over some axes, x̂ = (x - mean) · rstd with rstd = 1/√(var + eps), then applies a
per-feature affine: y = x̂ · weight + bias. With gw = g · weight and means over the normalised axes:

    dx = rstd · (gw - mean(gw) - x̂ · mean(gw · x̂))        dweight = Σ g · x̂        dbias = Σ g

(batch norm in eval mode uses the running statistics, constants: dx = gw · rstd). The rules recompute
mean and rstd from the saved input rather than saving them: under create_graph the statistics are then
differentiable functions of the input, so second derivatives include how they move with it.
"""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops.namespace import NUMPY
from gradscope.ops.registry import primitive


def _layout(kind: str, shape, params) -> tuple[tuple, tuple, tuple]:
    """(shape x is normalised in, its normalised axes, shape weight/bias broadcast in) for each op."""
    ndim = len(shape)
    if kind == "layer":
        k = len(params[0])
        return tuple(shape), tuple(range(ndim - k, ndim)), tuple(shape[ndim - k:])
    channel = (shape[1],) + (1,) * (ndim - 2)
    if kind == "batch":
        return tuple(shape), (0,) + tuple(range(2, ndim)), channel
    groups = params[0]
    return (shape[0], groups, -1), (2,), channel


def _statistics(xp, x, axes, eps):
    """x - mean, mean and rstd over `axes` (kept as size-1 dims)."""
    count = math.prod(x.shape[a] for a in axes)
    mean = xp.sum(x, axes, True) / count
    centered = x - mean
    variance = xp.sum(centered * centered, axes, True) / count
    return centered, mean, 1 / xp.sqrt(variance + eps)


def _uses_batch_statistics(kind: str, params) -> bool:
    return kind != "batch" or params[2]


def _normalised(xp, kind: str, x, params, dtype):
    """x̂ in the op's normalising shape, the mean (None in eval-mode batch norm, whose statistics are
    constants) and rstd, both shaped to broadcast against x̂."""
    shape, axes, _ = _layout(kind, x.shape, params)
    if _uses_batch_statistics(kind, params):
        centered, mean, rstd = _statistics(xp, x if kind != "group" else xp.reshape(x, shape), axes, params[-1])
        return centered * rstd, mean, rstd
    running_mean, running_var, _, eps = params  # eval-mode batch norm: constants
    channel = (x.shape[1],) + (1,) * (x.ndim - 2)
    rstd = xp.cast(np.reshape(1 / np.sqrt(running_var + eps), channel), dtype)
    return (x - xp.cast(np.reshape(running_mean, channel), dtype)) * rstd, None, rstd


def _forward(kind: str):
    """PyTorch's native_*_norm outputs: y, and the mean and rstd it used (batch norm: per channel,
    empty in eval mode; group norm: per (sample, group); layer norm: per row, keeping dims)."""
    def forward(x, weight, bias, *params):
        params = params[3:] if kind == "group" else params  # group norm's N, C, HxW are shown, not used
        normalised, mean, rstd = _normalised(NUMPY, kind, x, params, x.dtype)
        out = np.reshape(normalised, x.shape)
        _, _, affine = _layout(kind, x.shape, params)
        if weight is not None:
            out = out * np.reshape(weight, affine)
        if bias is not None:
            out = out + np.reshape(bias, affine)
        if mean is None:
            mean = rstd = np.empty(0, x.dtype)
        elif kind != "layer":
            statistics_shape = mean.shape[:2] if kind == "group" else (-1,)
            mean, rstd = np.reshape(mean, statistics_shape), np.reshape(rstd, statistics_shape)
        return out.astype(x.dtype, copy=False), mean, rstd
    return forward


def _input_vjp(kind: str):
    def rule(g, s):
        xp, params, statistics_grads, g = s.xp, _params(kind, s), g[1:], g[0]
        shape, axes, affine = _layout(kind, s.input_sym_sizes, params)
        if g is None:  # group norm's mean or rstd alone got a gradient
            normalised, _, rstd = _normalised(xp, kind, s.input, params, s.input.dtype)
            count = math.prod(normalised.shape[a] for a in axes)
            grad = _statistics_vjp(xp, statistics_grads, normalised, rstd, count)
            return xp.reshape(xp.expand(grad, tuple(normalised.shape)), s.input_sym_sizes)
        gw = g if s.weight is None else g * xp.reshape(s.weight, affine)
        normalised, mean, rstd = _normalised(xp, kind, s.input, params, g.dtype)
        if mean is None:
            return gw * rstd
        gw = xp.reshape(gw, shape) if kind == "group" else gw
        count = math.prod(normalised.shape[a] for a in axes)
        projection = xp.sum(gw * normalised, axes, True) / count
        grad = rstd * (gw - xp.sum(gw, axes, True) / count - normalised * projection)
        if statistics_grads:
            grad = grad + _statistics_vjp(xp, statistics_grads, normalised, rstd, count)
        return xp.reshape(grad, s.input_sym_sizes) if kind == "group" else grad
    return rule


def _statistics_vjp(xp, grads, normalised, rstd, count):
    """Group norm's mean and rstd are outputs of its node too (differentiable, as PyTorch's): d mean/dx = 1/count,
    d rstd/dx = -rstd² · x̂ / count, per (sample, group), each where given (not None)."""
    (g_mean, g_rstd), shape = grads, tuple(rstd.shape)  # grads per (sample, group); rstd's is (N, G, 1)
    grad = 0
    if g_mean is not None:
        grad = xp.reshape(g_mean, shape) / count
    if g_rstd is not None:
        grad = grad - xp.reshape(g_rstd, shape) * rstd * rstd * normalised / count
    return grad


def _affine_axes(kind: str, shape, params) -> tuple:
    """The axes of x that weight and bias gradients sum over (all but the feature axes)."""
    if kind == "layer":
        return tuple(range(len(shape) - len(params[0])))
    return (0,) + tuple(range(2, len(shape)))


def _sum_over(xp, x, axes):
    # NOTE: an empty dim list means "every dim" to a tensor sum, as in PyTorch: nothing to sum is no call
    return xp.sum(x, axes) if axes else x


def _weight_vjp(kind: str):
    def rule(g, s):
        xp, params = s.xp, _params(kind, s)
        if g[0] is None:  # group norm's mean or rstd alone got a gradient: they don't depend on the weight
            return None
        normalised, _, _ = _normalised(xp, kind, s.input, params, g[0].dtype)
        product = g[0] * xp.reshape(normalised, s.input_sym_sizes)
        return _sum_over(xp, product, _affine_axes(kind, s.input_sym_sizes, params))
    return rule


def _bias_vjp(kind: str):
    def rule(g, s):
        if g[0] is None:  # group norm's mean or rstd alone got a gradient
            return None
        return _sum_over(s.xp, g[0], _affine_axes(kind, s.input_sym_sizes, _params(kind, s)))
    return rule


def _params(kind: str, s) -> tuple:
    if kind == "layer":
        return s.normalized_shape, s.eps
    if kind == "batch":
        return s.running_mean, s.running_var, s.training, s.eps
    return s.group, s.eps


def _norm_primitive(kind: str, name: str, node: str, params: tuple, saved: tuple, unsaved: tuple = (),
                    held: tuple = ()):
    """PyTorch's node saves `saved` (its mean and rstd, result1 and result2, too: no rule here reads them, see the
    module's docstring) whichever inputs need gradients, in PyTorch's order (saved-tensor hooks pack them so)."""
    # NOTE: PyTorch's layer and batch norm nodes have one output (their mean and rstd aren't differentiable), group
    # norm's three
    return primitive(name, _forward(kind), node, inputs=("input", "weight", "bias"), params=params,
                     attrs=("input_sym_sizes",), unsaved=("input_sym_sizes", *unsaved), held=held, outputs=3,
                     differentiable_outputs=(0, 1, 2) if kind == "group" else (0,), saves=(saved,) * 3,
                     vjp=(_input_vjp(kind), _weight_vjp(kind), _bias_vjp(kind)), opmath=True, opmath_vjp=True)


native_layer_norm = _norm_primitive("layer", "native_layer_norm", "NativeLayerNormBackward0",
                                    ("normalized_shape", "eps"), ("bias", "input", "weight", "result1", "result2"),
                                    unsaved=("eps",))
# the running statistics are held, as PyTorch saves them: changed in place before the backward, it refuses to run
native_batch_norm = _norm_primitive("batch", "native_batch_norm", "NativeBatchNormBackward0",
                                    ("running_mean", "running_var", "training", "eps"),
                                    ("input", "weight", "result1", "result2"), held=("running_mean", "running_var"))
native_group_norm = _norm_primitive("group", "native_group_norm", "NativeGroupNormBackward0",
                                    ("N", "C", "HxW", "group", "eps"), ("input", "weight", "result1", "result2"))


# ------------------------------------------------------------------------------- weight norm
def _other_axes(ndim: int, dim: int) -> tuple:
    return tuple(axis for axis in range(ndim) if axis != dim)


def _weight_norm(v, g, dim):
    """w = v · g / ‖v‖ with the norm over every dim but `dim` (kept as size 1), and that norm."""
    norms = np.sqrt(np.sum(v * v, axis=_other_axes(v.ndim, dim), keepdims=True))
    return v * (g / norms), norms


def _sum_other(xp, x, dim):
    return xp.sum(x, _other_axes(x.ndim, dim), True)


def _weight_norm_v_vjp(g, s):
    """∂v = g_w · (g / ‖v‖) − v · (g / ‖v‖³) · Σ g_w · v: the direction's component along v removed."""
    grad, xp, norms = g[0], s.xp, _norms(s)
    projection = _sum_other(xp, grad * s.v, s.dim) / (norms * norms)
    return (s.g / norms) * (grad - s.v * projection)


def _weight_norm_g_vjp(g, s):
    return _sum_other(s.xp, g[0] * s.v, s.dim) / _norms(s)


def _norms(s):
    """The saved norms; under create_graph recomputed from v (the saved output is not differentiable), so that
    second derivatives see how they move with it."""
    if not s.xp.is_tensor:
        return s.result1
    return s.xp.sqrt(_sum_other(s.xp, s.v * s.v, s.dim))


weight_norm_interface = primitive(
    "weight_norm_interface", _weight_norm, "WeightNormInterfaceBackward0", inputs=("v", "g"), params=("dim",),
    outputs=2, differentiable_outputs=(0,), saves=(("v", "g", "result1"), ("v", "result1")),
    vjp=(_weight_norm_v_vjp, _weight_norm_g_vjp))
