"""Module backward hooks: identity nodes around a module's inputs and outputs that see their gradients.

As in PyTorch, the output node runs the backward pre-hooks (`hook(module, grad_output)`) and the input
node runs the full backward hooks (`hook(module, grad_input, grad_output)`) once every input gradient is
known; when no input needs a gradient, the full hooks run at the output node with `grad_input` all None.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable

from gradscope.autograd.factories import zeros
from gradscope.autograd.function import Function
from gradscope.autograd.grad_mode import grad_enabled
from gradscope.autograd.hooks import HookDict, RemovableHandle
from gradscope.autograd.tensor import Tensor


class BackwardHookFunction(Function):
    """Identity on its tensors; its backward hands their gradients to `on_grads` and returns what it gives."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_grads(grads))


def _replace(name: str, hook, old: tuple, new) -> tuple:
    new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
    if len(new) != len(old):
        raise RuntimeError(f"Backward hook returned an invalid number of grad_{name}, got {len(new)}, but expected "
                           f"{len(old)}")
    return new


class BackwardHook:
    """One module call's backward hooks: wraps its inputs before forward and its outputs after."""

    def __init__(self, module, pre_hooks: list, hooks: list) -> None:
        self.module = module
        self.pre_hooks = pre_hooks
        self.hooks = hooks
        self.input_count = 0
        self.inputs_wrapped = False
        self.grad_outputs: tuple | None = None

    def setup_input_hook(self, args: tuple) -> tuple:
        # as PyTorch's, grad_input has an entry per argument: None for one that is not a tensor, zeros for a tensor
        # that needs no gradient or gets none (a gradient of zeros then reaches an input the forward did not use)
        self.input_count = len(args)
        positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        needing = [i for i in positions if args[i].requires_grad]
        if not needing or not grad_enabled.get() or not self.hooks:
            return args
        self.inputs_wrapped = True
        metas = {i: (args[i].shape, args[i].dtype) for i in positions}

        def on_input_grads(grads):
            if self.grad_outputs is None:
                # as PyTorch's: a gradient that reaches the inputs without passing through the outputs in this
                # backward (a double backward: the gradient's own graph leads to the inputs) runs no hook
                return grads
            received = dict(zip(needing, grads))
            grad_input = [None] * self.input_count
            for i, (shape, dtype) in metas.items():
                grad = received.get(i)
                grad_input[i] = zeros(shape, dtype=dtype) if grad is None else grad
            grad_input = tuple(grad_input)
            for hook in self.hooks:
                result = hook(self.module, grad_input, self.grad_outputs)
                if result is not None:
                    grad_input = _replace("input", hook, grad_input, result)
            self.grad_outputs = None
            return tuple(grad_input[i] for i in needing)

        wrapped = BackwardHookFunction.apply(on_input_grads, *(args[i] for i in needing))
        args = list(args)
        for i, tensor in zip(needing, wrapped):
            args[i] = tensor
        return tuple(args)

    def setup_output_hook(self, output):
        # as in PyTorch, only a tensor or the top level of a tuple is seen: grad_output has one entry
        # per element, None for those that are not tensors (or get no gradient)
        single = isinstance(output, Tensor)
        outputs = (output,) if single else output
        if not isinstance(outputs, tuple) or not grad_enabled.get():
            return output
        needing = [i for i, out in enumerate(outputs) if isinstance(out, Tensor) and out.requires_grad]
        if not needing:
            return output

        # NOTE: the closure holds the count, not the outputs: the outputs' node holds the closure, and a closure
        # over them would be a reference cycle left for the cyclic GC at every call (as PyTorch, none)
        count = len(outputs)

        def on_output_grads(grads):
            grad_output = [None] * count
            for i, grad in zip(needing, grads):
                grad_output[i] = grad
            grad_output = tuple(grad_output)
            for hook in self.pre_hooks:
                result = hook(self.module, grad_output)
                if result is not None:
                    grad_output = _replace("output", hook, grad_output, result)
            self.grad_outputs = grad_output
            if not self.inputs_wrapped and self.hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                              "outputs since no inputs require gradients. See https://docs.pytorch.org/docs/main/"
                              "generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more "
                              "details.", UserWarning, stacklevel=2)
                grad_input = (None,) * self.input_count
                for hook in self.hooks:
                    hook(self.module, grad_input, grad_output)
            return tuple(grad_output[i] for i in needing)

        wrapped = BackwardHookFunction.apply(on_output_grads, *(outputs[i] for i in needing))
        outputs = list(outputs)
        for i, tensor in zip(needing, wrapped):
            outputs[i] = tensor
        return outputs[0] if single else tuple(outputs)


