"""The torch.* functions on tensors (also bound as Tensor methods): argument handling, dtype
promotion, then one primitive from the op table."""

from __future__ import annotations

import builtins
import math

import numpy as np

from gradscope import _dtypes
from gradscope._quiet import loud, quiet
from gradscope._shapes import normalize_dim
from gradscope.autograd import fused
from gradscope.autograd.dispatch import apply, apply_holding
from gradscope.autograd.refusals import any_complex, argument_type_error, refuse_complex_clamp, refuse_kinds
from gradscope.autograd.saved import FLOAT32_SCALARS, FLOAT64_SCALARS, scalar_array
from gradscope.autograd.tensor import Tensor
from gradscope.ops import elementwise as E
from gradscope.ops import losses as L
from gradscope.ops import nn as N
from gradscope.ops import shape as S

_dim = normalize_dim


def _to_array(obj) -> np.ndarray | object:
    """Nested lists/tuples of numbers and tensors, ndarrays, scalars → an ndarray."""
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, (list, tuple)):
        if builtins.any(isinstance(item, Tensor) for item in obj):
            return np.array([_to_array(item) for item in obj])
        return np.array(obj)
    return np.asarray(obj)


def _infer_dtype(array: np.ndarray) -> np.dtype:
    kind = array.dtype.kind
    if kind == "f":
        return _dtypes.get_default_dtype().numpy if array.dtype == np.float64 else array.dtype
    if kind in "iu":
        return array.dtype if array.dtype != np.int32 else np.dtype(np.int64)
    if kind == "b":
        return array.dtype
    if kind == "c":  # Python complex numbers take the default dtype's complex counterpart, as floats take it
        if array.dtype == np.complex128:
            return np.dtype(np.complex64) if _dtypes.get_default_dtype().numpy == np.float32 else array.dtype
        return array.dtype
    raise TypeError(f"Could not infer dtype of {array.dtype}")


def _tensor_like(value, like: np.ndarray | None = None) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._make(np.asarray(value, dtype=like))


# ------------------------------------------------------------------------------- arithmetic
_FLOAT64, _FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)  # NumPy's own instances: `is` finds them


def _number(value):
    """A NumPy scalar as the Python number PyTorch's argument parser makes of it: a weak number, so that
    x / np.sqrt(d) keeps a float32 x's dtype (NumPy's float64 would promote it). np.bool_ stays as it is."""
    return value.item() if isinstance(value, np.number) else value


def _operands(a, b) -> list:
    """The arrays a binary op computes on, promoted as PyTorch promotes (Python numbers stay weak)."""
    if type(a) is Tensor:  # the two common cases first: tensor (op) float, tensor (op) same-dtype tensor
        da = a._data
        if type(b) is float:
            dtype = da.dtype
            if dtype is _FLOAT64 or dtype is _FLOAT32 or dtype.kind in "fc":
                return [da, b]
        elif type(b) is Tensor and b._data.dtype is da.dtype:
            return [da, b._data]
    da = a._data if isinstance(a, Tensor) else _number(a)
    db = b._data if isinstance(b, Tensor) else _number(b)
    if isinstance(da, np.ndarray):
        if isinstance(db, np.ndarray):
            if da.dtype == db.dtype:
                return [da, db]
        elif type(db) is float and da.dtype.kind in "fc":
            return [da, db]  # a Python number never changes a tensor's dtype within its category
        elif type(db) is int and da.dtype.kind in "fc":
            return [da, _dtypes.scalar_int(db)]
        elif type(db) is int and da.dtype.kind in "iu":
            return [da, _dtypes.wrapped_int(db, da.dtype)]
    elif type(da) is float and db.dtype.kind in "fc":
        return [da, db]
    elif type(da) is int and db.dtype.kind in "fc":
        return [_dtypes.scalar_int(da), db]
    elif type(da) is int and db.dtype.kind in "iu":
        return [_dtypes.wrapped_int(da, db.dtype), db]
    if isinstance(db, (list, tuple)) or isinstance(da, (list, tuple)):
        raise TypeError("unsupported operand type(s): a Tensor and a list")
    common = _dtypes.result_type((da, db))
    return [_cast(da, common), _cast(db, common)]


