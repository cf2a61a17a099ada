"""Sorting and order statistics: sort, topk, median, unique; and the reductions that skip nans or return
two results (nansum, var_mean, std_mean). Orders are stable (ties keep their index order) and nans sort as
the largest values, as in PyTorch."""

from __future__ import annotations

import types

import numpy as np

from gradscope.ops.reduction import _expand_back, _numel, _std_vjp, _value_selecting_vjp, _var_vjp
from gradscope.ops.registry import Primitive, primitive
from gradscope.ops.selection import topk_indices


def stable_order(a: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """The indices that sort `a` along `dim`, equal elements in index order, nans last (first when descending)."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    # NOTE: the ascending order of the reversed array, reversed, keeps equal elements in index order
    n = a.shape[dim]
    return n - 1 - np.flip(np.argsort(np.flip(a, dim), axis=dim, kind="stable"), dim)


def _sort(a, dim, descending):
    if a.ndim == 0:
        return a.copy(), np.zeros((), dtype=np.int64)
    indices = stable_order(a, dim, descending)
    return np.take_along_axis(a, indices, axis=dim), indices.astype(np.int64, copy=False)


def _selected_vjp(g, s):
    """The values' gradient back at the positions `indices` took them from."""
    g_values = g[0]
    if not s.self_sym_sizes:
        return g_values
    grid = list(np.indices(s.indices.shape, sparse=True))
    grid[s.dim] = np.asarray(s.indices)
    return s.xp.index_scatter(g_values, s.self_sym_sizes, tuple(grid), False)


_SORTED = dict(inputs=("self",), attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,),
               output_names=("values", "indices"), saves=("indices",), vjp=(_selected_vjp,))
sort = primitive("sort", _sort, "SortBackward0", params=("dim", "descending"), unsaved=("descending",), **_SORTED)
# sort(..., stable=...) is an op of its own in PyTorch (the sort here is always stable)
sort_stable = primitive("sort_stable", lambda a, dim, descending, stable: _sort(a, dim, descending), "SortBackward1",
                        params=("dim", "descending", "stable"), unsaved=("descending", "stable"), **_SORTED)


def _topk(a, k, dim, largest, sorted):
    if a.ndim == 0:
        return a.copy(), np.zeros((), dtype=np.int64)
    rows = np.moveaxis(a, dim, -1)
    picked = topk_indices(rows.reshape(-1, rows.shape[-1]), k, largest, sorted)
    indices = np.moveaxis(picked.reshape(rows.shape[:-1] + (k,)), -1, dim)
    return np.take_along_axis(a, indices, axis=dim), indices.astype(np.int64, copy=False)


topk = primitive("topk", _topk, "TopkBackward0", params=("k", "dim", "largest", "sorted"),
                 unsaved=("k", "largest", "sorted"), **_SORTED)


def _median_all(a):
    flat = a.reshape(-1)
    if flat.size == 0 or np.isnan(flat).any():
        return np.asarray(np.nan, dtype=a.dtype) if a.dtype.kind == "f" else np.asarray(flat.max(initial=0))
    return np.asarray(np.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2])


def _median_all_vjp(g, s):
    # NOTE: ties share the gradient evenly, and so do nans when the median is nan (PyTorch's evenly_distribute)
    xp = s.xp
    mask = (s.self == s.result) | ((s.self != s.self) & (s.result != s.result))
    return g * xp.cast(mask, g.dtype) / xp.cast(xp.sum(mask, tuple(range(mask.ndim))), g.dtype)


median = primitive("median", _median_all, "MedianBackward0", inputs=("self",), saves=(("self", "result"),),
                   vjp=(_median_all_vjp,))


