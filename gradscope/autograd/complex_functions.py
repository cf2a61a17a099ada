"""torch.conj, real, imag, view_as_real, view_as_complex, complex, polar: complex numbers and their parts.

`z.real` and `z.imag` are views of z's memory, as PyTorch's: view_as_real(z) selected at its last dim (so their
nodes are PyTorch's, SelectBackward0 over ViewAsRealBackward0). PyTorch's `conj` is a lazy view with a conjugate
bit; here it conjugates at once (ConjBackward0 all the same), so `is_conj()` is False and writes to it don't reach z.
"""

from __future__ import annotations

import numpy as np

from gradscope.autograd.dispatch import apply
from gradscope.autograd.pointwise import _type_name
from gradscope.autograd.rearrange import select
from gradscope.autograd.tensor import Tensor
from gradscope.ops import complex_ops as C


def _is_complex(input: Tensor) -> bool:
    return input._data.dtype.kind == "c"


def conj(input: Tensor) -> Tensor:
    """The complex conjugate; a real tensor is its own (the tensor itself, as in PyTorch)."""
    return apply(C.conj, (input,)) if _is_complex(input) else input


def conj_physical(input: Tensor) -> Tensor:
    return apply(C.conj_physical, (input,)) if _is_complex(input) else input


def resolve_conj(input: Tensor) -> Tensor:
    return input


resolve_neg = resolve_conj


def is_conj(input: Tensor) -> bool:
    return False


is_neg = is_conj


def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor's memory seen as pairs of reals: a trailing dim of 2 (real part, imaginary part)."""
    if not _is_complex(input):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return apply(C.view_as_real, (input,))


def view_as_complex(input: Tensor) -> Tensor:
    """Pairs of reals (a trailing dim of 2, contiguous) seen as complex numbers: the inverse of view_as_real."""
    data = input._data
    if data.dtype not in (np.float16, np.float32, np.float64):
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, but got a tensor "
                           f"of scalar type: {_type_name(data.dtype)}")
    if data.dtype == np.float16:
        raise NotImplementedError("gradscope has no complex32 (chalf) dtype")
    if data.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if data.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if data.strides[-1] != data.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(stride % (2 * data.itemsize) for stride in data.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return apply(C.view_as_complex, (input,))


def real(input: Tensor) -> Tensor:
    """The real part, a view of a complex tensor's memory; a real tensor is its own."""
    return select(view_as_real(input), -1, 0) if _is_complex(input) else input


def imag(input: Tensor) -> Tensor:
    """The imaginary part, a view of a complex tensor's memory."""
    if not _is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return select(view_as_real(input), -1, 1)


def _parts(real_part: Tensor, imag_part: Tensor) -> None:
    kinds = (real_part._data.dtype, imag_part._data.dtype)
    if any(dtype not in (np.float32, np.float64) for dtype in kinds):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got {_type_name(kinds[0])} "
                           f"and {_type_name(kinds[1])}")
    if kinds[0] != kinds[1]:
        raise RuntimeError(f"Expected object of scalar type {_type_name(kinds[0])} but got scalar type "
                           f"{_type_name(kinds[1])} for second argument")


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001 - torch.complex
    """real + i·imag (both float32, or both float64), broadcast."""
    _parts(real, imag)
    return apply(C.complex_, (real, imag))


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002 - torch.polar's names
    """abs · (cos(angle) + i·sin(angle))."""
    _parts(abs, angle)
    return apply(C.polar, (abs, angle))
