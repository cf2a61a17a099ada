"""Parameter and Buffer: the tensors a Module registers when they are assigned to it."""

from __future__ import annotations

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
    grad = param.grad
    if grad is None:
        return
    if set_to_none:
        param.grad = None
        return
    if grad.grad_fn is not None:
        grad.detach_()
    else:
        grad.requires_grad_(False)
    grad.zero_()