def _median_dim(a, dim, keepdim):
    """The lower median of each slice, at its index in stable order; a slice with nans gives its first nan."""
    if a.ndim == 0:
        return a.copy(), np.zeros((), dtype=np.int64)
    order = stable_order(a, dim, False)
    n = a.shape[dim]
    middle = np.take(order, [(n - 1) // 2], axis=dim)
    if a.dtype.kind == "f":
        nans = np.isnan(a)
        first_nan = np.argmax(nans, axis=dim, keepdims=True)
        middle = np.where(nans.any(axis=dim, keepdims=True), first_nan, middle)
    values = np.take_along_axis(a, middle, axis=dim)
    if not keepdim:
        values, middle = values.squeeze(dim), middle.squeeze(dim)
    return values, middle.astype(np.int64, copy=False)


median_dim = primitive("median_dim", _median_dim, "MedianBackward1", inputs=("self",), params=("dim", "keepdim"),
                       attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,),
                       output_names=("values", "indices"), saves=("indices",), vjp=(_value_selecting_vjp,))


def _nansum(a, dim, keepdim, dtype):
    return np.asarray(np.nansum(a, axis=dim, keepdims=keepdim, dtype=dtype))


nansum = primitive("nansum", _nansum, "NansumBackward0", inputs=("self",), params=("dim", "keepdim", "dtype"),
                   attrs=("self_sym_sizes",), unsaved=("dtype", "self_sym_sizes"), saves=("self",),
                   vjp=(lambda g, s: s.xp.where(s.self != s.self, 0.0, _expand_back(g, s)),))


def _var_mean(a, dim, correction, keepdim):
    return (np.var(a, axis=dim, ddof=correction, keepdims=keepdim), np.mean(a, axis=dim, keepdims=keepdim))


def _mean_part(g, s):
    return _expand_back(g / _numel(s.self_sym_sizes, s.dim), s)


def _plus_mean_part(spread, g_mean, s):
    """The spread's (var's, std's) part of a gradient plus the mean's, each where given (not None)."""
    if g_mean is None:
        return spread
    return _mean_part(g_mean, s) if spread is None else spread + _mean_part(g_mean, s)


var_mean = primitive("var_mean", _var_mean, "VarMeanBackward0", inputs=("self",),
                     params=("dim", "correction", "keepdim"), attrs=("self_sym_sizes",), outputs=2, saves=("self",),
                     vjp=(lambda g, s: _plus_mean_part(None if g[0] is None else _var_vjp(g[0], s), g[1], s),),
                     opmath=True)


def _std_mean(a, dim, correction, keepdim):
    return (np.std(a, axis=dim, ddof=correction, keepdims=keepdim), np.mean(a, axis=dim, keepdims=keepdim))


def _std_mean_vjp(g, s):
    if g[0] is None:
        return _plus_mean_part(None, g[1], s)
    std_saved = types.SimpleNamespace(**s._asdict(), result=s.result0)
    return _plus_mean_part(_std_vjp(g[0], std_saved), g[1], s)


std_mean = primitive("std_mean", _std_mean, "StdMeanBackward0", inputs=("self",),
                     params=("dim", "correction", "keepdim"), attrs=("self_sym_sizes",), outputs=2,
                     output_names=("result0", "result1"), saves=(("self", "result0"),), vjp=(_std_mean_vjp,),
                     opmath=True)


def _unique(a, axis):
    # NOTE: every nan is distinct, as in PyTorch (nan != nan); NumPy merges them unless told not to
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis, equal_nan=False)
    shape = a.shape if axis is None else (a.shape[axis],)
    return values, inverse.reshape(shape).astype(np.int64), counts.astype(np.int64)


def _refuse(derivative: str):
    def rule(g, s):
        raise NotImplementedError(f"the derivative for '{derivative}' is not implemented.")
    return rule


# NOTE: outside the op table on purpose: PyTorch records these nodes only to refuse a backward through them
unique = Primitive("unique", _unique, "Unique2Backward0", inputs=("self",), params=("dim",), outputs=3,
                   differentiable_outputs=(0,), vjp=(_refuse("_unique2"),))
unique_dim = Primitive("unique_dim", _unique, "UniqueDimBackward0", inputs=("self",), params=("dim",), outputs=3,
                       differentiable_outputs=(0,), vjp=(_refuse("unique_dim"),))
