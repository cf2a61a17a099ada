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
