"""Loss primitives PyTorch computes with a fused kernel of its own (mse_loss, binary_cross_entropy, smooth_l1_loss,
huber_loss, soft_margin_loss, nll_loss2d), their node names and their backward formulas. Each backward is an op of
its own, as PyTorch's (MseLossBackwardBackward0 …), whose rules are PyTorch's double-backward formulas.

A 'mean' reduction divides the gradient by the input's element count, as PyTorch's `*_backward` kernels
do (`norm = 1 / numel`).
"""

from __future__ import annotations

import math

import numpy as np

from gradscope._shapes import sum_to
from gradscope.ops.namespace import NUMPY, _sigmoid
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
from gradscope.ops.registry import primitive, to_input


def _mse_norm(sizes, target_sizes, reduction) -> float:
    # NOTE: PyTorch's norm * (self - target) * g, left to right, with norm 2 / numel rounded to the input's dtype
    # (a Python float is weak: NumPy rounds it so too); the mean is over the broadcast shape of input and target
    if reduction != MEAN:
        return 2.0
    if sizes == target_sizes:
        return 2.0 / max(math.prod(sizes), 1)
    return 2.0 / max(math.prod(np.broadcast_shapes(sizes, target_sizes)), 1)


def _mse_loss_backward(grad_output, a, target, reduction):
    """PyTorch's mse_loss_backward: norm · (self - target) · grad_output."""
    return _mse_norm(a.shape, target.shape, reduction) * (a - target) * grad_output


def _mse_double_backward(sign: int):
    """MseLossBackwardBackward0's rule for self (sign 1) or target (-1): PyTorch's mse_loss_double_backward of
    grad · grad_output, constant in both."""
    def rule(gg, s):
        grad = _mse_norm(tuple(s.self.shape), tuple(s.target.shape), s.reduction) * gg * s.grad_output
        return grad if sign > 0 else -grad
    return rule


# PyTorch's target gradient is the same kernel with self and target swapped (a node of its own)
mse_loss_backward = primitive(
    "mse_loss_backward", _mse_loss_backward, "MseLossBackwardBackward0", inputs=("grad_output", "self", "target"),
    params=("reduction",), saves=(("self", "target"), ("grad_output", "self", "target"),
                                  ("grad_output", "self", "target")),
    vjp=(lambda gg, s: s.xp.apply(mse_loss_backward, (gg, s.self, s.target), (s.reduction,)),
         _mse_double_backward(1), _mse_double_backward(-1)))


def _mse_vjps(g, s, wanted) -> list:
    xp, (meta, target_meta) = s.xp, wanted
    return [None if meta is None else to_input(xp.apply(mse_loss_backward, (g, s.self, s.target), (s.reduction,)),
                                               meta, xp),
            None if target_meta is None else to_input(
                xp.apply(mse_loss_backward, (g, s.target, s.self), (s.reduction,)), target_meta, xp)]


def _mse_array_vjps(g, a, target, attrs, wanted) -> list:
    """_mse_vjps on the saved arrays, for the engine's first-order path: one product, negated for the target."""
    meta, target_meta = wanted
    sizes = a.shape
    if attrs[0] != MEAN:  # _mse_norm, inline: a training step's loss
        norm = 2.0
    elif sizes == target.shape:
        norm = 2.0 / max(math.prod(sizes), 1)
    else:
        norm = _mse_norm(sizes, target.shape, MEAN)
    grad = norm * (a - target) * g
    if target_meta is None and grad.shape == meta[0] and grad.dtype is meta[1]:
        return [grad, None]
    grads = [None if meta is None else grad, None if target_meta is None else -grad]
    for i, (grad, meta) in enumerate(zip(grads, wanted, strict=True)):
        if grad is not None and (grad.shape != meta[0] or grad.dtype is not meta[1]):
            grads[i] = sum_to(grad, meta[0]).astype(meta[1], copy=False)
    return grads


mse_loss = primitive(
    "mse_loss", lambda a, target, reduction: _reduce((a - target) ** 2, reduction), "MseLossBackward0",
    inputs=("self", "target"), params=("reduction",), saves=(("self", "target"), ("self", "target")),
    vjp=(lambda g, s: s.xp.apply(mse_loss_backward, (g, s.self, s.target), (s.reduction,)),
         lambda g, s: s.xp.apply(mse_loss_backward, (g, s.target, s.self), (s.reduction,))),
    joint_vjp=_mse_vjps, array_joint_vjp=_mse_array_vjps)


