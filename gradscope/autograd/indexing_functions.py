"""torch.* indexing by index tensors: take, index_select, index_add, index_fill, scatter, scatter_add,
scatter_reduce, put, masked_select, repeat_interleave (and the in-place variants)."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import int_argument, normalize_dim
from gradscope.autograd.dispatch import apply, apply_holding
from gradscope.autograd.errors import warn_once
from gradscope.autograd.functions import _checked_number
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.shape_functions import check_along_index, contiguous, expand, reshape, unsqueeze
from gradscope.autograd.tensor import Tensor
from gradscope.ops import indexing_ops as X

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _index_array(index, name: str) -> np.ndarray:
    """take's, put's and index_fill's index: int64 only, in PyTorch's words for each."""
    data = index._data if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype != np.int64:
        if name == "index_fill":
            raise IndexError("index_fill_(): Expected dtype int64 for index.")
        raise RuntimeError(f"{'put_' if name == 'put' else name}(): Expected a long tensor for index, but got "
                           f"{_dtypes.from_numpy_dtype(data.dtype).legacy_name[:-6]}")
    return data


def _wrap(index: np.ndarray, size: int) -> np.ndarray:
    """Negative indices counted from the end, PyTorch's error for any out of range (take's and put's)."""
    if index.size and (index.min() < -size or index.max() >= size):
        bad = int(index[(index < -size) | (index >= size)].flat[0])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} elements.")
    return np.where(index < 0, index + size, index)


def _held(index) -> tuple:
    """The index tensor a node holds as PyTorch saves it: backward refuses it once changed in place."""
    return (index if isinstance(index, Tensor) else None,)


def take(input, index, *, out=None):
    """The elements at `index` of the flattened tensor, shaped like `index` (TakeBackward0)."""
    flat = _wrap(_index_array(index, "take"), input._data.size)
    return write_out("take", apply_holding(X.take, (input,), (flat,), _held(index)), out)


def index_select(input, dim, index, *, out=None):
    """The slices at `index` (1-D) along `dim` (IndexSelectBackward0)."""
    if type(dim) is not int:
        dim = int_argument(dim, "index_select", "dim", 2)
    d = normalize_dim(dim, input._data.ndim)
    given = index._data if isinstance(index, Tensor) else np.asarray(index)
    if given.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if given.dtype not in (np.int32, np.int64):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    positions = given.astype(np.int64, copy=False).reshape(-1)
    if not input._data.ndim and positions.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {positions.size} value(s)")
    size = input._data.shape[d] if input._data.ndim else 1
    bad = positions[(positions < 0) | (positions >= size)]
    if bad.size:  # NOTE: PyTorch's kernels word it differently for vectors and for tensors of more dims
        if input._data.ndim <= 1:
            raise IndexError("index out of range in self")
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad[0]} axis_dim={size}")
    return write_out("index_select", apply_holding(X.index_select, (input,), (d, positions), _held(index)), out)


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """`input` with `alpha * source` added at the slices `index` along `dim` (IndexAddBackward0)."""
    d = normalize_dim(dim, input._data.ndim)
    positions = _index_add_positions(input._data, d, index, source._data, alpha)
    arrays = [input._data, source._data]
    result = apply_holding(X.index_add, (input, source), (d, positions, alpha, source._data.ndim), _held(index),
                           arrays)
    return write_out("index_add", result, out)


def _index_add_positions(data: np.ndarray, dim: int, index, source: np.ndarray, alpha) -> np.ndarray:
    """index_add's index as a vector, after PyTorch's checks in its order and words."""
    given = index._data if isinstance(index, Tensor) else np.asarray(index)
    type_name = _dtypes.from_numpy_dtype(given.dtype).legacy_name[:-6]
    if given.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {given.ndim} with type: "
                         f"{type_name} and size: {list(given.shape)}")
    if given.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: {type_name}")
    if source.dtype != data.dtype:
        raise RuntimeError(f"index_add_(): self ({_dtypes.from_numpy_dtype(data.dtype).legacy_name[:-6]}) and "
                           f"source ({_dtypes.from_numpy_dtype(source.dtype).legacy_name[:-6]}) must have the same "
                           "scalar type")
    count = source.shape[dim] if source.ndim else 1
    if given.size != count:
        raise RuntimeError(f"index_add_(): Number of indices ({given.size}) should be equal to source.size(dim): "
                           f"({count}), for dim: {dim}")
    if source.ndim != data.ndim or any(a != b for i, (a, b) in enumerate(zip(data.shape, source.shape)) if i != dim):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(data.shape)} source.shape = {list(source.shape)}")
    positions = given.astype(np.int64, copy=False).reshape(-1)
    size = data.shape[dim] if data.ndim else 1
    bad = positions[(positions < 0) | (positions >= size)]
    if bad.size and source.size:
        # NOTE: PyTorch's kernels word it by path: index_put's for alpha 1 and int64 indices along the first or last
        # of several dims, the slice loop's otherwise
        if data.ndim > 1 and alpha == 1 and given.dtype == np.int64 and dim in (0, data.ndim - 1):
            raise RuntimeError(f"index {bad[0]} is out of bounds for dimension {dim} with size {size}")
        raise IndexError("index out of range in self")
    return positions


