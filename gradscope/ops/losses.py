"""Loss primitives PyTorch computes with a fused kernel of its own (binary_cross_entropy, smooth_l1_loss,
huber_loss, soft_margin_loss, nll_loss2d), their node names and their backward formulas.

A 'mean' reduction divides the gradient by the input's element count, as PyTorch's `*_backward` kernels
do (`norm = 1 / numel`).
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.nn import (
    MEAN,
    NONE,
    _count_ignored,
    _nll_scale,
    _nll_weights,
    _reduce,
    _reduction_scale,
    nll_backward_kernel,
    nll_total_weight,
)
from gradscope.ops.registry import primitive


def _weighted(xp, grad, weight, g):
    return grad if weight is None else grad * xp.cast(weight, g.dtype)


def _bce(a, target, weight, reduction):
    # NOTE: PyTorch clamps each log at -100, so a confident wrong prediction costs 100, not inf
    loss = -(target * np.maximum(np.log(a), -100) + (1 - target) * np.maximum(np.log1p(-a), -100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction).astype(a.dtype, copy=False)


_BCE_EPSILON = float(np.float32(1e-12))  # NOTE: PyTorch's kernel has it in single precision


def _bce_input_vjp(g, s):
    xp, x = s.xp, s.self
    # NOTE: (x - t) / max(x (1 - x), 1e-12): finite at x = 0 and x = 1, as PyTorch's kernel
    denominator = (1 - x) * x
    grad = (x - s.target) / xp.where(denominator > _BCE_EPSILON, denominator, _BCE_EPSILON)
    return _reduction_scale(_weighted(xp, grad, s.weight, g) * g, s)


def _bce_target_vjp(g, s):
    xp, x = s.xp, s.self
    grad = xp.log(1 - x) - xp.log(x)  # -logit(x)
    return _reduction_scale(_weighted(xp, grad, s.weight, g) * g, s)


binary_cross_entropy = primitive(
    "binary_cross_entropy", _bce, "BinaryCrossEntropyBackward0", inputs=("self", "target"),
    params=("weight", "reduction"), held=("weight",), saves=(("self", "target"), "self"),
    vjp=(_bce_input_vjp, _bce_target_vjp))


def _smooth_l1(a, target, reduction, beta):
    z = np.abs(a - target)
    return _reduce(np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta), reduction).astype(a.dtype, copy=False)


def _smooth_l1_vjp(sign):
    def rule(g, s):
        # |x - t| >= beta: the sign; inside, (x - t) / beta (both 1 at the seam, 0 at x = t)
        xp, difference = s.xp, s.self - s.target
        slope = xp.where(difference < -s.beta, -1.0, xp.where(difference > s.beta, 1.0, difference / s.beta))
        return _reduction_scale(sign * slope * g, s)
    return rule


smooth_l1_loss = primitive(
    "smooth_l1_loss", _smooth_l1, "SmoothL1LossBackward0", inputs=("self", "target"), params=("reduction", "beta"),
    saves=(("self", "target"), ("self", "target")), vjp=(_smooth_l1_vjp(1), _smooth_l1_vjp(-1)))


def _huber(a, target, reduction, delta):
    z = np.abs(a - target)
    return _reduce(np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)), reduction).astype(a.dtype,
                                                                                                copy=False)


def _huber_vjp(sign):
    def rule(g, s):
        xp, difference = s.xp, s.self - s.target
        slope = xp.where(difference < -s.delta, -s.delta, xp.where(difference > s.delta, s.delta, difference))
        return _reduction_scale(sign * slope * g, s)
    return rule


huber_loss = primitive(
    "huber_loss", _huber, "HuberLossBackward0", inputs=("self", "target"), params=("reduction", "delta"),
    saves=(("self", "target"), ("self", "target")), vjp=(_huber_vjp(1), _huber_vjp(-1)))


def _soft_margin(a, target, reduction):
    return _reduce(np.log1p(np.exp(-a * target)), reduction).astype(a.dtype, copy=False)


def _soft_margin_vjp(g, s):
    # -t e^{-tx} / (1 + e^{-tx}) = -t · sigmoid(-tx)
    target = s.xp.cast(s.target, g.dtype)  # a parameter: under create_graph, a constant tensor
    return _reduction_scale(-target * s.xp.sigmoid(-target * s.self) * g, s)


# the target is no input: PyTorch refuses to differentiate this loss with respect to it
soft_margin_loss = primitive(
    "soft_margin_loss", _soft_margin, "SoftMarginLossBackward0", inputs=("self",), params=("target", "reduction"),
    saves=("self",), held=("target",), vjp=(_soft_margin_vjp,))


def _nll_loss2d(a, target, weight, reduction, ignore_index):
    """nll_loss over (N, C, H, W) log-probabilities and (N, H, W) class indices."""
    logp = np.moveaxis(a, 1, -1)
    w, safe = _nll_weights(target, weight, ignore_index, _count_ignored(target, ignore_index, a.shape[1]), a.dtype)
    picked = np.take_along_axis(logp, safe[..., None], axis=-1)[..., 0]
    losses = -picked if w is None else -picked * w
    if reduction == MEAN:
        return (losses.sum() / (safe.size if w is None else w.sum())).astype(a.dtype)
    if reduction != NONE:
        return losses.sum()
    return losses


def _nll_loss2d_backward(grad_output, a, target, weight, reduction, ignore_index):
    """PyTorch's nll_loss2d_backward on arrays."""
    n_classes = a.shape[1]
    w, safe = _nll_weights(target, weight, ignore_index, np.count_nonzero(target == ignore_index), np.float64)
    scale = _nll_scale(w, safe.size, reduction)
    picked = np.zeros(target.shape + (n_classes,))
    np.put_along_axis(picked, safe[..., None], -(scale if w is None else scale[..., None]), axis=-1)
    if reduction == NONE:
        grad_output = grad_output[:, None]
    return grad_output * np.moveaxis(picked, -1, 1).astype(grad_output.dtype, copy=False)


nll_loss2d = primitive("nll_loss2d", _nll_loss2d, "NllLoss2DBackward0", inputs=("self",),
                       params=("target", "weight", "reduction", "ignore_index"), saves=("self",),
                       held=("target", "weight"), lazy={"total_weight": nll_total_weight},
                       vjp=(nll_backward_kernel("nll_loss2d", _nll_loss2d_backward, "NllLoss2D"),))
# PyTorch's C++ composites divide by a number with div(Tensor, Scalar): DivBackward1, not Python's DivBackward0
div_scalar = primitive("div_scalar", lambda a, other: (a / other).astype(a.dtype, copy=False), "DivBackward1",
                       inputs=("self",), params=("other",), vjp=(lambda g, s: g / s.other,))
