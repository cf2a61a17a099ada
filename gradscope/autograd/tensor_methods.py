"""Every Tensor method that computes, bound onto Tensor from this one place, as PyTorch binds its methods:
the torch.* functions with the tensor as first argument (`x.exp()` is `exp(x)`), their in-place variants,
operators, casts, the legacy constructor and `backward`. tensor.py holds only the tensor's state and its
graph properties, so the function library and the engine can build on it without importing it back."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from gradscope import _dtypes
from gradscope.autograd import (
    bitwise,
    complex_functions,
    composites,
    constructors,
    engine,
    errors,
    grad_mode,
    indexing_functions,
    inplace_forms,
    legacy,
    linalg_aliases,
    numpy_names,
    placement_functions,
    pointwise,
    pointwise_extra,
    product_functions,
    products,
    random_functions,
    rearrange,
    reductions,
    scans,
    shape_functions,
    short_time,
    sorting_functions,
    statistics_functions,
    view_inplace,
)
from gradscope.autograd import functions as F
from gradscope.autograd import inplace as I
from gradscope.autograd.grad_mode import inference_enabled
from gradscope.autograd.tensor import DeviceError, Tensor, check_device, device

_SAME_AS_FUNCTION = (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative", "pow", "square",
    "exp", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tanh", "sigmoid", "relu", "abs",
    "absolute", "sign", "floor", "ceil", "round", "trunc", "clamp", "clip", "clamp_min", "clamp_max", "maximum",
    "minimum", "clone", "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "equal",
    "allclose", "isclose", "nonzero", "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "norm",
    "logsumexp", "var", "std", "prod", "all", "any", "sum_to_size", "matmul", "mm", "bmm", "dot", "mv", "outer",
    "ger", "addmm", "view", "view_as", "reshape", "flatten", "t", "transpose",
    "swapaxes", "swapdims", "permute", "unsqueeze", "squeeze", "expand", "expand_as", "contiguous", "gather",
    "masked_fill", "split", "chunk", "unbind", "erf",
)
_FUNCTIONS = {name: function for module in (F, products, reductions, shape_functions)
              for name, function in vars(module).items()}
for _name in _SAME_AS_FUNCTION:
    setattr(Tensor, _name, _FUNCTIONS[_name])

# PyTorch's parser numbers the method's arguments from 1, the function's from 2 (its errors say which)
Tensor.softmax, Tensor.log_softmax = F._softmax_method, F._log_softmax_method
Tensor.where = F._where_method  # the tensor is the values where the condition holds, not the condition

for _name in I.INPLACE_METHODS:
    setattr(Tensor, _name, getattr(I, _name))

# modules that list their own methods (in-place variants included)
for _module in (pointwise, scans, rearrange, indexing_functions, sorting_functions, product_functions,
                random_functions, constructors, linalg_aliases, view_inplace, statistics_functions,
                placement_functions, composites, pointwise_extra, inplace_forms, bitwise):
    for _name, _method in _module.METHODS.items():
        setattr(Tensor, _name, _method)


def _loaded_on_first_call(name: str):
    """Tensor.`name` for a deprecated (or removed) torch.* LU-family function (linalg_torch_forms), which loads when
    first called: `import gradscope` doesn't load the LU family for methods scripts rarely call."""
    def method(self, *args, **kwargs):
        from gradscope.autograd import linalg_torch_forms  # noqa: PLC0415 - lazy on purpose, see above
        return linalg_torch_forms.METHODS[name](self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


for _name in ("lu", "lu_solve", "triangular_solve", "solve", "eig", "lstsq", "symeig"):
    setattr(Tensor, _name, _loaded_on_first_call(_name))


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see autograd.backward)."""
    if gradient is None and inputs is None and not create_graph:  # loss.backward()
        engine.scalar_backward(self, retain_graph)
        return
    if gradient is not None and not isinstance(gradient, Tensor):
        raise TypeError(f"'{type(gradient).__name__}' object is not iterable")
    if inputs is not None and isinstance(inputs, Tensor):
        inputs = (inputs,)
    elif inputs is not None and not all(isinstance(t, Tensor) for t in inputs):
        from gradscope.autograd import graph  # noqa: PLC0415 - lazy on purpose (built on the engine): gradient edges
        inputs = graph.as_differentiable(inputs)
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
Tensor.cfloat = _cast_method(_dtypes.complex64)
Tensor.cdouble = _cast_method(_dtypes.complex128)
Tensor.cpu = lambda self, memory_format=None: self


def _resize_(self, *sizes, memory_format=None):
    """The tensor reshaped in place to `sizes`, its elements kept in order as far as both reach (PyTorch leaves the
    rest uninitialized; zeros here). A new version, as PyTorch's, unless the shape is already `sizes` (a no-op)."""
    if self.requires_grad and not inference_enabled.get():  # PyTorch's autograd check, skipped in inference mode
        raise RuntimeError("cannot resize variables that require grad")
    shape = shape_functions._size_arg(sizes, "resize_", "size")
    data = self._data
    if tuple(shape) == data.shape:
        return self
    count = int(np.prod(shape))
    if count == data.size:
        self._data = data.reshape(shape)
    else:
        resized = np.zeros(shape, data.dtype)
        kept = min(count, data.size)
        resized.reshape(-1)[:kept] = data.reshape(-1)[:kept]
        self._data = resized
    self._version_counter[0] += 1
    return self


