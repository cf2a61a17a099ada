"""Shape functions: views (sharing memory), reshapes, indexing, joining and splitting."""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import first_non_int, int_argument, ints_argument, normalize_dim, refuse_repeated_dims
from gradscope.autograd import fused_products
from gradscope.autograd.dispatch import apply, apply_holding, hold
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.node import HeldTensors
from gradscope.autograd.refusals import type_name
from gradscope.autograd.tensor import Tensor
from gradscope.ops import elementwise as E
from gradscope.ops import placement as P
from gradscope.ops import shape as S


def _size_arg(size, name: str = "", argument: str = "size") -> tuple:
    """A shape or dims given as numbers or as one sequence, each an int (anything with __index__: a NumPy integer, an
    integer 0-dim tensor); anything else is a TypeError in PyTorch's parser's words, where int() truncated a float
    (x.reshape((3.5, 2)) was 3 x 2). `name`, `argument`: the function and parameter its errors name."""
    given = size
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        return tuple(map(operator.index, size))
    except TypeError:
        raise _not_ints(given, size, name, argument) from None


def _not_ints(given: tuple, size, name: str, argument: str) -> TypeError:
    """PyTorch's parser's words: its first element decides whether the argument is a list of ints at all (numbers
    given one by one then match none of the method's forms, which it counts as positional arguments; a sequence's
    element is named at pos 0; one number that isn't an int by its type); a later one fails to unpack (named by
    1-based position)."""
    position, kind = first_non_int(size)
    if position:
        return TypeError(f"{name}(): argument '{argument}' failed to unpack the object at pos {position + 1} with "
                         f'error "type must be tuple of ints,but got {kind}"')
    if given is size and len(size) > 1:
        return TypeError(f"{name}() takes 1 positional argument but {len(size)} were given")
    if given is size:
        return TypeError(f"{name}(): argument '{argument}' (position 1) must be tuple of ints, not {kind}")
    return TypeError(f"{name}(): argument '{argument}' (position 1) must be tuple of ints, but found element of type "
                     f"{kind} at pos 0")


