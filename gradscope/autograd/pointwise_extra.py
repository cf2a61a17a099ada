"""More torch.* pointwise functions (asinh … addcdiv, prelu, hardshrink), their Tensor methods and in-place
variants, each with PyTorch's signature, dtype rules and errors."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import _checked_number, _float_input, _floating_operands, _operands, to_dtype, trunc
from gradscope.autograd.functions import pow as _pow
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.pointwise import _binary_inplace, _type_name, _unary, _unary_inplace
from gradscope.autograd.refusals import any_complex, refuse_kinds
from gradscope.autograd.return_types import Frexp
from gradscope.autograd.shape_functions import reshape
from gradscope.autograd.tensor import Tensor
from gradscope.ops import activations as A
from gradscope.ops import incomplete_gamma as IG
from gradscope.ops import nn as N
from gradscope.ops import pointwise_extra as X


def _tensor_argument(function: str, value, name: str = "other", position: int = 2) -> None:
    """PyTorch's argument parser's error where only a tensor is accepted."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")


def _not_implemented_for(kernel: str, dtype: np.dtype) -> NotImplementedError:
    return NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(dtype)}\'')


def _refuse_complex_kernel(kernel: str, arrays: list) -> None:
    """A binary op whose PyTorch kernel has no complex loop (NumPy's ufunc raises a TypeError of its own)."""
    dtype = np.result_type(*arrays)
    if dtype.kind == "c":
        raise _not_implemented_for(kernel, dtype)


asinh = arcsinh = _unary(X.asinh)
acosh = arccosh = _unary(X.acosh)
atanh = arctanh = _unary(X.atanh)
exp2 = _unary(X.exp2)
erfc = _unary(X.erfc, complex_kernel="erfc_vml_cpu")
sinc = _unary(X.sinc)
i0 = _unary(X.i0, complex_kernel="i0_vml_cpu")
def _real_angle(op):
    """deg2rad, rad2deg: PyTorch refuses complex tensors (NumPy scales both parts)."""
    unary = _unary(op)

    def function(input, *, out=None):
        if input._data.dtype.kind == "c":
            raise RuntimeError(f"{op.name} is not supported for complex tensors.")
        return unary(input, out=out)
    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = unary.__doc__
    return function


deg2rad = _real_angle(X.deg2rad)
rad2deg = _real_angle(X.rad2deg)


def logit(input, eps=None, *, out=None):
    """log(p / (1 − p)); with `eps`, p clamped to [eps, 1 − eps] first."""
    refuse_kinds(input, "c", "logit_cpu")
    return write_out("logit", apply(X.logit, (input,), (eps,), _float_input(input)), out)


def mvlgamma(input, p, *, out=None):
    """The log of the multivariate gamma function of dimension p (integers give the default float dtype)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    refuse_kinds(input, "c", "arange_cpu")  # NOTE: PyTorch's composite fails at its arange in the input's dtype
    return write_out("mvlgamma", apply(X.mvlgamma, (input,), (p,), _float_input(input)), out)


def mvlgamma_(self, p):
    return _inplace(self, lambda t: mvlgamma(t, p))


def sgn(input, *, out=None):
    """The sign (for real inputs: sign, with bool kept bool)."""
    if input._data.dtype.kind == "b":
        return write_out("sgn", Tensor._make(input._data.copy()), out)
    return write_out("sgn", apply(X.sgn, (input,)), out)


def angle(input, *, out=None):
    """The argument: of a complex number, in (−π, π]; of a real one, π if negative, else 0 (integers give the
    default float dtype)."""
    return write_out("angle", apply(X.angle, (input,), (), _float_input(input)), out)


def _infinity_test(name: str, test):
    def function(input, *, out=None):
        data = input._data
        if data.dtype.kind == "c":
            raise RuntimeError(f"{name} does not support complex inputs.")
        return write_out(name, Tensor._make(np.asarray(test(data) if data.dtype.kind == "f" else
                                                       np.zeros(data.shape, bool))), out)
    function.__name__ = function.__qualname__ = name
    return function


isposinf = _infinity_test("isposinf", np.isposinf)
isposinf.__doc__ = "Whether each element is +inf."
isneginf = _infinity_test("isneginf", np.isneginf)
isneginf.__doc__ = "Whether each element is −inf."


def isreal(input):
    """Whether each element is real: all of a real tensor, the elements with a zero imaginary part of a complex one."""
    data = input._data
    return Tensor._make(np.asarray(data.imag == 0) if data.dtype.kind == "c" else np.ones(data.shape, bool))


def positive(input):
    """`input` itself (`+x`)."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def fix(input, *, out=None):
    """trunc's other name."""
    return write_out("fix", trunc(input), out)


def _floating_binary(name: str, op):
    """A two-tensor op with a floating kernel only: integers promote to a float only beside a float."""
    def function(input, other, *, out=None):
        _tensor_argument(name, other)
        arrays = _operands(input, other)
        dtype = np.result_type(*arrays)
        if dtype.kind != "f":
            raise _not_implemented_for(f"{name}_cpu", dtype)
        return write_out(name, apply(op, (input, other), (), arrays), out)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name} of two tensors (node {op.node_name})."
    return function