def index_fill(input, dim, index, value):
    """`input` with the slices `index` along `dim` set to `value` (a number or a 0-dim tensor)."""
    d = normalize_dim(dim, input._data.ndim)
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    positions = _index_array(index, "index_fill")
    if positions.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    size = input._data.shape[d] if input._data.ndim else 1
    positions = positions.reshape(-1)
    if positions.size and (positions.min() < -size or positions.max() >= size):
        bad = int(positions[(positions < -size) | (positions >= size)][0])
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    positions = np.where(positions < 0, positions + size, positions)
    if isinstance(value, Tensor):
        return apply_holding(X.index_fill_tensor, (input, value), (d, positions), _held(index),
                             [input._data, value._data.astype(input._data.dtype)])
    value = _checked_number(value, input)
    return apply_holding(X.index_fill, (input,), (d, positions, value), _held(index))


def _scatter_index(input, dim, index, name: str) -> tuple[int, np.ndarray]:
    d = normalize_dim(dim, input._data.ndim)
    given = index._data if isinstance(index, Tensor) else np.asarray(index)
    if not given.size:  # NOTE: PyTorch checks nothing of an empty index (`torch.tensor([])` is a float one)
        return d, given.astype(np.int64)
    if given.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if given.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    check_along_index(input._data.shape, d, given, "Expected")
    return d, given.astype(np.int64, copy=False)


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    """`input` with `src` (or the number `value`) written at `index` along `dim` (ScatterBackward0/1).

    The legacy `reduce="add"|"multiply"` accumulates instead, repeated indices included; as in PyTorch
    it has no derivative (a backward through it raises) and with a tensor `src` it is deprecated."""
    d, positions = _scatter_index(input, dim, index, "scatter")
    if src is None:
        src = value
    if reduce is not None:
        return write_out("scatter", _scatter_accumulate(input, d, positions, src, reduce), out)
    if not isinstance(src, Tensor):
        return write_out("scatter", apply_holding(X.scatter_value, (input,), (d, positions, src), _held(index)), out)
    arrays = [input._data, src._data.astype(input._data.dtype)]
    return write_out("scatter", apply_holding(X.scatter, (input, src), (d, positions), _held(index), arrays), out)


def _scatter_accumulate(input, d: int, positions: np.ndarray, src, reduce: str):
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if not isinstance(src, Tensor):
        return apply(X.scatter_value_accumulate, (input,), (d, positions, reduce, src))
    warn_once("scatter_reduce_argument", "The reduce argument of torch.scatter with Tensor src is deprecated and "
              "will be removed in a future PyTorch release. Use torch.scatter_reduce instead for more reduction "
              "options.", stacklevel=4)
    return apply(X.scatter_accumulate, (input, src), (d, positions, reduce),
                 [input._data, src._data.astype(input._data.dtype)])


