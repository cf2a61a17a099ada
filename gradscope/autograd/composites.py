"""torch.* functions PyTorch composes from other ops, built here from the same ops (so their graphs have
PyTorch's nodes): tensor_split, hsplit, vsplit, dsplit, split_with_sizes, unflatten, ravel, reshape_as,
diagflat, combinations, vander, trapezoid, trapz, cumulative_trapezoid, inner; the index makers tril_indices,
triu_indices, unravel_index; logspace and the deprecated range; and block_diag, vdot, renorm (one node each)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import normalize_dim
from gradscope.autograd import functions as F
from gradscope.autograd import inplace
from gradscope.autograd.dispatch import apply
from gradscope.autograd.factories import _finish
from gradscope.autograd.indexing_functions import masked_select
from gradscope.autograd.numpy_names import past_wrappers
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.product_functions import meshgrid, tensordot
from gradscope.autograd.rearrange import diag_embed, flip, select
from gradscope.autograd.reductions import sum as sum_
from gradscope.autograd.scans import cumprod, cumsum
from gradscope.autograd.shape_functions import basic_index, contiguous, reshape, split, stack, unsqueeze, view
from gradscope.autograd.tensor import Tensor
from gradscope.ops import losses as L
from gradscope.ops import placement as P
from gradscope.ops import ranges
from gradscope.ops import shape as S
from gradscope.ops import vector_ops as V


def _type_name(data: np.ndarray) -> str:
    return _dtypes.from_numpy_dtype(data.dtype).legacy_name[:-6]


# ------------------------------------------------------------------------------- splitting
def tensor_split(input, indices_or_sections, dim=0):
    """Views of `input` split along `dim`: into n nearly equal parts (the first size % n one longer), or at
    the given indices (each piece a SliceBackward0 view, as in PyTorch)."""
    data = input._data
    if data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = normalize_dim(dim, data.ndim)
    size = data.shape[d]
    if isinstance(indices_or_sections, Tensor):
        given = indices_or_sections._data
        if given.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{_type_name(given)}")
        if given.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {given.ndim} dims")
        indices_or_sections = int(given) if given.ndim == 0 else given.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        lengths = [size // sections + (i < size % sections) for i in range(sections)]
        bounds = list(itertools.accumulate(lengths))[:-1]
    else:
        bounds = [int(i) for i in indices_or_sections]
    pieces, start = [], 0
    for end in bounds + [size]:
        begin, stop, _ = slice(start, end).indices(size)
        pieces.append(apply(S.slice_, (input,), (d, begin, max(begin, stop), 1)))
        start = end
    return tuple(pieces)


def _split_along(name: str, input, indices_or_sections, dim: int, least: int):
    ndim = input._data.ndim
    if ndim < least:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {least} dimension, but got a tensor with "
                           f"{ndim} dimensions!")
    if isinstance(indices_or_sections, (int, np.integer)):
        size = input._data.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 of a vector); a number of sections must divide the size."""
    return _split_along("hsplit", input, indices_or_sections, 1 if input._data.ndim > 1 else 0, 1)


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor of two dims or more."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of a tensor of three dims or more."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input, split_sizes, dim=0):
    """Views of the given sizes along `dim` (SplitWithSizesBackward0)."""
    return split(input, list(split_sizes), dim)


def unflatten(input, dim, sizes):
    """`dim` viewed as several dims of the given sizes (one may be -1)."""
    sizes = tuple(int(n) for n in sizes)
    shape = input._data.shape
    d = normalize_dim(dim, len(shape))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(n for n in sizes if n != -1)
    size = shape[d] if shape else 1
    if (-1 in sizes and (known == 0 or size % known)) or (-1 not in sizes and known != size):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({size}) in the input tensor")
    sizes = tuple(size // known if n == -1 else n for n in sizes)
    return view(input, shape[:d] + sizes + shape[d + 1:])


def ravel(input):
    """The elements as a 1-D tensor: a view when they are contiguous, else a copy first."""
    return view(contiguous(input), (-1,))


def reshape_as(input, other):
    return reshape(input, other._data.shape)


# ------------------------------------------------------------------------------- building matrices
def diagflat(input, offset=0):
    """The flattened input on the `offset` diagonal of a square matrix."""
    return diag_embed(view(contiguous(input), (-1,)), offset)


def block_diag(*tensors):
    """The tensors (at most 2-D each) as blocks along the diagonal of one matrix (BlockDiagBackward0)."""
    shapes = []
    for i, t in enumerate(tensors):
        ndim = t._data.ndim
        if ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {ndim} "
                               "dimensions")
        shapes.append(t._data.shape if ndim == 2 else (1, t._data.size) if ndim == 1 else (1, 1))
    if not tensors:
        return Tensor._make(np.zeros((1, 0), dtype=_dtypes.get_default_dtype().numpy))
    common = _dtypes.result_type([t._data for t in tensors])
    arrays = [t._data.astype(common, copy=False) for t in tensors]
    return apply(P.block_diag, tensors, (tuple(shapes), tuple(t._data.shape for t in tensors)), arrays)