def _checked_number(number, tensor):
    """A Python int param of an op on an integer tensor (alpha, value, a clamp bound, where's other) as PyTorch converts
    it (c10::checked_convert): out of the dtype's range, its error ('value cannot be converted to type int8_t without
    overflow') where NumPy raises its own OverflowError or wraps; a small negative for an unsigned dtype wrapped (-1 is
    255 for uint8), where NumPy refuses it."""
    if type(number) is int:
        if isinstance(tensor, Tensor) and tensor._data.dtype.kind in "iu":
            return _dtypes.checked_scalar(number, tensor._data.dtype)
        return _dtypes.scalar_int(number)  # beyond 64 bits PyTorch's OverflowError, before any other check
    return number


def _floating_operands(a, b) -> list:
    """The operands of an op computing integers and bools in the default float dtype (true division, atan2, xlogy …):
    `_operands`, or if those are integers each operand cast from its own dtype to the float one, as PyTorch's kernels
    cast them (through their common integer dtype, int8 / tensor(300) and int8 / 300 would divide by 44)."""
    arrays = _operands(a, b)
    if np.result_type(*arrays).kind in "fc":
        return arrays
    target = _dtypes.get_default_dtype().numpy
    values = [a._data if isinstance(a, Tensor) else a, b._data if isinstance(b, Tensor) else b]
    return [v.astype(target) if isinstance(v, np.ndarray) else float(v) for v in values]


def _arithmetic_operands(a, b) -> list:
    """`_operands` for the arithmetic operators, whose arrays are only computed on: a Python float beside a
    float32 or float64 tensor comes as a 0-dim array of the tensor's dtype (saved.scalar_array). The node
    keeps the number itself: `_saved_other` shows it as PyTorch shows a wrapped number."""
    if type(a) is Tensor and type(b) is float:
        da = a._data
        dtype = da.dtype
        if dtype is _FLOAT64 or dtype is _FLOAT32:
            arrays = FLOAT64_SCALARS if dtype is _FLOAT64 else FLOAT32_SCALARS
            array = arrays.get(b)
            return [da, array if array is not None else scalar_array(b, dtype, arrays)]
    return _operands(a, b)


def _cast(value, dtype):
    if isinstance(value, np.ndarray):
        return value if value.dtype == dtype else value.astype(dtype)
    if isinstance(value, (bool, np.bool_)) and dtype.kind != "b":
        return int(value)
    return value


def _binary(op, a, b, params=()):
    return apply(op, (a, b), params, _operands(a, b))


def add(input, other, *, alpha=1):
    if type(alpha) is int and alpha == 1:
        params = _ALPHA_ONE  # no new tuple in the common case
    else:
        other, params = _scaled_by_alpha(input, other, alpha)
    return apply(E.add, (input, other), params, _arithmetic_operands(input, other))


_ALPHA_ONE = (1,)


def _scaled_by_alpha(input, other, alpha):
    """add's and sub's `other` and params for an alpha other than 1: an int times an integer tensor's alpha is
    PyTorch's product in the dtype, wrapped as `other` is; otherwise alpha goes to the op."""
    alpha = _checked_number(alpha, input)
    if type(other) is int and isinstance(input, Tensor) and input._data.dtype.kind in "iu":
        return other * alpha, _ALPHA_ONE
    return other, (alpha,)


def _bool_operand(value) -> bool:
    return type(value) is bool or isinstance(value, Tensor) and value._data.dtype.kind == "b"


def _refuse_bool_subtraction(a, b) -> None:
    """PyTorch refuses a subtraction with a bool operand, a tensor or a Python bool (NumPy computes it)."""
    if _bool_operand(a) and _bool_operand(b):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if _bool_operand(a) or _bool_operand(b):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")


def sub(input, other, *, alpha=1):
    if type(other) is bool or isinstance(input, Tensor) and input._data.dtype.kind == "b" or (
            isinstance(other, Tensor) and other._data.dtype.kind == "b"):  # inline: sub is common
        _refuse_bool_subtraction(input, other)
    if type(alpha) is int and alpha == 1:
        params = _ALPHA_ONE  # no new tuple in the common case
    else:
        other, params = _scaled_by_alpha(input, other, alpha)
    return apply(E.sub, (input, other), params, _arithmetic_operands(input, other))


subtract = sub


def rsub(input, other, *, alpha=1):
    """`other - alpha * input` (what `1 - x` calls)."""
    _refuse_bool_subtraction(input, other)
    arrays = _operands(input, other)
    if isinstance(other, Tensor):
        return apply(E.rsub_tensor, (input, other), (alpha,), arrays)
    return apply(E.rsub, (input,), (arrays[1], alpha), arrays[:1])