def _weighted(xp, grad, weight, g):
    return grad if weight is None else grad * xp.cast(weight, g.dtype)


def _bce(a, target, weight, reduction):
    # NOTE: PyTorch clamps each log at -100, so a confident wrong prediction costs 100, not inf
    loss = -(target * np.maximum(np.log(a), -100) + (1 - target) * np.maximum(np.log1p(-a), -100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction).astype(a.dtype, copy=False)


_BCE_EPSILON = float(np.float32(1e-12))  # NOTE: PyTorch's kernel has it in single precision


def _bce_backward(grad_output, x, target, weight, reduction):
    # NOTE: (x - t) / max(x (1 - x), 1e-12): finite at x = 0 and x = 1, as PyTorch's kernel
    denominator = (1 - x) * x
    grad = (x - target) / np.where(denominator > _BCE_EPSILON, denominator, _BCE_EPSILON)
    return _mean_scale(_weighted(NUMPY, grad, weight, grad_output) * grad_output, x, reduction)


# NOTE: PyTorch's double backward formulas add 1e-12 (double) to x and 1 - x where its kernel clamps x (1 - x)
_DOUBLE_EPSILON = 1e-12


def _bce_double_backward(index: int):
    """BinaryCrossEntropyBackwardBackward0's rule for grad_output (0), self (1) or target (2): PyTorch's
    binary_cross_entropy_double_backward(_grad_output, _target) formulas."""
    def rule(gg, s):
        xp, x, target = s.xp, s.self, s.target
        if index == 0:
            grad = (x - target) / ((x + _DOUBLE_EPSILON) * (1 - x + _DOUBLE_EPSILON))
        elif index == 1:
            grad = (x * x - 2 * x * target + target) / (
                (x + _DOUBLE_EPSILON) ** 2 * (1 - x + _DOUBLE_EPSILON) ** 2) * s.grad_output
        else:
            denominator = (1 - x) * x
            grad = -s.grad_output / xp.where(denominator > _DOUBLE_EPSILON, denominator, _DOUBLE_EPSILON)
        grad = _weighted(xp, grad * gg, s.weight, gg)
        return grad / float(math.prod(x.shape)) if s.reduction == MEAN else grad
    return rule


binary_cross_entropy_backward = primitive(
    "binary_cross_entropy_backward", _bce_backward, "BinaryCrossEntropyBackwardBackward0",
    inputs=("grad_output", "self", "target"), params=("weight", "reduction"), held=("weight",),
    saves=(("self", "target"), ("grad_output", "self", "target"), ("grad_output", "self")),
    vjp=(_bce_double_backward(0), _bce_double_backward(1), _bce_double_backward(2)))


def _bce_target_vjp(g, s):
    xp, x = s.xp, s.self
    grad = xp.log(1 - x) - xp.log(x)  # -logit(x)
    return _reduction_scale(_weighted(xp, grad, s.weight, g) * g, s)


binary_cross_entropy = primitive(
    "binary_cross_entropy", _bce, "BinaryCrossEntropyBackward0", inputs=("self", "target"),
    params=("weight", "reduction"), held=("weight",), saves=(("self", "target"), "self"),
    vjp=(lambda g, s: s.xp.apply(binary_cross_entropy_backward, (g, s.self, s.target), (s.weight, s.reduction)),
         _bce_target_vjp))


def _smooth_l1(a, target, reduction, beta):
    z = np.abs(a - target)
    return _reduce(np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta), reduction).astype(a.dtype, copy=False)


def _mean_scale(grad, a, reduction):
    """grad over the input's element count for a 'mean' (PyTorch's `norm = 1 / numel`), on arrays."""
    return grad / a.size if reduction == MEAN else grad


def _smooth_l1_loss_backward(grad_output, a, target, reduction, beta):
    # |x - t| >= beta: the sign; inside, (x - t) / beta (both 1 at the seam, 0 at x = t)
    difference = a - target
    slope = np.where(difference < -beta, -1.0, np.where(difference > beta, 1.0, difference / beta))
    return _mean_scale(slope * grad_output, a, reduction)


def _huber_loss_backward(grad_output, a, target, reduction, delta):
    difference = a - target
    slope = np.where(difference < -delta, -delta, np.where(difference > delta, delta, difference))
    return _mean_scale(slope * grad_output, a, reduction)


