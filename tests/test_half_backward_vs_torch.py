"""float16 gradients computed as PyTorch computes them: in float32 (its opmath type), rounded once.

Silently wrong before:
- layer_norm, group_norm, instance_norm and batch_norm differentiated in float16: with inputs of a few hundred the
  squares in their rules passed 65504, and the input's gradient was inf or nan (at x40, off by up to 4). PyTorch's
  backward kernels (native_layer_norm_backward ...) compute in float32. Their float16 nodes now run the rules on
  float32 forms of the gradient and saved values (Primitive(opmath_vjp=True)); the engine rounds each result once.
- a float16 gradient summed back over broadcast dims (a bias, `x + b`, expand) was summed in float16 by NumPy, row by
  row: 5,000 ones summed to 2048. PyTorch's sum_to sums in float32. A float16 node sums its gradients to its
  inputs' shapes in float32 (node.half_node_class, chosen where the node is made: float32 and float64 nodes pay
  nothing).
Each case compares values and gradients with torch's, within float16's rounding, and with gradscope's own float64
gradients of the same values (checked against finite differences elsewhere).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _close(actual, expected, what: str) -> None:
    """Within a few of float16's roundings: 2e-3 relative, plus 1e-3 of the largest magnitude (a difference of sums
    that cancel is that sum's rounding, not its own). Infinities and nans must be where the expected ones are."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, what
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(actual[~finite], expected[~finite], err_msg=what)
    assert np.isfinite(actual[finite]).all(), what
    if finite.any():
        scale = np.max(np.abs(expected[finite]))
        tolerance = 2e-3 * np.abs(expected[finite]) + 1e-3 * scale
        worst = np.max(np.abs(actual[finite] - expected[finite]) - tolerance)
        assert worst <= 0, f"{what}: off by {worst:.3g} beyond float16's rounding"


def _values_and_grads(lib, function, arrays: list, grad_output: np.ndarray, dtype=None) -> list:
    tensors = [lib.tensor(a if dtype is None else a.astype(dtype), requires_grad=True) for a in arrays]
    out = function(lib, *tensors)
    out.backward(lib.tensor(grad_output if dtype is None else grad_output.astype(dtype)))
    return [out.detach().double().numpy()] + [t.grad.double().numpy() for t in tensors]


def _compare(function, shapes, scale: float, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    arrays = [(rng.standard_normal(shape) * (scale if index == 0 else 1)).astype(np.float16)
              for index, shape in enumerate(shapes)]
    shape = tuple(function(torch, *[torch.tensor(a) for a in arrays]).shape)
    grad_output = (rng.standard_normal(shape) * scale).astype(np.float16)
    expected = _values_and_grads(torch, function, arrays, grad_output)
    actual = _values_and_grads(gradscope, function, arrays, grad_output)
    exact = _values_and_grads(gradscope, function, arrays, grad_output, np.float64)
    for index, (ours, theirs, precise) in enumerate(zip(actual, expected, exact)):
        what = "output" if index == 0 else f"gradient of input {index - 1}"
        _close(ours, theirs, what + " vs torch")
        if np.isfinite(precise).all() and np.max(np.abs(precise)) < 60000:
            _close(ours, precise.astype(np.float16), what + " vs float64")


NORMS = {
    "layer_norm": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (64,), w, b), [(4, 64), (64,), (64,)]),
    "layer_norm_2d_shape": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4, 8), w, b),
                            [(3, 4, 8), (4, 8), (4, 8)]),
    "group_norm": (lambda lib, x, w, b: lib.nn.functional.group_norm(x, 2, w, b), [(3, 4, 40), (4,), (4,)]),
    "instance_norm": (lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b),
                      [(3, 4, 40), (4,), (4,)]),
    "batch_norm": (lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True),
                   [(16, 4, 5), (4,), (4,)]),
    "batch_norm_2d": (lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True),
                      [(8, 3, 4, 4), (3,), (3,)]),
}


@pytest.mark.parametrize("scale", [1, 40, 400])
@pytest.mark.parametrize("name", sorted(NORMS))
def test_half_norms_differentiate_in_float32(name, scale):
    function, shapes = NORMS[name]
    _compare(function, shapes, scale)


@pytest.mark.parametrize("scale", [1, 40, 400])
def test_half_batch_norm_in_eval_mode(scale):
    def function(lib, x, w, b):
        mean = lib.tensor(np.array([0.5, -1.0, 2.0, 0.0]) * scale, dtype=x.dtype)
        var = lib.tensor(np.array([1.0, 4.0, 0.25, 9.0]) * scale, dtype=x.dtype)
        return lib.nn.functional.batch_norm(x, mean, var, w, b, training=False)
    _compare(function, [(16, 4, 5), (4,), (4,)], scale)


