"""Reductions: sum, mean, max/min, norms, var/std, prod, logsumexp (torch.* and Tensor methods)."""

from __future__ import annotations

import operator

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import int_argument, normalize_dim, normalize_dims
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import _float_input, maximum, minimum, to_dtype
from gradscope.autograd.refusals import refuse_kinds
from gradscope.autograd.return_types import ReturnType
from gradscope.autograd.shape_functions import reshape
from gradscope.autograd.tensor import Tensor
from gradscope.ops import reduction as R

_dim = normalize_dim


def _dims_arg(input, dim):
    return normalize_dims(dim, input._data.ndim)


def _integers_widened(input, dtype):
    """The input of an integer sum or product in `dtype`, else int64 (PyTorch's accumulation for integers and bools;
    NumPy's is uint64 for unsigned ones), and the integer dtype the result must end in, if not int64."""
    if dtype is not None:
        input = to_dtype(input, dtype)
    data = input._data
    if data.dtype.kind not in "biu":
        return input, None
    return Tensor._make(data.astype(np.int64)) if data.dtype != np.int64 else input, (
        None if data.dtype == np.int64 or dtype is None else data.dtype)


def _in(result, dtype):
    return result if dtype is None else Tensor._make(result._data.astype(dtype))


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    if dtype is not None or input._data.dtype.kind in "biu":
        input, dtype = _integers_widened(input, dtype)
    if dim is None:  # NOTE: an empty dim list sums every dim too, under SumBackward1 (its dims), as PyTorch's
        return _in(apply(R.sum_all, (input,)), dtype)
    return _in(apply(R.sum_dim, (input,), (_dims_arg(input, dim), keepdim)), dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = to_dtype(input, dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {_dtypes.from_numpy_dtype(input._data.dtype).legacy_name[:-6]}")
    if dim is None:
        return apply(R.mean_all, (input,))
    return apply(R.mean_dim, (input,), (_dims_arg(input, dim), keepdim))


def _return_types(name: str, values, indices):
    return ReturnType(name, values, indices)


def max(input, dim=None, keepdim=False):  # noqa: A001
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    _refuse_complex_extreme(input, dim, "max")
    if dim is None:
        _require_nonempty(input, "max")
        return apply(R.max_all, (input,))
    dim = _dim(dim, input._data.ndim)
    _require_nonempty_dims(input, "max", (dim,))
    values, indices = apply(R.max_dim, (input,), (dim, keepdim))
    return _return_types("max", values, indices)


def min(input, dim=None, keepdim=False):  # noqa: A001
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    _refuse_complex_extreme(input, dim, "min")
    if dim is None:
        _require_nonempty(input, "min")
        return apply(R.min_all, (input,))
    dim = _dim(dim, input._data.ndim)
    _require_nonempty_dims(input, "min", (dim,))
    values, indices = apply(R.min_dim, (input,), (dim, keepdim))
    return _return_types("min", values, indices)


def _refuse_complex_extreme(input, dim, name):
    """PyTorch orders no complex numbers: max/min of all elements and along a dim refuse them in different words
    (after the errors for an empty input)."""
    if input._data.dtype.kind == "c" and input._data.size:
        if dim is None:
            refuse_kinds(input, "c", f"{name}_all")
        raise RuntimeError(f"{name}(): does not support complex input")


def _require_nonempty(input, name):
    if input._data.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")


def _require_nonempty_dims(input, name, dims) -> None:
    """PyTorch's error for an extreme along an empty dim (NumPy raises a ValueError of its own); along a non-empty
    dim of an empty tensor the result is empty."""
    data = input._data
    if data.size == 0:
        for d in dims:
            if data.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _extreme_values(op, name, input, dim, keepdim):
    if dim is None or dim == () or dim == []:  # every dim
        _require_nonempty(input, name)
    dims = _dims_arg(input, dim)
    _require_nonempty_dims(input, name, dims)
    return apply(op, (input,), (dims, keepdim))


def amax(input, dim=(), keepdim=False):
    refuse_kinds(input, "c", "max_values_cpu")
    return _extreme_values(R.amax, "amax", input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    refuse_kinds(input, "c", "min_values_cpu")
    return _extreme_values(R.amin, "amin", input, dim, keepdim)


def _refuse_unordered(input, name):
    """argmax/argmin: PyTorch's kernels order neither complex numbers nor bools."""
    kind = input._data.dtype.kind
    if kind == "c" or kind == "b":
        raise RuntimeError(f"{name}(): does not support {'complex' if kind == 'c' else 'bool'} input")


def _index_of_extreme(pick, name, input, dim, keepdim):
    """argmax/argmin: PyTorch's errors for bools, complex numbers and empty dims, then NumPy's pick."""
    _refuse_unordered(input, name)
    data = input._data
    if dim is None:
        if data.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        index = np.asarray(pick(data), dtype=np.int64)  # into the flattened input; keepdim keeps every dim, as 1
        return Tensor._make(index.reshape((1,) * data.ndim) if keepdim else index)
    dim = _dim(int_argument(dim, name, "dim", 2) if type(dim) is not int else dim, data.ndim)
    _require_nonempty_dims(input, name, (dim,))
    return Tensor._make(pick(data, axis=dim, keepdims=keepdim))


def argmax(input, dim=None, keepdim=False):
    return _index_of_extreme(np.argmax, "argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _index_of_extreme(np.argmin, "argmin", input, dim, keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dtypes.from_numpy_dtype(input._data.dtype).legacy_name[:-6]}")
    order = 2 if p in ("fro", None) else p
    return linalg_vector_norm(input, order, dim, keepdim)


def linalg_vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    return apply(R.vector_norm, (x,), (float(ord), _dims_arg(x, dim), keepdim), _float_input(x))


def logsumexp(input, dim, keepdim=False):
    return apply(R.logsumexp, (input,), (_dims_arg(input, dim), keepdim), _float_input(input))


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def _check_spread(input, name: str = "std and var") -> None:
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name} only support floating point and complex dtypes")


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    _check_spread(input)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return apply(R.var, (input,), (_dims_arg(input, dim), _correction(unbiased, correction), keepdim))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    _check_spread(input)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return apply(R.std, (input,), (_dims_arg(input, dim), _correction(unbiased, correction), keepdim))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    input, dtype = _integers_widened(input, dtype)
    if dim is None:
        return _in(apply(R.prod_all, (input,)), dtype)
    return _in(apply(R.prod_dim, (input,), (_dim(dim, input._data.ndim), keepdim)), dtype)


def all(input, dim=None, keepdim=False):  # noqa: A001
    return _logical(np.all(input._data, axis=_logical_axes(input, dim), keepdims=keepdim), input._data.dtype)


def any(input, dim=None, keepdim=False):  # noqa: A001
    return _logical(np.any(input._data, axis=_logical_axes(input, dim), keepdims=keepdim), input._data.dtype)


def _logical_axes(input, dim) -> tuple | None:
    """all/any's dims for NumPy: None (every dim), an int or a sequence of ints, wrapped. An empty sequence reduces
    nothing (PyTorch's all/any, unlike its sum); a 0-dim input's dim 0 or -1 is no axis."""
    if dim is None:
        return None
    ndim = input._data.ndim
    axes = tuple(normalize_dim(operator.index(d), ndim) for d in ((dim,) if isinstance(dim, (int, np.integer))
                                                                  else dim))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
    return axes if ndim else ()


def _logical(result, dtype: np.dtype) -> Tensor:
    # NOTE: PyTorch's all/any of uint8 give uint8 (a legacy of masks before bool tensors); bool otherwise
    return Tensor._make(np.asarray(result, dtype=np.uint8 if dtype == np.uint8 else bool))


def sum_to_size(input, *size):
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    if input._data.shape == shape:
        return input
    lead = input._data.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and input._data.shape[i + lead] != 1)
    out = sum(input, dims, keepdim=True)
    return reshape(out, shape) if lead else out