hypot = _floating_binary("hypot", X.hypot)
logaddexp2 = _floating_binary("logaddexp2", X.logaddexp2)
nextafter = _floating_binary("nextafter", X.nextafter)


def _promoted_binary(name: str, op):
    """A two-tensor op defined for every real dtype (fmax, fmin)."""
    def function(input, other, *, out=None):
        _tensor_argument(name, other)
        if any_complex(input, other):
            raise RuntimeError(f"{name} not implemented for complex tensors.")
        return write_out(name, apply(op, (input, other), (), _operands(input, other)), out)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name}, ignoring nan (node {op.node_name})."
    return function


fmax = _promoted_binary("fmax", X.fmax)
fmin = _promoted_binary("fmin", X.fmin)


def copysign(input, other, *, out=None):
    """|input| with the sign of `other` (a tensor or a number); integers give the default float dtype."""
    arrays = _floating_operands(input, other)
    _refuse_complex_kernel("copysign_cpu", arrays)
    if isinstance(other, Tensor):
        result = apply(X.copysign, (input, other), (), arrays)
    else:
        result = apply(X.copysign_scalar, (input,), (arrays[1],), arrays[:1])
    return write_out("copysign", result, out)


def ldexp(input, other, *, out=None):
    """input · 2^other."""
    _tensor_argument("ldexp", other)
    if other._data.dtype.kind in "biu":
        result = apply(X.ldexp_integer, (input, other), (), [_float_input(input)[0], other._data])
    else:
        result = apply(X.ldexp, (input, other), (), _floating_operands(input, other))
    return write_out("ldexp", result, out)


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa · 2^exponent, |mantissa| in [0.5, 1); exponent int32."""
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return write_out("frexp", Frexp(*apply(X.frexp, (input,))), out)


def float_power(input, exponent, *, out=None):
    """input ** exponent computed in float64, or complex128 if either is complex (PowBackward0/1/2 on copies in
    that dtype, as PyTorch records it)."""
    wide = _dtypes.complex128 if any(isinstance(v, complex) or isinstance(v, Tensor) and v._data.dtype.kind == "c"
                                     for v in (input, exponent)) else _dtypes.float64
    number = complex if wide is _dtypes.complex128 else float
    exponent = to_dtype(exponent, wide) if isinstance(exponent, Tensor) else number(exponent)
    if isinstance(input, Tensor):
        return write_out("float_power", _pow(to_dtype(input, wide), exponent), out)
    return write_out("float_power", _pow(number(input), exponent), out)


def float_power_(self, exponent):
    if self._data.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {_type_name(self._data.dtype)} but the "
                           "operation's result requires dtype Double")
    return _inplace(self, lambda t, e: float_power(t, e), exponent)


def floor_divide(input, other, *, out=None):
    """input / other rounded down; PyTorch records a node that refuses backward."""
    return write_out("floor_divide", _floor_divide(input, other, X.floor_divide, X.floor_divide_scalar), out)


def _floor_divide(input, other, tensor_op, scalar_op):
    arrays = _operands(input, other)
    dtype = np.result_type(*arrays)
    _refuse_complex_kernel("div_floor_cpu", arrays)
    if dtype.kind == "b":
        raise _not_implemented_for("div_floor_cpu", dtype)
    if dtype.kind in "iu" and np.any(np.asarray(arrays[1]) == 0):
        raise RuntimeError("ZeroDivisionError")
    if isinstance(other, Tensor):
        return apply(tensor_op, (input, other), (), arrays)
    return apply(scalar_op, (input,), (arrays[1],), arrays[:1])


def heaviside(input, values, *, out=None):
    """0 where input < 0, 1 where input > 0, `values` where input is 0; PyTorch records a node that refuses
    backward."""
    return write_out("heaviside", _heaviside(input, values, X.heaviside), out)


def _heaviside(input, values, op):
    _tensor_argument("heaviside", values, "values")
    if any_complex(input, values):
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return apply(op, (input, values))


def prelu(input, weight):
    """x for x > 0, weight·x otherwise, one weight per channel (dim 1) or one for all
    (PreluKernelBackward0).

    >>> gradscope.prelu(gradscope.tensor([[-2.0, 1.0]]), gradscope.tensor([0.25]))
    tensor([[-0.5000,  1.0000]])
    """
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_type_name(input._data.dtype)} and "
                           f"{_type_name(weight._data.dtype)}")
    ndim, count = input._data.ndim, weight._data.size
    if count != 1:
        if ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input._data.shape[1] if ndim > 1 else 1
        if channels != count:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{count} and channel size = {channels}.")
    if weight._data.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight._data.ndim}")
    if input._data.dtype.kind != "f":
        raise _not_implemented_for("prelu_cpu", input._data.dtype)
    if ndim != weight._data.ndim:
        shape = [1] * ndim
        if ndim > 1:
            shape[1] = count
        weight = reshape(weight, shape)
    return apply(A.prelu, (input, weight))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0; the gradient is 0 at ±lambd (HardshrinkBackward0).

    >>> gradscope.hardshrink(gradscope.tensor([-1.0, 0.2, 0.7]))
    tensor([-1.0000,  0.0000,  0.7000])
    """
    refuse_kinds(input, "biuc", "hardshrink_cpu")
    return apply(N.hardshrink, (input,), (lambd,))


