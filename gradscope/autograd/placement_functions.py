"""torch.* functions that write one tensor into positions of another or read strided positions back out:
index_copy, index_put, masked_scatter, select_scatter, slice_scatter, diagonal_scatter, fill_diagonal_,
narrow_copy, take_along_dim, as_strided and storage_offset (and the in-place variants).

A tensor's storage here is the NumPy array that owns its memory: a view's storage is its base's, so
`storage_offset()` and `as_strided` see what PyTorch's do for views, detached views and expanded tensors."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import normalize_dim
from gradscope.autograd.dispatch import apply, apply_holding
from gradscope.autograd.errors import warn_once
from gradscope.autograd.inplace import _index_put, _inplace, fill_
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.shape_functions import expand, gather, view
from gradscope.autograd.tensor import Tensor
from gradscope.autograd.view_inplace import _restride
from gradscope.ops import placement as P


def _type_name(data: np.ndarray) -> str:
    return _dtypes.from_numpy_dtype(data.dtype).legacy_name[:-6]


# ------------------------------------------------------------------------------- index_copy, index_put
def _without(shape: tuple, dim: int) -> tuple:
    return shape[:dim] + shape[dim + 1:] if shape else shape


def index_copy(input, dim, index, source):
    """`input` with the slices `index` along `dim` replaced by `source`'s (IndexCopyBackward0)."""
    data, values = input._data, source._data
    d = normalize_dim(dim, data.ndim)
    positions = index._data
    if positions.dtype != np.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {_type_name(positions)}")
    if positions.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {positions.ndim})")
    if values.dtype != data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_type_name(data)} and (source) {_type_name(values)}")
    if values.ndim == 0 and positions.size != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one element (got {positions.size})")
    if values.ndim and data.ndim and values.ndim != data.ndim:
        raise IndexError("index_copy_(): When source and destination are not scalars, their dimensionality must match. "
                         f"Source dimensionality ({values.ndim}), destination dimensionality ({data.ndim})")
    slice_shape, source_slice_shape = _without(data.shape, d), _without(values.shape, d)
    if slice_shape != source_slice_shape:
        raise RuntimeError("index_copy_(): Source/destination tensor must have same slice shapes. Destination slice "
                           f"shape: {' '.join(map(str, slice_shape))} at dimension {d} and source slice shape: "
                           f"{' '.join(map(str, source_slice_shape))} at dimension 0.")
    positions = positions.reshape(-1)
    count = values.shape[d] if values.ndim else 1
    if positions.size != count:
        raise IndexError(f"index_copy_(): Number of indices ({positions.size}) should be equal to source.size(dim) "
                         f"({count})")
    size = data.shape[d] if data.ndim else 1
    bad = positions[(positions < 0) | (positions >= size)]
    if bad.size:
        raise IndexError(f"index_copy_(): index {bad[0]} is out of bounds for dimension {d} with size {size}")
    return apply_holding(P.index_copy, (input, source), (d, positions, values.ndim), (index,))


def index_copy_(self, dim, index, source):
    return _inplace(self, lambda t, s: index_copy(t, dim, index, s), source)


def _index_arrays(input, indices) -> tuple:
    """The index tensors as arrays, checked against `input`'s sizes (a None takes the whole dim)."""
    items = []
    for dim, index in enumerate(indices):
        if index is None:
            items.append(slice(None))
            continue
        array = index._data if isinstance(index, Tensor) else np.asarray(index)
        if array.dtype.kind in "iu" and array.size:
            size = input._data.shape[dim]
            bad = array[(array < -size) | (array >= size)]
            if bad.size:
                raise IndexError(f"index {bad.flat[0]} is out of bounds for dimension {dim} with size {size}")
        items.append(array)
    return tuple(items)


def index_put(input, indices, values, accumulate=False):
    """`input` with `values` (broadcast) written at the positions the index tensors name, or added there with
    accumulate=True (repeated positions add up); IndexPutBackward0."""
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_type_name(input._data)} for the destination and {_type_name(values._data)} for the "
                           "source.")
    items = _index_arrays(input, indices)
    # the tensors PyTorch's node saves: each as given, a sequence made a tensor here
    held = [index if index is None or isinstance(index, Tensor) else Tensor._make(item)
            for index, item in zip(indices, items)]
    if not accumulate:
        return _index_put(input, values, items, held)
    where = items if len(items) > 1 else items[0]
    return apply_holding(P.index_put_accumulate, (input, values), (where, True), (held,))


