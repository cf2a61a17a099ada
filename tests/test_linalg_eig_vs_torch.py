"""torch.linalg.eig and eigvals vs PyTorch: complex results (complex64 from float32), graphs, values, gradients of
gauge-invariant losses (a real A's gradient is the real part), second derivatives, the refusal of a loss that depends
on the eigenvectors' phases, what the node saves, and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from linalg_vs_torch_helpers import assert_same, outcome

import gradscope

torch = pytest.importorskip("torch")


def R(*shape, dtype="float64"):  # noqa: N802 - reads as a matrix in the tables
    rng = np.random.default_rng(len(shape) * 31 + sum(shape))
    values = rng.standard_normal(shape)
    return values + 1j * rng.standard_normal(shape) if dtype == "complex128" else values.astype(dtype)


def _gauge_free(lib, a):
    values, vectors = lib.linalg.eig(a)
    return values, (vectors * vectors.conj()).real  # |V_ij|²: unchanged by V -> V e^{iφ}


CASES = {
    "eig_values": (lambda lib, a: lib.linalg.eig(a)[0], [R(3, 3)]),
    "eig_vectors_gauge_free": (_gauge_free, [R(3, 3)]),
    "eig_batched": (_gauge_free, [R(2, 3, 3)]),
    "eig_complex": (_gauge_free, [R(3, 3, dtype="complex128")]),
    "eig_loss_depends_on_phase": (lambda lib, a: lib.linalg.eig(a)[1].real, [R(3, 3)]),
    "eigvals": (lambda lib, a: lib.linalg.eigvals(a), [R(3, 3)]),
    "eigvals_complex_batched": (lambda lib, a: lib.linalg.eigvals(a), [R(2, 2, 2, dtype="complex128")]),
    "eig_named_result": (lambda lib, a: lib.linalg.eig(a), [R(3, 3)]),
    "eig_not_square": (lambda lib, a: lib.linalg.eig(a), [R(2, 3)]),
    "eigvals_not_square": (lambda lib, a: lib.linalg.eigvals(a), [R(2, 3)]),
    "eigvals_vector": (lambda lib, a: lib.linalg.eigvals(a), [R(3)]),
    "eig_integer": (lambda lib, a: lib.linalg.eig(a.long()), [R(3, 3)]),
    "eig_nan": (lambda lib, a: lib.linalg.eig(a / 0), [R(2, 2)]),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    call, arrays = CASES[name]
    assert_same(outcome(gradscope, call, arrays), outcome(torch, call, arrays), rtol=1e-8, atol=1e-10)


def test_float32_gives_complex64():
    call, arrays = (lambda lib, a: lib.linalg.eig(a)[0], [R(3, 3, dtype="float32")])
    assert_same(outcome(gradscope, call, arrays), outcome(torch, call, arrays), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["eig_values", "eig_vectors_gauge_free"])
def test_second_derivatives_match_torch(name):
    call, arrays = CASES[name]
    assert_same(outcome(gradscope, call, arrays, True), outcome(torch, call, arrays, True), rtol=1e-6, atol=1e-8)


def test_node_saves_what_torchs_saves():
    def saved(lib):
        node = lib.linalg.eig(lib.tensor(R(3, 3), requires_grad=True)).eigenvalues.grad_fn
        return type(node).__name__, sorted(name for name in dir(node) if name.startswith("_saved_"))

    assert saved(gradscope) == saved(torch)
