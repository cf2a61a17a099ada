"""Parameter and Buffer: the tensors a Module registers when they are assigned to it; the uninitialised
placeholders of lazy modules."""

from __future__ import annotations

from gradscope import _dtypes
from gradscope.autograd.factories import empty
from gradscope.autograd.tensor import Tensor

_FLOAT_ONLY = "Only Tensors of floating point and complex dtype can require gradients"


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning one to a Module attribute registers it.

    It shares `data`'s memory and version counter, is a leaf, and requires grad by default.

    >>> p = gradscope.nn.Parameter(gradscope.tensor([1., 2.]))
    >>> p
    Parameter containing:
    tensor([1., 2.], requires_grad=True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, but got {type(data).__name__}")
        param = object.__new__(cls)
        param._init(data._data)
        param._version_counter = data._version_counter
        if requires_grad:
            param._set_requires_grad(True, _FLOAT_ONLY)
        return param

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        """Everything happens in __new__; this only keeps Tensor's legacy constructor from running."""

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


_UNINITIALIZED_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
                        "in `load_state_dict` when trying to load an uninitialized parameter into an initialized one. "
                        "Call `forward` to initialize the parameters before accessing their attributes.")


class _UninitializedTensorMixin:
    """A placeholder of a lazy module: a dtype but no shape until `materialize` gives it one, when it
    becomes a plain Parameter (or tensor) in place, so optimisers built on it keep working."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the placeholder a shape (its values are uninitialised) and become `cls_to_become`."""
        numpy_dtype = self._data.dtype if dtype is None else dtype.numpy
        self._data = empty(*shape, dtype=_dtypes.from_numpy_dtype(numpy_dtype))._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_UNINITIALIZED_SHAPE)

    def size(self, dim=None):
        raise RuntimeError(_UNINITIALIZED_SHAPE)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__


class UninitializedParameter(_UninitializedTensorMixin, Parameter):
    """A Parameter whose shape a lazy module infers from its first input.

    >>> gradscope.nn.UninitializedParameter()
    <UninitializedParameter>
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None) -> UninitializedParameter:
        return super().__new__(cls, empty(0, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        """Everything happens in __new__."""


class UninitializedBuffer(_UninitializedTensorMixin, Tensor):
    """A buffer whose shape a lazy module infers from its first input (becomes a plain tensor)."""

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None) -> UninitializedBuffer:
        buffer = object.__new__(cls)
        buffer._init(empty(0, dtype=dtype)._data, requires_grad)
        return buffer

    def __init__(self, requires_grad: bool = False, device=None, dtype=None) -> None:
        """Everything happens in __new__."""

    def to(self, *args, **kwargs):
        """A dtype conversion keeps the placeholder uninitialised, with the new dtype."""
        converted = Tensor.to(Tensor._make(self._data), *args, **kwargs)
        buffer = UninitializedBuffer(self._requires_grad)
        buffer._data = converted._data
        return buffer


def is_lazy(tensor) -> bool:
    return isinstance(tensor, _UninitializedTensorMixin)


class _BufferMeta(type):
    """`isinstance(t, Buffer)` is true for the tensors `Buffer(...)` returned."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor as a module buffer: `self.running_mean = nn.Buffer(torch.zeros(3))`.

    Like PyTorch's, it returns a plain detached tensor (sharing memory) tagged with `persistent`.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:
        if data is None:
            data = empty(0)
        buffer = data.detach().requires_grad_(data.requires_grad)
        buffer.persistent = persistent
        buffer._is_buffer = True
        return buffer


def reset_grad(param: Tensor, set_to_none: bool) -> None:
    """What zero_grad does to one tensor: drop its grad, or zero it in place outside any graph."""
    # NOTE: what the `grad` property and its setter do with None, without their two frames (~1k instructions
    # a parameter): a leaf's read is the attribute (only a non-leaf's may warn), and None is stored as it is
    grad = param._grad if param._node is None else param.grad
    if grad is None:
        return
    if set_to_none:
        param._grad = None
        return
    if grad.grad_fn is not None:
        grad.detach_()
    else:
        grad.requires_grad_(False)
    grad.zero_()
