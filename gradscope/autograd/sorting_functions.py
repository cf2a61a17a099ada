"""torch.* sorting and statistics: sort, argsort, msort, topk, median, nansum, nanmean, var_mean, std_mean,
unique (a node that refuses backward), searchsorted (no gradient)."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import int_argument, normalize_dim, normalize_dims
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import div
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.reductions import _check_spread, _correction
from gradscope.autograd.refusals import refuse_kinds
from gradscope.autograd.return_types import ReturnType
from gradscope.autograd.tensor import Tensor
from gradscope.ops import sorting as O

_UNSET = object()  # sort(stable=...) given at all picks PyTorch's other overload (SortBackward1)


def _dim(input, dim) -> int:
    return normalize_dim(dim, input._data.ndim)


def _refuse_complex_sort(input) -> None:
    if input._data.dtype.kind == "c":
        raise RuntimeError(" Sort does not support complex dtypes on CPU")  # NOTE: PyTorch's text starts with a space


def sort(input, dim=-1, descending=False, stable=_UNSET, *, out=None):
    """(values, indices) sorted along `dim`; equal elements keep their order, nans sort last (first when
    descending). The gradient goes back to where each value came from."""
    _refuse_complex_sort(input)
    if stable is _UNSET:
        values, indices = apply(O.sort, (input,), (_dim(input, dim), bool(descending)))
    else:
        values, indices = apply(O.sort_stable, (input,), (_dim(input, dim), bool(descending), stable))
    return write_out("sort", ReturnType("sort", values, indices), out)


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices `sort` would return."""
    _refuse_complex_sort(input)
    if input._data.ndim == 0:
        return Tensor._make(np.zeros((), dtype=np.int64))
    return Tensor._make(O.stable_order(input._data, _dim(input, dim), descending).astype(np.int64, copy=False))


def msort(input, *, out=None):
    """The values sorted along dim 0."""
    return write_out("msort", sort(input, 0)[0], out)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (or smallest) elements along `dim` and their indices (TopkBackward0). Among equal
    elements the lower indices come first (PyTorch's choice there depends on its selection algorithm)."""
    if type(k) is not int or type(dim) is not int:
        k, dim = int_argument(k, "topk", "k", 2), int_argument(dim, "topk", "dim", 3)
    d = _dim(input, dim)
    size = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    kind = input._data.dtype.kind
    if kind == "c" or kind == "b":
        raise RuntimeError(" topk does not support complex dtypes on CPU" if kind == "c" else
                           "topk does not support bool dtypes on CPU")
    values, indices = apply(O.topk, (input,), (k, d, bool(largest), sorted))
    return write_out("topk", ReturnType("topk", values, indices), out)


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (the middle value, or the lower of the two middle ones): of all elements
    (MedianBackward0, ties share the gradient), or along `dim` with its index (MedianBackward1). A nan
    anywhere makes it nan."""
    refuse_kinds(input, "bc", "median_cpu" if dim is None else "median_out")
    if dim is None:
        return write_out("median", apply(O.median, (input,)), out)
    values, indices = apply(O.median_dim, (input,), (_dim(input, dim), keepdim))
    return write_out("median", ReturnType("median", values, indices), out)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """sum, counting nans as 0 (their gradient is 0)."""
    if input._data.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else (
        np.dtype(np.int64) if input._data.dtype.kind in "biu" else None)
    if np_dtype is not None and np_dtype.kind == "c":
        name = _dtypes.from_numpy_dtype(np_dtype).legacy_name[:-6]
        raise NotImplementedError(f'"nansum_cpu" not implemented for \'{name}\'')
    dims = normalize_dims(dim, input._data.ndim) if dim is not None and dim != () else tuple(
        range(input._data.ndim))
    return write_out("nansum", apply(O.nansum, (input,), (dims, keepdim, np_dtype)), out)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """mean over the elements that are not nan: nansum / their count (DivBackward0, as PyTorch's)."""
    if input._data.dtype.kind not in "fc":
        name = _dtypes.from_numpy_dtype(input._data.dtype).legacy_name[:-6]
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got {name}")
    if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError("nanmean(): could not infer output dtype. Optional dtype must be either a floating point or "
                           f"complex dtype. Got: {dtype.legacy_name[:-6]}")
    counted = Tensor._make(~np.isnan(input._data))
    count = nansum(counted, dim, keepdim)
    return write_out("nanmean", div(nansum(input, dim, keepdim, dtype=dtype), count), out)


def _spread_arguments(input, dim, unbiased, correction):
    if isinstance(dim, bool):  # var_mean(x, True): the old `unbiased` position
        unbiased, dim = dim, None
    return normalize_dims(dim, input._data.ndim), _correction(unbiased, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """(var, mean) in one op (VarMeanBackward0)."""
    _check_spread(input, "var_mean")
    dims, correction = _spread_arguments(input, dim, unbiased, correction)
    return write_out("var_mean", tuple(apply(O.var_mean, (input,), (dims, correction, keepdim))), out)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """(std, mean) in one op (StdMeanBackward0)."""
    _check_spread(input, "std_mean")
    dims, correction = _spread_arguments(input, dim, unbiased, correction)
    return write_out("std_mean", tuple(apply(O.std_mean, (input,), (dims, correction, keepdim))), out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (or slices along `dim`), sorted; optionally where each element went and how
    often each occurs. Not differentiable: as in PyTorch, a backward through it raises."""
    refuse_kinds(input, "c", "unique" if dim is None else "unique_dim")
    if dim is None:
        values, inverse, counts = apply(O.unique, (input,), (None,))
    else:
        values, inverse, counts = apply(O.unique_dim, (input,), (_dim(input, dim),))
    out = (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out[0] if len(out) == 1 else out


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Where each value of `input` would go in the innermost dim of `sorted_sequence` to keep it sorted:
    before equal elements, or after them with right=True / side="right". No gradient."""
    if side is not None:
        right = side == "right"
    for tensor in (sorted_sequence, input):
        if isinstance(tensor, Tensor):
            refuse_kinds(tensor, "c", "searchsorted_out_cpu")
    sequence = sorted_sequence._data
    if sorter is not None:
        sequence = np.take_along_axis(sequence, sorter._data, axis=-1)
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    if sequence.ndim == 1:
        positions = np.searchsorted(sequence, values, side="right" if right else "left")
    else:
        if sequence.shape[:-1] != values.shape[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               "dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(sequence.shape)} and input value tensor "
                               f"{list(values.shape)}")
        compare = np.less_equal if right else np.less
        positions = compare(sequence[..., None, :], values[..., :, None]).sum(axis=-1)
    result = Tensor._make(np.asarray(positions, dtype=np.int32 if out_int32 else np.int64))
    return write_out("searchsorted", result, out)


FUNCTIONS = ("sort", "argsort", "msort", "topk", "median", "nansum", "nanmean", "var_mean", "std_mean", "unique",
             "searchsorted")
METHODS = {name: globals()[name] for name in ("sort", "argsort", "msort", "topk", "median", "nansum", "nanmean",
                                              "unique")}
