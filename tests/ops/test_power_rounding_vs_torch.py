"""x ** n rounded as PyTorch's CPU kernel rounds it, in float32 and float64: exponents 2, 3 and -2 as products,
±0.5 through sqrt, -1 as a reciprocal (NumPy's pow rounds x ** 3 once where PyTorch's x·x·x rounds twice: ~30% of
elements one ulp apart), in the forward and in PowBackward0's `exponent · x ** (exponent - 1)`; hardswish in
PyTorch's order, x · clamp(x + 3, 0, 6) / 6. Bit for bit against torch; the other exponents go through pow, as
PyTorch's, whose vectorised pow is not NumPy's (not compared)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _differing(a: np.ndarray, b: np.ndarray) -> int:
    return int(((a != b) & ~(np.isnan(a) & np.isnan(b))).sum())


def _inputs(dtype):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(4099, dtype=dtype, generator=generator) * 3  # an odd length: the kernels' tails too
    x[:5] = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan")], dtype=dtype)
    return x


# (exponent, the forward is exact, the gradient is exact): the gradient of ±0.5 and -2 needs x ** -1.5 or -3 (pow)
EXPONENTS = [(2, True, True), (3, True, True), (-2, True, False), (0.5, False, True), (-0.5, True, False),
             (-1, True, True), (4, False, True), (2.0, True, True), (3.0, True, True), (-1.0, True, True)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("exponent", "forward_exact", "gradient_exact"), EXPONENTS)
def test_power_rounds_as_torch(dtype, exponent, forward_exact, gradient_exact):
    x = _inputs(getattr(torch, dtype))
    theirs = x.clone().requires_grad_()
    (theirs ** exponent).backward(torch.ones_like(x))
    ours = gradscope.tensor(x.numpy(), requires_grad=True)
    out = ours ** exponent
    out.backward(gradscope.ones_like(out))
    if forward_exact:
        assert _differing(out.detach().numpy(), (x ** exponent).numpy()) == 0
    if gradient_exact:
        assert _differing(ours.grad.numpy(), theirs.grad.numpy()) == 0
    # NOTE: torch.sqrt is not correctly rounded on every build (x ** 0.5 a few ulp-off elements in ~0.4%)
    np.testing.assert_allclose(out.detach().numpy(), (x ** exponent).numpy(), rtol=1e-6 if dtype == "float32" else
                               1e-14, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hardswish_rounds_as_torch(dtype):
    x = _inputs(getattr(torch, dtype))
    ours = gradscope.nn.functional.hardswish(gradscope.tensor(x.numpy())).numpy()
    assert _differing(ours, torch.nn.functional.hardswish(x).numpy()) == 0