def test_half_layer_norm_of_large_values_has_finite_gradients():
    x = np.linspace(-400, 400, 64).astype(np.float16).reshape(2, 32)
    weights = np.random.default_rng(2).standard_normal(32).astype(np.float16)
    grads = []
    for lib in (torch, gradscope):
        t = lib.tensor(x, requires_grad=True)
        layer = lib.nn.LayerNorm(32).half()
        (layer(t) * lib.tensor(weights)).sum().backward()
        grads.append((t.grad.double().numpy(), layer.weight.grad.double().numpy()))
    assert np.isfinite(grads[1][0]).all()  # was nan: the squares of x - mean overflowed
    for ours, theirs in zip(grads[1], grads[0]):
        _close(ours, theirs, "LayerNorm")


def test_half_layer_norm_first_derivative_under_create_graph_is_the_same():
    rng = np.random.default_rng(1)
    x0 = (rng.standard_normal((4, 64)) * 40).astype(np.float16)
    w0 = rng.standard_normal(64).astype(np.float16)
    g0 = (rng.standard_normal((4, 64)) * 40).astype(np.float16)
    results = {}
    for lib in (torch, gradscope):
        for create_graph in (False, True):
            x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
            out = lib.nn.functional.layer_norm(x, (64,), w)
            gx, gw = lib.autograd.grad(out, (x, w), lib.tensor(g0), create_graph=create_graph)
            assert gx.dtype == gw.dtype == lib.float16
            second = lib.autograd.grad((gx.float() ** 2).sum(), (x, w)) if create_graph else ()
            results[lib, create_graph] = [t.detach().double().numpy() for t in (gx, gw, *second)]
    assert all(np.array_equal(a, b) for a, b in zip(results[gradscope, False], results[gradscope, True]))
    for ours, theirs in zip(results[gradscope, True], results[torch, True]):
        _close(ours, theirs, "layer_norm under create_graph")


def test_half_norm_nodes_keep_their_names():
    x = gradscope.ones(2, 8, dtype=gradscope.float16, requires_grad=True)
    out = gradscope.nn.functional.layer_norm(x, (8,))
    assert out.grad_fn.name() == "NativeLayerNormBackward0"
    assert type(out.grad_fn).__name__ == "NativeLayerNormBackward0"
    assert (x + 1).grad_fn.name() == "AddBackward0"


BROADCASTS = {
    "add_a_row": (lambda lib, x, b: x + b, [(5000, 2), (2,)]),
    "mul_a_row": (lambda lib, x, b: x * b, [(3000, 4), (4,)]),
    "add_a_column": (lambda lib, x, b: x + b, [(4, 3000), (4, 1)]),
    "expand": (lambda lib, x, b: x * b.expand(3000, 4), [(3000, 4), (1, 4)]),
    "linear_bias": (lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), [(3000, 8), (6, 8), (6,)]),
    "linear_3d_bias": (lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), [(30, 100, 8), (6, 8), (6,)]),
}


@pytest.mark.parametrize("scale", [1, 40])
@pytest.mark.parametrize("name", sorted(BROADCASTS))
def test_half_gradients_sum_over_broadcast_dims_in_float32(name, scale):
    function, shapes = BROADCASTS[name]
    _compare(function, shapes, scale)


def test_half_bias_gradient_of_many_rows_is_not_stuck_at_2048():
    for lib in (torch, gradscope):
        x = lib.ones(5000, 2, dtype=lib.float16)
        b = lib.zeros(2, dtype=lib.float16, requires_grad=True)
        (x + b).sum().backward()
        assert b.grad.tolist() == [5000.0, 5000.0], lib.__name__


@pytest.mark.parametrize("scale", [1, 40])
def test_half_sum_over_a_leading_dim_sums_in_float32(scale):
    _compare(lambda lib, x: x.sum(0), [(3000, 4)], scale)
    _compare(lambda lib, x: x.sum((0, 2), keepdim=True), [(300, 4, 10)], scale)


def test_half_sum_of_many_ones_over_a_leading_dim():
    for lib in (torch, gradscope):
        assert lib.ones(5000, 2, dtype=lib.float16).sum(0).tolist() == [5000.0, 5000.0], lib.__name__
