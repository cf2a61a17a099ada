"""Indexing by index tensors: take, index_select, index_add, index_fill, scatter (+ add, reduce), put,
masked_select. Indices are parameters (int64 arrays, held as PyTorch saves them); `dim` is normalised and
indices are non-negative (the functions layer sees to both)."""

from __future__ import annotations

import math

import numpy as np

from gradscope._shapes import broadcast_shapes
from gradscope.ops.registry import Primitive, primitive


def along(index: np.ndarray, dim: int, ndim: int) -> tuple:
    """The positions gather/scatter address in a tensor of `ndim` dims: `index` at `dim`, each other dim its own
    position. An empty index addresses nothing, whatever its shape (PyTorch checks none of it)."""
    if not index.size:
        return (np.zeros(index.shape, np.int64),) * ndim
    if not ndim:  # a 0-dim tensor: its one element (the index, 0-dim too, was checked to be 0 or -1)
        return ()
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def covered(src, index: np.ndarray):
    """The part of a scatter's `src` that `index` addresses: PyTorch lets src be larger and reads its leading
    corner. (The node keeps src whole, so a gradient shaped like index fails the engine's check, as torch's.)"""
    if tuple(src.shape) == index.shape:
        return src
    if not index.size:  # an empty index may be wider than src in some dim
        return src.reshape(-1)[:0].reshape(index.shape)
    return src[tuple(slice(0, n) for n in index.shape)]


def select_grid(shape: tuple, dim: int, index: np.ndarray) -> tuple:
    """The positions index_select reads for an output of `shape`: the 1-D `index` at `dim`."""
    if not shape:  # a 0-dim tensor: its one element
        return ()
    grid = list(np.indices(shape, sparse=True))
    grid[dim] = index.reshape((-1,) + (1,) * (len(shape) - dim - 1))
    return tuple(grid)


def _mask(shape: tuple, positions) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[positions] = True
    return mask


def _take_vjp(g, s):
    xp, shape = s.xp, tuple(s.self.shape)
    return xp.reshape(xp.index_scatter(g, (math.prod(shape),), (s.index,), True), shape)


# take, gather, index_add, index_copy and put save the tensors PyTorch's nodes save (self; source), which an
# in-place change then makes the backward refuse, as PyTorch's
take = primitive("take", lambda a, index: a.reshape(-1)[index], "TakeBackward0", inputs=("self",), params=("index",),
                 saves=("self",), held=("index",), vjp=(_take_vjp,))
def _index_select(a, dim, index):
    return np.take(a, index, axis=dim) if a.ndim else a.copy()  # a 0-dim self: its one element, 0-dim


def _index_select_vjp(g, s):
    if not s.self_sym_sizes:
        return g
    return s.xp.index_scatter(g, s.self_sym_sizes, select_grid(g.shape, s.dim, s.index), True)


index_select = primitive("index_select", _index_select, "IndexSelectBackward0", inputs=("self",),
                         params=("dim", "index"), attrs=("self_sym_sizes",), held=("index",), vjp=(_index_select_vjp,))


def _index_add(a, source, dim, index, alpha, source_dim):
    if a.ndim == 0:  # a 0-dim self and source: the one element, once (the index is [0])
        return (a + (source if alpha == 1 else alpha * source)).astype(a.dtype)
    out = a.copy()
    np.add.at(out, select_grid(source.shape, dim, index), source if alpha == 1 else alpha * source)
    return out


index_add = primitive(
    "index_add", _index_add, "IndexAddBackward0", inputs=("self", "source"),
    params=("dim", "index", "alpha", "source_dim"), saves=((), ("source",)), held=("index",),
    vjp=(lambda g, s: g,
         lambda g, s: (s.xp.getitem(g, select_grid(_with_dim(g.shape, s.dim, len(s.index)), s.dim, s.index))
                       if g.ndim else g) * s.alpha))


def _with_dim(shape: tuple, dim: int, size: int) -> tuple:
    return shape[:dim] + (size,) + shape[dim + 1:]


def _filled(shape: tuple, dim: int, index) -> np.ndarray:
    if not shape:  # a 0-dim tensor is its one slice
        return np.array(bool(index.size))
    return _mask(shape, (slice(None),) * dim + (index,))


def _index_fill(a, dim, index, value):
    out = a.copy()
    if a.ndim == 0:
        if index.size:
            out[()] = value
        return out
    out[(slice(None),) * dim + (index,)] = value
    return out


index_fill = primitive("index_fill", _index_fill, "IndexFillBackward0", inputs=("self",),
                       params=("dim", "index", "value"), held=("index",), unsaved=("value",),
                       vjp=(lambda g, s: s.xp.where(_filled(g.shape, s.dim, s.index), 0.0, g),))
