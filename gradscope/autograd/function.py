"""torch.autograd.Function: user-defined forward/backward pairs. The node is the ctx, as in PyTorch."""

from __future__ import annotations

import contextlib
import functools
import inspect
import warnings

from gradscope._shapes import is_expandable_to
from gradscope.autograd import errors, observers
from gradscope.autograd.dispatch import _edge
from gradscope.autograd.grad_mode import enable_grad, grad_enabled, no_grad
from gradscope.autograd.node import Node, _sequence
from gradscope.autograd.saved import SavedTensor
from gradscope.autograd.tensor import Tensor


class FunctionCtx:
    """What forward() can tell backward(): saved tensors, dirty and non-differentiable outputs."""

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        self._to_save_forward = tensors

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize_grads = value

    @property
    def saved_variables(self) -> tuple:
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2)
        return self.saved_tensors

    @property
    def saved_tensors(self) -> tuple:
        if getattr(self, "_in_jvp", False):  # jvp reads what save_for_forward saved
            return tuple(getattr(self, "_to_save_forward", ()))
        saved = getattr(self, "_saved_for_backward", None)
        if saved is None:
            return tuple(getattr(self, "_to_save", ()))
        return tuple(None if entry is None else entry.unpack(self) for entry in saved)


class BackwardCFunction(Node, FunctionCtx):
    """Base of `<Name>Backward` nodes; `_fn` is the Function class whose backward runs."""

    _fn = None
    _materialize_grads = True  # unused outputs' gradients arrive as zeros
    _materialize_non_diff_grads = True  # those of outputs marked non-differentiable too
    _runs_without_grads = True  # as PyTorch's: backward runs even when no gradient is defined (None each)
    _non_differentiable = ()
    _dirty = ()

    def _apply(self, grads, xp, needs):
        grads = [self._materialize(g, i, xp) for i, g in enumerate(grads)]
        wrapped = [g if (xp.is_tensor or g is None) else Tensor._make(g) for g in grads]
        backward = self._fn.backward
        vjp = self._fn.vjp
        if vjp is not Function.vjp:  # PyTorch's other name for it
            if backward is not Function.backward:
                raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You "
                                   "should only implement one of them.")
            backward = vjp
        if getattr(backward, "_once_differentiable", False) or not xp.is_tensor:
            with no_grad():
                results = backward(self, *wrapped)
        else:
            with enable_grad():
                results = backward(self, *wrapped)
        results = results if isinstance(results, tuple) else (results,)
        n_inputs = len(self._input_is_tensor)  # one gradient per forward argument, tensor or not
        if len(results) != n_inputs:
            if len(results) > n_inputs and all(r is None for r in results[n_inputs:]):
                results = results[:n_inputs]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                                   f"{n_inputs}, got {len(results)})")
        out = []  # one per edge: the tensor arguments'
        for i, (result, is_tensor) in enumerate(zip(results, self._input_is_tensor)):
            if result is None:
                if is_tensor:
                    out.append(None)
                continue
            if not is_tensor:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                   f"{i + 1}, but the corresponding forward input was not a Variable")
            if not isinstance(result, Tensor):
                raise TypeError(f"expected Variable or None (got {type(result).__name__})")
            meta = self._input_meta[len(out)]
            if meta is not None and result._data.shape != meta[0]:
                if not is_expandable_to(meta[0], result._data.shape):
                    raise RuntimeError(f"Function {self.name()} returned an invalid gradient at index {i} - got "
                                       f"{list(result._data.shape)} but expected shape compatible with "
                                       f"{list(meta[0])}")
            out.append(result if xp.is_tensor else result._data)
        if getattr(backward, "_once_differentiable", False) and xp.is_tensor and any(
                g is not None and g._requires_grad for g in grads):
            out = _error_outputs(out)
        return out

    def _materialize(self, g, index, xp):
        """An unused output's gradient as zeros (a Tensor under create_graph), unless set_materialize_grads(False);
        None for an output that is no tensor (a number, a string: PyTorch's backward gets None for it), and for a
        non-differentiable one when `_materialize_non_diff_grads` is False."""
        if g is None and self._materialize_grads:
            meta = self._output_meta[index]
            if meta is None or not self._materialize_non_diff_grads and meta[2]:
                return None
            return xp.zeros(meta[0], meta[1])
        return g

    def _release(self) -> None:
        for entry in getattr(self, "_saved_for_backward", None) or ():
            if entry is not None:
                entry.free()


