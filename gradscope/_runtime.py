"""The `torch.*` calls scripts make about types and the runtime rather than about tensors' values:
`finfo`/`iinfo`, type predicates and promotion, thread and determinism settings.

Settings PyTorch's own kernels obey (threads, deterministic algorithms, float32 matmul precision) are
kept and answered back as PyTorch answers them; gradscope's NumPy kernels are deterministic and run
in the dtype asked for, so none of them changes a result here.
"""

from __future__ import annotations

import builtins
import math
import os
import warnings

import numpy as np

from gradscope import _dtypes
from gradscope.autograd import errors
from gradscope.autograd.tensor import Tensor

_PROPER_FLOAT = {_dtypes.complex64: _dtypes.float32, _dtypes.complex128: _dtypes.float64}


class finfo:  # noqa: N801 - named as torch.finfo
    """Machine limits of a floating-point dtype, as `torch.finfo` gives them (Python floats)."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type: _dtypes.dtype | None = None) -> None:  # noqa: A002 - PyTorch's parameter name
        type = _dtypes.get_default_dtype() if type is None else type
        if not isinstance(type, _dtypes.dtype) or not (type.is_floating_point or type.is_complex):
            raise TypeError("torch.finfo() requires a floating point input type. "
                            "Use torch.iinfo to handle 'torch.finfo'")
        type = _PROPER_FLOAT.get(type, type)
        if type is _dtypes.bfloat16:  # NumPy has no bfloat16: float32's exponent with an 8-bit significand
            self.bits, self.eps, self.tiny, self.max = 16, 2.0**-7, 2.0**-126, (2 - 2.0**-7) * 2.0**127
        else:
            info = np.finfo(type.numpy)
            self.bits, self.eps, self.tiny = info.bits, builtins.float(info.eps), builtins.float(info.smallest_normal)
            self.max = builtins.float(info.max)
        self.min = -self.max
        self.resolution = 10.0 ** -builtins.int(-math.log10(self.eps))  # the decimal digits the type keeps
        self.smallest_normal = self.tiny
        self.dtype = type.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, finfo) and self.dtype == other.dtype

    __hash__ = None  # unhashable, as torch.finfo

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - named as torch.iinfo
    """Limits of an integer dtype, as `torch.iinfo` gives them (Python ints)."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type: _dtypes.dtype) -> None:  # noqa: A002 - PyTorch's parameter name
        if type is _dtypes.bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if not isinstance(type, _dtypes.dtype) or type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(type.numpy)
        self.bits = info.bits
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = type.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, iinfo) and self.dtype == other.dtype

    __hash__ = None

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# --- type predicates and promotion ------------------------------------------------------------------

def _tensor_argument(function: str, value, name: str = "input", position: int = 1) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")
    return value


def _dtype_argument(function: str, value, name: str, position: int) -> _dtypes.dtype:
    if not isinstance(value, _dtypes.dtype):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be torch.dtype, "
                        f"not {type(value).__name__}")
    return value


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_storage(obj) -> bool:
    """False: gradscope tensors own NumPy arrays, there are no storage objects."""
    return False


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    return _tensor_argument("is_floating_point", input).is_floating_point()


def is_complex(input: Tensor) -> bool:  # noqa: A002
    return _tensor_argument("is_complex", input).is_complex()


def is_signed(input: Tensor) -> bool:  # noqa: A002
    return _tensor_argument("is_signed", input).dtype.is_signed


def is_nonzero(input: Tensor) -> bool:  # noqa: A002
    """The truth of a one-element tensor (PyTorch's error for none or several)."""
    numel = _tensor_argument("is_nonzero", input)._data.size
    if numel != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no values' if numel == 0 else 'more than one value'} "
                           "is ambiguous")
    return builtins.bool(input._data.reshape(()))


def is_inference(input: Tensor) -> bool:  # noqa: A002
    """Whether `input` was made in inference mode (a view: whether its base was)."""
    return _tensor_argument("is_inference", input).is_inference()


def is_same_size(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    _tensor_argument("is_same_size", input)
    return input.shape == _tensor_argument("is_same_size", other, "other", 2).shape


def numel(input: Tensor) -> int:  # noqa: A002
    return _tensor_argument("numel", input)._data.size


def typename(obj) -> str:
    """'torch.FloatTensor' for a float32 tensor, else the object's (or class's) qualified name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", None)
    prefix = "" if module in (None, "builtins", "__builtin__") else module + "."
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return prefix + name


def promote_types(type1: _dtypes.dtype, type2: _dtypes.dtype) -> _dtypes.dtype:
    _dtype_argument("promote_types", type1, "type1", 1)
    _dtype_argument("promote_types", type2, "type2", 2)
    return _dtypes.from_numpy_dtype(_dtypes.promote_types(type1.numpy, type2.numpy))


def result_type(tensor1, tensor2) -> _dtypes.dtype:
    """The dtype an arithmetic op on these tensors and/or Python numbers gives."""
    operands = [value._data if isinstance(value, Tensor) else value for value in (tensor1, tensor2)]
    return _dtypes.from_numpy_dtype(_dtypes.result_type(operands))


def can_cast(from_: _dtypes.dtype, to: _dtypes.dtype) -> bool:
    """PyTorch's casting rule for in-place and out= results: no float → integer, complex → real, or
    anything else → bool."""
    _dtype_argument("can_cast", from_, "from_", 1)
    _dtype_argument("can_cast", to, "to", 2)
    if from_.is_complex and not to.is_complex:
        return False
    if from_.is_floating_point and not (to.is_floating_point or to.is_complex):
        return False
    return not (from_ is not _dtypes.bool and to is _dtypes.bool)


# --- runtime settings ------------------------------------------------------------------------------

_settings = {"num_threads": None, "num_interop_threads": None, "deterministic": False, "warn_only": False,
             "matmul_precision": "highest"}


def _positive_int(function: str, value) -> int:
    if not isinstance(value, builtins.int) or isinstance(value, builtins.bool):
        raise RuntimeError(f"{function} expects an int, but got {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{function} expects a positive integer")
    return value


def _default_threads() -> int:
    return os.cpu_count() or 1


def get_num_threads() -> int:
    return _settings["num_threads"] or _default_threads()


def set_num_threads(int: int) -> None:  # noqa: A002 - PyTorch's parameter name
    """Kept and answered by get_num_threads; NumPy's BLAS keeps the threads it started with."""
    _settings["num_threads"] = _positive_int("set_num_threads", int)


def get_num_interop_threads() -> int:
    return _settings["num_interop_threads"] or _default_threads()


def set_num_interop_threads(int: int) -> None:  # noqa: A002
    _settings["num_interop_threads"] = _positive_int("set_num_interop_threads", int)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted: every gradscope kernel is deterministic already."""
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, "
                        f"not {type(mode).__name__}")
    _settings["deterministic"], _settings["warn_only"] = mode, builtins.bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _settings["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                               f"but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _settings["deterministic"]:
        return 0
    return 1 if _settings["warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted ('highest', 'high', 'medium'): NumPy multiplies float32 matrices in float32 regardless."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _settings["matmul_precision"]


def set_warn_always(b: bool) -> None:
    errors.WARN_ONCE["always"] = builtins.bool(b)


def is_warn_always_enabled() -> bool:
    return errors.WARN_ONCE["always"]


def set_flush_denormal(mode: bool) -> bool:
    """False: NumPy offers no switch to flush denormals to zero, so nothing changed (PyTorch's answer
    where the CPU can't)."""
    return False

