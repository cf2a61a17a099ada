"""Argument handling shared by the functional families: PyTorch's `_single`/`_pair` expansion and
dtype names as PyTorch's error messages spell them."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope._dtypes import cpp_type_name
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import sub
from gradscope.autograd.tensor import Tensor
from gradscope.ops import vector_ops as V


def expand(value, n: int) -> tuple:
    """An int (or a 1-sequence) repeated `n` times, a sequence of `n` kept: `_pair(3) == (3, 3)`."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return tuple(int(v) for v in value) * n
        return tuple(int(v) for v in value)
    return (int(value),) * n


# PyTorch's losses are C++ composites: a number there is a Scalar argument (AddBackward1, SubBackward1,
# MulBackward1, one edge) where Python's `t + 1.0` wraps it into a tensor (AddBackward0, a None edge)
def _promoted(t: Tensor, number) -> Tensor:
    """`t` in the dtype of `t ∘ number` (an integer tensor and a float: the default dtype), as C++'s Scalar
    overloads compute: the ops below keep their input's dtype. (An integer tensor needs no gradient: no node.)"""
    if t._data.dtype.kind in "fc":
        return t
    return t.to(_dtypes.from_numpy_dtype(_dtypes.result_type((t._data, number))))


def plus(t: Tensor, number: float) -> Tensor:
    """`t + number` as C++ records it (AddBackward1)."""
    return apply(V.add_scalar, (_promoted(t, number),), (number,))


def minus(t: Tensor, number: float) -> Tensor:
    """`t - number` as C++ records it (SubBackward1)."""
    return apply(V.sub_scalar, (_promoted(t, number),), (number,))


def times(t: Tensor, number: float) -> Tensor:
    """`t * number` as C++ records it (MulBackward1)."""
    return apply(V.mul_scalar, (_promoted(t, number),), (number,))


def number_minus(number: float, t: Tensor) -> Tensor:
    """C++'s `number - t`: `empty_like(t).fill_(number).sub_(t)` (SubBackward0 with a None edge; Python's is Rsub),
    in t's dtype whatever the number: a 0-dim float32 `t` stays float32, an integer one integer (the number cast)."""
    return sub(Tensor._make(np.asarray(number).astype(t._data.dtype)), t)


def scalar_type(t: Tensor) -> str:
    """'Float' for float32, as in "expected scalar type Float"."""
    return t.dtype.legacy_name[: -len("Tensor")]


def type_name(t: Tensor) -> str:
    """'float' for float32, as in "Input type (float) and bias type (double)"."""
    return cpp_type_name(t._data.dtype)


def size_list(t: Tensor) -> str:
    return str(list(t.shape))
