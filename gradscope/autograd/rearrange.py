"""torch.* functions that rearrange elements: flip, roll, rot90, movedim, narrow, select, diagonals and
triangles, repeat/tile, unfold, stacking helpers, broadcasting."""

from __future__ import annotations

import operator

import numpy as np

from gradscope._shapes import broadcast_shapes as _broadcast_shapes
from gradscope._shapes import int_argument, ints_argument, normalize_dim
from gradscope.autograd.dispatch import apply
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.shape_functions import _size_arg, cat, expand, permute, reshape, unsqueeze
from gradscope.autograd.tensor import Size, Tensor
from gradscope.ops import rearrange as R
from gradscope.ops import shape as S


def _ints(values, function: str, argument: str, position: int) -> tuple[int, ...]:
    """An argument PyTorch's parser takes as a tuple of ints, or as one int (anything with __index__)."""
    if type(values) is int or hasattr(values, "__index__") and type(values) is not bool:
        return (operator.index(values),)
    return ints_argument(values, function, argument, position)


def _dims(dims, ndim: int) -> tuple[int, ...]:
    dims = _ints(dims, "flip", "dims", 2)
    out = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dims has duplicates, original flip dims size={len(dims)}, but unique flip dims "
                           f"size={len(set(out))}")
    return out


def flip(input, dims):
    """A copy with the order of elements along `dims` reversed (node FlipBackward0)."""
    ndim = input._data.ndim
    return apply(R.flip, (input,), (_dims(dims, ndim) if ndim else (),))


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def movedim(input, source, destination):
    """A view with dims `source` moved to `destination`, the others keeping their order (PermuteBackward0)."""
    ndim = input._data.ndim
    # NOTE: PyTorch's text for a float lists movedim's two forms; this names the one it meant
    source = ints_argument(source, "movedim", "source", 2) if isinstance(source, (tuple, list)) else (
        int_argument(source, "movedim", "source", 2),)
    destination = ints_argument(destination, "movedim", "destination", 3) if isinstance(
        destination, (tuple, list)) else (int_argument(destination, "movedim", "destination", 3),)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(source)} dims) should "
                           f"contain the same number of dims as destination ({list(destination)} dims)")
    source = tuple(normalize_dim(d, ndim) for d in source)
    destination = tuple(normalize_dim(d, ndim) for d in destination)
    order = [None] * max(ndim, 1)
    for s, d in zip(source, destination):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in source)
    order = tuple(d if d is not None else next(rest) for d in order[:ndim])
    return permute(input, order)


moveaxis = movedim

FUNCTIONS = ("flip", "fliplr", "flipud", "movedim", "moveaxis")


def roll(input, shifts, dims=None):
    """Elements shifted along `dims` (the flattened tensor when None), wrapping around (RollBackward0)."""
    shifts = _ints(shifts, "roll", "shifts", 2)
    if dims is None or dims == ():
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(R.roll, (input,), (shifts, ()))
    dims = _ints(dims, "roll", "dims", 3)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return apply(R.roll, (input,), (shifts, tuple(normalize_dim(d, input._data.ndim) for d in dims)))


def rot90(input, k=1, dims=(0, 1)):
    """A copy turned k quarter turns from dims[0] toward dims[1] (Rot90Backward0)."""
    k = int_argument(k, "rot90", "k", 2)
    ndim = input._data.ndim
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    first, second = (normalize_dim(d, ndim) for d in dims)
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {first} and dim1 = {second}")
    return apply(R.rot90, (input,), (k, dims))


def _triangle(op, name):
    def function(input, diagonal=0, *, out=None):
        diagonal = int_argument(diagonal, name, "diagonal", 2)
        if input._data.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return write_out(name, apply(op, (input,), (diagonal,)), out)
    function.__name__ = name
    function.__doc__ = f"The {'lower' if name == 'tril' else 'upper'} triangle of the last two dims, the rest zeros."
    return function


tril = _triangle(R.tril, "tril")
triu = _triangle(R.triu, "triu")


def _diagonal_dims(ndim: int, dim1: int, dim2: int) -> tuple[int, int]:
    first, second = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return first, second


def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of the diagonal of dims (dim1, dim2), as the last dim (DiagonalBackward0)."""
    first, second = _diagonal_dims(input._data.ndim, dim1, dim2)
    return apply(R.diagonal, (input,), (offset, first, second))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims dim1, dim2 of the result) with the last dim of `input` on their diagonal."""
    first, second = _diagonal_dims(input._data.ndim + 1, dim1, dim2)
    return apply(R.diag_embed, (input,), (offset, first, second))


def diag(input, diagonal=0, *, out=None):
    """A vector's diagonal matrix, or a matrix's diagonal (a copy)."""
    ndim = input._data.ndim
    if ndim == 1:
        return write_out("diag", apply(R.diag_embed, (input,), (diagonal, 0, 1)), out)
    if ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")
    return write_out("diag", apply(R.diagonal_copy, (input,), (diagonal, 0, 1)), out)