# Whether any module has ever had a hook of its own. Until one has, a module call skips the checks of its four
# hook dicts (four attribute reads, four objects touched: ~0.2-0.7 µs a call in a deep model). Set, never reset,
# by every insertion into a module's hook dict and every rebinding of one (Module.__setattr__, __setstate__).
module_hooks_registered = False


def mark_module_hooks() -> None:
    global module_hooks_registered
    module_hooks_registered = True


class ModuleHookDict(HookDict):
    """A module's own hook dict. PyTorch's is an OrderedDict that scripts may fill themselves; each way of
    adding to it marks `module_hooks_registered` (a copy of one, deep or not, is filled item by item)."""

    __slots__ = ()

    def __setitem__(self, key, hook) -> None:
        mark_module_hooks()
        super().__setitem__(key, hook)

    def update(self, *args, **kwargs) -> None:
        mark_module_hooks()
        super().update(*args, **kwargs)

    def setdefault(self, key, default=None):
        mark_module_hooks()
        return super().setdefault(key, default)

    def __ior__(self, other):
        mark_module_hooks()
        return super().__ior__(other)


# hooks every module call runs, before each module's own (register_module_forward_hook & co.), as PyTorch's
_global_forward_pre_hooks = HookDict()
_global_forward_hooks = HookDict()
_global_forward_hooks_with_kwargs = HookDict()  # hook id -> True, as PyTorch keeps them
_global_forward_hooks_always_called = HookDict()
_global_backward_pre_hooks = HookDict()
_global_backward_hooks = HookDict()
# every global hook above by its id: a module call checks this one dict for all of them
_global_module_hooks = HookDict()


def _add_global(hooks: HookDict, hook: Callable, *extra: dict) -> RemovableHandle:
    handle = RemovableHandle(hooks, _global_module_hooks, *extra)
    hooks[handle.id] = _global_module_hooks[handle.id] = hook
    return handle


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, args) -> None | new args` runs before every module's forward, before its own pre-hooks."""
    return _add_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """`hook(module, args, output) -> None | new output` runs after every module's forward, before its own
    forward hooks; with `with_kwargs`, `hook(module, args, kwargs, output)`; with `always_call` also when
    forward raises (then, as PyTorch, as `hook(module, args, None)`)."""
    handle = _add_global(_global_forward_hooks, hook, _global_forward_hooks_with_kwargs,
                         _global_forward_hooks_always_called)
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, grad_output) -> None | new grad_output` for every module, before its own."""
    return _add_global(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, grad_input, grad_output) -> None | new grad_input` for every module, before its own."""
    return _add_global(_global_backward_hooks, hook)


def _run_always_called(hooks, always_called, with_kwargs, called: set, module, args, kwargs, result, label: str):
    """After a failure in a hooked call, the `always_call` forward hooks that have not run yet; an error
    of theirs is a warning, the call's own error goes on."""
    for key, hook in hooks:
        if key in always_called and key not in called:
            try:
                hook_result = hook(module, args, kwargs, result) if key in with_kwargs else hook(module, args, result)
            except Exception as error:
                warnings.warn(f"{label} with ``always_call=True`` raised an exception that was silenced as another "
                              f"error was raised in forward: {error}", stacklevel=3)
                continue
            if hook_result is not None:
                result = hook_result