def combinations(input, r=2, with_replacement=False):
    """Every combination of r elements of the 1-D input, one per row (PyTorch's meshgrid and masked_select)."""
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(np.empty((0,), dtype=input._data.dtype))
    n = input._data.size
    grids = np.indices((n,) * r)
    order = np.less_equal if with_replacement else np.less
    mask = np.logical_and.reduce([order(grids[i], grids[i + 1]) for i in range(r - 1)]) if r > 1 else (
        np.ones((n,), dtype=bool))
    mask_tensor = Tensor._make(mask)
    return stack([masked_select(grid, mask_tensor) for grid in meshgrid(*[input] * r, indexing="ij")], 1)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D `x`: columns x**(N-1) … x**0 (or increasing). PyTorch's composite:
    fill_(1), a copy_ and an in-place cumprod into slices, then flip; as in PyTorch, that cumprod's saved
    input is overwritten, so a backward through it raises."""
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = _dtypes.result_type([x._data, np.zeros((), dtype=np.int64)]) if x._data.dtype.kind in "biu" else (
        x._data.dtype)
    result = _finish(np.empty((x._data.shape[0], n), dtype=dtype), False)
    if n > 0:
        inplace.fill_(result, 1)
        if n > 1:
            inplace.copy_(basic_index(result, (slice(None), slice(1, None))), unsqueeze(x, 1))
            inplace.copy_(basic_index(result, (slice(None), slice(1, None))),
                          cumprod(basic_index(result, (slice(None), slice(1, None))), 1))
    return result if increasing else flip(result, (1,))


# ------------------------------------------------------------------------------- integrals and products
def _scaled(t, number):
    """`t * number` as a C++ composite records it (MulBackward1); integers give the default float dtype."""
    data = t._data
    arrays = [data.astype(_dtypes.get_default_dtype().numpy)] if data.dtype.kind in "biu" and isinstance(
        number, float) else None
    return apply(V.mul_scalar, (t,), (number,), arrays)


def _halved(t):
    """`t / 2.` (DivBackward1)."""
    if t._data.dtype.kind in "biu":
        return F.div(t, 2.0)
    return apply(L.div_scalar, (t,), (2.0,))


def _sides(y, d: int):
    """y without its last and without its first sample along `d` (SliceBackward0 views)."""
    size = y._data.shape[d]
    return apply(S.slice_, (y,), (d, 0, max(size - 1, 0), 1)), apply(S.slice_, (y,), (d, 1, max(size, 1), 1))


def _spacing(y, x, d: int):
    """The differences of the sample points `x`, shaped to broadcast against y's slices along `d`."""
    if x._data.ndim == 1:
        if x._data.shape[0] != y._data.shape[d]:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y._data.ndim
        shape[d] = x._data.shape[0]
        x = view(x, tuple(shape))
    elif x._data.ndim < y._data.ndim:
        x = view(x, (1,) * (y._data.ndim - x._data.ndim) + x._data.shape)
    left, right = _sides(x, d)
    return F.sub(right, left)


def _check_spacing(x, dx) -> None:
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: received both x and dx as arguments, but only one of them can be specified")


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of `y` along `dim` by the trapezoidal rule, with sample points `x` or spacing `dx`."""
    _check_spacing(x, dx)
    d = normalize_dim(dim, y._data.ndim)
    if y._data.shape[d] == 0:
        shape = y._data.shape[:d] + y._data.shape[d + 1:]
        return Tensor._make(np.zeros(shape, dtype=np.result_type(y._data.dtype, _dtypes.get_default_dtype().numpy)))
    if isinstance(x, Tensor):
        left, right = _sides(y, d)
        return _halved(sum_(F.mul(F.add(left, right), _spacing(y, x, d)), d))
    spacing = 1 if dx is None else dx
    ends = F.add(select(y, d, 0), select(y, d, -1))
    return _scaled(F.sub(sum_(y, d), _scaled(ends, 0.5)), spacing)


def trapz(y, x=None, *, dx=None, dim=-1):
    """trapezoid's older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running integral of `y` along `dim` by the trapezoidal rule (one fewer element along `dim`)."""
    _check_spacing(x, dx)
    d = normalize_dim(dim, y._data.ndim)
    left, right = _sides(y, d)
    if isinstance(x, Tensor):
        return _halved(cumsum(F.mul(F.add(left, right), _spacing(y, x, d)), d))
    return cumsum(_scaled(F.add(left, right), (1 if dx is None else dx) / 2.0), d)