def _infer_size(shape: tuple, numel: int) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return tuple(numel // known if s == -1 else s for s in shape)
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
        return _view_as_dtype(input, _dtypes.to_numpy_dtype(shape[0]))
    size = _infer_size(_size_arg(shape, "view", "size"), input._data.size)
    try:
        np.reshape(input._data, size, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                           "spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return apply(S.view, (input,), (size,))


def _view_as_dtype(input, dtype: np.dtype) -> Tensor:
    """Tensor.view(dtype): the same memory read as `dtype`, the last dim rescaled when the element size differs,
    with PyTorch's checks. As PyTorch's view.dtype it has no gradient and isn't an autograd view (no `_base`), but
    it shares the version counter."""
    data = input._data
    old, new = data.dtype.itemsize, dtype.itemsize
    if old != new:
        what = f"to view {type_name(data.dtype)} as {type_name(dtype)} (different element sizes)"
        if data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        strides = [stride // old for stride in data.strides]
        checks = [("stride(-1)", 1, strides[-1] == 1, strides[-1])]
        if new > old:
            ratio, offset = new // old, P.storage_offset(data)
            checks = [("size(-1)", ratio, data.shape[-1] % ratio == 0, data.shape[-1]),
                      ("storage_offset()", ratio, offset % ratio == 0, offset), *checks]
            checks += [(f"stride({dim})", ratio, stride % ratio == 0, stride)
                       for dim, stride in enumerate(strides[:-1])]
        for name, bound, ok, got in checks:
            if not ok:
                verb = "be" if name == "stride(-1)" else "be divisible by"
                raise RuntimeError(f"self.{name} must {verb} {bound} {what}, but got {got}")
    out = Tensor._make(data.view(dtype))
    out._version_counter = input._version_counter
    return out


def view_as(input, other):
    return view(input, other._data.shape)


def reshape(input, *shape):
    size = _infer_size(_size_arg(shape, "reshape", "shape"), input._data.size)
    try:
        np.reshape(input._data, size, copy=False)
    except ValueError:  # as PyTorch: a contiguous clone (CloneBackward0), then _unsafe_view (UnsafeViewBackward0)
        return apply(S.unsafe_view, (apply(S.clone_contiguous, (input,)),), (size,))
    # a view: ViewBackward0 of a contiguous tensor, PyTorch's _reshape_alias (ReshapeAliasBackward0) of another
    return apply(S.view if input._data.flags.c_contiguous else S.reshape_alias, (input,), (size,))


def flatten(input, start_dim=0, end_dim=-1):
    ndim = input._data.ndim
    if ndim == 0:
        return reshape(input, (1,))
    start, end = normalize_dim(start_dim, ndim), normalize_dim(end_dim, ndim)
    shape = input._data.shape
    if start == end:  # NOTE: checked here, off the hot path: a float start or end fails the slicing below
        int_argument(start_dim, "flatten", "start_dim", 2), int_argument(end_dim, "flatten", "end_dim", 3)
        return input
    return reshape(input, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return apply(S.t, (input,))


t = fused_products.transpose(t)


def transpose(input, dim0, dim1):
    if type(dim0) is not int or type(dim1) is not int:
        dim0, dim1 = int_argument(dim0, "transpose", "dim0", 2), int_argument(dim1, "transpose", "dim1", 3)
    ndim = input._data.ndim
    dims = (normalize_dim(dim0, ndim), normalize_dim(dim1, ndim))
    # the node keeps the dims as given, as PyTorch's (a 0-d tensor's are 0)
    return apply(S.transpose, (input,), (dim0, dim1) if ndim else dims)


swapaxes = swapdims = transpose


def permute(input, *dims):
    ndim = input._data.ndim
    dims = tuple(normalize_dim(d, ndim) for d in _size_arg(dims, "permute", "dims"))
    if sorted(dims) != list(range(ndim)):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {ndim} is not equal "
                           f"to len(dims) = {len(dims)}")
    return apply(S.permute, (input,), (dims,))


def unsqueeze(input, dim):
    if type(dim) is not int:
        dim = int_argument(dim, "unsqueeze", "dim", 2)
    normalize_dim(dim, input._data.ndim + 1)  # its range error; the node keeps dim as given, as PyTorch's
    return apply(S.unsqueeze, (input,), (dim,))


def squeeze(input, dim=None):
    if dim is None:
        return apply(S.squeeze_all, (input,))
    ndim = input._data.ndim
    # NOTE: PyTorch's text for a float lists squeeze's three forms; this names the one it meant
    dim = ints_argument(dim, "squeeze", "dim", 2) if isinstance(dim, (tuple, list)) else int_argument(
        dim, "squeeze", "dim", 2)
    dims = tuple(normalize_dim(d, ndim) for d in (dim if isinstance(dim, tuple) else (dim,)))
    if not isinstance(dim, tuple):  # the node keeps dim as given, as PyTorch's
        return apply(S.squeeze_dim, (input,), (dim,))
    refuse_repeated_dims(dims)  # a 0-dim tensor's dims 0 and -1 are the same one
    dims = tuple(d for d in dims if ndim and input._data.shape[d] == 1)
    return apply(S.squeeze_dims, (input,), (dims,))


def expand(input, *sizes):
    sizes = _size_arg(sizes, "expand", "size")
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        name = _dtypes.legacy_type_name(input._data.dtype)
        raise RuntimeError(f"expand({name}{{{list(shape)}}}, size={list(sizes)}): the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
                           f"({len(shape)})")
    target = tuple(s if s != -1 else shape[i - lead] if i >= lead else _no_leading_minus_one(i)
                   for i, s in enumerate(sizes))
    for i in range(len(shape) - 1, -1, -1):  # PyTorch names the last dimension that doesn't match
        n = shape[i]
        if n != 1 and n != target[i + lead]:
            raise RuntimeError(f"The expanded size of the tensor ({target[i + lead]}) must match the existing size "
                               f"({n}) at non-singleton dimension {i + lead}.  Target sizes: {list(sizes)}.  Tensor "
                               f"sizes: {list(shape)}")
    return apply(S.expand, (input,), (target,))


def _no_leading_minus_one(dim: int):
    """-1 keeps a dimension's size: a new leading dimension has none (NumPy's index would wrap to another's)."""
    raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {dim}")


def expand_as(input, other):
    return expand(input, other._data.shape)


def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return apply(S.clone_contiguous, (input,))


# ------------------------------------------------------------------------------- indexing
_SEQUENCE_INDEX_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; use "
    "x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], "
    "which will result either in an error or a different result"
)
_SEQUENCES = (list, tuple, range, np.ndarray)


def legacy_index(index, stacklevel: int = 3):
    """PyTorch 2.13 still reads a list shorter than 32 that holds a sequence, tensor, slice, None or Ellipsis
    as a tuple of indices (NumPy's old heuristic), with a deprecation warning: `x[[[0, 4], [2, 2]]]` is
    `x[[0, 4], [2, 2]]` and `x[[slice(None), [2, 3]]]` is `x[:, [2, 3]]`. Any other index is returned as is."""
    if type(index) is not list or len(index) >= 32:
        return index
    for item in index:
        if isinstance(item, (Tensor, slice, *_SEQUENCES)) or item is None or item is Ellipsis:
            warnings.warn(_SEQUENCE_INDEX_WARNING, UserWarning, stacklevel=stacklevel)
            return tuple(index)
    return index


def _plain_index(index):
    """One item of an index made NumPy-ready: tensors, lists, tuples and ranges (sequences of indices) become
    ndarrays."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, (list, tuple)):
        if not index:
            return np.zeros((0,), dtype=np.int64)  # an empty sequence selects nothing (a long index)
        return np.asarray([_plain_index(i) for i in index]) if isinstance(index[0], Tensor) else np.asarray(index)
    if type(index) is range:  # a sequence of indices, as a list of them (the nn tutorial's x[range(n), target])
        return np.arange(index.start, index.stop, index.step, dtype=np.int64)
    return index


def index_items(index) -> tuple[tuple, tuple]:
    """An index as PyTorch reads it: its items as given (a tuple), and the same items NumPy-ready (each sequence or
    tensor an ndarray)."""
    index = legacy_index(index, stacklevel=4)
    given = index if isinstance(index, tuple) else (index,)
    return given, tuple(_plain_index(item) for item in given)


def getitem(input, index):
    """`x[index]`: basic indexing becomes a chain of view ops, advanced indexing one IndexBackward0."""
    given, items = index_items(index)
    if any(is_advanced(item) for item in items):
        view, rest = split_index(input, items)
        try:
            out = apply(S.index, (view,), (rest if len(rest) > 1 else rest[0],))
        except IndexError as error:  # NumPy's words for an index out of range: PyTorch's instead
            raise bounds_error(view._data.shape, rest) or error from None
        node = out._node
        if node is not None:  # it holds the index tensors, as PyTorch's node saves them
            if type(index) is Tensor and index._data.ndim and modes.get() is DEFAULT_MODES and (
                    not index._is_inference):  # x[idx], x[mask]: the commonest (dispatch.hold, inlined)
                counter = index._version_counter
                node._held = (HeldTensors(((index._data, counter, counter[0], index, index._node),)),)
            else:
                hold(node, (held_indices(given, items, view._data.ndim),))
        return out
    # NOTE: PyTorch slices for a lone slice even when it is x[:]; inside a tuple a full slice is skipped
    out = basic_index(input, items, keep_full_slice=isinstance(index, slice))
    return apply(S.alias, (input,)) if out is input else out


def held_indices(given: tuple, items: tuple, ndim: int) -> list:
    """PyTorch's `indices` list of an advanced index on its view of `ndim` dims (index_items' `items` of the `given`
    index): None for each dim taken whole (a slice, a None, the dims an Ellipsis stands for; trailing ones
    dropped), then each index tensor as given (a mask as one), a list or a bool made a tensor here."""
    held, ellipsis = [], None
    for original, item in zip(given, items):
        if isinstance(original, Tensor) and original._data.ndim:
            held.append(original)
        elif item is None or isinstance(item, slice):
            held.append(None)
        elif item is Ellipsis:
            ellipsis = len(held)
        elif isinstance(item, (bool, np.bool_)) or isinstance(item, np.ndarray) and not item.ndim and _is_mask(item):
            held.append(Tensor._make(np.zeros(1 if item else 0, np.int64)))  # PyTorch's index of a bool
        elif not _is_integer(item):
            held.append(Tensor._make(item))
    if ellipsis is not None:  # as many whole dims as the others leave
        covered = sum(1 if entry is None or not _is_mask(entry._data) else entry._data.ndim for entry in held)
        held[ellipsis:ellipsis] = [None] * (ndim - covered)
    while held[-1] is None:
        held.pop()
    return held


def split_index(input, items: tuple) -> tuple:
    """An index with tensors in it, split as PyTorch applies it: integers, slices and None first, as views
    (`input` itself if there are none), then the tensor indices on what is left, with a full slice for
    every dim they leave alone. x[0, :, [1, 2]] is x[0][:, [1, 2]] (NumPy would put the indexed dim
    first). Returns (view, rest of the index)."""
    if any(isinstance(item, np.ndarray) and item.dtype.kind not in "biu" for item in items):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    # per item, the dims of the input it indexes (a boolean mask covers as many as it has)
    widths = [0 if _adds_dim(item) or item is Ellipsis else item.ndim if _is_mask(item) else 1 for item in items]
    if sum(widths) > input._data.ndim:
        raise IndexError(f"too many indices for tensor of dimension {input._data.ndim}")
    # NOTE: a True/False is PyTorch's unsqueeze, then a one-element boolean mask on the new dim
    basic = [(slice(None),) * width if isinstance(item, np.ndarray) else (None,) if _adds_dim(item) else (item,)
             for item, width in zip(items, widths)]
    view = basic_index(input, tuple(i for group in basic for i in group))
    rest = tuple(np.array([item]) if isinstance(item, (bool, np.bool_)) else
                 slice(None) if item is None or isinstance(item, slice) else item
                 for item in items if not _is_integer(item))
    _check_index_tensors(view._data.shape, rest)
    return view, rest


def _check_index_tensors(shape: tuple, items: tuple) -> None:
    """PyTorch's errors for masks that don't fit and index tensors that don't broadcast (in its words)."""
    dim, shapes = 0, []
    for item in items:
        if item is Ellipsis:
            dim += len(shape) - sum(i.ndim if _is_mask(i) else 1 for i in items if i is not Ellipsis)
        elif _is_mask(item):
            for j, size in enumerate(item.shape):
                if size != shape[dim + j]:
                    raise IndexError(f"The shape of the mask {list(item.shape)} at index {j} does not match the shape "
                                     f"of the indexed tensor {list(shape)} at index {dim + j}")
            shapes += [(int(item.sum()),)] * item.ndim  # a mask is its nonzero() indices, one tensor per dim
            dim += item.ndim
        else:
            if isinstance(item, np.ndarray):
                shapes.append(item.shape)
            dim += 1
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(str(list(s)) for s in shapes)) from None


