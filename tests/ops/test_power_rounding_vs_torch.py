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


INTEGER_POWERS = {
    "tensor ** -1": lambda lib: lib.tensor([2]) ** -1,
    "pow(tensor, -1)": lambda lib: lib.pow(lib.tensor([2]), -1),
    "pow_(-1)": lambda lib: lib.tensor([2]).pow_(-1),
    "uint8 ** -1": lambda lib: lib.tensor([2], dtype=lib.uint8) ** -1,
    "bool ** -1": lambda lib: lib.tensor([True]) ** -1,
    "bool ** 2": lambda lib: lib.tensor([True, False]) ** 2,
    "tensor ** tensor": lambda lib: lib.tensor([-1, 1, 5, 0, 2, -1]) ** lib.tensor([-3, -4, -1, 2, -2, -2]),
    "int8 ** int8": lambda lib: lib.tensor([2, -1], dtype=lib.int8) ** lib.tensor([-1, -1], dtype=lib.int8),
    "number ** tensor": lambda lib: lib.pow(-1, lib.tensor([-3, -2, 0])),
    "float number ** tensor": lambda lib: lib.pow(2.0, lib.tensor([-1, 2])),
    "int ** float tensor": lambda lib: lib.tensor([2, 3]) ** lib.tensor([1.5, -1.0]),
}


@pytest.mark.parametrize("name", INTEGER_POWERS)
def test_integer_powers_as_torch(name):
    """A negative power of an integer tensor by a number is refused (RuntimeError, not NumPy's ValueError); by a
    tensor (or of a number) it is computed, 1 and -1 keeping their magnitude and others giving 0."""
    outcomes = []
    for lib in (gradscope, torch):
        try:
            result = INTEGER_POWERS[name](lib)
            outcomes.append((str(result.dtype), result.tolist()))
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            outcomes.append((type(error).__name__, str(error)))
    assert outcomes[0] == outcomes[1]
