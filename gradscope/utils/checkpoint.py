"""`torch.utils.checkpoint`: trade compute for memory by recomputing a segment's forward in backward.

Both of PyTorch's variants, with their graphs:
- `use_reentrant=True` (the default when not given, with PyTorch's warning): the segment runs without a
  graph and becomes one `CheckpointFunctionBackward` node; its backward reruns the segment with a graph
  and backpropagates through it, from inside the outer backward.
- `use_reentrant=False`: the segment's ops make their usual nodes, but what they save is dropped; the first
  saved value backward asks for reruns the segment to get them all back.
Random ops in the segment draw the same numbers when rerun (`preserve_rng_state=True`, the default).
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings

from gradscope.autograd.engine import backward as _backward
from gradscope.autograd.factories import get_rng_state, set_rng_state
from gradscope.autograd.function import Function
from gradscope.autograd.grad_mode import enable_grad, no_grad
from gradscope.autograd.graph import saved_tensors_hooks
from gradscope.autograd.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "set_checkpoint_early_stop"]

_early_stop: contextvars.ContextVar[bool | None] = contextvars.ContextVar("checkpoint_early_stop", default=None)

_NO_USE_REENTRANT = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but if "
    "you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more "
    "details on the differences between the two variants."
)


def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=None, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, preserve_rng_state: bool = True, **kwargs):
    """`function(*args, **kwargs)`, its intermediate values recomputed in backward instead of kept. With
    `use_reentrant=False` and `early_stop` (as PyTorch's default), the rerun stops once every value the segment
    saved is back, so that the code after the last saving op isn't run again; `set_checkpoint_early_stop` overrides
    `early_stop`."""
    if use_reentrant is None:
        warnings.warn(_NO_USE_REENTRANT, UserWarning, stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if context_fn is not None or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    override = _early_stop.get()
    return _checkpoint_without_reentrant(function, preserve_rng_state, args, kwargs,
                                         early_stop if override is None else override)


class CheckpointFunction(Function):
    """The reentrant variant: one node for the whole segment."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        if not any(isinstance(arg, Tensor) and arg.requires_grad for arg in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                          stacklevel=4)
        ctx.run_function = run_function
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.tensor_positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        ctx.others = [None if isinstance(arg, Tensor) else arg for arg in args]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_positions))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        inputs = list(ctx.others)
        for position, saved in zip(ctx.tensor_positions, ctx.saved_tensors):
            inputs[position] = saved.detach().requires_grad_(saved.requires_grad)
        with _rng_state(ctx.rng_state), enable_grad():
            outputs = ctx.run_function(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(out, grad) for out, grad in zip(outputs, grad_outputs)
                 if isinstance(out, Tensor) and out.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward(tuple(out for out, _ in pairs), tuple(grad for _, grad in pairs))
        return (None, None, *(arg.grad if isinstance(arg, Tensor) else None for arg in inputs))


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """Inside, checkpoint(use_reentrant=False) stops its reruns early (`enable`) or not, whatever its `early_stop`
    argument says; the choice is made when the checkpointed segment runs forward.

    >>> with set_checkpoint_early_stop(False):
    ...     out = checkpoint(f, x, use_reentrant=False)  # backward reruns all of f
    """
    token = _early_stop.set(enable)
    try:
        yield
    finally:
        _early_stop.reset(token)


class _StopRecomputation(Exception):  # noqa: N818 - not an error: ends a rerun that has every saved value back
    pass


def _checkpoint_without_reentrant(function, preserve_rng_state: bool, args: tuple, kwargs: dict, early_stop: bool):
    """The segment's own graph, whose saved values are handles into a list filled by one rerun."""
    rng_state = get_rng_state() if preserve_rng_state else None
    recomputed: list = []  # the last rerun's values, and whether it stopped early
    count = [0]

    def pack(tensor):
        count[0] += 1
        return _Handle(count[0] - 1)

    def rerun() -> None:
        values = []
        recomputed[:] = [values, False]
        keep = _keep_into(values, count[0] if early_stop else None)
        try:
            with _rng_state(rng_state), enable_grad(), saved_tensors_hooks(keep, _same):
                function(*_detached(args), **kwargs)
        except _StopRecomputation as stop:
            if stop.args[0] is not values:  # another checkpoint's rerun, nested in this one
                raise
            recomputed[1] = True

    def unpack(handle):
        # NOTE: a rerun that stopped early is done again for a value saved after it (the segment's own backward
        # under create_graph saves more, once its forward was unpacked), as PyTorch reruns per backward
        if not recomputed or handle.index >= len(recomputed[0]) and recomputed[1]:
            rerun()
        values = recomputed[0]
        if handle.index >= len(values):
            raise RuntimeError("torch.utils.checkpoint: Recomputed values for the following tensors have different "
                               "metadata than during the forward pass: the segment saved fewer values when rerun.")
        return values[handle.index]

    with saved_tensors_hooks(pack, unpack):
        return function(*args, **kwargs)


class _Handle:
    """What a checkpointed segment saves instead of a tensor: the position of its recomputed value."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _keep_into(values: list, stop_after: int | None):
    def keep(tensor):
        values.append(tensor)
        if len(values) == stop_after:
            raise _StopRecomputation(values)
        return tensor
    return keep


def _same(tensor):
    return tensor


def _detached(args: tuple) -> list:
    return [arg.detach().requires_grad_(arg.requires_grad) if isinstance(arg, Tensor) else arg for arg in args]


class _rng_state:  # noqa: N801 - a context manager
    """Run with the generator set to `state` (None: as it is), then put back the state it had."""

    def __init__(self, state) -> None:
        self.state = state

    def __enter__(self) -> None:
        if self.state is not None:
            self.previous = get_rng_state()
            set_rng_state(self.state)

    def __exit__(self, *exc_info) -> None:
        if self.state is not None:
            set_rng_state(self.previous)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None, **kwargs):  # noqa: A002
    """Run `functions` (a Sequential or a list of modules) in `segments` checkpointed chunks; the last chunk
    runs normally, as in PyTorch."""
    if use_reentrant is None:
        warnings.warn(_NO_USE_REENTRANT, UserWarning, stacklevel=2)
        use_reentrant = True
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(functions) // segments
    end = -1

    def run(start, stop):
        def forward(x):
            for layer in functions[start:stop + 1]:
                x = layer(x)
            return x
        return forward

    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)  # noqa: A001
    return run(end + 1, len(functions) - 1)(input)

