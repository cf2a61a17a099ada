"""Writing one tensor into positions of another, and reading them back out: index_copy, index_put with
accumulation, masked_scatter, the select/slice/diagonal scatters, narrow_copy, block_diag; and as_strided,
a view of the input's storage. Indices and masks are parameters (the functions layer checks them)."""

from __future__ import annotations

import math
import types

import numpy as np

from gradscope.ops.indexing_ops import _scatter_reduce, _scatter_reduce_vjps, select_grid
from gradscope.ops.registry import primitive


def _positions(dim: int, index) -> tuple:
    return (slice(None),) * dim + (index,)


def _written(shape: tuple, where: tuple) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[where] = True
    return mask


def _keep_unwritten(where_of):
    """The gradient of the elements a write left alone (the written ones were replaced): zero at `where_of(s)`."""
    return lambda g, s: s.xp.where(_written(tuple(g.shape), where_of(s)), 0.0, g)


# ------------------------------------------------------------------------------- index_copy, index_put
def _index_copy(a, source, dim, index, source_dim):
    out = a.copy()
    if a.ndim == 0:
        out[...] = source
        return out
    out[select_grid(source.shape if source.ndim else (1,) * a.ndim, dim, index)] = source
    return out


def _index_copy_source_vjp(g, s):
    if not g.ndim:
        return g
    picked = s.xp.getitem(g, select_grid(tuple(g.shape[:s.dim]) + (len(s.index),) + tuple(g.shape[s.dim + 1:]),
                                         s.dim, s.index))
    return picked if s.source_dim else s.xp.reshape(picked, ())


def _index_copy_self_vjp(g, s):
    if not g.ndim:  # a 0-dim tensor is all written
        return s.xp.zeros_like(g)
    return s.xp.where(_written(tuple(g.shape), _positions(s.dim, s.index)), 0.0, g)


index_copy = primitive(
    "index_copy", _index_copy, "IndexCopyBackward0", inputs=("self", "source"), params=("dim", "index", "source_dim"),
    saves=((), ("source",)), held=("index",), vjp=(_index_copy_self_vjp, _index_copy_source_vjp))


def _index_put_accumulate(a, values, indices, accumulate):
    out = a.copy()
    np.add.at(out, indices, values)
    return out


# index_put(..., accumulate=True): the values add up at repeated indices; every value gets the gradient there
index_put_accumulate = primitive(
    "index_put_accumulate", _index_put_accumulate, "IndexPutBackward0", inputs=("self", "values"),
    params=("indices", "accumulate"), held=("indices",),
    vjp=(lambda g, s: g, lambda g, s: s.xp.getitem(g, s.indices)))


def _index_reduce_vjps(g, s):
    """scatter_reduce's gradients: index_reduce is one with the index spread over source's other dims."""
    return _scatter_reduce_vjps(g, types.SimpleNamespace(**s._asdict(), src=s.source), "index_reduce", "source")


# the index arrives spread over source's shape (the functions layer spreads it), so scatter_reduce computes it
index_reduce = primitive(
    "index_reduce", lambda a, source, dim, index, reduce, include_self: _scatter_reduce(
        a, source, dim, index, reduce, include_self),
    "IndexReduceBackward0", inputs=("self", "source"), params=("dim", "index", "reduce", "include_self"),
    held=("index",), saves=(("self", "source", "result"), ("self", "source", "result")),
    vjp=(lambda g, s: _index_reduce_vjps(g, s)[0], lambda g, s: _index_reduce_vjps(g, s)[1]))


# ------------------------------------------------------------------------------- masked_scatter
def _masked_scatter(a, source, mask):
    out = np.array(np.broadcast_to(a, np.broadcast_shapes(a.shape, mask.shape)))
    where = np.broadcast_to(mask, out.shape)
    out[where] = source.reshape(-1)[:np.count_nonzero(where)]
    return out


def _masked_scatter_source_vjp(g, s):
    """The gradient at the masked positions, in order, into the first elements of source; zero after them."""
    xp = s.xp
    where = np.broadcast_to(s.mask, tuple(g.shape))
    taken = xp.getitem(g, np.nonzero(where))
    size = math.prod(s.source_sym_sizes)
    flat = xp.index_scatter(taken, (size,), (np.arange(taken.shape[0]),), False)
    return xp.reshape(flat, s.source_sym_sizes)


