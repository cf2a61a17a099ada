"""Scans along a dim: cumsum, cumprod, cummax/cummin, logcumsumexp. `dim` is normalised (0 for a 0-dim
input, which every scan returns unchanged)."""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import primitive


def scan(ufunc, a, dim, dtype=None):
    """`ufunc` accumulated along `dim` (cumsum: np.add), for the ops and for rules on arrays (NumpyNamespace)."""
    if a.ndim == 0:
        return a.astype(dtype or a.dtype)
    if a.dtype == np.float16 and (dtype is None or dtype == np.float16):
        # NOTE: as PyTorch's, float16 runs in float32 (its opmath type), each prefix rounded once: NumPy's float16
        # loop stalls (a running sum of 0.5s stops at 2048)
        return ufunc.accumulate(a, axis=dim, dtype=np.float32).astype(np.float16)
    return ufunc.accumulate(a, axis=dim, dtype=dtype)


def _scan(ufunc):
    def forward(a, dim, dtype=None):
        return scan(ufunc, a, dim, dtype)
    return forward


def _reverse_cumsum(xp, x, dim):
    return xp.flip(xp.cumsum(xp.flip(x, (dim,)), dim), (dim,))


def _cumsum_vjp(g, s):
    return g if g.ndim == 0 else _reverse_cumsum(s.xp, g, s.dim)


cumsum = primitive("cumsum", _scan(np.add), "CumsumBackward0", inputs=("self",), params=("dim", "dtype"),
                   unsaved=("dtype",), vjp=(_cumsum_vjp,))


def _take(x, index, axis):
    return np.take_along_axis(x, index, axis=axis)


def _cumprod_grad(x, result, g, axis):
    """The exact gradient of cumprod along `axis`, zeros included (PyTorch's cumprod_backward): before the
    first zero of a slice it is reverse_cumsum(g · result) / x; at that zero it is the product before it
    times Σ_j g_j · (product of the elements after it up to j); after it, 0."""
    n = x.shape[axis]
    if not x.size:  # NOTE: NumPy's argmax (the first zero) refuses an empty slice
        return np.zeros_like(g)
    shape = [1] * x.ndim
    shape[axis] = n
    position = np.arange(n).reshape(shape)
    is_zero = x == 0
    first = np.where(is_zero.any(axis=axis, keepdims=True), np.argmax(is_zero, axis=axis, keepdims=True), n)
    before = _reverse_cumsum_numpy(g * result, axis) / np.where(is_zero, 1, x)
    after_zero = np.cumprod(np.where(position <= first, 1, x), axis=axis)
    clipped = np.minimum(first, n - 1)
    prefix = np.where(first > 0, _take(result, np.maximum(clipped - 1, 0), axis), 1)
    at_zero = prefix * _take(_reverse_cumsum_numpy(g * after_zero, axis), clipped, axis)
    return np.where(position < first, before, np.where(position == first, at_zero, 0)).astype(g.dtype, copy=False)


def _reverse_cumsum_numpy(x, axis):
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


def _cumprod_graph(xp, x, g, dim):
    """`_cumprod_grad` from differentiable pieces, for create_graph with zeros in x: entry (i, j) of an
    n × n table holds prod_{k <= j, k != i} x_k (x with x_i set to 1, scanned), and input i's gradient
    is Σ_{j >= i} g_j times it."""
    n = x.shape[dim]
    moved = xp.movedim(x, dim, -1)
    table = xp.expand(xp.unsqueeze_dims(moved, (moved.ndim - 1,)), moved.shape + (n,))  # [..., i, j] = x_j
    eye = np.eye(n, dtype=bool)
    table = xp.cumprod(xp.where(eye, 1.0, table), -1)
    upper = np.triu(np.ones((n, n), dtype=bool))
    weights = xp.unsqueeze_dims(xp.movedim(g, dim, -1), (moved.ndim - 1,))  # [..., 1, j] = g_j
    return xp.movedim(xp.sum(xp.where(upper, weights * table, 0.0), (moved.ndim,)), -1, dim)


def _cumprod_vjp(g, s):
    xp, x = s.xp, s.self
    if x.ndim == 0:
        return g
    if not xp.is_tensor:
        return _cumprod_grad(x, s.result, g, s.dim)
    if not bool((x == 0).any()):
        return _reverse_cumsum(xp, g * s.result, s.dim) / x
    return _cumprod_graph(xp, x, g, s.dim)


cumprod = primitive("cumprod", _scan(np.multiply), "CumprodBackward0", inputs=("self",), params=("dim", "dtype"),
                    unsaved=("dtype",), saves=(("self", "result"),), vjp=(_cumprod_vjp,))


def _running_extreme(ufunc):
    def forward(a, dim):
        if a.ndim == 0:
            return a.copy(), np.zeros((), dtype=np.int64)
        values = ufunc.accumulate(a, axis=dim)
        # NOTE: ties take the latest index, and so does each nan (the values stay nan after the first), as PyTorch's
        marks = (a == values) | np.isnan(a)
        shape = [1] * a.ndim
        shape[dim] = a.shape[dim]
        positions = np.where(marks, np.arange(a.shape[dim]).reshape(shape), 0)
        return values, np.maximum.accumulate(positions, axis=dim).astype(np.int64)
    return forward


def _running_extreme_vjp(g, s):
    g_values = g[0]
    if not s.self_sym_sizes:
        return g_values
    indices = np.asarray(s.indices)
    grid = list(np.indices(indices.shape, sparse=True))
    grid[s.dim] = indices
    return s.xp.index_scatter(g_values, s.self_sym_sizes, tuple(grid), True)


cummax = primitive("cummax", _running_extreme(np.maximum), "CummaxBackward0", inputs=("self",), params=("dim",),
                   attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,),
                   output_names=("values", "indices"), saves=("indices",), vjp=(_running_extreme_vjp,))
cummin = primitive("cummin", _running_extreme(np.minimum), "CumminBackward0", inputs=("self",), params=("dim",),
                   attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,),
                   output_names=("values", "indices"), saves=("indices",), vjp=(_running_extreme_vjp,))


def _logcumsumexp(a, dim):
    return a.copy() if a.ndim == 0 else scan(np.logaddexp, a, dim)


def _logcumsumexp_vjp(g, s):
    """PyTorch's logcumsumexp_backward (after TensorFlow's): the positive and negative parts of g summed
    in log space, so nothing overflows; the lowest finite number stands for log 0."""
    xp, dim = s.xp, s.dim
    if g.ndim == 0:
        return g
    lowest = float(np.finfo(s.result._data.dtype if xp.is_tensor else s.result.dtype).min)
    log_abs = xp.log(xp.abs(g))
    positive = xp.where(g > 0, log_abs, lowest)
    negative = xp.where(g < 0, log_abs, lowest)

    def reverse(x):
        return xp.flip(xp.logcumsumexp(xp.flip(x, (dim,)), dim), (dim,))
    return xp.exp(reverse(positive - s.result) + s.self) - xp.exp(reverse(negative - s.result) + s.self)


logcumsumexp = primitive("logcumsumexp", _logcumsumexp, "LogcumsumexpBackward0", inputs=("self",), params=("dim",),
                         saves=(("self", "result"),), vjp=(_logcumsumexp_vjp,))
