"""Module backward hooks: identity nodes around a module's inputs and outputs that see their gradients.

As in PyTorch, the output node runs the backward pre-hooks (`hook(module, grad_output)`) and the input
node runs the full backward hooks (`hook(module, grad_input, grad_output)`) once every input gradient is
known; when no input needs a gradient, the full hooks run at the output node with `grad_input` all None.
"""

from __future__ import annotations

import warnings

from gradscope.autograd.function import Function
from gradscope.autograd.grad_mode import grad_enabled
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

        def on_output_grads(grads):
            grad_output = [None] * len(outputs)
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
