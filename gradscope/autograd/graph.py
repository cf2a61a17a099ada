"""torch.autograd.graph: the Node type, gradient edges, saved-tensor hooks, multi-tensor gradient hooks."""

from __future__ import annotations

import functools
import threading
import weakref
from typing import NamedTuple

import numpy as np

from gradscope.autograd.engine import current_pass
from gradscope.autograd.hooks import RemovableHandle
from gradscope.autograd.node import Node
from gradscope.autograd.saved import default_hooks
from gradscope.autograd.tensor import Tensor

__all__ = ["Node", "GradientEdge", "get_gradient_edge", "increment_version", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks", "register_multi_grad_hook"]


class GradientEdge(NamedTuple):
    """Where a tensor's gradient is computed in the graph: the node (its grad_fn, or a leaf's AccumulateGrad) and
    which of the node's outputs. torch.autograd.grad and backward take one wherever they take a tensor to
    differentiate (or, with grad_outputs, to start from), even once the tensor itself is gone.

    >>> edge = get_gradient_edge(y)
    >>> gradscope.autograd.grad(loss, edge)   # the same as grad(loss, y)
    """

    node: Node
    output_nr: int
    ownership_token: Node | None = None  # PyTorch's, to keep a graph of Python nodes alive: our nodes keep theirs


class _TensorEdge(GradientEdge):
    """A GradientEdge get_gradient_edge made: it also knows its tensor's shape and dtype (`_like`), so that an edge
    differentiated without grad_outputs gets its implicit gradient as PyTorch's (from the node's input metadata):
    ones for a single element, else "grad can be implicitly created only for scalar outputs"."""


_TensorEdge.__name__ = _TensorEdge.__qualname__ = "GradientEdge"  # its repr is GradientEdge's


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The gradient edge of `tensor`: grad(loss, get_gradient_edge(t)) is grad(loss, t)."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    edge = _TensorEdge(_node_of(tensor), tensor._output_nr)
    edge._like = (tensor._data.shape, tensor._data.dtype)
    return edge


def increment_version(tensor) -> None:
    """Count an in-place change of `tensor` (or of each tensor of an iterable) that autograd couldn't see, such as a
    write through its NumPy array: a backward that saved it then refuses, as after any in-place op. Inference
    tensors have no version counter and are left alone."""
    tensors = (tensor,) if isinstance(tensor, Tensor) else tensor
    try:
        tensors = list(tensors)
    except TypeError:
        raise RuntimeError("increment_version expect a Iterable[Tensor] as input") from None
    if not all(isinstance(t, Tensor) for t in tensors):
        raise RuntimeError("increment_version expects each element of the iterable to be a tensor")
    for t in tensors:
        if not t._is_inference:
            t._version_counter[0] += 1


def as_differentiable(values, *, outputs: bool = False, like=None, materialize: bool = False):
    """`values` (a tensor, an edge, or a sequence of them) with each GradientEdge replaced by a stand-in tensor the
    engine takes for that edge: a leaf's own tensor for an AccumulateGrad, else a tensor made the node's output
    `output_nr`. An output edge takes its shape from its gradient in `like` (PyTorch asks for grad_outputs)."""
    single = isinstance(values, (Tensor, GradientEdge))
    items = [values] if single else list(values)
    if not any(isinstance(item, GradientEdge) for item in items):
        return values if single else items
    if materialize and not outputs:
        raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
    gradients = [like] if isinstance(like, Tensor) else list(like) if like is not None else [None] * len(items)
    converted = []
    for item, gradient in zip(items, gradients + [None] * (len(items) - len(gradients))):
        if not isinstance(item, GradientEdge):
            converted.append(item)
        elif outputs and gradient is None and getattr(item, "_like", None) is None:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        elif not outputs and type(item.node).__name__ == "AccumulateGrad":
            converted.append(item.node.variable)
        else:  # an output edge of a known tensor: the engine checks its gradient (or makes ones) against its shape
            like = getattr(item, "_like", None)
            stand_in = Tensor._make(np.zeros(*like) if outputs and like is not None
                                    else np.zeros_like(gradient._data) if outputs else np.zeros(()))
            stand_in._node, stand_in._output_nr, stand_in._requires_grad = item.node, item.output_nr, True
            converted.append(stand_in)
    return converted[0] if single else converted

_disabled: dict = {}


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Within the block, tensors saved for backward go through `pack_hook`; backward reads them
    back through `unpack_hook`.

    >>> with saved_tensors_hooks(lambda t: t.numpy().copy(), lambda a: gradscope.from_numpy(a)):
    ...     y = x * x
    """

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        message = _disabled.get(threading.get_ident())
        if message is not None:
            raise RuntimeError(message)
        self._token = default_hooks.set((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc) -> None:
        default_hooks.reset(self._token)


class save_on_cpu(saved_tensors_hooks):  # noqa: N801
    """Saved tensors are stored as copies in CPU memory (on gradscope every tensor already is)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda tensor: (tensor.device, tensor.detach().clone()), lambda packed: packed[1])


