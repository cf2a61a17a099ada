"""A backward rule may return the broadcast of several inputs; the engine sums it back to each input's
shape, also when that input has the output's shape (dist(x, y) with x of shape () and y of (3,) gives a
() output: x's gradient must come back as (), not (3,))."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


CALLS = {
    "dist": lambda lib, x, y: lib.dist(x, y),
    "dist_p1": lambda lib, x, y: lib.dist(x, y, 1),
    "mse_loss": lambda lib, x, y: lib.nn.functional.mse_loss(x, y),
    "l1_loss_sum": lambda lib, x, y: lib.nn.functional.l1_loss(x, y, reduction="sum"),
    "huber_loss": lambda lib, x, y: lib.nn.functional.huber_loss(x, y * 3),
}


def _grads(lib, name, create_graph):
    x = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
    y = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the losses warn about the size mismatch
        out = CALLS[name](lib, x, y)
    return lib.autograd.grad(out, (x, y), create_graph=create_graph)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", CALLS)
def test_gradient_of_an_input_shaped_like_the_output_is_summed_back(torch, name, create_graph):
    ours, theirs = _grads(gradscope, name, create_graph), _grads(torch, name, create_graph)
    for mine, reference in zip(ours, theirs, strict=True):
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-12)


def _broadcasting_function(lib):
    class Scale(lib.autograd.Function):
        """out = x * sum(w): its backward hands x the gradient at w's shape."""

        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w.sum()

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * w, grad * x * lib.ones_like(w)

    return Scale


def test_custom_function_returning_a_broadcast_gradient(torch):
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        w = lib.tensor([1.0, 2.0, 4.0], dtype=lib.float64, requires_grad=True)
        _broadcasting_function(lib).apply(x, w).backward()
        results.append((x.grad.tolist(), w.grad.tolist()))
    assert results[0] == results[1] == (7.0, [2.0, 2.0, 2.0])