class _ErrorNode(Node):
    """grad_fn of gradients computed by a once_differentiable backward: differentiating them fails.

    As PyTorch's DelayedError, its edges lead to detached copies of those gradients made leaves."""

    _message = "trying to differentiate twice a function that was marked with @once_differentiable"

    def name(self) -> str:
        return "torch::autograd::Error"

    def _apply(self, grads, xp, needs):
        raise RuntimeError(self._message)


_ErrorNode.__name__ = "Error"


def _error_outputs(results: list, message: str | None = None) -> list:
    """`results` (gradients) made the outputs of an Error node: differentiating them raises `message`."""
    node = _ErrorNode()
    if message is not None:
        node._message = message
    node._seq = next(_sequence)
    edges, outputs = [], []
    for i, result in enumerate(results):
        if result is None:
            edges.append((None, 0))
            outputs.append(None)
            continue
        edges.append(Tensor._make(result._data, True)._leaf_edge())
        out = Tensor._make(result._data, True)
        out._node, out._output_nr = node, i
        outputs.append(out)
    node._next = tuple(edges)
    return outputs


def delayed_error(x: Tensor, message: str) -> Tensor:
    """x's values under an Error node whose edge leads to x's own node: a backward that reaches x through it raises
    `message` (PyTorch's DelayedError)."""
    node = _ErrorNode()
    node._message = message
    node._seq = next(_sequence)
    node._next = (_edge(x),)
    out = Tensor._make(x._data, True)
    out._node, out._output_nr = node, 0
    return out