# a 0-dim tensor value gets the sum of the gradient where it was written
index_fill_tensor = primitive(
    "index_fill_tensor", lambda a, value, dim, index: _index_fill(a, dim, index, value), "IndexFillBackward1",
    inputs=("self", "value"), params=("dim", "index"), held=("index",),
    vjp=(lambda g, s: s.xp.where(_filled(g.shape, s.dim, s.index), 0.0, g),
         lambda g, s: s.xp.where(_filled(g.shape, s.dim, s.index), g, 0.0)))


def _scatter(a, src, dim, index):
    out = a.copy()
    out[along(index, dim, a.ndim)] = covered(src, index) if isinstance(src, np.ndarray) else src
    return out


def _unwritten(g, s):
    """The gradient of the elements a scatter left alone (the written ones were replaced)."""
    return s.xp.where(_mask(g.shape, along(s.index, s.dim, g.ndim)), 0.0, g)


def _gathered(g, s):
    return s.xp.getitem(g, along(s.index, s.dim, g.ndim))


scatter = primitive("scatter", _scatter, "ScatterBackward0", inputs=("self", "src"), params=("dim", "index"),
                    held=("index",), vjp=(_unwritten, _gathered))
scatter_value = primitive("scatter_value", lambda a, dim, index, value: _scatter(a, value, dim, index),
                          "ScatterBackward1", inputs=("self",), params=("dim", "index", "value"), held=("index",),
                          unsaved=("value",), vjp=(_unwritten,))


def _scatter_accumulate(a, src, dim, index, reduce):
    out = a.copy()
    (np.add if reduce == "add" else np.multiply).at(
        out, along(index, dim, a.ndim), covered(src, index) if isinstance(src, np.ndarray) else src)
    return out


def _no_scatter_derivative(g, s):
    raise RuntimeError("derivative for aten::scatter is not implemented")


# NOTE: outside the op table on purpose: PyTorch records the legacy scatter(..., reduce="add"|"multiply") only to
# refuse a backward through it (its node's name() is torch::autograd::NotImplemented: node.py names it)
scatter_accumulate = Primitive("scatter_accumulate", _scatter_accumulate, "NotImplemented", inputs=("self", "src"),
                               params=("dim", "index", "reduce"), vjp=(_no_scatter_derivative,) * 2)
scatter_value_accumulate = Primitive(
    "scatter_value_accumulate", lambda a, dim, index, reduce, value: _scatter_accumulate(a, value, dim, index, reduce),
    "NotImplemented", inputs=("self",), params=("dim", "index", "reduce", "value"), vjp=(_no_scatter_derivative,))


def _scatter_add(a, src, dim, index):
    out = a.copy()
    np.add.at(out, along(index, dim, a.ndim), covered(src, index))
    return out


scatter_add = primitive("scatter_add", _scatter_add, "ScatterAddBackward0", inputs=("self", "src"),
                        params=("dim", "index"), held=("index",), vjp=(lambda g, s: g, _gathered))

_REDUCERS = {"sum": (np.add, 0), "prod": (np.multiply, 1), "mean": (np.add, 0), "amax": (np.maximum, -math.inf),
             "amin": (np.minimum, math.inf)}


def _scatter_reduce(a, src, dim, index, reduce, include_self):
    ufunc, identity = _REDUCERS[reduce]
    positions = along(index, dim, a.ndim)
    out = a.copy()
    if not include_self:
        if a.dtype.kind in "iu" and math.isinf(identity):  # amax/amin of integers: the dtype's ends
            identity = np.iinfo(a.dtype).min if identity < 0 else np.iinfo(a.dtype).max
        out[positions] = identity
    ufunc.at(out, positions, covered(src, index))
    if reduce == "mean":
        count = np.full(a.shape, 1 if include_self else 0, dtype=np.int64)
        np.add.at(count, positions, 1)
        count = np.maximum(count, 1)
        out = out / count if a.dtype.kind in "fc" else np.floor_divide(out, count)
    return out.astype(a.dtype, copy=False)