def _three_operands(input, tensor1, tensor2) -> list:
    arrays = [t._data for t in (input, tensor1, tensor2)]
    common = _dtypes.result_type(arrays)
    return [a.astype(common, copy=False) for a in arrays]


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value · tensor1 · tensor2."""
    value = _checked_number(value, input)
    result = apply(X.addcmul, (input, tensor1, tensor2), (value,), _three_operands(input, tensor1, tensor2))
    return write_out("addcmul", result, out)


_INTEGER_ADDCDIV = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
    "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
    "for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes.")


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value · tensor1 / tensor2."""
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError(_INTEGER_ADDCDIV)
    value = _checked_number(value, input)
    result = apply(X.addcdiv, (input, tensor1, tensor2), (value,), _three_operands(input, tensor1, tensor2))
    return write_out("addcdiv", result, out)


def addcmul_(self, tensor1, tensor2, *, value=1):
    return _inplace(self, lambda t, a, b: addcmul(t, a, b, value=value), tensor1, tensor2)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    return _inplace(self, lambda t, a, b: addcdiv(t, a, b, value=value), tensor1, tensor2)




def _no_derivative_inplace(op):
    def method(self):
        return _inplace(self, lambda t: apply(op, (t,), (), _float_input(t)))
    method.__name__ = op.name
    return method


asinh_ = arcsinh_ = _no_derivative_inplace(X.asinh_)
acosh_ = arccosh_ = _no_derivative_inplace(X.acosh_)
atanh_ = arctanh_ = _no_derivative_inplace(X.atanh_)
exp2_ = _unary_inplace(exp2)
erfc_ = _unary_inplace(erfc)
sinc_ = _unary_inplace(sinc)
i0_ = _unary_inplace(i0)
deg2rad_ = _unary_inplace(deg2rad)
rad2deg_ = _unary_inplace(rad2deg)
logit_ = _unary_inplace(logit)
sgn_ = _unary_inplace(sgn)
fix_ = _unary_inplace(fix)
hypot_ = _binary_inplace(hypot)
copysign_ = _binary_inplace(copysign)
nextafter_ = _binary_inplace(nextafter)


def ldexp_(self, other):
    if self._data.dtype.kind in "biu":  # NOTE: PyTorch's words for it
        raise RuntimeError(f"ldexp can't be cast to the desired output type {_type_name(self._data.dtype)}")
    return _inplace(self, lambda t, o: ldexp(t, o), other)


floor_divide_ = _binary_inplace(
    lambda input, other: _floor_divide(input, other, X.floor_divide_inplace, X.floor_divide_scalar_inplace))
floor_divide_.__name__ = "floor_divide_"
heaviside_ = _binary_inplace(lambda input, values: _heaviside(input, values, X.heaviside_inplace))
heaviside_.__name__ = "heaviside_"


def _igamma(op, kernel: str, input, other, out):
    arrays = _operands(input, other)
    dtype = np.result_type(*arrays)
    if dtype.kind != "f":
        raise _not_implemented_for(kernel, dtype)
    return write_out(op.name, apply(op, (input, other), (), arrays), out)


def igamma(input, other, *, out=None):
    """The regularised lower incomplete gamma P(input, other) (torch.special.gammainc); differentiable in
    `other` only, as in PyTorch."""
    return _igamma(IG.igamma, "igamma_cpu", input, other, out)


def igammac(input, other, *, out=None):
    """The regularised upper incomplete gamma Q(input, other) = 1 − P (torch.special.gammaincc)."""
    return _igamma(IG.igammac, "igammac_cpu", input, other, out)


FUNCTIONS = (
    "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "exp2", "erfc", "sinc", "i0", "deg2rad", "rad2deg",
    "logit", "sgn", "positive", "fix", "hypot", "logaddexp2", "nextafter", "fmax", "fmin", "copysign", "ldexp",
    "frexp", "float_power", "floor_divide", "heaviside", "addcmul", "addcdiv", "angle", "isposinf", "isneginf",
    "isreal", "prelu", "hardshrink", "mvlgamma", "igamma", "igammac",
)
# torch.* in-place forms PyTorch has at the top level too (torch.asinh_(x))
TOP_LEVEL_INPLACE = (
    "asinh_", "arcsinh_", "acosh_", "arccosh_", "atanh_", "arctanh_", "exp2_", "erfc_", "sinc_", "i0_", "deg2rad_",
    "rad2deg_", "logit_", "fix_", "ldexp_",
)
METHODS = {name: globals()[name] for name in FUNCTIONS + TOP_LEVEL_INPLACE + (
    "mvlgamma_", "sgn_", "hypot_", "copysign_", "nextafter_", "floor_divide_", "heaviside_", "float_power_", "addcmul_",
    "addcdiv_")}