class _ModuleHook:
    """A module's legacy backward hook as a node hook: `hook(module, grad_input, grad_output)`, the module held
    weakly (PyTorch's _WrappedHook)."""

    def __init__(self, hook: Callable, module) -> None:
        self.hook = hook
        self.module = weakref.ref(module)
        functools.update_wrapper(self, hook)

    def __call__(self, *args):
        module = self.module()
        if module is None:
            raise RuntimeError("You are trying to call the hook of a dead Module!")
        return self.hook(module, *args)


def _hook_last_node(module, args: tuple, result) -> None:
    """register_backward_hook's hooks, as PyTorch runs them: on the node that made the first tensor of the result
    (grad_input is that node's input gradients, not the module's), with PyTorch's warnings where that node is not
    the whole module."""
    first = result
    while not isinstance(first, Tensor):
        first = next(v for v in first.values() if isinstance(v, Tensor)) if isinstance(first, dict) else first[0]
    node = first.grad_fn
    if node is None:
        return
    for hook in module._backward_hooks.values():
        node.register_hook(_ModuleHook(hook, module))
    _warn_if_not_one_node(args, result, node)


_LEGACY_HOOK_WARNINGS = {
    "result": "Using non-full backward hooks on a Module that does not return a single Tensor or a tuple of Tensors "
              "is deprecated and will be removed in future versions. This hook will be missing some of the "
              "grad_output. Please use register_full_backward_hook to get the documented behavior.",
    "inputs": "Using non-full backward hooks on a Module that does not take as input a single Tensor or a tuple of "
              "Tensors is deprecated and will be removed in future versions. This hook will be missing some of the "
              "grad_input. Please use register_full_backward_hook to get the documented behavior.",
    "nested": "Using a non-full backward hook when outputs are nested in python data structure is deprecated and "
              "will be removed in future versions. This hook will be missing some grad_output.",
    "outputs": "Using a non-full backward hook when outputs are generated by different autograd Nodes is deprecated "
               "and will be removed in future versions. This hook will be missing some grad_output. Please use "
               "register_full_backward_hook to get the documented behavior.",
    "nodes": "Using a non-full backward hook when the forward contains multiple autograd Nodes is deprecated and "
             "will be removed in future versions. This hook will be missing some grad_input. Please use "
             "register_full_backward_hook to get the documented behavior.",
}


def _warn_if_not_one_node(inputs, result, node) -> None:
    """PyTorch's FutureWarning when a legacy backward hook can't see the module's gradients whole: its result or
    inputs are not tensors, or the module's forward is more than the one node the hook sits on."""
    results = (result,) if isinstance(result, Tensor) else result
    if not (isinstance(results, tuple) and all(isinstance(r, Tensor) for r in results)):
        reason = "result"
    elif not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
        reason = "inputs"
    else:
        made_by = {r.grad_fn for r in results if r.grad_fn is not None}
        if not made_by or len(made_by) == 1 and node not in made_by:
            reason = "nested"
        elif len(made_by) > 1:
            reason = "outputs"
        elif {i.grad_fn for i in inputs if i.grad_fn is not None} != {fn for fn, _ in node._next}:
            reason = "nodes"
        else:
            return
    warnings.warn(_LEGACY_HOOK_WARNINGS[reason], FutureWarning, stacklevel=4)


_BOTH_KINDS = "Cannot use both regular backward hooks and full backward hooks on a single Module. Please use only " \
              "one of them."


