"""Module full backward hooks under double backward, as PyTorch's: a hook runs when a backward pass brings the module
its output gradients and then its input gradients. A gradient that reaches the module's inputs without passing
through its outputs in that pass (the gradient's own graph, in a double backward) runs no hook: gradscope ran the
hooks again there, with the previous pass's grad_output.

grad_input has an entry per argument of the call, as PyTorch's: None for one that is not a tensor, zeros for a tensor
that needs no gradient or gets none (which then reaches it: an unused input's .grad is zeros). gradscope's had an
entry per tensor only, so a hook reading or replacing grad_input[i] met another argument's gradient, and None where
PyTorch gives zeros.
"""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")


def _shapes(grads) -> list:
    return [None if g is None else tuple(g.shape) for g in grads]


def _hooked(T, module, calls: list):
    module.register_full_backward_pre_hook(lambda m, go: calls.append(("pre", type(m).__name__, _shapes(go))))
    module.register_full_backward_hook(
        lambda m, gi, go: calls.append(("full", type(m).__name__, _shapes(gi), _shapes(go))))
    return module


def _mse_module(T) -> list:
    """PyTorch's test_full_backward_hook_double_backward."""
    calls = []
    x = T.ones(1, requires_grad=True)
    loss = _hooked(T, T.nn.MSELoss(), calls)
    (grad,) = T.autograd.grad(loss(x, T.ones_like(x) * 0.5), x, create_graph=True)
    calls.append("first done")
    (second,) = T.autograd.grad(grad, x)
    return calls + [second.tolist()]


def _gradient_penalty(T) -> list:
    """A WGAN-GP step: the critic's loss plus the squared norm of its gradient with respect to its input."""
    calls = []
    T.manual_seed(0)
    first = _hooked(T, T.nn.Linear(3, 4).double(), calls)
    second = _hooked(T, T.nn.Linear(4, 1).double(), calls)
    x = T.linspace(-1, 1, 6, dtype=T.float64).reshape(2, 3).requires_grad_()
    score = second(T.tanh(first(x))).sum()
    (grad,) = T.autograd.grad(score, x, create_graph=True)
    calls.append("penalty")
    (score + grad.pow(2).sum()).backward()
    return calls


def _hessian_vector_through_a_linear_input(T) -> list:
    """A linear layer's input gradient is the weight times grad_output: its gradient with respect to the weight
    passes the layer's own nodes but neither its output hook node nor, then, any hook."""
    calls = []
    T.manual_seed(0)
    layer = _hooked(T, T.nn.Linear(3, 2).double(), calls)
    x = T.ones(2, 3, dtype=T.float64, requires_grad=True)
    (grad,) = T.autograd.grad(layer(x).pow(2).sum(), x, create_graph=True)
    calls.append("second")
    T.autograd.grad(grad.sum(), (x, layer.weight))
    return calls


class _Arguments:
    """A module of a number, two tensors that need gradients (one unused) and an integer tensor."""

    @staticmethod
    def make(T):
        class Scaled(T.nn.Module):
            def forward(self, scale, a, unused, indices):
                return a * scale
        return Scaled()

    @staticmethod
    def inputs(T):
        return 3, T.ones(2, requires_grad=True), T.ones(2, requires_grad=True), T.tensor([1, 2])


def _grad_input_per_argument(T) -> list:
    calls = []
    module = _Arguments.make(T)
    module.register_full_backward_hook(lambda m, gi, go: calls.append(
        [None if g is None else (g.tolist(), str(g.dtype).split(".")[-1]) for g in gi]))
    scale, a, unused, indices = _Arguments.inputs(T)
    module(scale, a, unused, indices).sum().backward()
    return calls + [a.grad.tolist(), None if unused.grad is None else unused.grad.tolist()]


def _grad_input_replaced_by_position(T) -> list:
    module = _Arguments.make(T)
    module.register_full_backward_hook(lambda m, gi, go: (None, gi[1] * 10, None, None))
    scale, a, unused, indices = _Arguments.inputs(T)
    module(scale, a, unused, indices).sum().backward()
    outcome = [a.grad.tolist()]
    wrong = _Arguments.make(T)
    wrong.register_full_backward_hook(lambda m, gi, go: (gi[1],))
    try:
        wrong(scale, a, unused, indices).sum().backward()
    except RuntimeError as error:
        outcome.append(str(error))
    return outcome


def _no_input_needs_a_gradient(T) -> list:
    calls = []

    class Weighted(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = T.nn.Parameter(T.ones(2))

        def forward(self, scale, a):
            return a * self.weight * scale
    module = Weighted()
    module.register_full_backward_hook(lambda m, gi, go: calls.append((gi, _shapes(go))))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        module(2, T.ones(2)).sum().backward()
    return calls


@pytest.mark.parametrize("scenario", [_grad_input_per_argument, _grad_input_replaced_by_position,
                                      _no_input_needs_a_gradient], ids=lambda f: f.__name__.strip("_"))
def test_grad_input_has_an_entry_per_argument(scenario):
    assert scenario(gradscope) == scenario(torch)


@pytest.mark.parametrize("scenario", [_mse_module, _gradient_penalty, _hessian_vector_through_a_linear_input],
                         ids=lambda f: f.__name__.strip("_"))
def test_the_hooks_run_as_pytorchs_do(scenario):
    assert scenario(gradscope) == scenario(torch)
