"""torch.* scans along a dim (cumsum, cumprod, cummax, cummin, logcumsumexp) and diff."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import int_argument, normalize_dim
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import _copy_backwards, logical_xor, sub
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.refusals import refuse_kinds
from gradscope.autograd.return_types import ReturnType
from gradscope.autograd.shape_functions import cat
from gradscope.ops import cumulative as C
from gradscope.ops import shape as S


def _scan_dtype(input, dtype) -> np.dtype | None:
    """The dtype a sum or product scan computes in: `dtype`, else int64 for integers and bools (PyTorch's)."""
    if dtype is not None:
        return _dtypes.to_numpy_dtype(dtype)
    return np.dtype(np.int64) if input._data.dtype.kind in "biu" else None


def cumsum(input, dim, *, dtype=None, out=None):
    """Running sums along `dim` (node CumsumBackward0)."""
    if type(dim) is not int:
        dim = int_argument(dim, "cumsum", "dim", 2)
    params = (normalize_dim(dim, input._data.ndim), _scan_dtype(input, dtype))
    return write_out("cumsum", apply(C.cumsum, (input,), params), out)


def cumprod(input, dim, *, dtype=None, out=None):
    """Running products along `dim`; exact gradients where the input holds zeros (CumprodBackward0)."""
    if type(dim) is not int:
        dim = int_argument(dim, "cumprod", "dim", 2)
    params = (normalize_dim(dim, input._data.ndim), _scan_dtype(input, dtype))
    return write_out("cumprod", apply(C.cumprod, (input,), params), out)


def _running_extreme(op, name):
    def function(input, dim, *, out=None):
        refuse_kinds(input, "c", f"{name}_cpu")
        values, indices = apply(op, (input,), (normalize_dim(dim, input._data.ndim),))
        return write_out(name, ReturnType(name, values, indices), out)
    function.__name__ = name
    function.__doc__ = (f"Running {name[3:]}imum along `dim` and where it was found (ties and nans take the latest "
                        f"index); node {op.node_name}.")
    return function


cummax = _running_extreme(C.cummax, "cummax")
cummin = _running_extreme(C.cummin, "cummin")


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along `dim`, without overflow (LogcumsumexpBackward0)."""
    if input._data.dtype.kind not in "fc":
        name = _dtypes.from_numpy_dtype(input._data.dtype).legacy_name[:-6]
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{name}\'')
    return write_out("logcumsumexp", apply(C.logcumsumexp, (input,), (normalize_dim(dim, input._data.ndim),)), out)


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """The n-th forward difference along `dim`, after `prepend` and `append` are joined on (as PyTorch, a
    difference of two slices, SubBackward0; logical_xor for bools)."""
    if type(n) is not int or type(dim) is not int:
        n, dim = int_argument(n, "diff", "n", 2), int_argument(dim, "diff", "dim", 3)
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = normalize_dim(dim, ndim)
    parts = []
    for extra in (prepend, input, append):
        if extra is None:
            continue
        if extra._data.ndim != ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        parts.append(extra)
    x = cat(parts, d) if len(parts) > 1 else input
    if n == 0:
        return write_out("diff", _copy_backwards(x), out)
    subtract = logical_xor if x._data.dtype.kind == "b" else sub
    for _ in range(n):
        length = x._data.shape[d]
        upper = apply(S.slice_, (x,), (d, min(1, length), length, 1))
        lower = apply(S.slice_, (x,), (d, 0, max(length - 1, 0), 1))
        x = subtract(upper, lower)
    return write_out("diff", x, out)


def cumsum_(self, dim, *, dtype=None):
    return _inplace(self, lambda t: cumsum(t, dim, dtype=dtype))


def cumprod_(self, dim, *, dtype=None):
    return _inplace(self, lambda t: cumprod(t, dim, dtype=dtype))


FUNCTIONS = ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff")
METHODS = {name: globals()[name] for name in FUNCTIONS + ("cumsum_", "cumprod_")}
