"""An input a custom Function's forward returns as it is comes back as PyTorch hands it: in grad mode a view of the
input (`_is_view()`, `_base` the input), which, given the Function's node, may not be modified in place (PyTorch's
"Output 0 of Id is a view and is being modified inplace ..." error: the view's replay would bypass the custom
backward); under no_grad a new tensor sharing the data, not requiring grad. Before, gradscope gave an alias (no view)
that in-place ops changed silently, and under no_grad the input itself (still requiring grad).

Module full backward hooks wrap outputs in such a Function (BackwardHookFunction), so `nn.ReLU(inplace=True)` after a
hooked module raises as in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _functions(lib):
    class Id(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class Pair(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x, y * 2

        @staticmethod
        def backward(ctx, grad_x, grad_y):
            return grad_x, grad_y * 2

    class Dirty(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x.mul_(2)

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    return Id, Pair, Dirty


def _describe(x, y):
    return {"same object": y is x, "view": y._is_view(), "base is input": y._base is x,
            "node": None if y.grad_fn is None else type(y.grad_fn).__name__, "requires_grad": y.requires_grad,
            "leaf": y.is_leaf, "versions": (y._version, x._version)}


def _attempt(action):
    try:
        return action()
    except RuntimeError as error:
        return "RuntimeError", str(error)


CASES = {
    "leaf": lambda T, Id, Pair, Dirty, x0: (x0, Id.apply(x0)),
    "non-leaf": lambda T, Id, Pair, Dirty, x0: (lambda x: (x, Id.apply(x)))(x0 * 1),
    "view input": lambda T, Id, Pair, Dirty, x0: (lambda x: (x, Id.apply(x)))(x0[1:]),
    "first of two": lambda T, Id, Pair, Dirty, x0: (lambda x: (x, Pair.apply(x, x0)[0]))(x0 * 1),
    "input not requiring grad": lambda T, Id, Pair, Dirty, x0: (lambda x: (x, Id.apply(x)))(x0.detach()),
    "dirty": lambda T, Id, Pair, Dirty, x0: (lambda x: (x, Dirty.apply(x)))(x0 * 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_input_returned_as_is_as_torch(name):
    def run(lib):
        Id, Pair, Dirty = _functions(lib)
        x0 = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x, y = CASES[name](lib, Id, Pair, Dirty, x0)
        described = _describe(x, y)
        changed = _attempt(lambda: y.add_(1) and "modified")
        return described, changed

    assert run(gradscope) == run(torch)


def test_input_returned_under_no_grad_as_torch():
    def run(lib):
        Id, _, _ = _functions(lib)
        x0 = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            y = Id.apply(x0)
        return _describe(x0, y)

    assert run(gradscope) == run(torch)


def test_gradients_through_a_returned_input_unchanged():
    def run(lib):
        Id, Pair, _ = _functions(lib)
        x0 = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a, b = Pair.apply(Id.apply(x0 * 3), x0)
        (a * b).sum().backward()
        return x0.grad.numpy()

    np.testing.assert_array_equal(run(gradscope), run(torch))


@pytest.mark.parametrize("hook", ["full_backward_hook", "full_backward_pre_hook"])
def test_module_backward_hooks_wrap_outputs_in_views_as_torch(hook):
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(inplace=True))
        register = getattr(model[0], f"register_{hook}")
        register((lambda module, grad_input, grad_output: None) if hook == "full_backward_hook"
                 else (lambda module, grad_output: None))
        x = lib.tensor(np.ones((2, 3)), dtype=lib.float32, requires_grad=True)
        hidden = model[0](x)
        described = (hidden._is_view(), type(hidden.grad_fn).__name__, type(hidden._base.grad_fn).__name__)
        return described, _attempt(lambda: model(x).sum().backward() or "ran")

    assert run(gradscope) == run(torch)


def test_two_outputs_of_a_hooked_module_refuse_in_place_as_torch():
    def run(lib):
        class Two(lib.nn.Module):
            def forward(self, x):
                return x * 2, x * 3

        module = Two()
        module.register_full_backward_hook(lambda m, grad_input, grad_output: None)
        first, _ = module(lib.tensor([1.0, 2.0], requires_grad=True))
        return _attempt(lambda: first.mul_(2) and "modified")

    assert run(gradscope) == run(torch)
