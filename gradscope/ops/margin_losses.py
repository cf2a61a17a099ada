"""The multi-class hinge losses PyTorch computes with kernels of their own: multi_margin_loss
(MultiMarginLossBackward0) and multilabel_margin_loss (MultilabelMarginLossBackward0).

Both sum hinges z = margin − x[target] + x[other] over pairs (target class, other class), divided by the class
count. The rules build z again through the array namespace, so under create_graph the squared hinge (p = 2)
is differentiable once more; the plain hinge's slope is a constant there, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.nn import MEAN, NONE, _reduce
from gradscope.ops.registry import primitive


def _as_rows(shape) -> tuple[int, int]:
    """(samples, classes): a vector is one sample, a 0-dim input one sample of one class (as PyTorch's)."""
    if len(shape) <= 1:
        return 1, shape[0] if shape else 1
    return shape[0], shape[1]


def _per_sample(xp, g, reduction: int, rows: int):
    """The incoming gradient of each sample's loss, as a column (one row that broadcasts, when reduced)."""
    if reduction == NONE:
        return xp.reshape(g, (rows, 1))
    g = xp.reshape(g, (1, 1))
    return g / rows if reduction == MEAN else g


def _finish(loss, shape, reduction: int, dtype):
    if reduction == NONE:
        return loss.reshape(shape[:-1]).astype(dtype, copy=False)
    return np.asarray(_reduce(loss, reduction)).astype(dtype)


# ------------------------------------------------------------------------------- multi_margin_loss
def _multi_margin_terms(x, target, p, margin, weight):
    """Each (sample, class) hinge max(0, margin − x[target] + x)^p, weighted by the target's weight, and the
    mask of the classes that count (all but the target)."""
    rows = np.arange(x.shape[0])
    hinge = margin - x[rows, target][:, None] + x
    others = np.ones(x.shape, bool)
    others[rows, target] = False
    return hinge, others


def _multi_margin(a, target, p, margin, weight, reduction):
    n, classes = _as_rows(a.shape)
    x, t = a.reshape(n, classes), target.reshape(n)
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise RuntimeError("target out of range")
    hinge, others = _multi_margin_terms(x, t, p, margin, weight)
    terms = np.maximum(hinge, 0) ** p * others
    if weight is not None:
        terms = terms * weight[t][:, None]
    # unreduced, one sample's loss has its target's shape (0-dim or [1]), as PyTorch's
    shape = a.shape if a.ndim == 2 else target.shape + (classes,)
    return _finish(terms.sum(1) / classes, shape, reduction, a.dtype)


def _multi_margin_vjp(g, s):
    xp, shape = s.xp, tuple(s.self.shape)
    n, classes = _as_rows(shape)
    t = s.target.reshape(n)
    rows = np.arange(n)
    x = xp.reshape(s.self, (n, classes))
    hinge = s.margin - xp.unsqueeze_dims(xp.getitem(x, (rows, t)), (1,)) + x
    _, others = _multi_margin_terms(np.zeros((n, classes)), t, s.p, s.margin, None)
    scale = others / classes
    if s.weight is not None:
        scale = scale * s.weight[t][:, None]
    active = xp.cast(hinge > 0, g.dtype) * xp.cast(scale, g.dtype)
    slope = active if s.p == 1 else 2 * hinge * active
    terms = slope * _per_sample(xp, g, s.reduction, n)
    onehot = np.zeros((n, classes))
    onehot[rows, t] = 1
    grad = terms - xp.cast(onehot, g.dtype) * xp.sum(terms, (1,), True)
    return xp.reshape(grad, shape)


multi_margin_loss = primitive(
    "multi_margin_loss", _multi_margin, "MultiMarginLossBackward0", inputs=("self",),
    params=("target", "p", "margin", "weight", "reduction"), saves=("self",), held=("target", "weight"),
    vjp=(_multi_margin_vjp,))


# ------------------------------------------------------------------------------- multilabel_margin_loss
def _targets(target, classes: int):
    """(target classes with the ones after the first -1 parked at 0, which of them count, the class mask)."""
    counted = np.cumprod(target != -1, axis=1).astype(bool)
    if np.any(counted & ((target < 0) | (target >= classes))):
        raise RuntimeError("argument #2 'target' is out of range")
    safe = np.where(counted, target, 0)
    is_target = np.zeros(target.shape[:1] + (classes,), bool)
    rows = np.broadcast_to(np.arange(target.shape[0])[:, None], target.shape)
    is_target[rows[counted], safe[counted]] = True
    return safe, counted, is_target


def _multilabel_margin(a, target, reduction):
    n, classes = _as_rows(a.shape)
    x = a.reshape(n, classes)
    safe, counted, is_target = _targets(target.reshape(n, -1), classes)
    picked = np.take_along_axis(x, safe, axis=1)  # (n, k)
    hinge = 1 - picked[:, :, None] + x[:, None, :]  # (n, k, classes)
    pairs = counted[:, :, None] & ~is_target[:, None, :]
    return _finish((np.maximum(hinge, 0) * pairs).sum((1, 2)) / classes, a.shape, reduction, a.dtype)


def _multilabel_margin_vjp(g, s):
    xp, shape = s.xp, tuple(s.self.shape)
    n, classes = _as_rows(shape)
    safe, counted, is_target = _targets(s.target.reshape(n, -1), classes)
    rows = np.broadcast_to(np.arange(n)[:, None], safe.shape)
    x = xp.reshape(s.self, (n, classes))
    hinge = 1 - xp.unsqueeze_dims(xp.getitem(x, (rows, safe)), (2,)) + xp.unsqueeze_dims(x, (1,))
    pairs = (counted[:, :, None] & ~is_target[:, None, :]) / classes
    column = _per_sample(xp, g, s.reduction, n)
    terms = xp.cast(hinge > 0, g.dtype) * xp.cast(pairs, g.dtype) * xp.unsqueeze_dims(column, (2,))
    to_targets = xp.index_scatter(xp.sum(terms, (2,)), (n, classes), (rows, safe), True)
    return xp.reshape(xp.sum(terms, (1,)) - to_targets, shape)


def _is_target(s):
    n, classes = _as_rows(tuple(s.self.shape))
    is_target = _targets(s.target.reshape(n, -1), classes)[2].astype(s.self.dtype)
    return is_target.reshape(tuple(s.self.shape))


multilabel_margin_loss = primitive(
    "multilabel_margin_loss", _multilabel_margin, "MultilabelMarginLossBackward0", inputs=("self",),
    params=("target", "reduction"), saves=("self",), held=("target",), lazy={"is_target": _is_target},
    vjp=(_multilabel_margin_vjp,))