# `1 - x`: the operator, which never passes alpha
rsub_operator = fused.with_number(E.rsub, rsub, _ALPHA_ONE)


def mul(input, other):
    if isinstance(other, np.number):  # the node keeps the number: a Python one, as PyTorch's (see _number)
        other = other.item()
    return apply(E.mul, (input, other), (), _arithmetic_operands(input, other))


mul = fused.binary(E.mul, mul)


multiply = mul


_MODE_NOT_GIVEN = "<rounding_mode not given>"
_ROUNDING_MODES = (None, "trunc", "floor")


def div(input, other, *, rounding_mode=_MODE_NOT_GIVEN):
    """input / other; rounded toward zero or down with `rounding_mode` "trunc" or "floor" (DivBackward2, whose
    gradients are zero: PyTorch records it whenever the mode is given, None too)."""
    if isinstance(other, np.number):  # the node keeps the number: a Python one, as PyTorch's (see _number)
        other = other.item()
    arrays = _arithmetic_operands(input, other)
    common = np.result_type(*arrays)
    if rounding_mode is _MODE_NOT_GIVEN:
        if common.kind in "biu":  # integer division gives the default float dtype
            arrays = _floating_operands(input, other)
        return apply(E.div, (input, other), (), arrays)
    if rounding_mode not in _ROUNDING_MODES:
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    if rounding_mode is None and common.kind in "biu":
        arrays = _floating_operands(input, other)
    return apply(E.div_rounded, (input, other), (rounding_mode,), arrays)


divide = true_divide = div
# `a + b`, `a - b`, `a / b`: the operators, which never pass alpha or a rounding mode
add_operator = fused.binary(E.add, add, _ALPHA_ONE, np.add)
sub_operator = fused.binary(E.sub, sub, _ALPHA_ONE, np.subtract)
div_operator = fused.binary(E.div, div)


def neg(input):
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return apply(E.neg, (input,))


neg = fused.unary(E.neg, neg)


negative = neg


def pow(input, exponent):  # noqa: A001
    if not isinstance(input, Tensor):
        input, data = _number(input), np.asarray(exponent._data)
        if data.dtype.kind in "biu" and isinstance(input, float):
            data = data.astype(_dtypes.get_default_dtype().numpy)
        elif data.dtype.kind in "iu" and type(input) is int:  # 300 ** int8 is 44 ** int8, a wrapped number
            input = _dtypes.wrapped_int(input, data.dtype)
        elif type(input) is int:
            _dtypes.scalar_int(input)
        return apply(E.pow_base_scalar, (exponent,), (input,), [data])
    if isinstance(exponent, Tensor):
        if input._data.dtype.kind == "b" and exponent._data.dtype.kind == "b":
            raise NotImplementedError('"pow" not implemented for \'Bool\'')
        return _binary(E.pow_tensor, input, exponent)
    exponent = _number(exponent)
    if type(exponent) is int and input._data.dtype.kind in "biu":
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if input._data.dtype.kind != "b":  # the exponent converts checked (int8 ** 300 raises)
            _dtypes.checked_scalar(exponent, input._data.dtype)
    return apply(E.pow_scalar, (input,), (exponent,), _operands(input, exponent)[:1])


pow = fused.with_number(E.pow_scalar, pow)  # noqa: A001


def square(input):
    return pow(input, 2)


def _float_input(x: Tensor) -> list:
    data = x._data
    if data.dtype.kind in "biu":
        data = data.astype(_dtypes.get_default_dtype().numpy)
    return [data]


def _unary(op):
    def function(input):
        return apply(op, (input,), (), _float_input(input))
    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = f"Elementwise {op.name} (node {op.node_name})."
    return fused.unary(op, function)


exp = _unary(E.exp)
log = _unary(E.log)
log1p = _unary(E.log1p)
sqrt = _unary(E.sqrt)
rsqrt = _unary(E.rsqrt)
reciprocal = _unary(E.reciprocal)
sin = _unary(E.sin)
cos = _unary(E.cos)
tanh = _unary(E.tanh)
sigmoid = _unary(E.sigmoid)
silu = _unary(E.silu)


def relu(input):
    kind = input._data.dtype.kind  # NOTE: float32/float64 inputs come here only while observed (fused.unary)
    if kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    return apply(E.relu, (input,))


relu = fused.unary(E.relu, relu, E.RELU_FLOAT_FORWARDS)