def bounds_error(shape: tuple, items: tuple) -> IndexError | None:
    """PyTorch's IndexError for the first index out of range in `items` (split_index's rest, on a view of `shape`),
    None if there is none. PyTorch walks the broadcast index elements in order, each through the index tensors in
    turn, and numbers a tensor's dimension among the index tensors alone: x[:, [9]] is out of bounds "for
    dimension 0"; NumPy checks one array at a time and names the array's axis."""
    dim, ordinal, checked = 0, 0, []
    for item in items:
        if item is Ellipsis:
            dim += len(shape) - sum(i.ndim if _is_mask(i) else 1 for i in items if i is not Ellipsis)
        elif _is_mask(item):  # never out of range (split_index checked its shape); one index tensor per dim
            dim += item.ndim
            ordinal += item.ndim
        else:
            if isinstance(item, np.ndarray):
                checked.append((ordinal, item, shape[dim]))
                ordinal += 1
            dim += 1
    if not checked:
        return None
    arrays = np.broadcast_arrays(*[array for _, array, _ in checked])
    outside = np.stack([((a < -size) | (a >= size)).ravel() for a, (_, _, size) in zip(arrays, checked)])
    anywhere = outside.any(axis=0)
    if not anywhere.any():
        return None
    position = int(anywhere.argmax())
    which = int(outside[:, position].argmax())
    ordinal, _, size = checked[which]
    value = arrays[which].ravel()[position]
    return IndexError(f"index {value} is out of bounds for dimension {ordinal} with size {size}")


