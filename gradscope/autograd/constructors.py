"""Tensor.new_* constructors (a new tensor with this one's dtype), the legacy torch.autograd.Variable, and
the default device (the CPU, the only one gradscope has)."""

from __future__ import annotations

import warnings

import numpy as np

from gradscope import _dtypes
from gradscope.autograd import factories
from gradscope.autograd.functions import _to_array
from gradscope.autograd.shape_functions import _size_arg
from gradscope.autograd.tensor import Tensor, check_device, device


def _dtype_of(self: Tensor, dtype) -> np.dtype:
    return _dtypes.to_numpy_dtype(dtype) if dtype is not None else self._data.dtype


def _made(data: np.ndarray, requires_grad: bool) -> Tensor:
    return factories._finish(data, requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False) -> Tensor:
    """A tensor of `size` filled with `fill_value`, with this tensor's dtype unless `dtype` is given."""
    check_device(device)
    target = _dtype_of(self, dtype)
    fill_value = _dtypes.checked_scalar(fill_value, target)
    return _made(np.full(_size_arg((size,), "new_full"), fill_value, dtype=target), requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    return new_full(self, _size_arg(size, "new_zeros"), 0, dtype=dtype, device=device, requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    return new_full(self, _size_arg(size, "new_ones"), 1, dtype=dtype, device=device, requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    """Uninitialised in PyTorch; zeros here, one valid "uninitialised" content."""
    return new_full(self, _size_arg(size, "new_empty"), 0, dtype=dtype, device=device, requires_grad=requires_grad)


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                      pin_memory=False) -> Tensor:
    return new_full(self, _size_arg((size,), "new_empty_strided"), 0, dtype=dtype, device=device,
                    requires_grad=requires_grad)


_COPY_CONSTRUCT = ("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                   "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor(sourceTensor).")


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    """A copy of `data` with this tensor's dtype unless `dtype` is given (a leaf, outside any graph)."""
    check_device(device)
    if isinstance(data, Tensor):
        warnings.warn(_COPY_CONSTRUCT, UserWarning, stacklevel=2)
    if isinstance(data, (list, tuple, int, float, bool)):  # Python numbers, checked against the dtype's range
        return factories.tensor(data, dtype=_dtypes.from_numpy_dtype(_dtype_of(self, dtype)),
                                requires_grad=requires_grad)
    return _made(np.array(_to_array(data), dtype=_dtype_of(self, dtype)), requires_grad)


class _VariableMeta(type):
    """Every tensor is a Variable, as in PyTorch, where the two were merged."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable, the legacy wrapper: `Variable(t, requires_grad=True)` is a new leaf
    sharing t's data (t.detach() that requires grad); `Variable()` is an empty tensor."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if data is None:
            return factories.tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_()
        return out


def set_default_device(target) -> None:
    """Only the CPU exists: "cpu" (or None) is accepted, any other device raises DeviceError."""
    check_device(target)


def get_default_device() -> device:
    return device("cpu")


FUNCTIONS = ("set_default_device", "get_default_device")
METHODS = {name: globals()[name] for name in ("new_full", "new_zeros", "new_ones", "new_empty", "new_empty_strided",
                                              "new_tensor")}
