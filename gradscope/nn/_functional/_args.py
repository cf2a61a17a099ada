"""Argument handling shared by the functional families: PyTorch's `_single`/`_pair` expansion and
dtype names as PyTorch's error messages spell them."""

from __future__ import annotations

from gradscope.autograd.tensor import Tensor


def expand(value, n: int) -> tuple:
    """An int (or a 1-sequence) repeated `n` times, a sequence of `n` kept: `_pair(3) == (3, 3)`."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return tuple(int(v) for v in value) * n
        return tuple(int(v) for v in value)
    return (int(value),) * n


def scalar_type(t: Tensor) -> str:
    """'Float' for float32, as in "expected scalar type Float"."""
    return t.dtype.legacy_name[: -len("Tensor")]


def type_name(t: Tensor) -> str:
    """'float' for float32, as in "Input type (float) and bias type (double)"."""
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(t.dtype.name, t.dtype.name)


def size_list(t: Tensor) -> str:
    return str(list(t.shape))