def _piecewise_loss_primitives(name: str, node: str, forward, backward, width: str, curvature):
    """A loss of x - t quadratic within `width` and linear outside (smooth_l1, huber), and its backward as an op of
    its own, as PyTorch's: its rule for grad_output is the backward again; for self and target (whose gradient is
    the same kernel with the two swapped, as PyTorch's), PyTorch's *_double_backward: `curvature(width)` strictly
    inside the width, 0 outside and at the seam."""
    params = ("reduction", width)

    def params_of(s):
        return tuple(getattr(s, param) for param in params)

    def double_backward(sign):
        def rule(gg, s):
            xp, size = s.xp, float(math.prod(s.self.shape))
            inside = xp.abs(s.self - s.target) < getattr(s, width)
            grad = xp.where(inside, gg * s.grad_output * curvature(getattr(s, width)), 0.0)
            grad = grad / size if s.reduction == MEAN else grad
            return grad if sign > 0 else -grad
        return rule

    backward_op = primitive(
        f"{name}_backward", backward, f"{node}BackwardBackward0", inputs=("grad_output", "self", "target"),
        params=params, saves=(("self", "target"), ("grad_output", "self", "target"), ("grad_output", "self", "target")),
        vjp=(lambda gg, s: s.xp.apply(backward_op, (gg, s.self, s.target), params_of(s)), double_backward(1),
             double_backward(-1)))
    return primitive(
        name, forward, f"{node}Backward0", inputs=("self", "target"), params=params,
        saves=(("self", "target"), ("self", "target")),
        vjp=(lambda g, s: s.xp.apply(backward_op, (g, s.self, s.target), params_of(s)),
             lambda g, s: s.xp.apply(backward_op, (g, s.target, s.self), params_of(s))))


smooth_l1_loss = _piecewise_loss_primitives("smooth_l1_loss", "SmoothL1Loss", _smooth_l1, _smooth_l1_loss_backward,
                                            "beta", lambda beta: 1.0 / beta)


def _huber(a, target, reduction, delta):
    z = np.abs(a - target)
    return _reduce(np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)), reduction).astype(a.dtype,
                                                                                                copy=False)


huber_loss = _piecewise_loss_primitives("huber_loss", "HuberLoss", _huber, _huber_loss_backward, "delta",
                                        lambda delta: 1.0)


def _soft_margin(a, target, reduction):
    return _reduce(np.log1p(np.exp(-a * target)), reduction).astype(a.dtype, copy=False)


def _soft_margin_loss_backward(grad_output, a, target, reduction):
    # -t e^{-tx} / (1 + e^{-tx}) = -t · sigmoid(-tx)
    target = target.astype(grad_output.dtype, copy=False)
    return _mean_scale(-target * _sigmoid(-target * a) * grad_output, a, reduction)


def _soft_margin_double_backward(gg, s):
    """PyTorch's soft_margin_loss_double_backward of gg · grad_output: t² z / (1 + z)², z = e^{-tx}."""
    xp = s.xp
    target = xp.cast(s.target, xp.dtype_of(gg))  # a parameter: under create_graph, a constant tensor
    sigmoid = xp.sigmoid(-target * s.self)
    grad = target * target * sigmoid * (1 - sigmoid) * gg * s.grad_output
    return grad / float(math.prod(s.self.shape)) if s.reduction == MEAN else grad


soft_margin_loss_backward = primitive(
    "soft_margin_loss_backward", _soft_margin_loss_backward, "SoftMarginLossBackwardBackward0",
    inputs=("grad_output", "self"), params=("target", "reduction"), held=("target",),
    saves=(("self",), ("grad_output", "self")),
    vjp=(lambda gg, s: s.xp.apply(soft_margin_loss_backward, (gg, s.self), (s.target, s.reduction)),
         _soft_margin_double_backward))
# the target is no input: PyTorch refuses to differentiate this loss with respect to it
soft_margin_loss = primitive(
    "soft_margin_loss", _soft_margin, "SoftMarginLossBackward0", inputs=("self",), params=("target", "reduction"),
    saves=("self",), held=("target",),
    vjp=(lambda g, s: s.xp.apply(soft_margin_loss_backward, (g, s.self), (s.target, s.reduction)),))


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
