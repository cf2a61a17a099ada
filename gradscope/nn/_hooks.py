"""Module backward hooks: identity nodes around a module's inputs and outputs that see their gradients.

As in PyTorch, the output node runs the backward pre-hooks (`hook(module, grad_output)`) and the input
node runs the full backward hooks (`hook(module, grad_input, grad_output)`) once every input gradient is
known; when no input needs a gradient, the full hooks run at the output node with `grad_input` all None.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

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
        positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        self.input_count = len(positions)
        needing = [i for i in positions if args[i].requires_grad]
        if not needing or not grad_enabled.get() or not self.hooks:
            return args
        self.inputs_wrapped = True
        slots = [positions.index(i) for i in needing]

        def on_input_grads(grads):
            grad_input = [None] * self.input_count
            for slot, grad in zip(slots, grads):
                grad_input[slot] = grad
            grad_input = tuple(grad_input)
            for hook in self.hooks:
                result = hook(self.module, grad_input, self.grad_outputs)
                if result is not None:
                    grad_input = _replace("input", hook, grad_input, result)
            return tuple(grad_input[slot] for slot in slots)

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


class HookedCall:
    """Module's hook registration and the call that runs forward between its hooks (the hook dicts
    are created by Module.__init__)."""

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        for key, hook in tuple(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = BackwardHook(self, list(self._backward_pre_hooks.values()),
                                         list(self._backward_hooks.values()))
            args = backward_hook.setup_input_hook(args)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for key, hook in tuple(self._forward_hooks.items()):
                if key in self._forward_hooks_always_called:
                    if key in self._forward_hooks_with_kwargs:
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
            raise
        for key, hook in tuple(self._forward_hooks.items()):
            if key in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            output = backward_hook.setup_output_hook(output)
        return output

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
        return self._add_hook(self._backward_hooks, hook, prepend)
