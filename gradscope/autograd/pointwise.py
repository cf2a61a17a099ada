"""torch.* pointwise math beyond the basics (acos … lerp), their Tensor methods and in-place variants."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import _float_input, _floating_operands, _operands, _tensors_only
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.refusals import refuse_kinds
from gradscope.autograd.tensor import Tensor
from gradscope.ops import math as M
from gradscope.ops import pointwise_extra as X


def _type_name(dtype: np.dtype) -> str:
    return _dtypes.from_numpy_dtype(dtype).legacy_name[:-6]  # "LongTensor" -> "Long"


def _unary(op, name: str | None = None, complex_kernel: str | None = None):
    """`complex_kernel`: PyTorch's kernel that refuses complex tensors, named in its error."""
    name = name or op.name

    def function(input, *, out=None):
        if complex_kernel is not None:
            refuse_kinds(input, "c", complex_kernel)
        return write_out(name, apply(op, (input,), (), _float_input(input)), out)
    function.__name__ = name
    function.__doc__ = f"Elementwise {name} (node {op.node_name}); integers give the default float dtype."
    return function


acos = arccos = _unary(M.acos)
asin = arcsin = _unary(M.asin)
atan = arctan = _unary(M.atan)
cosh = _unary(M.cosh)
sinh = _unary(M.sinh)
tan = _unary(M.tan)
expm1 = _unary(M.expm1)
log2 = _unary(M.log2)
log10 = _unary(M.log10)
lgamma = _unary(M.lgamma, complex_kernel="lgamma_vml_cpu")
digamma = _unary(M.digamma, complex_kernel="digamma")
erfinv = _unary(M.erfinv, complex_kernel="erfinv_vml_cpu")


def polygamma(n: int, input, *, out=None):
    """ψ⁽ⁿ⁾(input), the n-th derivative of digamma."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    refuse_kinds(input, "c", {0: "digamma", 1: "trigamma"}.get(n, "polygamma"))
    result = apply(M.polygamma, (input,), (n,), _float_input(input))
    return write_out("polygamma", result, out)


def _atan2(name: str):
    """atan2 under `name`: both operands tensors (PyTorch's parser takes no Python number for either)."""
    def atan2(input, other, *, out=None):
        _tensors_only(name, input, other)
        arrays = _floating_operands(input, other)
        common = np.result_type(*arrays)
        if common.kind == "c":
            raise NotImplementedError(f'"atan2_cpu" not implemented for \'{_type_name(common)}\'')
        return write_out("atan2", apply(M.atan2, (input, other), (), arrays), out)

    atan2.__name__ = atan2.__qualname__ = name
    return atan2


atan2 = _atan2("atan2")
arctan2 = _atan2("arctan2")


def xlogy(input, other, *, out=None):
    """input · log(other), 0 where input is 0 (unless other is nan). Either may be a Python number."""
    arrays = _floating_operands(input, other)
    common = np.result_type(*arrays)
    if common.kind == "c":
        raise NotImplementedError(f'"xlogy_cpu" not implemented for \'{_type_name(common)}\'')
    if not isinstance(other, Tensor):
        result = apply(M.xlogy_scalar_other, (input,), (arrays[1],), arrays[:1])
    elif not isinstance(input, Tensor):
        result = apply(M.xlogy_scalar_self, (other,), (arrays[0],), arrays[1:])
    else:
        result = apply(M.xlogy, (input, other), (), arrays)
    return write_out("xlogy", result, out)


def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)), without overflow."""
    arrays = _operands(input, other)
    dtype = np.result_type(*arrays)
    if dtype.kind not in "fc":
        raise NotImplementedError(f'"logaddexp_cpu" not implemented for \'{_type_name(dtype)}\'')
    return write_out("logaddexp", apply(M.logaddexp, (input, other), (), arrays), out)


def _invalid_arguments(name: str, input, other) -> TypeError:
    """PyTorch's argument parser's error for fmod/remainder given a number where it needs a tensor."""
    got = f"{type(input).__name__}, {type(other).__name__ if not isinstance(other, Tensor) else 'Tensor'}"
    forms = [" * (Tensor input, Tensor other, *, Tensor out = None)"]
    if name == "remainder":
        forms.append(" * (Number self, Tensor other)")
        forms.append(f"      didn't match because some of the arguments have invalid types: (!{type(input).__name__}!, "
                     f"!{type(other).__name__}!)")
    forms.append(" * (Tensor input, Number other, *, Tensor out = None)")
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                     + "\n".join(forms) + "\n")


def _modulo(name, scalar_op, tensor_op):
    def function(input, other, *, out=None):
        if not isinstance(input, Tensor):
            if name == "fmod" or not isinstance(other, Tensor):  # PyTorch's fmod has no number-first form
                raise _invalid_arguments(name, input, other)
            arrays = _operands(input, other)
            if np.result_type(*arrays).kind in "biu" and np.any(arrays[1] == 0):
                raise RuntimeError("ZeroDivisionError")
            return write_out(name, apply(X.remainder_of_number, (other,), (arrays[0],), arrays[1:]), out)
        arrays = _operands(input, other)
        common = np.result_type(*arrays)
        if common.kind == "c":
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_type_name(common)}\'')
        if np.result_type(*arrays).kind in "biu" and np.any(np.asarray(arrays[1]) == 0):
            raise RuntimeError("ZeroDivisionError")
        if isinstance(other, Tensor):
            result = apply(tensor_op, (input, other), (), arrays)
        else:
            result = apply(scalar_op, (input,), (arrays[1],), arrays[:1])
        return write_out(name, result, out)
    function.__name__ = name
    return function


fmod = _modulo("fmod", M.fmod_scalar, M.fmod_tensor)
fmod.__doc__ = "The remainder of input / other rounded toward zero (C's fmod): it has the dividend's sign."
remainder = _modulo("remainder", M.remainder_scalar, M.remainder_tensor)
remainder.__doc__ = "The remainder of input / other rounded down (Python's %): it has the divisor's sign."


def frac(input, *, out=None):
    """input − trunc(input)."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{_type_name(input._data.dtype)}\'')
    return write_out("frac", apply(M.frac, (input,)), out)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """nan → `nan`, +inf → `posinf`, −inf → `neginf` (by default the dtype's largest and lowest values)."""
    if input._data.dtype.kind not in "fc":
        return write_out("nan_to_num", Tensor._make(input._data.copy()), out)
    return write_out("nan_to_num", apply(M.nan_to_num, (input,), (nan, posinf, neginf)), out)


