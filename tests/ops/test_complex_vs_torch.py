"""Every sample on complex inputs: gradscope's gradient is PyTorch's, or gradscope refuses; never another number.

PyTorch's gradient of a real loss L with respect to z = x + iy is ∂L/∂x + i ∂L/∂y; `autograd.grad(out, z, u)`
is that gradient for L = Σ Re(conj(u) · out). Where PyTorch refuses too, finite differences of that L are the
reference.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from finite_differences import Lib
from samples import SAMPLES

import gradscope

GRADSCOPE = Lib(gradscope, gradscope.nn.functional)
# ops gradscope differentiates on complex inputs, each pinned by a sample: a regression to a refusal fails
SUPPORTED = ("mul", "div", "add", "sub", "exp", "log", "sin", "tanh", "sqrt", "abs", "sum", "mean", "matmul",
             "mm", "reshape", "transpose", "cat", "stack", "index", "pow", "reciprocal", "var", "std", "prod",
             "cumsum", "sgn", "angle")


@pytest.fixture(scope="module")
def torch_lib():
    torch = pytest.importorskip("torch")
    return Lib(torch, torch.nn.functional)


def _complex_inputs(sample) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(f"{sample.name}/imag".encode()))
    return [np.asarray(a + 1j * rng.uniform(-0.5, 0.5, a.shape)) for a in sample.inputs()]


def _differentiable(result) -> list:
    outputs = list(result) if isinstance(result, tuple) else [result]
    return [out for out in outputs if out.dtype.is_floating_point or out.dtype.is_complex]


def _cotangents(sample, outputs) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(f"{sample.name}/u".encode()))
    return [rng.standard_normal(tuple(out.shape)) + (1j * rng.standard_normal(tuple(out.shape))
                                                     if out.dtype.is_complex else 0) for out in outputs]


def _gradients(lib, sample, arrays):
    """(outputs as arrays, gradients as arrays) of the sample at complex `arrays`."""
    inputs = [lib.tensor(a, dtype=lib.complex128, requires_grad=True) for a in arrays]
    outputs = _differentiable(sample.fn(lib, *inputs))
    u = _cotangents(sample, outputs)
    grads = lib.autograd.grad(outputs, inputs, [lib.tensor(c) for c in u], allow_unused=True)
    values = [out.detach().numpy() for out in outputs]
    return values, [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(grads, arrays, strict=True)], u


def _loss(lib, sample, arrays, u) -> float:
    with lib.no_grad():
        outputs = _differentiable(sample.fn(lib, *[lib.tensor(a, dtype=lib.complex128) for a in arrays]))
        return sum(float(np.sum(np.real(np.conj(c) * out.numpy()))) for c, out in zip(u, outputs, strict=True))


def _numeric(lib, sample, arrays, u, eps=1e-6) -> list[np.ndarray]:
    grads = []
    for i, array in enumerate(arrays):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            for step in (1, 1j):
                shifted = [a.copy() for a in arrays]
                shifted[i][index] = array[index] + eps * step
                plus = _loss(lib, sample, shifted, u)
                shifted[i][index] = array[index] - eps * step
                grad[index] += step * (plus - _loss(lib, sample, shifted, u)) / (2 * eps)
        grads.append(grad)
    return grads


def _attempt(lib, sample, arrays):
    try:
        return _gradients(lib, sample, arrays)
    except Exception as error:  # noqa: BLE001 - a refusal, whatever its kind, is an acceptable answer
        return error


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_complex_gradients_are_torch_or_refused(sample, torch_lib):
    arrays = _complex_inputs(sample)
    ours = _attempt(GRADSCOPE, sample, arrays)
    if isinstance(ours, Exception):
        if sample.name.split("[")[0] in SUPPORTED:
            raise ours
        return
    values, grads, u = ours
    theirs = _attempt(torch_lib, sample, arrays)
    if isinstance(theirs, Exception):  # PyTorch refuses: finite differences decide
        if not all(np.all(np.isfinite(v)) for v in values):
            return
        for mine, numeric in zip(grads, _numeric(GRADSCOPE, sample, arrays, u), strict=True):
            np.testing.assert_allclose(mine, numeric, rtol=1e-5, atol=1e-5)
        return
    for mine, reference in zip(values, theirs[0], strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)
    for mine, reference in zip(grads, theirs[1], strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-12)


# values that differ where both compute, each with why
VALUE_DEVIATIONS = {
    "uniform_[2x3]": "a complex tensor's random fill draws another stream than PyTorch's (both parts uniform)",
    "normal_[2x3]": "a complex tensor's random fill draws another stream than PyTorch's",
    "cholesky_inverse_factor[3x3]": "a complex diagonal (not a Cholesky factor): LAPACK reads its real part",
}


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_complex_values_match_torch_where_both_compute(sample, torch_lib):
    """No grad: a forward that drops an imaginary part (a cast to float64) is a wrong number too."""
    arrays = _complex_inputs(sample)
    outcomes = []
    for lib in (GRADSCOPE, torch_lib):
        try:
            with lib.no_grad():
                outputs = _differentiable(sample.fn(lib, *[lib.tensor(a, dtype=lib.complex128) for a in arrays]))
                outcomes.append([out.resolve_conj().numpy() for out in outputs])
        except Exception:  # noqa: BLE001 - a refusal on either side leaves nothing to compare
            return
    ours, theirs = outcomes
    if sample.name in VALUE_DEVIATIONS:
        return
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-8, atol=1e-10, equal_nan=True)
