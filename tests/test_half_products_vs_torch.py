"""float16 addmm and F.linear computed as PyTorch computes them: the product, its scale (alpha) and the bias (times
beta) added in float32, rounded once.

Silently wrong before: the product was rounded to float16 first, so a product past 65504 was inf even where alpha
scaled it back into range or the bias cancelled it (PyTorch: 20000, here inf). The float16 form is chosen in addmm's
forward; F.linear's and mm's short paths (float32 and float64 only) never reach it. The gradients are checked too:
the bias's sums over the batch in float32 (see test_half_backward_vs_torch.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _both(make):
    return [make(lib) for lib in (torch, gradscope)]


def _as_array(t) -> np.ndarray:
    return t.detach().double().numpy()


def _operands(lib, requires_grad=False):
    x = lib.full((2, 4), 200.0, dtype=lib.float16, requires_grad=requires_grad)
    w = lib.full((3, 4), 100.0, dtype=lib.float16, requires_grad=requires_grad)
    b = lib.tensor([-60000.0, -50000.0, -65000.0], dtype=lib.float16, requires_grad=requires_grad)
    return x, w, b  # x @ w.T is 80000 everywhere: past float16's 65504


CALLS = {
    "linear": lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
    "linear_3d": lambda lib, x, w, b: lib.nn.functional.linear(x.reshape(2, -1, 4), w, b),
    "addmm_bias_cancels": lambda lib, x, w, b: lib.addmm(b, x, w.t()),
    "addmm_alpha": lambda lib, x, w, b: lib.addmm(b * 0, x, w.t(), alpha=0.5),
    "addmm_alpha_beta": lambda lib, x, w, b: lib.addmm(b, x, w.t(), beta=0.5, alpha=0.25),
    "addmm_full_bias": lambda lib, x, w, b: lib.addmm(b.expand(2, 3).contiguous(), x, w.t(), beta=1.0),
    "tensor_addmm": lambda lib, x, w, b: b.addmm(x, w.t(), alpha=0.75),
    "linear_module": lambda lib, x, w, b: _linear_module(lib, w, b)(x),
}


def _linear_module(lib, w, b):
    layer = lib.nn.Linear(4, 3, dtype=lib.float16)
    with lib.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(b)
    return layer


@pytest.mark.parametrize("name", sorted(CALLS))
def test_half_products_past_65504_come_back_into_range(name):
    theirs, ours = _both(lambda lib: CALLS[name](lib, *_operands(lib)))
    assert ours.dtype == gradscope.float16
    assert np.isfinite(_as_array(theirs)).all()
    np.testing.assert_array_equal(_as_array(ours), _as_array(theirs))


@pytest.mark.parametrize("name", ["linear", "linear_3d", "addmm_alpha_beta", "tensor_addmm"])
def test_half_products_gradients(name):  # the bias's sums 3,000 sevens: in float16 they stop at 16384
    rng = np.random.default_rng(0)
    x0 = (rng.standard_normal((3000, 4)) * 40).astype(np.float16)  # the bias's gradient: a sum of 3,000 rows
    w0 = rng.standard_normal((3, 4)).astype(np.float16)
    b0 = (rng.standard_normal(3) * 40).astype(np.float16)
    results = []
    for lib in (torch, gradscope):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        out = CALLS[name](lib, x, w, b)
        out.backward(lib.ones_like(out) * 7)
        results.append([_as_array(t) for t in (out, x.grad, w.grad, b.grad)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=2e-3, atol=1e-3 * np.max(np.abs(theirs)))


def test_float32_products_keep_their_bits():
    # the float16 form must not touch other dtypes: float32 addmm as NumPy's product, scaled, plus the bias
    rng = np.random.default_rng(1)
    bias, mat1, mat2 = (rng.standard_normal(shape).astype(np.float32) for shape in ((3,), (5, 4), (4, 3)))
    out = gradscope.addmm(gradscope.tensor(bias), gradscope.tensor(mat1), gradscope.tensor(mat2), alpha=0.5)
    expected = np.matmul(mat1, mat2) * np.float32(0.5) + bias
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.dtype == gradscope.float32
