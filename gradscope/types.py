"""torch.types: the type aliases annotations in model code import (`Number`, `_size`, `Device`)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from gradscope._dtypes import dtype as _dtype  # noqa: F401 - torch.types._dtype
from gradscope.autograd.tensor import Size, Tensor
from gradscope.autograd.tensor import device as _device

_int = builtins.int
_float = builtins.float
_bool = builtins.bool
_complex = builtins.complex
_str = builtins.str
_bytes = builtins.bytes

# a number a tensor op takes where PyTorch's signatures say Number
Number = _int | _float | _bool
_Number = (_int, _float, _bool)
_size = Size | list[_int] | tuple[_int, ...]
_symsize = _size
Device = _device | _str | _int | None
_TensorOrTensors = Tensor | Sequence[Tensor]

__all__ = ["Device", "Number"]