def once_differentiable(backward):
    """Mark a backward that is not itself differentiable: it runs under no_grad."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)
    wrapper._once_differentiable = True
    return wrapper


_NOT_PAUSED = contextlib.nullcontext()


class _FunctionMeta(type):
    def __init__(cls, name, bases, namespace) -> None:
        super().__init__(name, bases, namespace)
        cls._backward_cls = type(f"{name}Backward", (BackwardCFunction,), {"_fn": cls})


class Function(metaclass=_FunctionMeta):
    """Define `forward(ctx, *args)` and `backward(ctx, *grad_outputs)` as static methods; call `apply`.

    >>> class Exp(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp(); ctx.save_for_backward(y); return y
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         y, = ctx.saved_tensors; return g * y
    """

    def __init__(self, *args, **kwargs) -> None:
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions are all static, so "
                      "you should invoke them on the class itself. Instantiating an autograd function will raise an "
                      "error in a future version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    generate_vmap_rule = False  # PyTorch's: whether functorch derives a vmap rule (gradscope has no vmap)

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError("To use autograd.Function with vmap, you must either override the vmap staticmethod "
                                  "or set generate_vmap_rule=True.")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it with "
                                  "forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        split = cls.setup_context is not Function.setup_context
        if split:  # as PyTorch's: setup_context sees every argument forward takes, its defaults filled in
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        if kwargs:
            args = _keywords_as_positions(cls.forward, args, kwargs, takes_ctx=not split)
        ctx = cls._backward_cls.__new__(cls._backward_cls)
        # NOTE: as in PyTorch, needs_input_grad follows the inputs even under no_grad
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx._input_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        level = observers.dual_level  # forward AD: tangents don't flow inside forward, jvp gives the outputs'
        with no_grad(), level.paused() if level is not None else _NOT_PAUSED:
            outputs = cls.forward(*args) if split else cls.forward(ctx, *args)
        if split:
            cls.setup_context(ctx, args, outputs)
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        if grad_enabled.get() and any(ctx.needs_input_grad):
            outputs = _connect(ctx, args, outputs)
        else:
            outputs = _unconnected(ctx, args, outputs)
        if level is not None:
            level.function_jvp(cls, ctx, args, outputs)
        return outputs[0] if single else outputs


def _keywords_as_positions(forward, args: tuple, kwargs: dict, takes_ctx: bool) -> tuple:
    """Keyword arguments of apply() as the positional ones they name, as PyTorch's C++ apply takes them: each one is an
    input of its own (needs_input_grad, a gradient from backward); keyword-only ones are refused. forward's `ctx` is
    not a position."""
    names = [p.name for p in list(inspect.signature(forward).parameters.values())[takes_ctx:]
             if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    positions = {}
    for name in kwargs:
        if name not in names:
            raise TypeError(f"forward() got an unexpected keyword argument '{name}'")
        if names.index(name) < len(args):
            raise TypeError(f"forward() got multiple values for argument '{name}'")
        positions[names.index(name)] = kwargs[name]
    for i in range(len(args), max(positions) + 1):
        if i not in positions:
            raise TypeError(f"forward() missing required argument: '{names[i]}' (position {i})")
    return args + tuple(positions[i] for i in range(len(args), max(positions) + 1))


class InplaceFunction(Function):
    """PyTorch's base for legacy Functions that may work in place (torch.autograd.function.InplaceFunction)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


def _returned_input(out: Tensor) -> Tensor:
    """An input forward returned as it is, as PyTorch hands it back: a view of it made without grad
    (_view_as_self_with_no_grad: `_base` is the input, and one that gets this node may not be modified in place),
    but under no_grad for an input that requires grad a new tensor sharing its data (not a view, not requiring grad)."""
    if not grad_enabled.get() and out._requires_grad:
        return out.detach()
    with no_grad():
        return out.view_as(out)


def _check_dirty_returned(ctx, outputs) -> None:
    if ctx._dirty:
        returned = {id(out) for out in outputs if isinstance(out, Tensor)}
        if any(id(t) not in returned for t in ctx._dirty):
            raise RuntimeError(errors.DIRTY_NOT_RETURNED)


def _unconnected(ctx, args, outputs) -> tuple:
    """The outputs of a Function no node was made for (grad off, or no input requiring grad): inputs returned as they
    are become PyTorch's views or aliases (see _returned_input), unless marked dirty. As in PyTorch, a view among
    them may not be modified in place with grad (its change would bypass the Function)."""
    _check_dirty_returned(ctx, outputs)
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    dirty = {id(t) for t in ctx._dirty}
    if any(id(out) in inputs for out in outputs):
        outputs = tuple(_returned_input(out) if id(out) in inputs and id(out) not in dirty else out for out in outputs)
    for out in outputs:
        if isinstance(out, Tensor) and out._base is not None and out._view_chain and id(out) not in dirty:
            out._custom_function_view = (None, None, errors.CUSTOM_FUNCTION_VIEW)
    return outputs


def _check_dirty(out: Tensor, inputs: set) -> None:
    """PyTorch's refusals for a tensor forward marked dirty (modified in place), in its order."""
    if out._node is None and (out._requires_grad or out._base is not None and out._base._requires_grad):
        raise RuntimeError(errors.LEAF_DIRTY)  # a leaf, or a view made inside forward of one requiring grad
    if out._base is not None and out._view_chain and out._base._requires_grad and out._base._node is None:
        raise RuntimeError(errors.LEAF_VIEW_INPLACE)
    if id(out) not in inputs:
        if out._base is not None and out._view_chain:
            raise RuntimeError(errors.DIRTY_NOT_INPUT)
        warnings.warn(errors.DIRTY_NOT_INPUT, UserWarning, stacklevel=4)


def _write_through_base(ctx, tensors, view) -> None:
    """A view modified in place by the Function (mark_dirty): as PyTorch, the base's grad_fn becomes CopySlices over
    this node, and the view's is regenerated from it, so the Function's backward runs (it was dropped: the view's
    node was replaced by its base's, the modification's gradient lost)."""
    from gradscope.autograd import inplace  # noqa: PLC0415 - lazy: the in-place machinery imports the functions layer
    if tensors[0] is not view:
        # PyTorch's CopySlices takes the view for the Function's first input (it mixes up the gradients otherwise)
        raise NotImplementedError(f"{ctx._fn.__name__} modifies in place a view that is not its first tensor "
                                  "argument: gradscope supports a view only there (clone it, or pass it first)")
    inplace._copy_slices(view, ctx)


def _connect(ctx, args, outputs) -> tuple:
    """Make ctx the grad_fn of the differentiable outputs and save what forward asked to save."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    ctx._next = tuple(_edge(a) for a in tensors)  # as PyTorch's: an edge per tensor argument, none for the others
    ctx._seq = next(_sequence)
    ctx._input_meta = tuple((a._data.shape, a._data.dtype) if edge[0] is not None else None
                            for a, edge in zip(tensors, ctx._next))
    dirty = {id(t) for t in ctx._dirty}
    non_differentiable = {id(t) for t in ctx._non_differentiable}
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    connected = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            connected.append(out)
            continue
        if id(out) in dirty:
            _check_dirty(out, inputs)
            out._version_counter[0] += 1  # PyTorch counts marking dirty as one more in-place change
        elif id(out) in inputs:
            out = _returned_input(out)
        if id(out) in non_differentiable or out._data.dtype.kind not in "fc":
            out._requires_grad = False
        else:
            out._node, out._output_nr, out._requires_grad = ctx, i, True
        connected.append(out)
    _check_dirty_returned(ctx, connected)
    dirty_views = [out for out in connected if isinstance(out, Tensor) and id(out) in dirty and out._base is not None
                   and out._node is ctx]
    if dirty_views:  # PyTorch's refusals, before this Function's own views are marked (below)
        if sum(isinstance(out, Tensor) and out._node is ctx for out in connected) > 1:
            raise RuntimeError(errors.DIRTY_VIEW_MULTIPLE_OUTPUTS)
        from gradscope.autograd import inplace  # noqa: PLC0415 - lazy: the in-place machinery imports this layer
        inplace._refuse_view_change(dirty_views[0])
    views = [out for out in connected if isinstance(out, Tensor) and out._node is ctx and out._base is not None]
    if views:  # PyTorch refuses to modify them in place (its view replay would bypass this backward)
        differentiable = sum(isinstance(out, Tensor) and out._node is ctx for out in connected)
        error = errors.MULTI_OUTPUT_VIEW if differentiable > 1 else errors.CUSTOM_FUNCTION_VIEW
        for out in views:
            out._custom_function_view = (ctx._fn.__name__, out._output_nr, error)
    ctx._output_meta = tuple((o._data.shape, o._data.dtype, o._node is not ctx) if isinstance(o, Tensor) else None
                             for o in connected)
    ctx.n_outputs = len(connected)
    if dirty_views:
        _write_through_base(ctx, tensors, dirty_views[0])
    output_ids = {id(o): i for i, o in enumerate(connected)}
    to_save = getattr(ctx, "_to_save", ())
    ctx._saved_for_backward = tuple(
        None if t is None else SavedTensor(t, True, output_ids[id(t)]) if id(t) in output_ids and t._node is ctx
        else SavedTensor(t) for t in to_save)
    ctx._to_save = ()  # the SavedTensors hold what's needed; keeping the outputs here would be a reference cycle
    if observers.checker is not None:
        observers.checker.node_created(ctx, args, connected)
    if observers.GLOBAL or observers.active.get():
        ctx.module_call = observers.node_call()
        observers.notify("node_created", ctx, args, connected)
        for i, entry in enumerate(ctx._saved_for_backward):
            if entry is not None:
                observers.notify("tensor_saved", ctx, f"saved_tensors[{i}]", entry)
    return tuple(connected)