class disable_saved_tensors_hooks:  # noqa: N801
    """Make entering `saved_tensors_hooks` raise `RuntimeError(error_message)` inside the block."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self):
        key = threading.get_ident()
        self._previous = _disabled.get(key)
        _disabled[key] = self.error_message
        return self

    def __exit__(self, *exc) -> None:
        key = threading.get_ident()
        if self._previous is None:
            _disabled.pop(key, None)
        else:
            _disabled[key] = self._previous


def register_multi_grad_hook(tensors, fn, *, mode: str = "all") -> RemovableHandle:
    """Call `fn` once the gradients of `tensors` in a backward pass are known.

    mode="all": `fn(grads)` with one entry per tensor (None where no gradient arrived) after the
    last of them was computed; mode="any": `fn(grad)` with the first gradient computed.

    As in PyTorch, "all" counts the tensors whose nodes will run when the first of their hooks runs, and calls `fn`
    when that many have run, then counts afresh: the root of a one-root backward isn't counted (PyTorch's
    _will_engine_execute_node), so a set including it calls `fn` once per gradient arriving.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    lock = threading.Lock()
    if mode == "all":
        nodes = [_node_of(t) for t in tensors]  # as PyTorch, the nodes (leaves' AccumulateGrad kept) of now
        counts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per pass: hooks run, gradients so far
        expected = None  # NOTE: one for every pass, as PyTorch's nb_calls

        def make_hook(index: int):
            def hook(grad):
                nonlocal expected
                task = _running_pass()
                with lock:
                    count, grads = counts.get(task) or (0, [None] * len(tensors))
                    counts[task] = (count + 1, grads)
                    if count == 0:
                        expected = sum(task.will_execute(node) for node in nodes)
                grads[index] = grad
                if count == expected - 1:
                    fn(grads)
                    del counts[task]
            return hook

        handles = tuple(t.register_hook(make_hook(i)) for i, t in enumerate(tensors))
    else:
        ran: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

        @functools.wraps(fn)
        def hook(grad):
            task = _running_pass()
            with lock:
                first = task not in ran
                ran[task] = True
            if first:
                fn(grad)

        handles = tuple(t.register_hook(hook) for t in tensors if t.requires_grad)
    return _MultiHandle(handles)


def _node_of(tensor):
    node = tensor.grad_fn
    if node is None and tensor.requires_grad:
        node = tensor._grad_accumulator()
        if node is not None:
            node._handed_out()
    if node is None:
        raise AssertionError("Expected gradient function to be set")
    return node


def _running_pass():
    task = current_pass()
    if task is None:
        raise AssertionError("expected this hook to be called inside a backward call")
    return task


class _MultiHandle(RemovableHandle):
    def __init__(self, handles) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