def is_advanced(item) -> bool:
    """An index item that takes PyTorch's advanced indexing (an index tensor; a bool is a one-element mask)."""
    return isinstance(item, (np.ndarray, bool, np.bool_))


def _adds_dim(item) -> bool:
    return item is None or isinstance(item, (bool, np.bool_))


def _is_mask(item) -> bool:
    return isinstance(item, np.ndarray) and item.dtype.kind == "b"


def _is_integer(item) -> bool:
    return isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))


def basic_index(input, items, keep_full_slice: bool = False):
    """Integers, slices, None and Ellipsis applied as view ops, in order; `input` itself if none changes it."""
    ndim = input._data.ndim
    specified = sum(1 for item in items if item is not None and item is not Ellipsis)
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out, dim = input, 0
    for position, item in enumerate(items):
        if item is Ellipsis:
            dim += ndim - specified
        elif item is None:
            out = apply(S.unsqueeze, (out,), (dim,))
            dim += 1
        elif isinstance(item, slice):
            size = out._data.shape[dim]
            start, stop, step = item.indices(size)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            if keep_full_slice or (start, stop, step) != (0, size, 1):
                out = apply(S.slice_, (out,), (dim, start, max(stop, start), step))
            dim += 1
        elif isinstance(item, (bool, np.bool_)):
            out = apply(S.unsqueeze, (out,), (dim,))
            if not item:
                out = apply(S.slice_, (out,), (dim, 0, 0, 1))
            dim += 1
        else:
            size = out._data.shape[dim]
            index = int(item)
            if not -size <= index < size:  # PyTorch names the dimension by the item's place in the index
                raise IndexError(f"index {index} is out of bounds for dimension {position} with size {size}")
            out = apply(S.select, (out,), (dim, index % size))
    return out


