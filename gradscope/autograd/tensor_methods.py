"""Every Tensor method that computes, bound onto Tensor from this one place, as PyTorch binds its methods:
the torch.* functions with the tensor as first argument (`x.exp()` is `exp(x)`), their in-place variants,
operators, casts, the legacy constructor and `backward`. tensor.py holds only the tensor's state and its
graph properties, so the function library and the engine can build on it without importing it back."""

from __future__ import annotations

from gradscope import _dtypes
from gradscope.autograd import (
    constructors,
    engine,
    indexing_functions,
    legacy,
    linalg_aliases,
    pointwise,
    product_functions,
    products,
    random_functions,
    rearrange,
    reductions,
    scans,
    shape_functions,
    sorting_functions,
    view_inplace,
)
from gradscope.autograd import functions as F
from gradscope.autograd import inplace as I
from gradscope.autograd.tensor import DeviceError, Tensor, check_device, device

_SAME_AS_FUNCTION = (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative", "pow", "square",
    "exp", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tanh", "sigmoid", "relu", "abs",
    "absolute", "sign", "floor", "ceil", "round", "trunc", "clamp", "clip", "clamp_min", "clamp_max", "maximum",
    "minimum", "clone", "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "equal",
    "allclose", "isclose", "nonzero", "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "norm",
    "logsumexp", "var", "std", "prod", "all", "any", "sum_to_size", "matmul", "mm", "bmm", "dot", "mv", "outer",
    "ger", "addmm", "softmax", "log_softmax", "view", "view_as", "reshape", "flatten", "t", "transpose",
    "swapaxes", "swapdims", "permute", "unsqueeze", "squeeze", "expand", "expand_as", "contiguous", "gather",
    "masked_fill", "split", "chunk", "unbind", "where", "erf",
)
_FUNCTIONS = {name: function for module in (F, products, reductions, shape_functions)
              for name, function in vars(module).items()}
for _name in _SAME_AS_FUNCTION:
    setattr(Tensor, _name, _FUNCTIONS[_name])

for _name in I.INPLACE_METHODS:
    setattr(Tensor, _name, getattr(I, _name))

# modules that list their own methods (in-place variants included)
for _module in (pointwise, scans, rearrange, indexing_functions, sorting_functions, product_functions,
                random_functions, constructors, linalg_aliases, view_inplace):
    for _name, _method in _module.METHODS.items():
        setattr(Tensor, _name, _method)


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see autograd.backward)."""
    if gradient is not None and not isinstance(gradient, Tensor):
        raise TypeError(f"'{type(gradient).__name__}' object is not iterable")
    if inputs is not None and isinstance(inputs, Tensor):
        inputs = (inputs,)
    engine.backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph,
                    inputs=inputs, from_tensor_method=True)


Tensor.__new__ = staticmethod(legacy.tensor_new)
Tensor.new = legacy.tensor_method_new
Tensor.backward = _backward


def _to(self, *args, **kwargs):
    """`x.to(torch.float64)`, `x.to('cpu')`, `x.to(other)`: only dtype changes mean anything on CPU."""
    dtype = kwargs.get("dtype")
    check_device(kwargs.get("device"))
    for arg in args:
        if isinstance(arg, _dtypes.dtype):
            dtype = arg
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, device)):
            check_device(arg)
    out = self if dtype is None else F.to_dtype(self, dtype)
    if kwargs.get("copy") and out is self:
        out = F.clone(self)
    return out


def _cast_method(dtype):
    def method(self, memory_format=None):
        return F.to_dtype(self, dtype)
    return method


Tensor.to = _to
Tensor.type_as = lambda self, other: F.to_dtype(self, other.dtype)
Tensor.float = _cast_method(_dtypes.float32)
Tensor.double = _cast_method(_dtypes.float64)
Tensor.half = _cast_method(_dtypes.float16)
Tensor.long = _cast_method(_dtypes.int64)
Tensor.int = _cast_method(_dtypes.int32)
Tensor.bool = _cast_method(_dtypes.bool)
Tensor.cpu = lambda self, memory_format=None: self


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    raise DeviceError("cuda" if device is None else device)


Tensor.cuda = _cuda
Tensor.is_cuda = property(lambda self: False)
Tensor.__getitem__ = shape_functions.getitem
Tensor.__setitem__ = I.setitem
Tensor.T = property(lambda self: shape_functions.permute(self, tuple(range(self._data.ndim))[::-1]))
Tensor.mT = property(lambda self: shape_functions.transpose(self, -2, -1))

# operators
Tensor.__add__ = Tensor.__radd__ = F.add_operator
Tensor.__sub__ = F.sub_operator
Tensor.__rsub__ = F.rsub
Tensor.__mul__ = Tensor.__rmul__ = F.mul
Tensor.__truediv__ = F.div_operator
Tensor.__rtruediv__ = lambda self, other: F.mul(F.reciprocal(self), other)
Tensor.__floordiv__ = lambda self, other: F.div(self, other, rounding_mode="floor")
Tensor.__rfloordiv__ = lambda self, other: F.div(F._tensor_like(other), self, rounding_mode="floor")
Tensor.__mod__ = lambda self, other: F.sub(self, F.mul(F.div(self, other, rounding_mode="floor"), other))
Tensor.__pow__ = F.pow
Tensor.__rpow__ = lambda self, other: F.pow(other, self)
Tensor.__matmul__ = products.matmul
Tensor.__rmatmul__ = lambda self, other: products.matmul(F._tensor_like(other), self)
Tensor.__neg__ = F.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = F.abs
Tensor.__eq__ = F.eq
Tensor.__ne__ = F.ne
Tensor.__lt__ = F.lt
Tensor.__le__ = F.le
Tensor.__gt__ = F.gt
Tensor.__ge__ = F.ge
Tensor.__and__ = Tensor.__rand__ = F.logical_and
Tensor.__or__ = Tensor.__ror__ = F.logical_or
Tensor.__xor__ = Tensor.__rxor__ = F.logical_xor
Tensor.__invert__ = F.logical_not
Tensor.__iadd__ = I.add_
Tensor.__isub__ = I.sub_
Tensor.__imul__ = I.mul_
Tensor.__itruediv__ = I.div_