def index_put_(self, indices, values, accumulate=False):
    return _inplace(self, lambda t, v: index_put(t, indices, v, accumulate), values, overlapping="index_put_")


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def _spread_index(shape: tuple, source_shape: tuple, dim: int, d: int, positions: np.ndarray) -> np.ndarray:
    """index_reduce's 1-D index spread over source's other dims (scatter_reduce's index), after PyTorch's checks."""
    if not source_shape and positions.size != 1:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if d < len(source_shape) and positions.size != source_shape[d]:
        raise RuntimeError(f"index_reduce_(): Number of indices ({positions.size}) should be equal to "
                           f"source.size(dim): ({source_shape[d]}), for dim: {d}")
    if len(shape) != len(source_shape) or any(n != m for i, (n, m) in enumerate(zip(shape, source_shape)) if i != d):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(shape)} source.shape = {list(source_shape)}")
    if not source_shape:  # a 0-dim source: one index, addressing a 0-dim self's one element
        return positions.reshape(())
    spread_shape = [1] * len(source_shape)
    spread_shape[d] = positions.size
    return np.broadcast_to(positions.reshape(spread_shape), source_shape)


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """`input` with the slices of `source` reduced into the slices `index` along `dim` by "prod", "mean", "amax"
    or "amin" (with the values already there unless include_self=False); IndexReduceBackward0."""
    _warn_beta()
    return _index_reduce(input, dim, index, source, reduce, include_self, out)


def _warn_beta() -> None:
    """PyTorch's beta warning, naming the line that called index_reduce or index_reduce_."""
    warn_once("index_reduce", "index_reduce() is in beta and the API may change at any time.", stacklevel=4)


def _index_reduce(input, dim, index, source, reduce, include_self, out=None):
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    data = input._data
    d = normalize_dim(dim, data.ndim)
    positions = index._data.astype(np.int64, copy=False).reshape(-1)
    size = data.shape[d] if data.ndim else 1
    if positions.size and (positions.min() < 0 or positions.max() >= size):
        raise IndexError("index out of range in self")
    spread = _spread_index(data.shape, source._data.shape, dim, d, positions)
    arrays = [data, source._data.astype(data.dtype, copy=False)]
    result = apply_holding(P.index_reduce, (input, source), (d, spread, reduce, include_self), (index,), arrays)
    return write_out("index_reduce", result, out)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    _warn_beta()
    return _inplace(self, lambda t, s: _index_reduce(t, dim, index, s, reduce, include_self), source)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of `input` with `src` written on its as_strided view (offsets count in the copy's own storage)."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    arrays = [input._data, src._data.astype(input._data.dtype, copy=False)]
    return apply(P.as_strided_scatter, (input, src), (size, stride, offset), arrays)


# ------------------------------------------------------------------------------- masked_scatter
def masked_scatter(input, mask, source):
    """`input` with `source`'s first elements, in order, written where `mask` (broadcast) is True
    (MaskedScatterBackward0)."""
    where = mask._data
    if where.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_type_name(where)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_type_name(input._data)} and {_type_name(source._data)}")
    shape = np.broadcast_shapes(input._data.shape, where.shape)
    if np.count_nonzero(np.broadcast_to(where, shape)) > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return apply_holding(P.masked_scatter, (input, source), (where,), (mask,))


def masked_scatter_(self, mask, source):
    return _inplace(self, lambda t, s: masked_scatter(t, mask, s), source)


# ------------------------------------------------------------------------------- the scatters of views
def _check_region(region: tuple, src) -> None:
    if tuple(src._data.shape) != region:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(region)}")


def _scatter(op, input, src, params, region_shape):
    _check_region(region_shape, src)
    return apply(op, (input, src), params, [input._data, src._data.astype(input._data.dtype, copy=False)])


def select_scatter(input, src, dim, index):
    """`input` with `src` written at `index` along `dim` (SelectScatterBackward0)."""
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, len(shape))
    if not -shape[d] <= index < shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {dim}")
    return _scatter(P.select_scatter, input, src, (d, index % shape[d]), shape[:d] + shape[d + 1:])


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """`input` with `src` written at `start:end:step` along `dim` (SliceScatterBackward0)."""
    shape = input._data.shape
    d = normalize_dim(dim, len(shape))
    start, end, step = slice(start, end, step).indices(shape[d])
    region = shape[:d] + (len(range(start, end, step)),) + shape[d + 1:]
    return _scatter(P.slice_scatter, input, src, (d, start, end, step), region)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """`input` with `src` written on its diagonal (DiagonalScatterBackward0)."""
    shape = input._data.shape
    d1, d2 = normalize_dim(dim1, len(shape)), normalize_dim(dim2, len(shape))
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    region = np.diagonal(np.empty(shape, dtype=np.bool_), offset, d1, d2).shape
    return _scatter(P.diagonal_scatter, input, src, (offset, d1, d2), region)