def _refuse_bool(kernel: str, input) -> None:
    """PyTorch has no bool kernel for these (NumPy has one)."""
    if input._data.dtype.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def abs(input):  # noqa: A001
    _refuse_bool("abs_cpu", input)
    return apply(E.abs, (input,))


abs = fused.unary(E.abs, abs)


absolute = abs


def sign(input):
    kind = input._data.dtype.kind
    if kind == "b":
        return Tensor._make(input._data.copy())
    if kind == "c":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
                                  "torch.sgn instead.")
    return apply(E.sign, (input,))


def _refuse_rounding(name: str, input) -> None:
    """floor, ceil, round and trunc: PyTorch's kernels have no bool loop and refuse complex numbers."""
    kind = input._data.dtype.kind
    if kind == "b":
        raise NotImplementedError(f'"{name}_vml_cpu" not implemented for \'Bool\'')
    if kind == "c":
        raise NotImplementedError(f"{name} is not supported for complex inputs")


def floor(input):
    _refuse_rounding("floor", input)
    return apply(E.floor, (input,))


def ceil(input):
    _refuse_rounding("ceil", input)
    return apply(E.ceil, (input,))


def round(input, *, decimals=None):  # noqa: A001
    """To the nearest integer (halves to even), or to `decimals` decimal places (RoundBackward1 once
    `decimals` is given, 0 included, as PyTorch's round.decimals)."""
    _refuse_bool("round_vml_cpu", input)
    refuse_kinds(input, "c", "round_vml_cpu" if not decimals else "round_cpu")
    if decimals is None:
        return apply(E.round, (input,))
    return apply(E.round_decimals, (input,), (int(decimals),))


def trunc(input):
    _refuse_rounding("trunc", input)
    return apply(E.trunc, (input,))


def leaky_relu(input, negative_slope=0.01):
    refuse_kinds(input, "c", "leaky_relu_cpu")
    return apply(E.leaky_relu, (input,), (negative_slope,))


def clamp(input, min=None, max=None):  # noqa: A002, F811 - PyTorch's parameter names
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    refuse_complex_clamp(input)
    min, max = _number(min), _number(max)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_by_tensors(E.clamp_tensor, input, (min, max))
    min, max = _checked_number(min, input), _checked_number(max, input)
    common = _dtypes.result_type([input._data] + [bound for bound in (min, max) if bound is not None])
    return apply(E.clamp, (input,), (min, max), [_cast(input._data, common)])


def _clamp_by_tensors(op, input, bounds):
    """Bounds that are tensors are inputs of the op, promoted with `input` (0-dim ones count less); a missing bound
    (None) is the common dtype's end, which promotes nothing (an integer input stays integer)."""
    given = [b._data if isinstance(b, Tensor) else b for b in bounds]
    common = _dtypes.result_type([input._data] + [b for b in given if b is not None])
    ends = (np.iinfo(common).min, np.iinfo(common).max) if common.kind in "iu" else (-math.inf, math.inf)
    bounds = tuple(end if b is None else b for b, end in zip(bounds, ends))
    arrays = [input._data] + [end if b is None else b for b, end in zip(given, ends)]
    return apply(op, (input, *bounds), (), [_cast(a, common) for a in arrays])


clip = clamp


def clamp_min(input, min):  # noqa: A002, F811
    refuse_complex_clamp(input)
    min = _number(min)
    if isinstance(min, Tensor):
        return _clamp_by_tensors(E.clamp_min_tensor, input, (min,))
    return apply(E.clamp_min, (input,), (min,), [_cast(input._data, _dtypes.result_type([input._data, min]))])


def clamp_max(input, max):  # noqa: A002, F811
    refuse_complex_clamp(input)
    max = _number(max)
    if isinstance(max, Tensor):
        return _clamp_by_tensors(E.clamp_max_tensor, input, (max,))
    return apply(E.clamp_max, (input,), (max,), [_cast(input._data, _dtypes.result_type([input._data, max]))])


