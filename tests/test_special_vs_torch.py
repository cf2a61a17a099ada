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
    "xlog1py": lambda f, x: f(x, x - 0.5),
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
    "entr": lambda f, x: f(x), "erfcx": lambda f, x: f(x), "log_ndtr": lambda f, x: f(x), "ndtri": lambda f, x: f(x),
    "i0e": lambda f, x: f(x), "i1e": lambda f, x: f(x),
    "xlog1py": lambda f, x: f(x, x.detach().flip(0)), "xlog1py-number-other": lambda f, x: f(x, -1.0),
    "xlog1py-number-self": lambda f, x: f(2.5, x),
}
# NOTE: where PyTorch's float32 kernels round differently from NumPy's: erfc's last subnormal (erfc(10.05) is
# 1.4e-45 in float64, 0 in PyTorch's float32), sinc's gradient where πx cos πx − sin πx cancels, |x| < 0.05
# (NumPy's float32 sin and cos differ from PyTorch's by an ulp or two, which the cancellation magnifies)
# NOTE: these gradients cancel (erfcx's 2x·erfcx(x) − 2/√π for large x, log_ndtr's exp(−(result + x²/2))
# for x ≪ 0, i0e's i1e − sgn·i0e, ndtri's exp(result²/2) at subnormal p, multigammaln's digamma sum), and PyTorch's
# kernels round their results differently from gradscope's (float32 ones computed in float64, rounded once)
CANCELLING_GRADIENTS = {"erfcx", "log_ndtr", "i0e", "i1e", "ndtri", "multigammaln"}
# log_ndtr below −100: its gradient's exp(−(result + x²/2)) loses x²/2's float32 ulp (> 1e-3 past there)
FLOAT32_SKIPS = {"erfc": (np.abs(WIDE) > 10) & (np.abs(WIDE) < 10.1), "sinc": (np.abs(WIDE) < 0.05) & (WIDE != 0),
                 "log_ndtr": WIDE < -100}


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
    # erfcx and log_ndtr in float32: PyTorch's kernels square x in float32 (x² ulps of error in exp(x²))
    rtol = (1e-5 if name in ("erfcx", "log_ndtr") else 2e-5) if dtype == "float32" else 1e-11
    tiny = np.finfo(dtype).tiny  # subnormal results (log_ndtr's log1p of one) keep fewer digits
    np.testing.assert_allclose(value[keep], value_t[keep], rtol=rtol, atol=tiny)
    signed = ~np.isnan(value_t[keep])  # a nan's sign bit is no part of PyTorch's contract
    np.testing.assert_array_equal(np.signbit(value[keep])[signed], np.signbit(value_t[keep])[signed])
    atol = 0
    if name in CANCELLING_GRADIENTS:  # an ulp or so of the cancelling terms (~1), and float32's relative noise
        rtol, atol = (1e-3, 1e-6) if dtype == "float32" else (rtol, 1e-14)
    np.testing.assert_allclose(grad[keep], grad_t[keep], rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["erfc", "exp2", "i0", "i1", "sinc", "logit", "entr", "erfcx", "log_ndtr", "ndtri",
                                  "i0e", "i1e", "xlog1py"])
def test_special_gradients_are_finite_differences(name):
    x = gradscope.tensor([-3.0, -0.5, 0.01, 0.3, 0.7, 2.5, 12.0, 35.0], dtype=gradscope.float64, requires_grad=True)
    if name in ("logit", "ndtri", "entr"):
        x = gradscope.tensor([1e-3, 0.01, 0.3, 0.5, 0.9], dtype=gradscope.float64, requires_grad=True)
    function = getattr(gradscope.special, name)
    if name == "xlog1py":
        function = lambda x: gradscope.special.xlog1py(x, x.exp())  # noqa: E731
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


def test_xlog1py_at_zero_as_torch():
    """0 · log1p(y) is 0 for y = −1 and ±inf, nan for nan y; the first input's gradient 0 where x = 0 and y <= −1."""
    seen = []
    for lib in (gradscope, torch):
        x = lib.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([-1.0, -3.0, np.inf, np.nan, 0.5, -1.0, np.inf], dtype=lib.float64, requires_grad=True)
        out = lib.special.xlog1py(x, y)
        out.sum().backward()
        seen.append((out.grad_fn.name(), out.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    assert seen[0][0] == seen[1][0]
    for mine, theirs in zip(seen[0][1:], seen[1][1:]):
        np.testing.assert_array_equal(mine, theirs)


def _saved_values(node) -> list:
    values = []
    for name in sorted(name for name in dir(node) if name.startswith("_saved_")):
        value = getattr(node, name)
        values.append((name, value.detach().numpy().tolist() if hasattr(value, "detach") else value))
    return values


@pytest.mark.parametrize("call", [
    lambda s, x: s.xlog1py(x, x), lambda s, x: s.xlog1py(x, 2.0), lambda s, x: s.xlog1py(2.0, x),
    lambda s, x: s.entr(x), lambda s, x: s.erfcx(x), lambda s, x: s.log_ndtr(x), lambda s, x: s.ndtri(x),
    lambda s, x: s.i0e(x), lambda s, x: s.i1e(x), lambda s, x: s.i1(x),
], ids=["xlog1py", "xlog1py-number-other", "xlog1py-number-self", "entr", "erfcx", "log_ndtr", "ndtri", "i0e", "i1e",
        "i1"])
def test_special_nodes_save_what_torch_saves(call):
    seen = []
    for lib in (gradscope, torch):
        x = lib.tensor([0.3, 0.5], dtype=lib.float64, requires_grad=True)
        node = call(lib.special, x).grad_fn
        seen.append((node.name(), _saved_values(node)))
    (node, saved), (node_t, saved_t) = seen
    assert (node, [name for name, _ in saved]) == (node_t, [name for name, _ in saved_t])
    for (_, value), (_, value_t) in zip(saved, saved_t):
        np.testing.assert_allclose(value, value_t, rtol=1e-14)
