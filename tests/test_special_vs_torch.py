"""torch.special on gradscope against PyTorch: values, nodes and gradients; and round(decimals=)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

X = np.array([0.05, 0.3, 0.6, 0.95])
# PyTorch's ndtr multiplies by 0.5 as mul(Tensor, Scalar) (MulBackward1); gradscope's product of a tensor
# and a Python number is MulBackward0 (the fidelity gap noted in tests/nn/test_loss_nodes_vs_torch.py)
NODE_DIFFERS = {"ndtr"}
CALLS = {
    "polygamma": lambda f, x: f(1, x),
    "xlogy": lambda f, x: f(x, x + 1),
    "softmax": lambda f, x: f(x, 0),
    "log_softmax": lambda f, x: f(x, 0),
    "logsumexp": lambda f, x: f(x, 0),
    # differentiable in x only (as in PyTorch): a constant a
    "gammainc": lambda f, x: f(x.detach() + 1.5, x * 4),
    "gammaincc": lambda f, x: f(x.detach() * 3, x * 2),
    "multigammaln": lambda f, x: f(x + 1, 3),
}


@pytest.mark.parametrize("name", gradscope.special.__all__)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_function_as_torch(name, dtype):
    seen = []
    for lib in (gradscope, torch):
        x = lib.tensor(X, dtype=getattr(lib, dtype), requires_grad=True)
        y = CALLS.get(name, lambda f, x: f(x))(getattr(lib.special, name), x)
        y.sum().backward()
        node = y.grad_fn.name() if name not in NODE_DIFFERS else None
        seen.append((node, str(y.dtype), y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)))
    (node, dtype_, value, grad), (node_t, dtype_t, value_t, grad_t) = seen
    assert (node, dtype_) == (node_t, dtype_t)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(value, value_t, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(grad, grad_t, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.round(x), lambda lib, x: lib.round(x, decimals=0), lambda lib, x: lib.round(x, decimals=2),
    lambda lib, x: lib.round(x, decimals=-2), lambda lib, x: x.round(decimals=1), lambda lib, x: lib.special.round(x),
], ids=["plain", "decimals-0", "decimals-2", "decimals--2", "method", "special"])
def test_round_with_decimals_is_its_own_node_as_torch(call):
    seen = []
    for lib in (gradscope, torch):
        x = lib.tensor([0.125, 1.35, -2.5, 1234.5678, 0.5], requires_grad=True)
        y = call(lib, x)
        y.sum().backward()
        seen.append((y.grad_fn.name(), y.detach().numpy().tolist(), x.grad.tolist()))
    assert seen[0] == seen[1]


EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 1e-30, -1e-30, 1e300, -1e300, 1e30, -1e30, 1.0, -1.0,
         0.5, 1e-8, 1 - 1e-8]
WIDE = np.concatenate([EDGES, np.linspace(-50, 50, 1001), np.geomspace(1e-6, 800, 300), -np.geomspace(1e-6, 800, 300),
                       np.linspace(-1, 2, 301)])
WIDE_CALLS = {
    "erfc": lambda f, x: f(x), "exp2": lambda f, x: f(x), "sinc": lambda f, x: f(x), "i0": lambda f, x: f(x),
    "i1": lambda f, x: f(x), "logit": lambda f, x: f(x), "logit-eps": lambda f, x: f(x, 1e-3),
    "multigammaln": lambda f, x: f(x, 3),
}
# NOTE: where PyTorch's float32 kernels round differently from NumPy's: erfc's last subnormal (erfc(10.05) is
# 1.4e-45 in float64, 0 in PyTorch's float32), sinc's gradient where πx cos πx − sin πx cancels, |x| < 0.05
# (NumPy's float32 sin and cos differ from PyTorch's by an ulp or two, which the cancellation magnifies),
# multigammaln's gradient at a few points (digamma summed in float32 by PyTorch)
FLOAT32_SKIPS = {"erfc": (np.abs(WIDE) > 10) & (np.abs(WIDE) < 10.1), "sinc": (np.abs(WIDE) < 0.05) & (WIDE != 0)}


@pytest.mark.parametrize("name", sorted(WIDE_CALLS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_values_and_gradients_over_wide_ranges_as_torch(name, dtype):
    """Values and gradients at 0, ±0, ±inf, nan, huge and tiny numbers and across [−800, 800], in each dtype."""
    seen = []
    for lib in (gradscope, torch):
        x = lib.tensor(WIDE, dtype=getattr(lib, dtype), requires_grad=True)
        y = WIDE_CALLS[name](getattr(lib.special, name.split("-")[0]), x)
        y.sum().backward()
        seen.append((y.grad_fn.name(), str(y.dtype), y.detach().numpy(), x.grad.numpy()))
    (node, dtype_, value, grad), (node_t, dtype_t, value_t, grad_t) = seen
    assert (node, dtype_) == (node_t, dtype_t)
    keep = ~FLOAT32_SKIPS.get(name, np.zeros(WIDE.shape, bool)) if dtype == "float32" else slice(None)
    rtol = 2e-5 if dtype == "float32" else 1e-11
    np.testing.assert_allclose(value[keep], value_t[keep], rtol=rtol, atol=0)
    signed = ~np.isnan(value_t[keep])  # a nan's sign bit is no part of PyTorch's contract
    np.testing.assert_array_equal(np.signbit(value[keep])[signed], np.signbit(value_t[keep])[signed])
    loose = name == "multigammaln" and dtype == "float32"
    np.testing.assert_allclose(grad[keep], grad_t[keep], rtol=1e-3 if loose else rtol, atol=0)


@pytest.mark.parametrize("name", ["erfc", "exp2", "i0", "i1", "sinc", "logit"])
def test_special_gradients_are_finite_differences(name):
    x = gradscope.tensor([-3.0, -0.5, 0.01, 0.3, 0.7, 2.5, 12.0], dtype=gradscope.float64, requires_grad=True)
    if name == "logit":
        x = gradscope.tensor([0.01, 0.3, 0.5, 0.9], dtype=gradscope.float64, requires_grad=True)
    function = getattr(gradscope.special, name)
    assert gradscope.autograd.gradcheck(function, (x,))
    assert gradscope.autograd.gradgradcheck(function, (x,))


def test_special_aliases_are_torch_functions_as_in_torch():
    for name in ("erfc", "exp2", "i0", "logit", "sinc"):
        assert getattr(gradscope.special, name) is getattr(gradscope, name)
    assert gradscope.special.multigammaln is gradscope.mvlgamma
    assert not hasattr(gradscope, "i1") and not hasattr(torch, "i1")


def test_vmap_is_func_vmap_as_in_torch():
    assert torch.vmap is torch.func.vmap
    assert gradscope.vmap is gradscope.func.vmap
    out = gradscope.vmap(lambda row: row.sum())(gradscope.arange(6.0).reshape(2, 3))
    assert out.tolist() == [3.0, 12.0]