def _tensors_only(function: str, input, other) -> None:
    """PyTorch's argument parser's error for an operand that is not a tensor (a number)."""
    for name, position, value in (("input", 1, input), ("other", 2, other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, not "
                            f"{type(value).__name__}")


def maximum(input, other):
    _tensors_only("maximum", input, other)
    if any_complex(input, other):
        raise RuntimeError("maximum not implemented for complex tensors.")
    return _binary(E.maximum, input, other)


def minimum(input, other):
    _tensors_only("minimum", input, other)
    if any_complex(input, other):
        raise RuntimeError("minimum not implemented for complex tensors.")
    return _binary(E.minimum, input, other)


def where(condition, input=None, other=None):
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor._make(np.asarray(input, dtype=_dtypes.result_type((input,))))
    input, other = _checked_number(input, other), _checked_number(other, input)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    return apply_holding(E.where, (input, other), (cond.astype(bool, copy=False),),
                         (condition if isinstance(condition, Tensor) else None,), _operands(input, other))


def _where_method(self, *args, **kwargs):
    """Tensor.where(condition, other): torch.where(condition, self, other), as PyTorch's method."""
    bound = dict(zip(("condition", "other"), args))
    bound.update(kwargs)
    if len(args) + len(kwargs) != 2 or set(bound) != {"condition", "other"}:
        shown = [type(a).__name__ if not isinstance(a, Tensor) else "Tensor" for a in args]
        shown += [f"{k}={type(v).__name__ if not isinstance(v, Tensor) else 'Tensor'}" for k, v in kwargs.items()]
        raise TypeError(f"where() received an invalid combination of arguments - got ({', '.join(shown)}), but "
                        "expected one of:\n * (Tensor condition, Tensor other)\n * (Tensor condition, Number other)\n")
    return where(bound["condition"], self, bound["other"])


def clone(input, *, memory_format=None):
    return apply(E.clone, (input,))


def _copy_backwards(input):
    return apply(S.copy_backwards, (input,))


def to_dtype(input, dtype):
    np_dtype = _dtypes.to_numpy_dtype(dtype)
    if input._data.dtype == np_dtype:
        return input
    if np_dtype.kind not in "fc":  # no gradient: the cast alone, silent as PyTorch's on NaN, inf or out of range
        token = quiet()
        try:
            return Tensor._make(E.to_dtype(input._data, np_dtype))
        finally:
            loud(token)
    return apply(E.to_copy, (input,), (np_dtype,))


# ------------------------------------------------------------------------------- comparisons
def _compare(ufunc):
    def function(input, other):
        return Tensor._make(np.asarray(ufunc(*_operands(input, other))))
    function.__name__ = ufunc.__name__
    return function


eq = _compare(np.equal)
ne = _compare(np.not_equal)
def _ordered(ufunc, kernel: str):
    """An order comparison: PyTorch's kernels refuse complex numbers (NumPy orders them lexicographically)."""
    def function(input, other):
        arrays = _operands(input, other)
        common = np.result_type(*arrays)
        if common.kind == "c":
            name = _dtypes.from_numpy_dtype(common).legacy_name[:-6]
            raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{name}\'')
        return Tensor._make(np.asarray(ufunc(*arrays)))
    function.__name__ = ufunc.__name__
    return function


lt = _ordered(np.less, "lt")
le = _ordered(np.less_equal, "le")
gt = _ordered(np.greater, "gt")
ge = _ordered(np.greater_equal, "ge")
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def logical_not(input):
    return Tensor._make(np.logical_not(input._data))


def isnan(input):
    return Tensor._make(np.isnan(input._data))


def isinf(input):
    return Tensor._make(np.isinf(input._data))


def isfinite(input):
    return Tensor._make(np.isfinite(input._data))


def equal(input, other) -> bool:
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