def _scatter_reduce_vjps(g, s, op: str = "scatter_reduce", src_name: str = "src"):
    """PyTorch's scatter_reduce_backward: (self's gradient, src's gradient)."""
    xp, dim, index, reduce = s.xp, s.dim, s.index, s.reduce
    positions = along(index, dim, g.ndim)
    shape = tuple(g.shape)
    if reduce == "sum":
        grad_self, grad_src = g, xp.getitem(g, positions)
    elif reduce == "mean":
        count = np.full(shape, 1.0 if s.include_self else 0.0)
        np.add.at(count, positions, 1.0)
        share = xp.cast(1 / np.maximum(count, 1.0), g.dtype)  # a constant, in g's dtype (and kind)
        grad_self, grad_src = g * share, xp.getitem(g * share, positions)
    elif reduce in ("amax", "amin"):
        # NOTE: equal extremes share the gradient evenly, as PyTorch's
        self_wins = xp.cast(s.self == s.result, g.dtype)
        _src_meets_index(s.src, index)
        src_wins = xp.cast(s.src == xp.getitem(s.result, positions), g.dtype)
        shared = g / (self_wins + xp.index_scatter(covered(src_wins, index), shape, positions, True))
        grad_self, grad_src = self_wins * shared, src_wins * xp.getitem(shared, positions)
    else:  # prod: products of the others, exact where there are zeros
        grad_self, grad_src = _prod_vjps(g, s, positions, shape, op, src_name)
    if not s.include_self:
        grad_self = xp.where(_mask(shape, positions), 0.0, grad_self)
    return grad_self, grad_src


def _src_meets_index(src, index: np.ndarray) -> None:
    """PyTorch's amax/amin/prod gradients broadcast src against values gathered at index: a src larger than
    index broadcasts when index is 1 there (its gradient then spreads over all of src) and raises otherwise."""
    if tuple(src.shape) != index.shape:
        broadcast_shapes(tuple(src.shape), index.shape)


def _prod_vjps(g, s, positions, shape, op, src_name):
    xp = s.xp
    params = (s.dim, s.index, "prod", s.include_self)
    masked_self = xp.where(s.self == 0, 1.0, s.self)
    grad_self = g * xp.apply(scatter_reduce, (masked_self, s.src), params) / masked_self
    src_zero = s.src == 0
    zeros_per_target = xp.index_scatter(xp.cast(covered(src_zero, s.index), g.dtype), shape, positions, True)
    _src_meets_index(s.src, s.index)
    single_zero = src_zero & (xp.getitem(zeros_per_target, positions) == 1)
    others = xp.apply(scatter_reduce, (s.self, xp.where(single_zero, 1.0, s.src)), params)
    grad_src = xp.where(single_zero, xp.getitem(g * others, positions),
                        xp.getitem(g * s.result, positions) / xp.where(src_zero, 1.0, s.src))
    if xp.is_tensor and bool((zeros_per_target > 1).any()):
        # NOTE: as PyTorch's, src's gradient is right but its own gradient is not defined there: it raises
        grad_src = xp.delayed_error(grad_src, f"{op}(): Double backward is unsupported for {src_name} when >1 zeros in "
                                              f"{src_name} are scattered to the same position in self")
    return grad_self, grad_src


scatter_reduce = primitive(
    "scatter_reduce", _scatter_reduce, "ScatterReduceBackward0", inputs=("self", "src"),
    params=("dim", "index", "reduce", "include_self"), held=("index",),
    saves=(("self", "src", "result"), ("self", "src", "result")),
    vjp=(lambda g, s: _scatter_reduce_vjps(g, s)[0], lambda g, s: _scatter_reduce_vjps(g, s)[1]))


def _put(a, source, index, accumulate):
    out = a.copy()
    flat = out.reshape(-1)
    if accumulate:
        np.add.at(flat, index, source.reshape(-1))
    else:
        flat[index] = source.reshape(-1)
    return out


def _put_self_vjp(g, s):
    if s.accumulate:
        return g
    return s.xp.where(_mask((math.prod(g.shape),), s.index).reshape(g.shape), 0.0, g)


put = primitive("put", _put, "PutBackward0", inputs=("self", "source"), params=("index", "accumulate"),
                saves=((), ("source",)), held=("index",),
                vjp=(_put_self_vjp,
                     lambda g, s: s.xp.reshape(s.xp.getitem(s.xp.reshape(g, (-1,)), s.index), tuple(s.source.shape))))


def _masked_select(a, mask):
    a, mask = np.broadcast_arrays(a, mask)
    return a[mask]


def _masked_select_vjp(g, s):
    # NOTE: summed back here: the output may have the input's shape by chance, and then the engine doesn't
    sizes = tuple(s.self.shape)
    shape = np.broadcast_shapes(sizes, s.mask.shape)
    if not shape:  # a 0-dim input and mask: the one element's gradient, if it was selected (NumPy's nonzero wants dims)
        return s.xp.reshape(s.xp.index_scatter(g, (1,), np.nonzero(s.mask.reshape(1)), False), ())
    return s.xp.sum_to(s.xp.index_scatter(g, shape, np.nonzero(np.broadcast_to(s.mask, shape)), False), sizes)


# saves self as PyTorch's node does (its rule reads only the shape)
masked_select = primitive("masked_select", _masked_select, "MaskedSelectBackward0", inputs=("self",),
                          params=("mask",), saves=("self",), held=("mask",), vjp=(_masked_select_vjp,))