Tensor.resize_ = _resize_
Tensor.resize_as_ = lambda self, the_template, memory_format=None: _resize_(self, the_template.shape)


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    raise DeviceError("cuda" if device is None else device)


Tensor.cuda = _cuda
Tensor.is_cuda = property(lambda self: False)
Tensor.byte = _cast_method(_dtypes.uint8)
Tensor.char = _cast_method(_dtypes.int8)
Tensor.short = _cast_method(_dtypes.int16)
Tensor.bfloat16 = _cast_method(_dtypes.bfloat16)  # a clear TypeError: NumPy has no bfloat16

# where the tensor lives and how: on the CPU, dense, in its own (never pinned or shared) memory
Tensor.is_cpu = property(lambda self: True)
for _other_device in ("is_mps", "is_xpu", "is_xla", "is_ipu", "is_mtia", "is_maia", "is_vulkan", "is_mkldnn",
                      "is_nested"):
    setattr(Tensor, _other_device, property(lambda self: False))
Tensor.get_device = lambda self: -1
Tensor.layout = property(lambda self: _dtypes.strided)
Tensor.nbytes = property(lambda self: self._data.nbytes)
Tensor.itemsize = property(lambda self: self._data.itemsize)
Tensor.is_pinned = lambda self, device=None: False


def _volatile(self) -> bool:
    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
    return False


def _set_volatile(self, value) -> None:
    warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.", UserWarning,
                  stacklevel=2)


Tensor.volatile = property(_volatile, _set_volatile)  # PyTorch's Variable.volatile, removed: always False
Tensor.is_shared = lambda self: False
Tensor.share_memory_ = lambda self: self  # one process's NumPy memory: nothing to move
Tensor.is_distributed = lambda self: False
Tensor.is_sparse_csr = property(lambda self: False)
Tensor.is_signed = lambda self: self.dtype.is_signed


def _pin_memory(self, device=None):
    raise RuntimeError("Cannot access accelerator device when none is available.")


def _dim_order(self, *, ambiguity_check=False) -> tuple[int, ...]:
    """The dimensions from outermost to innermost in memory (by decreasing stride)."""
    strides = self.stride()
    return tuple(sorted(range(len(strides)), key=lambda d: -strides[d]))


def _is_contiguous(self, memory_format=_dtypes.contiguous_format) -> bool:
    if memory_format in (_dtypes.contiguous_format, _dtypes.preserve_format):
        return self._data.flags.c_contiguous
    order = {_dtypes.channels_last: (0, 2, 3, 1), _dtypes.channels_last_3d: (0, 2, 3, 4, 1)}.get(memory_format)
    if order is None or self._data.ndim != len(order):
        return False
    expected, sizes, strides = 1, self.shape, self.stride()
    for d in reversed(order):  # innermost first: channels, then width, height …
        if sizes[d] != 1 and strides[d] != expected:
            return False
        expected *= sizes[d]
    return True


Tensor.pin_memory = _pin_memory
Tensor.dim_order = _dim_order
Tensor.is_contiguous = _is_contiguous


def _is_nonzero(self) -> bool:
    if self._data.size != 1:
        which = "no values" if self._data.size == 0 else "more than one value"
        raise RuntimeError(f"Boolean value of Tensor with {which} is ambiguous")
    return bool(self._data.reshape(()))


Tensor.is_nonzero = _is_nonzero
Tensor.is_same_size = lambda self, other: self.shape == other.shape

Tensor.conj, Tensor.conj_physical = complex_functions.conj, complex_functions.conj_physical
Tensor.resolve_conj, Tensor.resolve_neg = complex_functions.resolve_conj, complex_functions.resolve_neg
Tensor.is_conj, Tensor.is_neg = complex_functions.is_conj, complex_functions.is_neg
Tensor.real = property(complex_functions.real)
Tensor.imag = property(complex_functions.imag)
Tensor.stft, Tensor.istft = short_time.stft, short_time.istft


def _conjugate_transpose_of_matrix(self):
    if self._data.ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().", UserWarning, stacklevel=2)
        return complex_functions.conj(self)
    if self._data.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self._data.ndim}-D tensor."
                           + (" For batches of matrices, consider using tensor.mH" if self._data.ndim > 2 else ""))
    return shape_functions.transpose(complex_functions.conj(self), 0, 1)