def index_scatter(values, shape, indices, accumulate):
    return apply(S.index_scatter, (values,), (tuple(shape), indices, accumulate))


def check_along_index(shape: tuple, dim: int, index: np.ndarray, wording: str) -> None:
    """PyTorch's checks of a gather/scatter index: no larger than the input apart from `dim` (its error opens
    with `wording`), every index within `dim`."""
    for d, (wanted, size) in enumerate(zip(index.shape, shape)):
        if d != dim and wanted > size:
            raise RuntimeError(f"{wording} index {list(index.shape)} to be no larger than self {list(shape)} apart "
                               f"from dimension {dim}")
    size = shape[dim] if shape else 1
    bad = index[(index < 0) | (index >= size)]
    if bad.size:
        raise RuntimeError(f"index {bad.flat[0]} is out of bounds for dimension {dim} with size {size}")


def gather(input, dim, index, *, sparse_grad=False):
    if type(dim) is not int:
        dim = int_argument(dim, "gather", "dim", 2)
    d = normalize_dim(dim, input._data.ndim)
    positions = index._data
    if not positions.size:  # NOTE: PyTorch checks nothing of an empty index (`torch.tensor([])` is a float one)
        return apply(S.gather, (input,), (d, positions.astype(np.int64), sparse_grad))
    if positions.ndim != input._data.ndim and max(positions.ndim, input._data.ndim) > 1:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if positions.dtype not in (np.int32, np.int64):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if positions.ndim == input._data.ndim:
        check_along_index(input._data.shape, d, positions, f"Size does not match at dimension "
                          f"{_first_larger(input._data.shape, d, positions.shape)} expected")
    # the node holds the index tensor, as PyTorch saves it: backward refuses it once changed in place
    return apply_holding(S.gather, (input,), (d, positions.astype(np.int64, copy=False), sparse_grad), (index,))


def _first_larger(shape: tuple, dim: int, index_shape: tuple) -> int:
    return next((d for d, (wanted, size) in enumerate(zip(index_shape, shape)) if d != dim and wanted > size), 0)


def fill(input, value):
    """A new tensor of input's shape and dtype, every element `value` (torch.fill: fill_ out of place)."""
    if isinstance(value, Tensor):  # differentiable in the value
        if value._data.ndim:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        return apply(E.fill_new_tensor, (input, value), (), [input._data, value._data])
    return apply(E.fill_new, (input,), (_dtypes.checked_scalar(value, input._data.dtype),))


