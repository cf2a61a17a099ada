"""torch.* functions of bits and integers: bitwise and/or/xor/not, shifts, gcd, lcm, and signbit. None has a
gradient; each keeps PyTorch's dtypes (Python numbers are weak) and refuses the dtypes PyTorch has no kernel for.
The operators `&`, `|`, `^`, `~`, `<<`, `>>` and their in-place forms call these."""

from __future__ import annotations

import numpy as np

from gradscope.autograd.functions import _operands, _tensor_like
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.pointwise_extra import _not_implemented_for, _tensor_argument
from gradscope.autograd.tensor import Tensor


def _integer_arrays(kernel: str, input, other, kinds: str) -> list[np.ndarray]:
    """The operands as arrays of their promoted dtype, refused unless it is of `kinds` ("iu", or "biu" with bool).
    A Python number wraps around into it (uint8 & -1 is uint8 & 255), as in PyTorch."""
    arrays = _operands(_tensor_like(input), other)
    dtype = np.result_type(*arrays)
    if dtype.kind not in kinds:
        raise _not_implemented_for(kernel, dtype)
    return [a if isinstance(a, np.ndarray) else np.asarray(a).astype(dtype) for a in arrays]


def _bitwise(name: str, ufunc, kernel: str):
    def function(input, other, *, out=None):
        a, b = _integer_arrays(kernel, input, other, "biu")
        return write_out(name, Tensor._make(np.asarray(ufunc(a, b)).astype(np.result_type(a, b), copy=False)), out)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name} of integers or bools (a Python number may stand for either)."
    return function


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "bitwise_and_cpu")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "bitwise_or_cpu")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "bitwise_xor_cpu")


def bitwise_not(input, *, out=None):
    """~input: the bits flipped (`not` for bools)."""
    if input._data.dtype.kind not in "biu":
        raise _not_implemented_for("bitwise_not_cpu", input._data.dtype)
    return write_out("bitwise_not", Tensor._make(np.invert(input._data)), out)


def _shift_counts(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each count is out of range (negative, or at least the width), and the counts made safe."""
    outside = (b < 0) | (b >= b.dtype.itemsize * 8)
    return outside, np.where(outside, 0, b).astype(b.dtype, copy=False)


def bitwise_left_shift(input, other, *, out=None):
    """input · 2^other in integers; 0 where other is negative or at least the width (PyTorch's, not C's)."""
    a, b = _integer_arrays("lshift_cpu", input, other, "iu")
    outside, counts = _shift_counts(b)
    result = np.where(outside, 0, np.left_shift(a, counts)).astype(counts.dtype, copy=False)
    return write_out("bitwise_left_shift", Tensor._make(result), out)


def bitwise_right_shift(input, other, *, out=None):
    """input >> other, the sign filling in: all sign bits (−1 or 0) where other is negative or at least the width."""
    a, b = _integer_arrays("rshift_cpu", input, other, "iu")
    outside, counts = _shift_counts(b)
    result = np.where(outside, np.where(a < 0, -1, 0), np.right_shift(a, counts)).astype(counts.dtype, copy=False)
    return write_out("bitwise_right_shift", Tensor._make(result), out)


def _divisors(name: str, ufunc):
    def function(input, other, *, out=None):
        _tensor_argument(name, other)
        a, b = _integer_arrays(f"{name}_cpu", input, other, "iu")
        return write_out(name, Tensor._make(np.asarray(np.abs(ufunc(a, b))).astype(np.result_type(a, b))), out)
    function.__name__ = function.__qualname__ = name
    return function


gcd = _divisors("gcd", np.gcd)
gcd.__doc__ = "The greatest common divisor, non-negative (gcd(0, 0) = 0)."
lcm = _divisors("lcm", np.lcm)
lcm.__doc__ = "The least common multiple, non-negative (0 if either is 0)."


def signbit(input, *, out=None):
    """Whether the sign bit is set: True for -0.0 and for a nan with its sign bit, False for bools."""
    data = input._data
    if data.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    result = np.signbit(data) if data.dtype.kind == "f" else np.zeros(data.shape, bool) if data.dtype.kind == "b" \
        else data < 0
    return write_out("signbit", Tensor._make(np.asarray(result)), out)


def _in_place(function):
    def method(self, other):
        return _inplace(self, lambda t, o: function(t, o), other)
    method.__name__ = method.__qualname__ = function.__name__ + "_"
    return method


bitwise_and_ = _in_place(bitwise_and)
bitwise_or_ = _in_place(bitwise_or)
bitwise_xor_ = _in_place(bitwise_xor)
bitwise_left_shift_ = _in_place(bitwise_left_shift)
bitwise_right_shift_ = _in_place(bitwise_right_shift)
gcd_ = _in_place(gcd)
lcm_ = _in_place(lcm)


def bitwise_not_(self):
    return _inplace(self, bitwise_not)


def _invert(self):
    if self._data.dtype.kind not in "biu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


def _reflected(function):
    def operator(self, other):
        return function(_tensor_like(other), self)
    return operator


FUNCTIONS = ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
             "gcd", "lcm", "signbit")
METHODS = {name: globals()[name] for name in FUNCTIONS + (
    "bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_not_", "bitwise_left_shift_", "bitwise_right_shift_",
    "gcd_", "lcm_")}
METHODS.update(
    __and__=bitwise_and, __rand__=bitwise_and, __or__=bitwise_or, __ror__=bitwise_or, __xor__=bitwise_xor,
    __rxor__=bitwise_xor, __invert__=_invert, __lshift__=bitwise_left_shift, __rshift__=bitwise_right_shift,
    __rlshift__=_reflected(bitwise_left_shift), __rrshift__=_reflected(bitwise_right_shift), __iand__=bitwise_and_,
    __ior__=bitwise_or_, __ixor__=bitwise_xor_, __ilshift__=bitwise_left_shift_, __irshift__=bitwise_right_shift_,
)
