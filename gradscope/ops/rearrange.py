"""Rearranging elements: flip, roll, rot90, triangles and diagonals, repeat, unfold. Flips, rolls and
triangles are copies, as in PyTorch; diagonal and unfold are views."""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import primitive

flip = primitive("flip", lambda a, dims: np.flip(a, dims).copy(), "FlipBackward0", inputs=("self",), params=("dims",),
                 vjp=(lambda g, s: s.xp.flip(g, s.dims),))
def roll_array(a, shifts: tuple, dims: tuple):
    """np.roll with PyTorch's arguments: no dims rolls the flattened array by shifts[0]."""
    return np.roll(a, shifts, dims) if dims else np.roll(a, shifts[0])


roll = primitive("roll", roll_array, "RollBackward0", inputs=("self",),
                 params=("shifts", "dims"),
                 vjp=(lambda g, s: s.xp.roll(g, tuple(-shift for shift in s.shifts), s.dims),))
rot90 = primitive("rot90", lambda a, k, dims: np.rot90(a, k, dims).copy(), "Rot90Backward0", inputs=("self",),
                  params=("k", "dims"), vjp=(lambda g, s: s.xp.rot90(g, -s.k, s.dims),))


def _triangle_mask(shape: tuple, diagonal: int, lower: bool) -> np.ndarray:
    ones = np.ones(shape[-2:], dtype=bool)
    return np.tril(ones, diagonal) if lower else np.triu(ones, diagonal)


tril = primitive("tril", lambda a, diagonal: np.tril(a, diagonal), "TrilBackward0", inputs=("self",),
                 params=("diagonal",),
                 vjp=(lambda g, s: s.xp.where(_triangle_mask(g.shape, s.diagonal, True), g, 0.0),))
triu = primitive("triu", lambda a, diagonal: np.triu(a, diagonal), "TriuBackward0", inputs=("self",),
                 params=("diagonal",),
                 vjp=(lambda g, s: s.xp.where(_triangle_mask(g.shape, s.diagonal, False), g, 0.0),))


def diagonal_index(shape: tuple, offset: int, dim1: int, dim2: int) -> tuple:
    """Integer index arrays picking the diagonal of `shape` (dims `dim1`, `dim2`, shifted by `offset`):
    `a[index]` has the other dims in order, then the diagonal, as `diagonal` lays it out."""
    keep = [d for d in range(len(shape)) if d not in (dim1, dim2)]
    length = max(min(shape[dim1] - max(-offset, 0), shape[dim2] - max(offset, 0)), 0)
    rank = len(keep) + 1
    index = [None] * len(shape)
    for j, d in enumerate(keep):
        index[d] = np.arange(shape[d]).reshape((-1,) + (1,) * (rank - 1 - j))
    steps = np.arange(length)
    index[dim1] = steps + max(-offset, 0)
    index[dim2] = steps + max(offset, 0)
    return tuple(index)


def _diagonal(a, offset, dim1, dim2):
    # NOTE: a writeable strided view (NumPy's diagonal is read-only), as PyTorch's diagonal is a view
    start = dim2 if offset >= 0 else dim1
    a = a[(slice(None),) * start + (slice(abs(offset), None),)]
    keep = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    length = max(min(a.shape[dim1], a.shape[dim2]), 0)
    shape = tuple(a.shape[d] for d in keep) + (length,)
    strides = tuple(a.strides[d] for d in keep) + (a.strides[dim1] + a.strides[dim2],)
    return np.lib.stride_tricks.as_strided(a, shape, strides)


def _diagonal_vjp(g, s):
    index = diagonal_index(s.self_sym_sizes, s.offset, s.dim1, s.dim2)
    return s.xp.index_scatter(g, s.self_sym_sizes, index, False)


diagonal = primitive("diagonal", _diagonal, "DiagonalBackward0", inputs=("self",), params=("offset", "dim1", "dim2"),
                     attrs=("self_sym_sizes",), view=True, vjp=(_diagonal_vjp,))
# torch.diag of a matrix: the diagonal as a copy (PyTorch names its node DiagonalBackward0_copy)
diagonal_copy = primitive("diagonal_copy", lambda a, offset, dim1, dim2: _diagonal(a, offset, dim1, dim2).copy(),
                          "DiagonalBackward0_copy", inputs=("self",), params=("offset", "dim1", "dim2"),
                          attrs=("self_sym_sizes",), vjp=(_diagonal_vjp,))


def _diag_embed(a, offset, dim1, dim2):
    size = (a.shape[-1] if a.ndim else 1) + abs(offset)
    shape = list(a.shape[:-1])
    for d in sorted((dim1, dim2)):
        shape.insert(d, size)
    out = np.zeros(shape, dtype=a.dtype)
    out[diagonal_index(tuple(shape), offset, dim1, dim2)] = a
    return out


diag_embed = primitive("diag_embed", _diag_embed, "DiagEmbedBackward0", inputs=("self",),
                       params=("offset", "dim1", "dim2"),
                       vjp=(lambda g, s: s.xp.diagonal(g, s.offset, s.dim1, s.dim2),))


def _trace_vjp(g, s):
    n = min(s.self_sym_sizes)
    steps = np.arange(n)
    return s.xp.index_scatter(s.xp.expand(g, (n,)), s.self_sym_sizes, (steps, steps), False)


trace = primitive("trace", lambda a: np.asarray(np.trace(a)), "TraceBackward0", inputs=("self",),
                  attrs=("self_sym_sizes",), vjp=(_trace_vjp,))


def _repeat_vjp(g, s):
    """Each output element is a copy of one input element: sum the copies (g as (r0, n0, r1, n1, ...))."""
    xp, repeats = s.xp, s.repeats
    sizes = (1,) * (len(repeats) - len(s.self_sym_sizes)) + tuple(s.self_sym_sizes)
    split = tuple(n for pair in zip(repeats, sizes) for n in pair)
    summed = xp.sum(xp.reshape(g, split), tuple(range(0, len(split), 2)))
    return xp.reshape(summed, s.self_sym_sizes)


repeat = primitive("repeat", lambda a, repeats: np.tile(a, repeats), "RepeatBackward0", inputs=("self",),
                   params=("repeats",), attrs=("self_sym_sizes",), vjp=(_repeat_vjp,))


def _unfold(a, dimension, size, step):
    # NOTE: a writeable strided view, as PyTorch's (windows may overlap: writes through them are refused)
    if a.ndim == 0:
        return np.lib.stride_tricks.as_strided(a, (1,), (0,))
    count = (a.shape[dimension] - size) // step + 1
    shape = a.shape[:dimension] + (count,) + a.shape[dimension + 1:] + (size,)
    stride = a.strides[dimension]
    strides = a.strides[:dimension] + (stride * step,) + a.strides[dimension + 1:] + (stride,)
    return np.lib.stride_tricks.as_strided(a, shape, strides)


def _unfold_vjp(g, s):
    shape = s.self_sym_sizes
    if not shape:
        return s.xp.reshape(g, ())
    grid = list(np.indices(g.shape, sparse=True))  # g: the input's dims (windows at `dimension`), then the window
    grid[s.dimension] = grid[s.dimension] * s.step + grid[-1]
    return s.xp.index_scatter(g, shape, tuple(grid[:-1]), True)


unfold = primitive("unfold", _unfold, "UnfoldBackward0", inputs=("self",), params=("dimension", "size", "step"),
                   attrs=("self_sym_sizes",), view=True, vjp=(_unfold_vjp,))