class HookedCall:
    """Module's hook registration and the call that runs forward between its hooks (the hook dicts
    are created by Module.__init__)."""

    # None until a backward hook is registered: then True (register_full_backward_hook) or False (the legacy
    # register_backward_hook), and the other kind is refused, as PyTorch's
    _is_full_backward_hook = None

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        """PyTorch's order: forward pre-hooks (global ones first), forward, forward hooks (global ones first);
        backward hooks wrap the inputs and outputs (global ones first)."""
        result = None
        called = set()  # the always_call hooks that ran
        try:
            for key, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
                if key in self._forward_pre_hooks_with_kwargs:
                    hook_result = hook(self, args, kwargs)
                    if hook_result is not None:
                        if not (isinstance(hook_result, tuple) and len(hook_result) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                               f"new_kwargs), but got {hook_result}.")
                        args, kwargs = hook_result
                else:
                    hook_result = hook(self, args)
                    if hook_result is not None:
                        args = hook_result if isinstance(hook_result, tuple) else (hook_result,)
            backward_hook = None
            full_hooks = () if self._is_full_backward_hook is False else self._backward_hooks
            if full_hooks or self._backward_pre_hooks or _global_backward_hooks or _global_backward_pre_hooks:
                backward_hook = BackwardHook(self, [*_global_backward_pre_hooks.values(),
                                                    *self._backward_pre_hooks.values()],
                                             [*_global_backward_hooks.values(), *full_hooks.values()])
                args = backward_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for key, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if key in self._forward_hooks_always_called or key in _global_forward_hooks_always_called:
                    called.add(key)
                if key in self._forward_hooks_with_kwargs or key in _global_forward_hooks_with_kwargs:
                    hook_result = hook(self, args, kwargs, result)
                else:
                    hook_result = hook(self, args, result)
                if hook_result is not None:
                    result = hook_result
            if backward_hook is not None:
                result = backward_hook.setup_output_hook(result)
            if self._is_full_backward_hook is False and self._backward_hooks:
                _hook_last_node(self, args, result)
            return result
        except Exception:
            # NOTE: as PyTorch, the global ones are called without kwargs even when registered with them
            _run_always_called(tuple(_global_forward_hooks.items()), _global_forward_hooks_always_called, (), called,
                               self, args, kwargs, result, "global module forward hook")
            _run_always_called(tuple(self._forward_hooks.items()), self._forward_hooks_always_called,
                               self._forward_hooks_with_kwargs, called, self, args, kwargs, result,
                               "module forward hook")
            raise

    @staticmethod
    def _add_hook(hooks: HookDict, hook: Callable, prepend: bool) -> RemovableHandle:
        handle = hooks.add(hook)
        if prepend:
            entries = list(hooks.items())
            hooks.clear()
            hooks[handle.id] = hook
            hooks.update(entries[:-1])
        return handle

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """`hook(module, args) -> None | new args` runs before forward; with `with_kwargs`,
        `hook(module, args, kwargs) -> None | (new args, new kwargs)`."""
        handle = self._add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """`hook(module, args, output) -> None | new output` runs after forward; with `with_kwargs`,
        `hook(module, args, kwargs, output)`; with `always_call` it also runs when forward raises."""
        handle = self._add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """`hook(module, grad_output) -> None | new grad_output` runs when the outputs' gradients are known."""
        return self._add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """`hook(module, grad_input, grad_output) -> None | new grad_input` runs when the gradients of the
        tensor arguments are known.

        >>> layer.register_full_backward_hook(lambda m, gi, go: print(go[0].shape))
        """
        if self._is_full_backward_hook is False:
            raise RuntimeError(_BOTH_KINDS)
        self._is_full_backward_hook = True
        return self._add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """PyTorch's deprecated backward hook: `hook(module, grad_input, grad_output)` on the node that made the
        module's output, so `grad_input` holds that node's input gradients (for Linear: bias, input and weight's),
        with a FutureWarning at the call where that node is not the whole module."""
        if self._is_full_backward_hook is True:
            raise RuntimeError(_BOTH_KINDS)
        self._is_full_backward_hook = False
        return self._add_hook(self._backward_hooks, hook, False)