def inner(input, other, *, out=None):
    """The dot product over the last dim of both (any leading dims), or the product when one is 0-dim."""
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        return write_out("inner", F.mul(input, other), out)
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(a.shape)} and {list(b.shape)}")
    return write_out("inner", tensordot(input, other, ([-1], [-1])), out)


def vdot(input, other, *, out=None):
    """The dot product of two 1-D tensors (VdotBackward0)."""
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_type_name(a)} and "
                           f"{_type_name(b)}")
    if a.size != b.size:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.size}] and src [{b.size}] to have the same "
                           f"number of elements, but got {a.size} and {b.size} elements respectively")
    return write_out("vdot", apply(V.vdot, (input, other)), out)


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice along `dim` whose p-norm exceeds maxnorm scaled down to norm maxnorm (RenormBackward0)."""
    if input._data.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input._data.ndim} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    return write_out("renorm", apply(V.renorm, (input,), (p, normalize_dim(dim, input._data.ndim), maxnorm)), out)


def renorm_(self, p, dim, maxnorm):
    return inplace._inplace(self, lambda t: renorm(t, p, dim, maxnorm))


def unsafe_split(input, split_size, dim=0):
    """split whose pieces are copies, not views (UnsafeSplitBackward0)."""
    return _unsafe(V.unsafe_split, input, split(input, split_size, dim), dim)


def unsafe_chunk(input, chunks, dim=0):
    size = input._data.shape[normalize_dim(dim, input._data.ndim)]
    return unsafe_split(input, max(1, -(-size // chunks)), dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    return _unsafe(V.unsafe_split_with_sizes, input, split(input, list(split_sizes), dim), dim)


def _unsafe(op, input, views, dim):
    """The pieces `views` (split's, which checked the arguments) as copies made by `op`."""
    d = normalize_dim(dim, input._data.ndim)
    return apply(op, (input,), (d, tuple(piece._data.shape[d] for piece in views)))


# ------------------------------------------------------------------------------- index makers, ranges
def _indices_of(triangle, row, col, offset, dtype) -> Tensor:
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    if np_dtype not in (np.int32, np.int64):  # PyTorch's kernels: int and long only
        name = "tril_indices" if triangle is np.tril_indices else "triu_indices"
        raise NotImplementedError(f'"{name}" not implemented for \'{dtype.legacy_name[:-6]}\'')
    return _finish(np.stack(triangle(row, offset, col)).astype(np_dtype).reshape(2, -1), False)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the lower triangle of a row x col matrix, row by row (2 x N)."""
    return _indices_of(np.tril_indices, row, col, offset, dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the upper triangle of a row x col matrix, row by row (2 x N)."""
    return _indices_of(np.triu_indices, row, col, offset, dtype)


def unravel_index(indices, shape):
    """The coordinates in a tensor of `shape` of each flat index (negative ones counted from the end)."""
    data = indices._data
    if data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {_dtypes.from_numpy_dtype(data.dtype)}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    return tuple(Tensor._make(np.asarray(data // stride % size, dtype=np.int64))
                 for size, stride in zip(shape, strides, strict=True))


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype().numpy
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    for value in (start, end):
        if type(value) is int:
            _dtypes.scalar_int(value)  # PyTorch's Scalar: OverflowError beyond 64 bits
    if np_dtype in (np.float32, np.float64):
        values = ranges.logspace_values(float(start), float(end), steps, float(base), np_dtype)
    else:
        values = np.power(float(base), np.linspace(float(start), float(end), steps))
    return _finish(values.astype(np_dtype), requires_grad)


_RANGE_DEPRECATED = ("torch.range is deprecated and will be removed in a future release because its behavior is "
                     "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                     "[start, end).")


def deprecated_range(start, end, step=1, *, dtype=None, device=None, requires_grad=False):
    """torch.range, deprecated in PyTorch: the values from start to end *inclusive*, in the default float dtype."""
    warnings.warn(_RANGE_DEPRECATED, UserWarning, stacklevel=past_wrappers(2))  # the out= wrapper is no frame
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype().numpy
    if np_dtype.kind in "cb":
        raise NotImplementedError(f'"range_cpu" not implemented for \'{dtype.legacy_name[:-6]}\'')
    count = int(math.floor((end - start) / step)) + 1
    return _finish((start + step * np.arange(max(count, 0), dtype=np.float64)).astype(np_dtype), requires_grad)


FUNCTIONS = ("tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "unflatten", "ravel", "diagflat",
             "block_diag", "combinations", "vander", "trapezoid", "trapz", "cumulative_trapezoid", "inner", "vdot",
             "renorm", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes",
             "tril_indices", "triu_indices", "unravel_index", "logspace", "deprecated_range")
METHODS = {name: globals()[name] for name in (
    "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "unflatten", "ravel", "reshape_as", "diagflat",
    "inner", "vdot", "renorm", "renorm_", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes")}
