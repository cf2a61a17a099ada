"""`out=`: a torch.* function's result written into a tensor the caller gives, as PyTorch does it."""

from __future__ import annotations

import warnings

import numpy as np

from gradscope import _dtypes
from gradscope.autograd import errors, observers
from gradscope.autograd.grad_mode import grad_enabled, inference_enabled
from gradscope.autograd.inplace import _write
from gradscope.autograd.numpy_names import past_wrappers
from gradscope.autograd.return_types import ReturnType
from gradscope.autograd.tensor import Tensor

_RESIZED = ("An output with one or more elements was resized since it had shape {0}, which does not match the "
            "required output shape {1}. This behavior is deprecated, and in a future PyTorch release outputs will not "
            "be resized unless they have zero elements. You can explicitly reuse an out tensor t by resizing it, "
            "inplace, to zero elements with t.resize_(0).")


def write_out(name: str, result, out, stacklevel: int = 3):
    """`result` itself without `out`; else `result` copied into `out` (a tensor, or a tuple of them for a
    function of several results), resized if its shape differs, cast to its dtype when that is allowed.
    `stacklevel`: the frame the resize warning names, counted from here as warnings.warn counts (3: the caller's
    caller), before numpy_names' wrappers among them are stepped past (2 from such a wrapper)."""
    if out is None:
        return result
    results, outs = (tuple(result), tuple(out)) if isinstance(result, tuple) else ((result,), (out,))
    if grad_enabled.get() and any(t.requires_grad for t in results + outs):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if observers.dual_level is not None and any(observers.dual_level.tangent_of(t) is not None
                                                for t in results + outs if isinstance(t, Tensor)):
        raise NotImplementedError(f"Trying to use forward AD with {name}_out that does not support it because it "
                                  "is an out= function")
    if not inference_enabled.get() and any(target._is_inference for target in outs):
        raise RuntimeError(errors.INFERENCE_INPLACE)
    for value, target in zip(results, outs, strict=True):
        _copy_into(value, target, stacklevel + 1)
    if isinstance(result, ReturnType):  # torch.sort(x, out=(v, i)) is a torch.return_types.sort_out of the outs
        return ReturnType(f"{result._name}_out", *outs)
    return out if isinstance(result, tuple) else outs[0]


def write_made(name: str, resized, result: Tensor, out: Tensor) -> Tensor:
    """A factory's `result` (made in out's dtype unless the call named another) written into `out`, which is
    resized silently to its shape, or after `resized(out, result)` warns. As PyTorch's factories: a dtype other
    than out's is refused, and requires_grad=True is set on `out` once written."""
    if result._data.dtype != out._data.dtype:
        raise RuntimeError(f"dtype {_dtypes.from_numpy_dtype(result._data.dtype).legacy_name[:-6]} does not match "
                           f"dtype of out parameter ({_dtypes.from_numpy_dtype(out._data.dtype).legacy_name[:-6]})")
    if out._data.shape != result._data.shape:
        if resized is not None and out._data.size:
            resized(out, result)
        out.resize_(0)  # a factory resizes its out without the deprecation warning other ops give
    if result.requires_grad:
        return write_out(name, result.detach(), out).requires_grad_()
    return write_out(name, result, out)


def _copy_into(value: Tensor, target: Tensor, stacklevel: int = 4) -> None:
    data = value._data
    if target._data.shape != data.shape:
        if target._data.size:
            warnings.warn(_RESIZED.format(list(target._data.shape), list(data.shape)), UserWarning,
                          stacklevel=past_wrappers(stacklevel))
        target._data = np.empty(data.shape, dtype=target._data.dtype)
    _write(target, data)
