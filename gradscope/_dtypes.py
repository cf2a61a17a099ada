"""dtypes with PyTorch's names, and PyTorch's type-promotion rules on top of NumPy dtypes."""

from __future__ import annotations

import builtins

import numpy as np


class dtype:  # noqa: N801 - named as torch.dtype
    """A tensor element type (`gradscope.float32` …), printed as PyTorch prints it."""

    __slots__ = ("name", "numpy", "legacy_name", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, name: str, numpy_type: type, legacy_name: str) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_type)
        self.legacy_name = legacy_name
        self.is_floating_point = self.numpy.kind == "f"
        self.is_complex = self.numpy.kind == "c"
        self.is_signed = self.numpy.kind in "ifc"
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):  # dtypes are singletons
        return self.name

    def to_complex(self) -> dtype:
        """The complex dtype of the same precision (complex64 for float32); a complex dtype is its own."""
        if self.is_complex:
            return self
        complex_of = {"float32": complex64, "float64": complex128}.get(self.name)
        if complex_of is None:
            if self.name == "float16":
                raise TypeError("gradscope has no complex32 tensors: NumPy has no complex32 type")
            raise RuntimeError(f"Unknown Complex ScalarType for {self.legacy_name[:-len('Tensor')]}")
        return complex_of

    def to_real(self) -> dtype:
        """The real dtype of the same precision (float32 for complex64); any other dtype is its own."""
        return {"complex64": float32, "complex128": float64}.get(self.name, self)


float16 = half = dtype("float16", np.float16, "HalfTensor")
float32 = float = dtype("float32", np.float32, "FloatTensor")  # noqa: A001 - torch.float
float64 = double = dtype("float64", np.float64, "DoubleTensor")
complex64 = cfloat = dtype("complex64", np.complex64, "ComplexFloatTensor")
complex128 = cdouble = dtype("complex128", np.complex128, "ComplexDoubleTensor")
uint8 = dtype("uint8", np.uint8, "ByteTensor")
int8 = dtype("int8", np.int8, "CharTensor")
int16 = short = dtype("int16", np.int16, "ShortTensor")
int32 = int = dtype("int32", np.int32, "IntTensor")  # noqa: A001 - torch.int
int64 = long = dtype("int64", np.int64, "LongTensor")
bool = dtype("bool", np.bool_, "BoolTensor")  # noqa: A001 - torch.bool


class _TypeWithoutArrays(dtype):
    """A PyTorch dtype NumPy has no type for: scripts may name it (`dtype=torch.bfloat16` in a table of
    options), and making a tensor of it fails clearly instead of silently picking another type."""

    __slots__ = ()

    def __init__(self, name: str, legacy_name: str, itemsize: builtins.int) -> None:
        self.name, self.legacy_name, self.itemsize = name, legacy_name, itemsize
        self.is_floating_point, self.is_complex, self.is_signed = True, False, True

    @property
    def numpy(self):
        raise TypeError(f"gradscope has no {self.name} tensors: NumPy has no {self.name} type "
                        "(float32, float64 and float16 are available)")


bfloat16 = _TypeWithoutArrays("bfloat16", "BFloat16Tensor", 2)

ALL = (float16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool)
_BY_NUMPY = {d.numpy: d for d in ALL}

_default_float = float32


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The gradscope dtype of a NumPy dtype (TypeError for dtypes PyTorch has no counterpart for)."""
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np_dtype}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool."
        ) from None


def to_numpy_dtype(d) -> np.dtype:
    """Accept a gradscope dtype, a NumPy dtype or a Python type (`float`, `int`, `bool`)."""
    if isinstance(d, dtype):
        return d.numpy
    if d is builtins.float:
        return _default_float.numpy
    if d is builtins.int:
        return np.dtype(np.int64)
    return np.dtype(d)


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the dtype of float tensors made from Python floats (float32 or float64), process-wide as in PyTorch."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d!r}")
    _default_float = d


# each dtype's C++ element type, as PyTorch's kernel messages name it ("Input type (float) and bias type (double)",
# "expected m1 and m2 to have the same dtype, but got: float != long int")
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
              "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
              "complex128": "c10::complex<double>"}


def cpp_type_name(np_dtype: np.dtype) -> str:
    """'float' for float32, as PyTorch's kernels name element types in their messages."""
    return _CPP_NAMES.get(np_dtype.name, np_dtype.name)