def scatter_add(input, dim, index, src, *, out=None):
    """`input` with `src` added at `index` along `dim`; repeated indices add up (ScatterAddBackward0)."""
    d, positions = _scatter_index(input, dim, index, "scatter_add")
    arrays = [input._data, src._data.astype(input._data.dtype)]
    result = apply_holding(X.scatter_add, (input, src), (d, positions), _held(index), arrays)
    return write_out("scatter_add", result, out)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """`input` with `src` reduced into it at `index` along `dim` by "sum", "prod", "mean", "amax" or "amin"
    (with the value already there unless include_self=False); ScatterReduceBackward0."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # accepted as aliases, as in PyTorch
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    d, positions = _scatter_index(input, dim, index, "scatter_reduce")
    result = apply_holding(X.scatter_reduce, (input, src), (d, positions, reduce, include_self), _held(index),
                   [input._data, src._data.astype(input._data.dtype)])
    return write_out("scatter_reduce", result, out)


def put(input, index, source, accumulate=False):
    """`input` with `source`'s elements written (or added) at `index` of the flattened tensor (PutBackward0)."""
    flat = _wrap(_index_array(index, "put"), input._data.size).reshape(-1)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_dtypes.from_numpy_dtype(input._data.dtype).legacy_name[:-6]} and source.dtype = "
                           f"{_dtypes.from_numpy_dtype(source._data.dtype).legacy_name[:-6]}")
    if flat.size != source._data.size:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source._data.size}, index.numel() = {flat.size}")
    return apply_holding(X.put, (input, source), (flat, accumulate), _held(index),
                         [input._data, source._data.astype(input._data.dtype)])


def masked_select(input, mask, *, out=None):
    """The elements where `mask` (broadcast with `input`) is True, as a 1-D tensor (MaskedSelectBackward0)."""
    condition = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if condition.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    return write_out("masked_select", apply_holding(X.masked_select, (input,), (condition,), _held(mask)), out)


def _check_output_size(output_size, size: int, refusal: str) -> None:
    """output_size, a hint that spares PyTorch a sync on the GPU, must be the result's size along dim."""
    if output_size is not None and output_size != size:
        raise RuntimeError(refusal)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along `dim`) repeated `repeats` times in place. A number of repeats is
    PyTorch's unsqueeze, expand, clone (contiguous) and view; a tensor of them is an index_select."""
    if repeats is None:  # torch.repeat_interleave(repeats): the indices it would repeat
        counts = input._data
        _check_output_size(output_size, int(counts.sum()), "allocated size does not match required size")
        return Tensor._make(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    d = normalize_dim(dim, input._data.ndim)
    if isinstance(repeats, Tensor) and repeats._data.ndim:
        counts = repeats._data.astype(np.int64)
        size = input._data.shape[d]
        if counts.size == 1:
            counts = np.repeat(counts, size)
        if counts.size != size:
            raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{counts.size} and input.size({d}) = {size}")
        _check_output_size(output_size, int(counts.sum()), "allocated size does not match required size")
        return index_select(input, d, Tensor._make(np.repeat(np.arange(size, dtype=np.int64), counts)))
    # NOTE: PyTorch's text for a float lists repeat_interleave's forms; this names the one it meant
    count = int_argument(repeats, "repeat_interleave", "repeats", 2)
    shape = input._data.shape
    _check_output_size(output_size, shape[d] * count, "repeat_interleave: Invalid output_size, expected "
                       f"{shape[d] * count} but got {output_size}")
    widened = expand(unsqueeze(input, d + 1), shape[:d + 1] + (count,) + shape[d + 1:])
    return reshape(contiguous(widened), shape[:d] + (shape[d] * count,) + shape[d + 1:])


# ------------------------------------------------------------------------------- in place
def index_add_(self, dim, index, source, *, alpha=1):
    return _inplace(self, lambda t, s: index_add(t, dim, index, s, alpha=alpha), source)


def index_fill_(self, dim, index, value):
    return _inplace(self, lambda t, v: index_fill(t, dim, index, v), value)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return _inplace(self, lambda t, s: scatter(t, dim, index, s, value=value, reduce=reduce), src)


def scatter_add_(self, dim, index, src):
    return _inplace(self, lambda t, s: scatter_add(t, dim, index, s), src)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return _inplace(self, lambda t, s: scatter_reduce(t, dim, index, s, reduce, include_self=include_self), src)


def put_(self, index, source, accumulate=False):
    return _inplace(self, lambda t, s: put(t, index, s, accumulate), source)


FUNCTIONS = ("take", "index_select", "index_add", "index_fill", "scatter", "scatter_add", "scatter_reduce", "put",
             "masked_select", "repeat_interleave")
METHODS = {name: globals()[name] for name in FUNCTIONS + (
    "index_add_", "index_fill_", "scatter_", "scatter_add_", "scatter_reduce_", "put_")}