masked_scatter = primitive(
    "masked_scatter", _masked_scatter, "MaskedScatterBackward0", inputs=("self", "source"), params=("mask",),
    attrs=("source_sym_sizes",), held=("mask",),
    vjp=(lambda g, s: s.xp.where(np.broadcast_to(s.mask, tuple(g.shape)), 0.0, g), _masked_scatter_source_vjp))


# ------------------------------------------------------------------------------- the scatters of views
def _scatter_into(region):
    """The forward of x.region(...) = src, out of place."""
    def forward(a, src, *params):
        out = a.copy()
        region(out, *params)[...] = src
        return out
    return forward


def _select_region(a, dim, index):
    return a[_positions(dim, index) + (Ellipsis,)]  # a view even of one element (a[i] of a vector is a copy)


def _slice_region(a, dim, start, end, step):
    return a[_positions(dim, slice(start, end, step))]


def _diagonal_region(a, offset, dim1, dim2):
    # NOTE: NumPy's diagonal is read-only; the same elements as a writeable view, through the strides
    rows, cols = a.shape[dim1], a.shape[dim2]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    start = max(-offset, 0) * a.strides[dim1] + max(offset, 0) * a.strides[dim2]
    kept = [i for i in range(a.ndim) if i not in (dim1, dim2)]
    shape = tuple(a.shape[i] for i in kept) + (length,)
    strides = tuple(a.strides[i] for i in kept) + (a.strides[dim1] + a.strides[dim2],)
    base = a.reshape(-1)[start // a.itemsize:] if length else a.reshape(-1)
    return np.lib.stride_tricks.as_strided(base, shape, strides)


select_scatter = primitive(
    "select_scatter", _scatter_into(_select_region), "SelectScatterBackward0", inputs=("self", "src"),
    params=("dim", "index"),
    vjp=(_keep_unwritten(lambda s: _positions(s.dim, s.index)),
         lambda g, s: s.xp.getitem(g, _positions(s.dim, s.index))))
slice_scatter = primitive(
    "slice_scatter", _scatter_into(_slice_region), "SliceScatterBackward0", inputs=("self", "src"),
    params=("dim", "start", "end", "step"),
    vjp=(_keep_unwritten(lambda s: _positions(s.dim, slice(s.start, s.end, s.step))),
         lambda g, s: s.xp.getitem(g, _positions(s.dim, slice(s.start, s.end, s.step)))))


def _diagonal_mask(shape: tuple, offset: int, dim1: int, dim2: int) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    _diagonal_region(mask, offset, dim1, dim2)[...] = True
    return mask


diagonal_scatter = primitive(
    "diagonal_scatter", _scatter_into(_diagonal_region), "DiagonalScatterBackward0", inputs=("self", "src"),
    params=("offset", "dim1", "dim2"),
    vjp=(lambda g, s: s.xp.where(_diagonal_mask(tuple(g.shape), s.offset, s.dim1, s.dim2), 0.0, g),
         lambda g, s: s.xp.diagonal(g, s.offset, s.dim1, s.dim2)))


def _narrow_copy(a, dim, start, length):
    begin = start % a.shape[dim] if start < 0 else start
    return a[_positions(dim, slice(begin, begin + length))].copy()


# NOTE: the rule slices at `start` as given, as PyTorch's does: a negative start gets a gradient only if the slice
# start:start + length isn't empty there (narrow_copy(x, 0, -1, 1)'s gradient is zero in PyTorch)
narrow_copy = primitive(
    "narrow_copy", _narrow_copy, "NarrowCopyBackward0", inputs=("self",), params=("dim", "start", "length"),
    attrs=("self_sym_sizes",),
    vjp=(lambda g, s: s.xp.index_scatter(g, s.self_sym_sizes, _positions(s.dim, slice(s.start, s.start + s.length)),
                                         False),))


# ------------------------------------------------------------------------------- block_diag
def _block_diag(arrays, shapes, given_shapes):
    rows, cols = sum(shape[0] for shape in shapes), sum(shape[1] for shape in shapes)
    out = np.zeros((rows, cols), dtype=np.result_type(*arrays) if arrays else np.float32)
    row = col = 0
    for array, (height, width) in zip(arrays, shapes, strict=True):
        out[row:row + height, col:col + width] = array.reshape(height, width)
        row, col = row + height, col + width
    return out


def _block_diag_vjp(g, s):
    grads, row, col = [], 0, 0
    for shape, given in zip(s.shapes, s.given_shapes, strict=True):
        height, width = shape
        grads.append(s.xp.reshape(s.xp.getitem(g, (slice(row, row + height), slice(col, col + width))), given))
        row, col = row + height, col + width
    return grads


block_diag = primitive("block_diag", _block_diag, "BlockDiagBackward0", inputs=("tensors",),
                       params=("shapes", "given_shapes"), unsaved=("shapes", "given_shapes"), variadic=True,
                       vjp=(_block_diag_vjp,))


# ------------------------------------------------------------------------------- as_strided
def memory_owner(a: np.ndarray) -> np.ndarray:
    """The array that owns `a`'s memory (following views, as_strided's too): a tensor's storage."""
    owner, link = a, a.base
    while link is not None:
        if isinstance(link, np.ndarray):
            owner = link
        link = getattr(link, "base", None)
    return owner


def storage_offset(a: np.ndarray) -> int:
    """Where `a`'s first element is in its storage, in elements."""
    owner = memory_owner(a)
    return (a.__array_interface__["data"][0] - owner.__array_interface__["data"][0]) // a.itemsize


def _as_strided(a, size, stride, offset, self_geometry):
    """The view of `a`'s storage with the given sizes, strides and offset (in elements)."""
    owner = memory_owner(a)
    flat = owner.reshape(-1, order="A")
    if not np.shares_memory(flat, owner):  # NOTE: not laid out in one block: the functions layer refuses these
        raise NotImplementedError("as_strided of a tensor whose storage isn't one contiguous block")
    strides = tuple(st * a.itemsize for st in stride)
    return np.lib.stride_tricks.as_strided(flat[offset:], tuple(size), strides)


def _element_positions(size, stride, offset) -> np.ndarray:
    """The storage position of each element of a strided view."""
    positions = np.full(tuple(size), offset, dtype=np.int64)
    for dim, (n, st) in enumerate(zip(size, stride, strict=True)):
        shape = [1] * len(size)
        shape[dim] = n
        positions = positions + (np.arange(n) * st).reshape(shape)
    return positions


def _as_strided_vjp(g, s):
    """PyTorch's as_strided_backward: the gradient added into a zero storage where the output lies (overlapping
    elements add up), read back where the input lies (an element the input holds several times shares it)."""
    xp = s.xp
    sizes, strides, offset = s.self_geometry
    out_positions = _element_positions(s.size, s.stride, s.storage_offset)
    in_positions = _element_positions(sizes, strides, offset)
    extent = 1 + max(int(out_positions.max(initial=0)), int(in_positions.max(initial=0)))
    storage = xp.index_scatter(g, (extent,), (out_positions,), True)
    counts = np.bincount(in_positions.reshape(-1), minlength=extent)
    if (counts > 1).any():
        storage = storage / xp.cast(np.maximum(counts, 1), g.dtype)
    return xp.getitem(storage, (in_positions,))


as_strided = primitive("as_strided", _as_strided, "AsStridedBackward0", inputs=("self",),
                       params=("size", "stride", "storage_offset", "self_geometry"), unsaved=("self_geometry",),
                       view=True,
                       vjp=(_as_strided_vjp,))
# x.as_strided_(...): an op of its own in PyTorch, whose node the tensor itself takes (see autograd.view_inplace)
as_strided_ = primitive("as_strided_", _as_strided, "AsStridedBackward1", inputs=("self",),
                        params=("size", "stride", "storage_offset", "self_geometry"), unsaved=("self_geometry",),
                        vjp=(_as_strided_vjp,))


def _as_strided_scatter(a, src, size, stride, storage_offset):
    """A copy of `a` (its own contiguous storage) with `src` written on its strided view."""
    out = np.array(a, order="C")
    out.reshape(-1)[_element_positions(size, stride, storage_offset)] = src
    return out


def _strided_mask(shape, s) -> np.ndarray:
    mask = np.zeros(math.prod(shape), dtype=bool)
    mask[_element_positions(s.size, s.stride, s.storage_offset)] = True
    return mask.reshape(shape)


# NOTE: self's rule is PyTorch's as_strided_scatter_backward, which keeps the gradient where src was written (and
# zeros it elsewhere): the opposite of the derivative, reproduced on purpose so that gradients match PyTorch's
as_strided_scatter = primitive(
    "as_strided_scatter", _as_strided_scatter, "AsStridedScatterBackward0", inputs=("self", "src"),
    params=("size", "stride", "storage_offset"),
    vjp=(lambda g, s: s.xp.where(_strided_mask(tuple(g.shape), s), g, 0.0),
         lambda g, s: s.xp.getitem(s.xp.reshape(g, (-1,)), (_element_positions(s.size, s.stride, s.storage_offset),))))
