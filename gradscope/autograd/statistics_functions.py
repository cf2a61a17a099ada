"""torch.* order statistics and counts: kthvalue, mode, nanmedian, quantile, nanquantile, aminmax, count_nonzero,
cov, corrcoef, histc, bincount, bucketize, isin, unique_consecutive, argwhere.

quantile, cov and corrcoef are composites, built from the same ops as PyTorch's (so their graphs have its nodes).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import int_argument, normalize_dim, normalize_dims
from gradscope.autograd import complex_functions, products, reductions, shape_functions
from gradscope.autograd import functions as F
from gradscope.autograd.dispatch import apply
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.pointwise import lerp_
from gradscope.autograd.rearrange import diagonal
from gradscope.autograd.refusals import refuse_kinds
from gradscope.autograd.return_types import Histogram, MinMax, ReturnType
from gradscope.autograd.sorting_functions import searchsorted, sort
from gradscope.autograd.tensor import Tensor
from gradscope.autograd.view_inplace import squeeze_, transpose_, unsqueeze_
from gradscope.ops import order_statistics as O
from gradscope.ops.registry import Primitive
from gradscope.ops.sorting import _refuse


def _dim(input, dim) -> int:
    return normalize_dim(dim, input._data.ndim)


def _type_name(data: np.ndarray) -> str:
    """'Float', 'Long' …: how PyTorch names a dtype in its messages."""
    return _dtypes.from_numpy_dtype(data.dtype).legacy_name[:-6]


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest element along `dim` and its index (KthvalueBackward0); nans count as the largest."""
    if type(k) is not int or type(dim) is not int:
        k, dim = int_argument(k, "kthvalue", "k", 2), int_argument(dim, "kthvalue", "dim", 3)
    d = _dim(input, dim)
    size = input._data.shape[d] if input._data.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    refuse_kinds(input, "bc", "kthvalue_cpu")
    values, indices = apply(O.kthvalue, (input,), (d, keepdim, k))
    return write_out("kthvalue", ReturnType("kthvalue", values, indices), out)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along `dim` (the smallest of equally frequent ones) and an index where it
    occurs (ModeBackward0)."""
    d = _dim(input, dim)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    refuse_kinds(input, "c", "mode_cpu")
    values, indices = apply(O.mode, (input,), (d, keepdim))
    return write_out("mode", ReturnType("mode", values, indices), out)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """median ignoring nans: of all elements (NanmedianBackward0) or along `dim` with the index
    (NanmedianBackward1); nan only where every value is."""
    refuse_kinds(input, "bc", "median_cpu" if dim is None else "median_out")
    if dim is None:
        return write_out("nanmedian", apply(O.nanmedian, (input,)), out)
    values, indices = apply(O.nanmedian_dim, (input,), (_dim(input, dim), keepdim))
    return write_out("nanmedian", ReturnType("nanmedian", values, indices), out)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles along `dim` (of all elements without one), interpolated between the two nearest
    ranks; a nan in a slice makes its quantiles nan. PyTorch's composite: sort, gather, lerp_, squeeze_."""
    return write_out("quantile", _quantile(input, q, dim, keepdim, interpolation, False), out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile of the values that are not nan (nan only where all are)."""
    return write_out("nanquantile", _quantile(input, q, dim, keepdim, interpolation, True), out)


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    name = "quantile"  # in nanquantile's errors too, as in PyTorch
    data = input._data
    scalar_q = not isinstance(q, Tensor)
    if scalar_q and not 0 <= q <= 1:
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
    q_data = np.asarray(q, dtype=data.dtype) if scalar_q else q._data
    if data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if q_data.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if q_data.dtype != data.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    if not scalar_q and ((q_data < 0) | (q_data > 1)).any():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    if dim is None:
        sorted_values = sort(shape_functions.flatten(input))[0]
        out_shape = (1,) * data.ndim if keepdim else ()
    else:
        d = _dim(input, dim)
        moved = input if d == data.ndim - 1 else shape_functions.transpose(shape_functions.unsqueeze(input, -1), d, -1)
        sorted_values = sort(moved)[0]
        out_shape = tuple(1 if i == d else n for i, n in enumerate(data.shape)) if keepdim else (
            data.shape[:d] + data.shape[d + 1:])
    sorted_values = shape_functions.view(sorted_values, out_shape + (sorted_values._data.shape[-1],))
    ranks = _quantile_ranks(sorted_values._data, q_data.reshape(-1), ignore_nan)
    if interpolation in ("lower", "higher", "nearest"):
        ranks = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}[interpolation](ranks)
    below = ranks.astype(np.int64)
    values = shape_functions.gather(sorted_values, -1, Tensor._make(below))
    if interpolation in ("linear", "midpoint"):
        weights = np.full_like(ranks, 0.5) if interpolation == "midpoint" else (ranks - below).astype(ranks.dtype)
        above = shape_functions.gather(sorted_values, -1, Tensor._make(np.ceil(ranks).astype(np.int64)))
        values = lerp_(values, above, Tensor._make(weights))
    if q_data.ndim == 0:
        return squeeze_(values, -1)
    return squeeze_(transpose_(unsqueeze_(values, 0), 0, -1), -1)


def _quantile_ranks(sorted_data: np.ndarray, q: np.ndarray, ignore_nan: bool) -> np.ndarray:
    """Where each quantile falls among each slice's sorted values (shape (..., len(q))): a nan in a slice
    moves it to the last (nan) value; nanquantile counts only the values that are not nan."""
    nans = np.isnan(sorted_data)
    if ignore_nan:
        return np.maximum(q * (np.sum(~nans, axis=-1, keepdims=True) - 1), 0).astype(sorted_data.dtype)
    last = sorted_data.shape[-1] - 1
    ranks = np.broadcast_to(q * last, nans.shape[:-1] + q.shape).astype(sorted_data.dtype)
    return np.where(nans.any(axis=-1, keepdims=True), sorted_data.dtype.type(last), ranks)


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) of all elements or along `dim`, in one op (AminmaxBackward0); equal extremes share the
    gradient."""
    data = input._data
    d = None if dim is None else _dim(input, dim)
    if data.size == 0 and (d is None or data.shape[d] == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    refuse_kinds(input, "c", "aminmax_cpu")
    low, high = apply(O.aminmax, (input,), (d if data.ndim else None, keepdim))
    return write_out("aminmax", MinMax(low, high), out)


def count_nonzero(input, dim=None):
    """How many elements are not zero, in all or along `dim` (an int or a tuple), as int64."""
    dims = None if dim is None else normalize_dims(dim, input._data.ndim)
    return Tensor._make(np.asarray(np.count_nonzero(input._data, axis=dims), dtype=np.int64))


def argwhere(input):
    """The indices of the non-zero elements, one row each (as nonzero)."""
    return Tensor._make(np.argwhere(input._data).astype(np.int64, copy=False))


# ------------------------------------------------------------------------------- cov, corrcoef
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of `input` (observations in the columns),
    optionally weighted by integer frequencies and observation weights."""
    data = input._data
    if data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {data.ndim} "
                           "dimensions")
    if data.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    observations = shape_functions.view(input, (1, -1)) if data.ndim < 2 else input
    n = observations._data.shape[1]
    weights = None
    if fweights is not None:
        _check_weights(fweights, n, "fweights")
        weights = fweights
    if aweights is not None:
        _check_weights(aweights, n, "aweights")
        weights = aweights if weights is None else F.mul(weights, aweights)
    total = Tensor._make(np.asarray(n, dtype=np.int64)) if weights is None else reductions.sum(weights)
    if weights is not None and not total._data:
        raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    weighted = observations if weights is None else F.mul(observations, weights)
    average = F.div(reductions.sum(weighted, 1), total)
    if weights is not None and correction != 0 and aweights is not None:
        norm_factor = F.sub(total, F.div(F.mul(reductions.sum(F.mul(weights, aweights)), correction), total))
    else:
        norm_factor = F.sub(total, correction)
    if norm_factor._data <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm_factor = F.mul(norm_factor, 0)
    centred = F.sub(observations, shape_functions.unsqueeze(average, 1))
    weighted = centred if weights is None else F.mul(centred, weights)
    product = products.mm(centred, complex_functions.conj(shape_functions.t(weighted)))  # conj: Hermitian
    return shape_functions.squeeze(F.div(product, norm_factor))


def _check_weights(weights, n: int, name: str) -> None:
    data = weights._data
    if data.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with {data.ndim} "
                           "dimensions")
    if name == "fweights" and data.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with {_type_name(data)} "
                           "dtype")
    if name == "aweights" and data.dtype.kind != "f":
        raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                           f"{_type_name(data)} dtype")
    if data.size != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {data.size} != {n}")
    if (data < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative")


def corrcoef(input):
    """The Pearson correlation coefficients of the variables in the rows of `input`, clipped to [-1, 1]."""
    if input._data.ndim > 2:
        raise RuntimeError("corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input._data.ndim} dimensions")
    c = cov(input)
    if c._data.ndim == 0:
        return F.div(c, c)  # nan where c is 0, nan or inf; 1 elsewhere
    spread = F.sqrt(diagonal(c))
    c = F.div(c, shape_functions.view(spread, (-1, 1)))
    c = F.div(c, shape_functions.view(spread, (1, -1)))
    return F.clamp(c, -1, 1)


# ------------------------------------------------------------------------------- counting and searching
def histc(input, bins=100, min=0, max=0, *, out=None):  # noqa: A002 - PyTorch's parameter names
    """A histogram of `bins` equal bins between min and max (the data's range when both are 0); values
    outside are ignored. No gradient."""
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for \'{_type_name(data)}\'')
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{_c_float(low)}, {_c_float(high)}] is not finite")
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    kept = data[(data >= low) & (data <= high)]
    low, high = data.dtype.type(low), data.dtype.type(high)
    # NOTE: the bin as PyTorch computes it, (x - min) * bins / (max - min) in the input's dtype, the top edge in
    # the last bin
    position = np.minimum(((kept - low) * bins / (high - low)).astype(np.int64), bins - 1)
    result = Tensor._make(np.bincount(position, minlength=bins).astype(data.dtype))
    return write_out("histc", result, out)


def _c_float(value: float) -> str:
    """A float as C++ streams print it (PyTorch's message shows a nan range as -nan)."""
    return "-nan" if math.isnan(value) else f"{value:g}"


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):  # noqa: A002
    """(hist, bin_edges): how many elements (or how much `weight`) fall in each of `bins` equal bins over `range`
    (the data's by default), or between the given edges; each bin holds its left edge, the last its right too."""
    refuse_kinds(input, "biuc", "histogramdd")
    data = input._data
    if isinstance(bins, Tensor):
        edges = bins._data.astype(data.dtype, copy=False)
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        low, high = (float(data.min()), float(data.max())) if range is None and data.size else (
            (0.0, 0.0) if range is None else (float(range[0]), float(range[1])))
        if low > high:
            raise RuntimeError(f"torch.histogram(): min should not exceed max, but got min {_c_float(low)} max "
                               f"{_c_float(high)} for dimension 0")
        if low == high:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1).astype(data.dtype)
    flat = data.reshape(-1)
    inside = (flat >= edges[0]) & (flat <= edges[-1])
    position = np.minimum(np.searchsorted(edges, flat[inside], side="right") - 1, edges.size - 2)
    weights = None if weight is None else weight._data.reshape(-1)[inside]
    hist = np.bincount(position, weights, minlength=edges.size - 1).astype(data.dtype)
    if density:
        hist = (hist / (hist.sum() * np.diff(edges))).astype(data.dtype)
    result = Histogram(Tensor._make(hist), Tensor._make(edges))
    return write_out("histogram", result, out)


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero's rows, exactly `size` of them: cut, or padded with `fill_value`."""
    found = np.argwhere(input._data).astype(np.int64, copy=False)[:size]
    padding = np.full((size - found.shape[0], input._data.ndim), fill_value, dtype=np.int64)
    return Tensor._make(np.concatenate([found, padding]))


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs in the 1-D `input` (or the sum of its `weights`)."""
    data = input._data
    if data.dtype.kind not in "iu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{_type_name(data)}\'')
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return Tensor._make(np.bincount(data, minlength=minlength).astype(np.int64))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    return Tensor._make(np.bincount(data, w, minlength=minlength).astype(dtype))


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value of `input` among the sorted 1-D `boundaries` (searchsorted with the roles
    swapped)."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    values = input if isinstance(input, Tensor) else Tensor._make(np.asarray(input))
    return write_out("bucketize", searchsorted(boundaries, values, out_int32=out_int32, right=right), out)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of `elements` occurs in `test_elements` (either may be a number)."""
    a = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._make(np.asarray(np.isin(a, b, invert=invert)))


def _unique_consecutive(a, dim):
    """The first of each run of equal elements (or equal slices along `dim`), where each element went, and
    each run's length."""
    if dim is None:
        flat = a.reshape(-1)
        starts = np.ones(flat.shape, dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        values, shape = flat[starts], a.shape
    else:
        moved = np.moveaxis(a, dim, 0).reshape(a.shape[dim], -1)
        starts = np.ones(moved.shape[0], dtype=bool)
        starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        values, shape = np.compress(starts, a, axis=dim), (a.shape[dim],)
    inverse = (np.cumsum(starts) - 1).reshape(shape).astype(np.int64)
    counts = np.diff(np.append(np.flatnonzero(starts), starts.size)).astype(np.int64)
    return values, inverse, counts


# NOTE: outside the op table on purpose: PyTorch records this node only to refuse a backward through it
_UNIQUE_CONSECUTIVE = Primitive("unique_consecutive", _unique_consecutive, "UniqueConsecutiveBackward0",
                                inputs=("self",), params=("dim",), outputs=3, differentiable_outputs=(0,),
                                vjp=(_refuse("unique_consecutive"),))


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive elements (or slices along `dim`) once; optionally where each element
    went and how long each run is. Not differentiable: a backward through it raises, as in PyTorch."""
    refuse_kinds(input, "c", "unique" if dim is None else "unique_dim")
    d = None if dim is None else _dim(input, dim)
    values, inverse, counts = apply(_UNIQUE_CONSECUTIVE, (input,), (d,))
    out = (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out[0] if len(out) == 1 else out


FUNCTIONS = ("kthvalue", "mode", "nanmedian", "quantile", "nanquantile", "aminmax", "count_nonzero", "argwhere", "cov",
             "corrcoef", "histc", "histogram", "nonzero_static", "bincount", "bucketize", "isin", "unique_consecutive")
METHODS = {name: globals()[name] for name in FUNCTIONS if name not in ("bucketize", "isin")}