def masked_fill(input, mask, value):
    if isinstance(value, Tensor):  # differentiable in the value (MaskedFillBackward1)
        if value._data.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        return apply_holding(S.masked_fill_tensor, (input, value), (mask._data,), (mask,),
                             [input._data, value._data.astype(input._data.dtype)])
    value = _dtypes.checked_scalar(value, input._data.dtype)
    return apply_holding(S.masked_fill, (input,), (mask._data, value), (mask,))


# ------------------------------------------------------------------------------- joining, splitting
def _tensors_argument(function: str, tensors) -> None:
    """PyTorch's argument parser's error for one tensor given where a sequence of them is expected."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{function}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")


def cat(tensors, dim=0):
    _tensors_argument("cat", tensors)
    given = list(tensors)
    if not given:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    tensors = [t for t in given if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or given[:1]
    ndim = tensors[0]._data.ndim
    if type(dim) is not int:
        dim = int_argument(dim, "cat", "dim", 2)
    if ndim == 0:
        raise _cat_error(given, 0)
    d = normalize_dim(dim, ndim)
    common = _dtypes.result_type([t._data for t in tensors])
    if len(tensors) < len(given):  # legacy empty 1-D tensors: skipped by the forward, still inputs of the node
        tensors = given
    arrays = [t._data.astype(common, copy=False) for t in tensors]
    try:
        sizes = tuple(None if ndim > 1 and t._data.ndim == 1 and not t._data.shape[0] else t._data.shape[d]
                      for t in tensors)
        return apply(S.cat, tensors, (d, sizes), arrays)
    except (ValueError, IndexError):  # NumPy's words for shapes that don't fit: PyTorch's instead
        raise _cat_error(given, d) from None


def _cat_error(tensors: list, dim: int) -> RuntimeError:
    """PyTorch's error for the first tensor that can't be concatenated along `dim` to the first (an empty 1-D
    tensor, the legacy no-op, is skipped; positions count every tensor given)."""
    kept = [(i, t._data.shape) for i, t in enumerate(tensors) if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
    for i, shape in kept:
        if not shape:
            return RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    first = kept[0][1]
    for i, shape in kept[1:]:
        if len(shape) != len(first):
            return RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}")
        for k, (expected, size) in enumerate(zip(first, shape)):
            if k != dim and expected != size:
                return RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size "
                                    f"{expected} but got size {size} for tensor number {i} in the list.")
    return RuntimeError("torch.cat(): the tensors could not be concatenated")


concat = concatenate = cat


def stack(tensors, dim=0):
    _tensors_argument("stack", tensors)
    if type(dim) is not int:
        dim = int_argument(dim, "stack", "dim", 2)
    tensors = list(tensors)
    shapes = {t._data.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at entry 0 "
                           f"and {list(next(t.shape for t in tensors if t._data.shape != tensors[0]._data.shape))} "
                           "at entry 1")
    return apply(S.stack, tensors, (normalize_dim(dim, tensors[0]._data.ndim + 1),))


def split(tensor, split_size_or_sections, dim=0):
    # NOTE: PyTorch's text for a float dim lists split's two forms; this names the one it meant
    d = normalize_dim(int_argument(dim, "split", "dim", 3), tensor._data.ndim)
    size = tensor._data.shape[d]
    op = S.split
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sections = [min(step, size - start) for start in range(0, size, step)] or [0]
    else:  # a float split size goes here too, as PyTorch's Tensor.split sends it
        op = S.split_with_sizes
        sections = list(ints_argument(split_size_or_sections, "split_with_sizes", "split_sizes", 2))
        if sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sections}")
    return apply(op, (tensor,), (d, tuple(sections)))


def chunk(input, chunks, dim=0):
    chunks, dim = int_argument(chunks, "chunk", "chunks", 2), int_argument(dim, "chunk", "dim", 3)
    size = input._data.shape[normalize_dim(dim, input._data.ndim)]
    return split(input, max(1, -(-size // chunks)), dim)


def unbind(input, dim=0):
    if type(dim) is not int:
        dim = int_argument(dim, "unbind", "dim", 2)
    return apply(S.unbind, (input,), (normalize_dim(dim, input._data.ndim),))