def _closeness_operands(function: str, input, other) -> None:
    """isclose and allclose compare two tensors of one dtype: PyTorch's errors for a number or another dtype (a
    float64 tensor beside `tensor(0.0)` too)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"{function}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    if input._data.dtype != other._data.dtype:
        names = (_dtypes.from_numpy_dtype(t._data.dtype).legacy_name[:-6] for t in (input, other))  # "Double"
        raise RuntimeError("{} did not match {}".format(*names))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    _closeness_operands("allclose", input, other)
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    _closeness_operands("isclose", input, other)
    return Tensor._make(np.isclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def nonzero(input, *, as_tuple=False):
    if as_tuple:
        if not input._data.ndim:  # a 0-dim tensor as a 1-element one (NumPy refuses it)
            return (Tensor._make(np.flatnonzero(input._data)),)
        return tuple(Tensor._make(i) for i in np.nonzero(input._data))
    return Tensor._make(np.argwhere(input._data))


# ------------------------------------------------------------------------------- nn primitives
def gelu(input, approximate: str = "none"):
    refuse_kinds(input, "c", "GeluKernelImpl")
    return apply(N.gelu, (input,), (approximate,), _float_input(input))


def erf(input):
    refuse_kinds(input, "c", "erf_vml_cpu")
    return apply(N.erf, (input,), (), _float_input(input))


erf = fused.unary(N.erf, erf)


_REQUIRED = object()


def _dim_argument(function: str, dim, keyword: dict, position: int) -> int:
    """softmax's `dim` as PyTorch's argument parser takes it: an int or anything with __index__ but a bool, by
    position or as `dim=` (its errors name the position of one given by position: 1 for the Tensor method)."""
    if keyword:
        if dim is _REQUIRED and keyword.keys() == {"axis"}:  # NumPy's name, which PyTorch's parser takes for dim
            keyword = {"dim": keyword["axis"]}
        unexpected = next((name for name in keyword if name != "dim"), None)
        if unexpected is not None:
            raise TypeError(f"{function}() got an unexpected keyword argument '{unexpected}'")
        dim, position = keyword["dim"], None
    if dim is _REQUIRED:
        raise TypeError(f'{function}() missing 1 required positional arguments: "dim"')
    if isinstance(dim, bool) or not hasattr(type(dim), "__index__"):
        raise argument_type_error(function, "dim", "int", dim, position)
    return dim


# NOTE: `dim=` given by keyword lands in `keyword` (the parameter has another name), so that an error can say whether
# dim came by position, as PyTorch's parser's errors do
def softmax(input, dim_by_position=_REQUIRED, dtype=None, **keyword):
    dim = dim_by_position
    if keyword or type(dim) is not int:
        dim = _dim_argument("softmax", dim, keyword, 2)
    if dtype is not None:  # PyTorch casts first (ToCopyBackward0 under the node)
        input = input.to(dtype)
    dim = _dim(dim, input._data.ndim)
    if input._data.dtype.kind != "f":
        return _softmax_of_non_floats("softmax", input, dim)
    return apply(N.softmax, (input,), (dim,))


def log_softmax(input, dim_by_position=_REQUIRED, dtype=None, **keyword):
    dim = dim_by_position
    if keyword or type(dim) is not int:
        dim = _dim_argument("log_softmax", dim, keyword, 2)
    if dtype is not None:
        input = input.to(dtype)
    dim = _dim(dim, input._data.ndim)
    if input._data.dtype.kind != "f":
        return _softmax_of_non_floats("log_softmax", input, dim)
    return apply(N.log_softmax, (input,), (dim,))


def _softmax_method(self, dim_by_position=_REQUIRED, dtype=None, **keyword):
    dim = dim_by_position
    if keyword or type(dim) is not int:
        dim = _dim_argument("softmax", dim, keyword, 1)
    return softmax(self, dim, dtype)


def _log_softmax_method(self, dim_by_position=_REQUIRED, dtype=None, **keyword):
    dim = dim_by_position
    if keyword or type(dim) is not int:
        dim = _dim_argument("log_softmax", dim, keyword, 1)
    return log_softmax(self, dim, dtype)


def _softmax_of_non_floats(name: str, input, dim: int):
    """PyTorch's softmax kernels take floating dtypes only (integers, bools, complex raise); an empty tensor never
    reaches a kernel and comes back as it is."""
    data = input._data
    if data.size == 0:
        return Tensor._make(data.copy())
    kernel = f"{name}_lastdim_kernel_impl" if dim >= data.ndim - 1 else f"{name}_kernel_impl"
    type_name = _dtypes.from_numpy_dtype(data.dtype).legacy_name[:-6]  # "LongTensor" -> "Long"
    raise NotImplementedError(f'"{kernel}" not implemented for \'{type_name}\'')


def mse_loss(input, target, reduction=N.MEAN):
    return _binary(L.mse_loss, input, target, (reduction,))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction=N.MEAN):
    w = None if weight is None else weight._data
    return apply_holding(N.nll_loss, (input,), (target._data, w, reduction, ignore_index), (target, weight))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=N.MEAN):
    # input and target of one shape: nn.functional's checks that first, in PyTorch's words
    w = None if weight is None else weight._data
    pw = None if pos_weight is None else pos_weight._data
    arrays = _operands(input, target)
    if target._data.dtype.kind == "f":  # the loss takes the target's dtype (see ops.nn._bce_logits)
        arrays[1] = target._data
    return apply_holding(N.binary_cross_entropy_with_logits, (input, target), (w, pw, reduction), (weight, pos_weight),
                         arrays)