def trace(input):
    """The sum of a matrix's diagonal (TraceBackward0); integers sum to int64."""
    if input._data.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input._data.ndim))
    kind = input._data.dtype.kind
    if kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if kind in "iu" and input._data.dtype != np.int64:
        input = Tensor._make(input._data.astype(np.int64))
    return apply(R.trace, (input,))


def narrow(input, dim, start, length):
    """A view of `length` elements from `start` along `dim` (SliceBackward0)."""
    # NOTE: PyTorch's text for a float lists narrow's two forms (start an int or a 0-dim tensor); this names the one
    dim, start = int_argument(dim, "narrow", "dim", 2), int_argument(start, "narrow", "start", 3)
    length = int_argument(length, "narrow", "length", 4)
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start %= size if size else 1
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return apply(S.slice_, (input,), (d, start, start + length, 1))


def select(input, dim, index):
    """The view at `index` along `dim`, without that dim (SelectBackward0)."""
    dim, index = int_argument(dim, "select", "dim", 2), int_argument(index, "select", "index", 3)
    ndim = input._data.ndim
    if ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at "
                         f"dimension {dim}")
    return apply(S.select, (input,), (d, index % size))


def repeat(input, *sizes):
    """The tensor repeated `sizes[i]` times along each dim (leading sizes add dims; RepeatBackward0)."""
    sizes = _size_arg(sizes, "repeat", "repeats")
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    return apply(R.repeat, (input,), (sizes,))


def tile(input, dims):
    """repeat, with `dims` padded by leading 1s up to the tensor's dims."""
    dims = _size_arg((dims,), "tile", "dims")
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


def unfold(input, dimension, size, step):
    """Tensor.unfold: a view of the windows of `size` elements every `step` along `dimension`, the
    window as a new last dim (UnfoldBackward0)."""
    if type(dimension) is not int or type(size) is not int or type(step) is not int:  # a method's positions
        dimension, size = int_argument(dimension, "unfold", "dimension", 1), int_argument(size, "unfold", "size", 2)
        step = int_argument(step, "unfold", "step", 3)
    ndim = input._data.ndim
    d = normalize_dim(dimension, ndim)
    length = input._data.shape[d] if ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return apply(R.unfold, (input,), (d, size, step))


def atleast_1d(*tensors):
    return _at_least(tensors, 1)


def atleast_2d(*tensors):
    return _at_least(tensors, 2)


def atleast_3d(*tensors):
    return _at_least(tensors, 3)


def _at_least(tensors, rank: int):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_at_least_one(t, rank) for t in tensors[0])
    if len(tensors) == 1:
        return _at_least_one(tensors[0], rank)
    return tuple(_at_least_one(t, rank) for t in tensors)


def _at_least_one(t, rank: int):
    ndim = t._data.ndim
    if ndim >= rank:
        return t
    if ndim == 0:
        return reshape(t, (1,) * rank)
    if rank == 2 or ndim == 2:  # (n,) -> (1, n); (m, n) -> (m, n, 1)
        return unsqueeze(t, 0) if rank == 2 else unsqueeze(t, -1)
    return unsqueeze(unsqueeze(t, 0), -1)  # (n,) -> (1, n, 1)


def hstack(tensors, *, out=None):
    tensors = atleast_1d(list(tensors))
    return write_out("hstack", cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1), out)


def vstack(tensors, *, out=None):
    return write_out("vstack", cat(atleast_2d(list(tensors)), 0), out)


row_stack = vstack


def dstack(tensors, *, out=None):
    return write_out("dstack", cat(atleast_3d(list(tensors)), 2), out)


def column_stack(tensors, *, out=None):
    columns = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return write_out("column_stack", cat(columns, 1), out)


def broadcast_shapes(*shapes) -> Size:
    return Size(_broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))


def broadcast_to(input, size):
    """expand to `size` (ExpandBackward0)."""
    return expand(input, size)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common shape; one already of that shape is returned as it is."""
    shape = _broadcast_shapes(*[t._data.shape for t in tensors])
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def tril_(self, diagonal=0):
    return _inplace(self, lambda t: tril(t, diagonal))


def triu_(self, diagonal=0):
    return _inplace(self, lambda t: triu(t, diagonal))


FUNCTIONS += ("roll", "rot90", "tril", "triu", "diagonal", "diag_embed", "diag", "trace", "narrow", "select", "tile",
              "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack", "dstack", "column_stack",
              "broadcast_shapes", "broadcast_to", "broadcast_tensors")
_NOT_METHODS = ("atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack", "dstack", "column_stack",
                "broadcast_shapes", "broadcast_tensors")
METHODS = {name: globals()[name] for name in FUNCTIONS + ("repeat", "unfold", "tril_", "triu_")
           if name not in _NOT_METHODS}


def _dims_one_by_one(function):
    """The Tensor method of `function(input, dims)`: PyTorch's method also takes the dims one by one,
    `x.flip(0, 1)`."""
    def method(self, *dims, **kwargs):
        return function(self, *((dims,) if len(dims) > 1 else dims), **kwargs)
    method.__name__ = function.__name__
    return method


METHODS["flip"], METHODS["tile"] = _dims_one_by_one(flip), _dims_one_by_one(tile)
