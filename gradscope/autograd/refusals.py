"""PyTorch's refusals where its CPU kernels have no loop for a dtype and NumPy would compute an answer: order-based
ops on complex numbers (NumPy orders them lexicographically), argmax/median/relu on bools, distances in float16.
Checked in the general paths only: the one-frame fast paths serve float32 and float64 alone."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes


def type_name(dtype: np.dtype) -> str:
    """'Float', 'ComplexFloat', 'Bool' …: how PyTorch names a dtype in its messages."""
    return _dtypes.from_numpy_dtype(dtype).legacy_name[:-6]


def refuse_kinds(input, kinds: str, kernel: str) -> None:
    """PyTorch's `"<kernel>" not implemented for '<dtype>'` for a tensor whose dtype's kind is one of `kinds`
    ("c" complex, "b" bool, "iu" integers)."""
    dtype = input._data.dtype
    if dtype.kind in kinds:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_name(dtype)}\'')


def refuse_complex_clamp(input) -> None:
    """clamp and what PyTorch builds on it (relu, hardtanh, relu6) refuse complex tensors in these words."""
    if input._data.dtype.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")


def any_complex(*values) -> bool:
    """Whether any of the tensors among `values` is complex (numbers and None don't count)."""
    return any(getattr(value, "_data", None) is not None and value._data.dtype.kind == "c" for value in values)


def argument_type_error(function: str, argument: str, expected: str, value, position: int | None) -> TypeError:
    """PyTorch's argument parser's error for an argument of the wrong type: 'requires_grad_(): argument
    'requires_grad' (position 1) must be bool, not int' (no position for one given by keyword)."""
    kind = type(value)
    name = kind.__name__ if kind.__module__ in ("builtins", "gradscope.autograd.tensor") else (
        f"{kind.__module__}.{kind.__qualname__}")
    where = "" if position is None else f" (position {position})"
    return TypeError(f"{function}(): argument '{argument}'{where} must be {expected}, not {name}")