# ------------------------------------------------------------------------------- reading out
def narrow_copy(input, dim, start, length):
    """A copy of `length` elements from `start` along `dim` (NarrowCopyBackward0)."""
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    begin = start % size if size else 0
    if begin + length > size:
        raise RuntimeError(f"start ({begin}) + length ({length}) exceeds dimension size ({size}).")
    return apply(P.narrow_copy, (input,), (d, start, length))


def take_along_dim(input, indices, dim=None, *, out=None):
    """The elements at `indices` along `dim` (input and indices broadcast against each other elsewhere), or of
    the flattened input without a dim: PyTorch's gather of the broadcast (or flattened) tensors."""
    data, index = input._data, indices._data
    if dim is None:
        return write_out("take_along_dim", gather(view(input, (-1,)), 0, view(indices, (-1,))), out)
    if data.ndim != index.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {data.ndim} dimensions for input, and {index.ndim} dimensions for indices")
    if index.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {_type_name(index)}")
    d = normalize_dim(dim, data.ndim)
    index_shape = np.broadcast_shapes(data.shape[:d] + (index.shape[d],) + data.shape[d + 1:], index.shape)
    input_shape = np.broadcast_shapes(index.shape[:d] + (data.shape[d],) + index.shape[d + 1:], data.shape)
    # NOTE: PyTorch gathers with a copy of the broadcast indices (changing `indices` later is no error), each taken
    # modulo the size along dim (its remainder: -1 is the last, and so is 2 of 3; 3 of 3 is the first), out of range
    # or not (without a dim, the flattened gather refuses one)
    positions = np.broadcast_to(index, index_shape)
    size = data.shape[d]
    positions = Tensor._make(np.remainder(positions, size) if size else positions.copy())
    return write_out("take_along_dim", gather(expand(input, input_shape), d, positions), out)


# ------------------------------------------------------------------------------- storage
def storage_offset(self) -> int:
    """Where this tensor's first element is in its storage, in elements."""
    return P.storage_offset(self._data)


def _strided_params(input, size, stride, storage_offset) -> tuple:
    """as_strided's parameters, checked as PyTorch checks them; the input's geometry for the backward."""
    data = input._data
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    offset = P.storage_offset(data) if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    owner = P.memory_owner(data)
    if not (owner.flags.c_contiguous or owner.flags.f_contiguous):
        raise NotImplementedError("gradscope's as_strided needs the tensor's storage in one contiguous block; this "
                                  "tensor's memory belongs to a strided NumPy array (from_numpy of a strided array?): "
                                  "call .contiguous() first")
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if needed > owner.size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {data.itemsize} requiring a storage size of {needed * data.itemsize} are out of "
                           f"bounds for storage of size {owner.nbytes}")
    geometry = (data.shape, tuple(s // data.itemsize for s in data.strides), P.storage_offset(data))
    return size, stride, offset, geometry


def as_strided(input, size, stride, storage_offset=None):
    """A view of `input`'s storage with the given sizes and strides from `storage_offset` (the input's own
    by default), as PyTorch's: elements may repeat, and the gradient of one read several times adds up."""
    return apply(P.as_strided, (input,), _strided_params(input, size, stride, storage_offset))


def as_strided_(self, size, stride, storage_offset=None):
    """as_strided in place: this tensor becomes that view of its storage (AsStridedBackward1)."""
    return _restride(self, P.as_strided_, P.as_strided, _strided_params(self, size, stride, storage_offset))


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (of a matrix, or of a tensor whose dims are all equal) in place; with wrap=True
    a tall matrix's diagonal starts again below. PyTorch's: fill_ of an as_strided view of the diagonal."""
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) > 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    height, width = shape[0], shape[1]
    step = sum(self.stride())
    offset = storage_offset(self)
    fill_(as_strided(self, (min(height, width),), (step,), offset), fill_value)
    if wrap and len(shape) == 2 and height > width + 1:
        count = -(-self._data.size // (width + 1)) - min(height, width)
        fill_(as_strided(self, (count,), (step,), offset + self.stride(0) * (width + 1)), fill_value)
    return self


FUNCTIONS = ("index_copy", "index_put", "index_put_", "index_reduce", "as_strided_scatter", "masked_scatter",
             "select_scatter", "slice_scatter", "diagonal_scatter", "narrow_copy", "take_along_dim", "as_strided")
METHODS = {name: globals()[name] for name in FUNCTIONS + (
    "index_copy_", "index_reduce_", "masked_scatter_", "fill_diagonal_", "storage_offset", "as_strided_")}