def _adjoint(self, name: str = "mH"):
    """x.mH, or x.adjoint() (`name` "adjoint()"): their deprecation and error name them as PyTorch's do."""
    if self._data.ndim == 0:  # PyTorch's deprecation, once per process
        errors.warn_once(f"{name}_0d", f"{'Tensor.mH' if name == 'mH' else name} is deprecated on 0-D tensors. "
                         "Consider using x.conj().")
        return complex_functions.conj(self)
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return shape_functions.transpose(complex_functions.conj(self), -2, -1)


Tensor.H = property(_conjugate_transpose_of_matrix)
Tensor.mH = property(_adjoint)
Tensor.adjoint = lambda self: _adjoint(self, "adjoint()")


def _apply_elementwise(name: str, self, values, function):
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    flat = [function(*args) for args in zip(*(v._data.reshape(-1).tolist() for v in values))]
    with grad_mode.no_grad():
        self.copy_(Tensor._make(np.asarray(flat, dtype=self._data.dtype).reshape(self._data.shape)))
    return self


Tensor.apply_ = lambda self, callable: _apply_elementwise("apply_", self, (self,), callable)
Tensor.map_ = lambda self, tensor, callable: _apply_elementwise(
    "map_", self, (self, F._tensor_like(tensor).expand_as(self)), callable)
Tensor.__getitem__ = shape_functions.getitem
Tensor.__setitem__ = I.setitem
def _reversed(self):
    ndim = self._data.ndim
    if ndim != 2:  # PyTorch's deprecations, once per process
        if ndim == 0:
            errors.warn_once("T_0d", "Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
                             "cases.")
        else:
            errors.warn_once("T_not_2d", "The use of `x.T` on tensors of dimension other than 2 to reverse their "
                             "shape is deprecated and it will throw an error in a future release. Consider `x.mT` to "
                             "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
                             "reverse the dimensions of a tensor.")
    return shape_functions.permute(self, tuple(range(ndim))[::-1])


Tensor.T = property(_reversed)
def _matrix_transpose(self):
    if self._data.ndim == 0:  # PyTorch's deprecation, once per process: the tensor itself
        errors.warn_once("mT_0d", "Tensor.mT is deprecated on 0-D tensors. This function is the identity in these "
                         "cases.")
        return self
    if self._data.ndim == 1:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return shape_functions.transpose(self, -2, -1)


Tensor.mT = property(_matrix_transpose)

# operators
Tensor.__add__ = Tensor.__radd__ = F.add_operator
Tensor.__sub__ = F.sub_operator
Tensor.__rsub__ = F.rsub_operator
Tensor.__mul__ = Tensor.__rmul__ = F.mul
Tensor.__truediv__ = F.div_operator
Tensor.__rtruediv__ = lambda self, other: F.mul(F.reciprocal(self), other)
Tensor.__floordiv__ = pointwise_extra.floor_divide
Tensor.__rfloordiv__ = lambda self, other: pointwise_extra.floor_divide(other, self)
Tensor.__mod__ = pointwise.remainder
Tensor.__rmod__ = lambda self, other: pointwise.remainder(other, self)
Tensor.__pow__ = F.pow
Tensor.__rpow__ = lambda self, other: F.pow(other, self)
Tensor.__matmul__ = products.matmul
Tensor.__rmatmul__ = lambda self, other: products.matmul(F._tensor_like(other), self)
Tensor.__neg__ = F.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = F.abs
# NOTE: as PyTorch's, == and != compare elementwise with tensors, numbers and NumPy values only; with anything else
# (None, a string, a list) they return NotImplemented, so Python compares identities: `t == None` is False, not a
# tensor (`if mask != None:` works), and `t == "a"` is False, not NumPy's error
_ELEMENTWISE_OPERANDS = (Tensor, numbers.Number, np.ndarray, np.generic)


def _eq(self, other):
    return F.eq(self, other) if isinstance(other, _ELEMENTWISE_OPERANDS) else NotImplemented


def _ne(self, other):
    return F.ne(self, other) if isinstance(other, _ELEMENTWISE_OPERANDS) else NotImplemented


Tensor.__eq__ = _eq
Tensor.__ne__ = _ne
Tensor.__lt__ = F.lt
Tensor.__le__ = F.le
Tensor.__gt__ = F.gt
Tensor.__ge__ = F.ge
Tensor.__iadd__ = I.add_
Tensor.__isub__ = I.sub_
Tensor.__imul__ = I.mul_
Tensor.__itruediv__ = Tensor.__idiv__ = I.div_
Tensor.__ifloordiv__ = pointwise_extra.floor_divide_
Tensor.__imod__ = pointwise.remainder_
Tensor.__ipow__ = I.pow_

# NumPy's argument names (x.sum(axis=0, keepdims=True)), as PyTorch's parser takes them for its native methods
numpy_names.bind_numpy_method_names(Tensor, written_in_python=("norm", "split", "unflatten", "unique",
                                                               "unique_consecutive"))
