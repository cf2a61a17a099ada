"""Binary elementwise ops over random broadcast-compatible shapes: values and gradients against
NumPy-computed expectations (and against torch when it is installed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import gradscope

# name: (call(lib, x, y), its NumPy value, its NumPy partial derivatives by x and by y)
BINARY = {
    "add": (lambda lib, x, y: x + y, np.add, lambda x, y: (np.ones_like(x * y), np.ones_like(x * y))),
    "sub": (lambda lib, x, y: x - y, np.subtract, lambda x, y: (np.ones_like(x * y), -np.ones_like(x * y))),
    "mul": (lambda lib, x, y: x * y, np.multiply, lambda x, y: (y + 0 * x, x + 0 * y)),
    "div": (lambda lib, x, y: x / y, np.divide, lambda x, y: (1 / y + 0 * x, -x / y ** 2)),
    "pow": (lambda lib, x, y: x ** y, np.power, lambda x, y: (y * x ** (y - 1), x ** y * np.log(x))),
    "maximum": (lambda lib, x, y: lib.maximum(x, y), np.maximum, lambda x, y: ((x > y) + 0 * y, (y > x) + 0 * x)),
    "minimum": (lambda lib, x, y: lib.minimum(x, y), np.minimum, lambda x, y: ((x < y) + 0 * y, (y < x) + 0 * x)),
}


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient over the dims broadcasting added or stretched."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)


def _operands(shapes, seed: int, positive_first: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x_shape, y_shape = shapes.input_shapes
    # magnitudes in [0.5, 1.5] with random signs keep division and ties away from trouble
    x = rng.uniform(0.5, 1.5, x_shape) * (1 if positive_first else rng.choice((-1.0, 1.0), x_shape))
    y = rng.uniform(0.5, 1.5, y_shape) * rng.choice((-1.0, 1.0), y_shape)
    return np.asarray(x), np.asarray(y)


broadcast_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=25, deadline=None)
@given(shapes=broadcast_pairs, seed=st.integers(0, 2**32 - 1))
def test_binary_op_broadcasts_values_and_gradients(name, shapes, seed):
    call, numpy_value, partials = BINARY[name]
    x, y = _operands(shapes, seed, positive_first=name == "pow")
    a = gradscope.tensor(x, requires_grad=True)
    b = gradscope.tensor(y, requires_grad=True)
    out = call(gradscope, a, b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.detach().numpy(), numpy_value(x, y), rtol=1e-12)

    upstream = np.random.default_rng(seed + 1).standard_normal(shapes.result_shape)
    ga, gb = gradscope.autograd.grad(out, (a, b), gradscope.tensor(upstream))
    dx, dy = partials(x, y)
    assert ga.shape == x.shape and gb.shape == y.shape
    np.testing.assert_allclose(ga.numpy(), _unbroadcast(upstream * dx, x.shape), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), _unbroadcast(upstream * dy, y.shape), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=10, deadline=None)
@given(shapes=broadcast_pairs, seed=st.integers(0, 2**32 - 1))
def test_binary_op_broadcasts_like_torch(name, shapes, seed):
    torch = pytest.importorskip("torch")
    call = BINARY[name][0]
    x, y = _operands(shapes, seed, positive_first=name == "pow")
    results = []
    for lib in (gradscope, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        out = call(lib, a, b)
        grads = lib.autograd.grad(out.sum(), (a, b))
        results.append([out.detach().numpy(), *(g.numpy() for g in grads)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)