# the element type as PyTorch's scalar conversions name it ("value cannot be converted to type int64_t ...")
_CONVERSION_NAMES = {"int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t",
                     "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                     "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def checked_scalar(value, np_dtype: np.dtype):
    """`value` as PyTorch converts a fill value to a tensor's element type (c10::checked_convert): an integer type
    refuses NaN, ±inf and values out of its range (an unsigned one wraps negative ints down to -max, as PyTorch's,
    and refuses negative floats); a floating type refuses finite values beyond its largest (masked_fill(mask, -1e9)
    on float16); a bool takes anything. Returns the value to write (a negative wrapped if unsigned)."""
    if type(value) is builtins.int:
        scalar_int(value)  # beyond 64 bits no Scalar: PyTorch's OverflowError comes first
    kind = np_dtype.kind
    if kind not in "iuf" or isinstance(value, builtins.bool) or not isinstance(
            value, (builtins.int, builtins.float, np.integer, np.floating)):
        return value
    name = _CONVERSION_NAMES.get(np_dtype.name, np_dtype.name)
    if kind == "f":
        number = builtins.float(value)
        if number == number and abs(number) != np.inf and abs(number) > builtins.float(np.finfo(np_dtype).max):
            raise RuntimeError(f"value cannot be converted to type {name} without overflow")
        return value
    info = np.iinfo(np_dtype)
    number = builtins.float(value) if isinstance(value, (builtins.float, np.floating)) else builtins.int(value)
    # an unsigned type takes an int down to -max (wrapped), a float from 0 only (-1.0 is refused, -1 is 255)
    low = (0 if type(number) is builtins.float else -builtins.int(info.max)) if kind == "u" else builtins.int(info.min)
    if number != number or abs(number) == np.inf or not low <= number <= builtins.int(info.max):
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    if kind == "u" and number < 0:
        return builtins.int(number) % (builtins.int(info.max) + 1)
    return value


_INTEGER_RANGES = {np.dtype(t): (builtins.int(np.iinfo(t).min), builtins.int(np.iinfo(t).max))
                   for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)}


def scalar_int(value: builtins.int) -> builtins.int:
    """A Python int as PyTorch's argument parser makes a Scalar of it: an int64, or a uint64 above int64's range;
    beyond 64 bits its OverflowError, where NumPy would make a float of it (inf beside a float32 tensor)."""
    if -(1 << 63) <= value < 1 << 64:
        return value
    raise OverflowError("int too big to convert" if value > 0 else "can't convert negative int to unsigned")


def wrapped_int(value: builtins.int, np_dtype: np.dtype) -> builtins.int:
    """A Python int beside an integer tensor (int8 + 300), as PyTorch's wrapped number meets the tensor's dtype: as it
    is when the dtype holds it, else its low bits (C's conversion: int8 + 300 adds 44, uint8 > -1 compares with 255),
    where NumPy refuses it. Beyond 64 bits, PyTorch's own errors (a Python int becomes an int64 or uint64 Scalar)."""
    low, high = _INTEGER_RANGES[np_dtype]
    if low <= value <= high:
        return value
    scalar_int(value)
    span = 1 << (np_dtype.itemsize * 8)
    value %= span
    return value - span if value > high else value


def legacy_type_name(np_dtype: np.dtype) -> str:
    """'torch.FloatTensor' for float32 …, as PyTorch names types in error messages."""
    return "torch." + from_numpy_dtype(np_dtype).legacy_name


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: the higher category wins and keeps its own width (int64 + float32 -> float32)."""
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        high, low = (a, b) if ca > cb else (b, a)
        if high.kind == "c" and low.kind == "f" and low.itemsize * 2 > high.itemsize:
            return np.dtype(np.complex128)
        return high
    return np.promote_types(a, b)


def _scalar_dtype(value) -> np.dtype:
    if isinstance(value, (builtins.bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, (builtins.int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(value, complex):
        return np.dtype(np.complex64) if _default_float is float32 else np.dtype(np.complex128)
    return _default_float.numpy


def result_type(operands) -> np.dtype:
    """PyTorch's result_type over tensors' arrays and Python scalars.

    Dimensioned tensors outrank zero-dim tensors, which outrank Python scalars; a lower-priority
    operand only matters when it belongs to a higher category (float beats int beats bool).
    """
    dim_result = zero_result = wrapped_result = None
    for value in operands:
        if isinstance(value, np.ndarray):
            if value.ndim:
                dim_result = value.dtype if dim_result is None else promote_types(dim_result, value.dtype)
            else:
                zero_result = value.dtype if zero_result is None else promote_types(zero_result, value.dtype)
        else:
            d = _scalar_dtype(value)
            wrapped_result = d if wrapped_result is None else promote_types(wrapped_result, d)
    return _combine(dim_result, _combine(zero_result, wrapped_result))


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's combine_categories: `lower` (a lower-priority class) only counts when its category is higher."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.kind == "c":
        return higher
    if lower.kind == "c":
        if higher.kind == "f":
            return np.dtype(np.complex128) if higher.itemsize == 8 else np.dtype(np.complex64)
        return lower
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        # NOTE: a bool tensor with an int scalar becomes int64 (the scalar's type), as in PyTorch.
        return promote_types(higher, lower)
    return higher


# --- layouts and memory formats ----------------------------------------------------------------------

class _TorchConstant:
    """A named singleton printed as `torch.<name>` and pickled by name (so it unpickles as itself)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name


class layout(_TorchConstant):  # noqa: N801 - named as torch.layout
    """A tensor's memory layout; gradscope's tensors are all `torch.strided` (dense)."""

    __slots__ = ()


class memory_format(_TorchConstant):  # noqa: N801 - named as torch.memory_format
    """A `memory_format=` argument; gradscope accepts each and keeps NumPy's own (C-contiguous) order."""

    __slots__ = ()


strided = layout("strided")
sparse_coo = layout("sparse_coo")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
