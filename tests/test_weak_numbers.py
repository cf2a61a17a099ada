"""Rules that meet a Python number (a saved `x * 1.01`, tanh's and sigmoid's `1 - r`) compute with it as a 0-dim
array of the gradient's dtype, NumPy's cheaper path: the gradients are what the same rule gives with the Python
number (which NumPy, like PyTorch for a wrapped number, rounds to the tensor's dtype) to the bit, and the node still
shows the number."""

import numpy as np
import pytest
import torch

import gradscope as gs

DTYPES = ["float16", "float32", "float64"]


def _values(dtype):
    rng = np.random.default_rng(3)
    return rng.standard_normal(64).astype(dtype), rng.standard_normal(64).astype(dtype)


def _grad(f, values, grad):
    x = gs.tensor(values, requires_grad=True)
    y = f(x)
    y.backward(gs.tensor(grad))
    assert x.grad.dtype == x.dtype
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("number", [1.01, 1e-3, -0.0, 1e300, 3])
def test_a_saved_number_gives_the_gradient_pytorch_gives(number, dtype):
    values, grad = _values(dtype)
    for op in ("mul", "rmul", "div"):
        f = {"mul": lambda t: t * number, "rmul": lambda t: number * t, "div": lambda t: t / number}[op]
        with np.errstate(all="ignore"):
            expected = grad * number if op != "div" else grad / number  # NumPy takes the number in grad's dtype
        _, ours = _grad(f, values, grad)
        np.testing.assert_array_equal(ours, expected)
        if dtype != "float16":  # PyTorch computes float16 in float32 and rounds once
            x = torch.tensor(values, requires_grad=True)
            f(x).backward(torch.tensor(grad))
            np.testing.assert_array_equal(ours, x.grad.numpy())


def test_nodes_that_saved_the_same_float_object_alone_share_what_their_rule_reads():
    """Backward reuses the 0-dim array of the last node of a kind that saved the same float object, for a gradient of
    the same dtype and the same params: -0.0 after 0.0 (equal, with products of other signs), 1.01 in float32 after
    float64, and div after div with a rounding mode each get their own, as in PyTorch (bits and signs of zeros)."""
    zero, negative_zero, number = 0.0, -0.0, 1.01
    cases = [(zero, "float64"), (negative_zero, "float64"), (zero, "float64"), (number, "float64"),
             (number, "float32"), (number, "float32"), (negative_zero, "float32"), (zero, "float64")]
    ops = {"mul": lambda t, n: t * n, "div": lambda t, n: t / n,
           "div_none": lambda t, n: torch_like(t).div(t, n, rounding_mode=None),
           "div_floor": lambda t, n: torch_like(t).div(t, n, rounding_mode="floor")}
    for op in ("mul", "div", "div_none", "div_floor", "mul", "div"):
        for value, dtype in cases:
            values, grad = _values(dtype)
            x = gs.tensor(values, requires_grad=True)
            ops[op](x, value).backward(gs.tensor(grad))
            expected = torch.tensor(values, requires_grad=True)
            ops[op](expected, value).backward(torch.tensor(grad))
            np.testing.assert_array_equal(x.grad.numpy(), expected.grad.numpy())
            np.testing.assert_array_equal(np.signbit(x.grad.numpy()), np.signbit(expected.grad.numpy()))


def torch_like(t):
    return torch if isinstance(t, torch.Tensor) else gs


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_and_sigmoid_gradients_are_their_formulas_in_the_tensors_dtype(dtype):
    values, grad = _values(dtype)
    result, ours = _grad(gs.tanh, values, grad)
    if dtype == "float16":  # PyTorch's tanh_backward computes float16 in float32 and rounds once (opmath_vjp)
        result, grad32 = result.astype(np.float32), grad.astype(np.float32)
        np.testing.assert_array_equal(ours, (grad32 * (1 - result * result)).astype(dtype))
    else:
        np.testing.assert_array_equal(ours, grad * (1 - result * result))
    result, ours = _grad(gs.sigmoid, values, grad)
    np.testing.assert_array_equal(ours, grad * (result * (1 - result)))


@pytest.mark.parametrize("dtype", [gs.float32, gs.float64])
def test_the_node_still_shows_the_number_after_backward(dtype):
    x = gs.ones(3, dtype=dtype, requires_grad=True)
    y = x * 1.01
    y.sum().backward(retain_graph=True)
    saved = y.grad_fn._saved_other
    assert saved.dtype == gs.float64 and saved.item() == 1.01
    assert x.grad.dtype == dtype


def test_double_backward_through_tanh_and_sigmoid_matches_pytorch():
    values = np.linspace(-2, 2, 7)
    results = []
    for t in (gs, torch):
        x = t.tensor(values, requires_grad=True)
        y = (t.tanh(x) + t.sigmoid(x) * 3.0).sum()
        (g,) = t.autograd.grad(y, x, create_graph=True)
        (gg,) = t.autograd.grad(g.sum(), x)
        results.append(gg.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_tanh_and_sigmoid_backward_leave_their_arguments_alone(shape):
    from gradscope.ops.namespace import sigmoid_backward, tanh_backward

    rng = np.random.default_rng(5)
    result, g = np.tanh(rng.standard_normal(shape)), rng.standard_normal(shape)
    kept = result.copy(), g.copy()
    np.testing.assert_array_equal(tanh_backward(g, result), g * (1 - result * result))
    np.testing.assert_array_equal(sigmoid_backward(g, result), g * (result * (1 - result)))
    np.testing.assert_array_equal(result, kept[0])
    np.testing.assert_array_equal(g, kept[1])
