"""at::norm(x, p, dim, keepdim): the reduction PyTorch's C++ composites (pairwise_distance, and so
triplet_margin_loss) end in, under its own node, NormBackward1; Python's x.norm() is
linalg_vector_norm (LinalgVectorNormBackward0). Same values and gradients as that one. And pdist, the
distances between every pair of rows (PdistBackward0)."""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops.reduction import _vector_norm, norm_gradient
from gradscope.ops.registry import primitive

norm = primitive("norm", _vector_norm, "NormBackward1", inputs=("self",), params=("p", "dim", "keepdim"),
                 saves=(("self", "result"),), vjp=(lambda g, s: norm_gradient(g, s, s.p),), opmath=True)


# ------------------------------------------------------------------------------- pdist and cdist
# NOTE: PyTorch's distance kernels (pdist's and cdist's) have their own NaN conventions, unlike norm's: a count (p = 0)
# adds min(ceil|d|, 1), NaN at a NaN; the gradient's sign is min/max of ceil and floor, NaN at a NaN; p = ∞'s
# gradient is sign(d) · (1 − min(1, ceil||d| − dist|)), NaN where |d| − dist is (a NaN, or an inf at an infinite
# distance). cdist's p = ∞ distance skips a NaN (a running std::max from 0); pdist's does not.
def count_nonzero(difference, axis):
    """The p = 0 distance: how many coordinates differ, NaN where one is NaN."""
    return np.minimum(np.ceil(np.abs(difference)), 1).sum(axis)


def signs(xp, difference):
    """sign(d), NaN at a NaN: the p = 1 and p = ∞ gradients' factor."""
    return xp.where(difference != difference, difference, xp.sign(difference))


def at_maximum(xp, difference, distance):
    """1 where |d| is the p = ∞ distance (every tie, undivided), 0 elsewhere, NaN where |d| − distance is NaN."""
    gap = xp.abs(difference) - distance
    return xp.where(gap != gap, gap, xp.cast(gap == 0, difference.dtype))


def _pairs(n: int):
    """Row pairs i < j in PyTorch's order (row-major over the upper triangle)."""
    return np.triu_indices(n, 1)


def _pdist(x, p):
    first, second = _pairs(x.shape[0])
    if p == 0:
        return count_nonzero(x[first] - x[second], 1)
    return _vector_norm(x[first] - x[second], p, (1,), False)


def _pdist_vjp(g, s):
    """Each pair's gradient along its difference, added to its first row and taken from its second:
    PyTorch's pdist_backward case by case (a pair at distance 0 gets 0; p = 1 and p = ∞ as the NOTE above)."""
    xp, p, x = s.xp, s.p, s.self
    first, second = _pairs(x.shape[0])
    diff = xp.getitem(x, (first,)) - xp.getitem(x, (second,))
    g = xp.unsqueeze_dims(g, (1,))
    dist = xp.unsqueeze_dims(s.result, (1,))
    if xp.is_tensor and p not in (0, 1) and not math.isinf(p):  # the distance as a function of x, for second order
        dist = xp.sqrt(xp.sum(diff * diff, (1,), True)) if p == 2 else xp.sum(xp.abs(diff) ** p, (1,), True) ** (1 / p)
    if p == 0:
        grad = xp.zeros_like(diff)
    elif p == 1:
        grad = signs(xp, diff) * g
    elif math.isinf(p):
        grad = signs(xp, diff) * at_maximum(xp, diff, dist) * g
    else:
        if p == 2:
            scaled = diff
        elif p < 1:  # |d|^(p-1) is infinite at d = 0: masked to 0 there
            scaled = xp.sign(diff) * xp.where(diff == 0, 0 * diff, xp.abs(diff) ** (p - 1))
        else:  # sgn(d) |d|^(p-1) below p = 2, d |d|^(p-2) above (0 · inf at d = 0 otherwise)
            scaled = xp.sign(diff) * xp.abs(diff) ** (p - 1) if p < 2 else diff * xp.abs(diff) ** (p - 2)
        grad = xp.where(dist == 0, 0 * diff, scaled * (g / (dist if p == 2 else dist ** (p - 1))))
    shape = tuple(x.shape)
    return xp.index_scatter(grad, shape, (first,), True) - xp.index_scatter(grad, shape, (second,), True)


pdist = primitive("pdist", _pdist, "PdistBackward0", inputs=("self",), params=("p",),
                  saves=(("self", "result"),), vjp=(_pdist_vjp,))