def lerp(input, end, weight, *, out=None):
    """input + weight · (end − input); `weight` a number or a tensor (all three broadcast)."""
    dtype = input._data.dtype
    for name, other in (("end", end), ("weight", weight)):
        if isinstance(other, Tensor) and other._data.ndim and other._data.dtype != dtype:
            raise RuntimeError(f"expected dtype {_type_name(dtype).lower()} for `{name}` but got dtype "
                               f"{_type_name(other._data.dtype).lower()}")
    arrays = [input._data, end._data.astype(dtype, copy=False)]
    if isinstance(weight, Tensor):
        result = apply(M.lerp_tensor, (input, end, weight), (), arrays + [weight._data.astype(dtype, copy=False)])
    else:
        if type(weight) is int:
            _dtypes.scalar_int(weight)
        result = apply(M.lerp_scalar, (input, end), (weight,), arrays)
    return write_out("lerp", result, out)


# ------------------------------------------------------------------------------- in place
def _unary_inplace(function):
    def method(self, *args, **kwargs):
        return _inplace(self, lambda t: function(t, *args, **kwargs))
    method.__name__ = function.__name__ + "_"
    return method


def _binary_inplace(function):
    def method(self, other, *args, **kwargs):
        return _inplace(self, lambda t, o: function(t, o, *args, **kwargs), other)
    method.__name__ = function.__name__ + "_"
    return method


acos_ = arccos_ = _unary_inplace(acos)
asin_ = arcsin_ = _unary_inplace(asin)
atan_ = arctan_ = _unary_inplace(atan)
cosh_ = _unary_inplace(cosh)
sinh_ = _unary_inplace(sinh)
tan_ = _unary_inplace(tan)
expm1_ = _unary_inplace(expm1)
log2_ = _unary_inplace(log2)
log10_ = _unary_inplace(log10)
lgamma_ = _unary_inplace(lgamma)
digamma_ = _unary_inplace(digamma)
erfinv_ = _unary_inplace(erfinv)
frac_ = _unary_inplace(frac)
nan_to_num_ = _unary_inplace(nan_to_num)
atan2_ = arctan2_ = _binary_inplace(atan2)
xlogy_ = _binary_inplace(xlogy)
fmod_ = _binary_inplace(fmod)
remainder_ = _binary_inplace(remainder)


def lerp_(self, end, weight):
    return _inplace(self, lambda t, e, w: lerp(t, e, w), end, weight)


def _polygamma_method(self, n):
    return polygamma(n, self)


def _polygamma_inplace(self, n):
    return _inplace(self, lambda t: apply(M.polygamma_, (t,), (n,), _float_input(t)))


FUNCTIONS = (
    "acos", "arccos", "asin", "arcsin", "atan", "arctan", "cosh", "sinh", "tan", "expm1", "log2", "log10", "lgamma",
    "digamma", "polygamma", "erfinv", "atan2", "arctan2", "xlogy", "logaddexp", "fmod", "remainder", "frac",
    "nan_to_num", "lerp",
)
# Tensor methods: the functions with the tensor first, and the in-place variants PyTorch has
METHODS = {name: globals()[name] for name in FUNCTIONS if name != "polygamma"}
METHODS.update({name: globals()[name] for name in (
    "acos_", "arccos_", "asin_", "arcsin_", "atan_", "arctan_", "cosh_", "sinh_", "tan_", "expm1_", "log2_",
    "log10_", "lgamma_", "digamma_", "erfinv_", "frac_", "nan_to_num_", "atan2_", "arctan2_", "xlogy_", "fmod_",
    "remainder_", "lerp_")})
METHODS.update(polygamma=_polygamma_method, polygamma_=_polygamma_inplace)
