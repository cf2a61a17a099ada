"""torch.cholesky_solve / Tensor.cholesky_solve vs PyTorch: values (only the factor's triangle read), both
gradients (PyTorch's formula: the factor's whole matrix), second derivatives, broadcast batch dims, the node and what
it saves, out=, and PyTorch's errors in its order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def _factor(rng, batch: tuple, n: int, upper: bool, junk: bool) -> np.ndarray:
    a = rng.standard_normal(batch + (n, n))
    factor = np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + n * np.eye(n))
    if upper:
        factor = np.swapaxes(factor, -1, -2)
    if junk:  # values in the triangle the solve doesn't read
        other = rng.standard_normal(factor.shape)
        factor = factor + (np.tril(other, -1) if upper else np.triu(other, 1))
    return factor


def _run(lib, b, factor, upper, weights, method=False, create_graph=False):
    B = lib.tensor(b, requires_grad=True)
    L = lib.tensor(factor, requires_grad=True)
    X = B.cholesky_solve(L, upper=upper) if method else lib.cholesky_solve(B, L, upper)
    grads = lib.autograd.grad((X * lib.tensor(weights)).sum(), (B, L), create_graph=create_graph)
    result = [X.detach().numpy(), *(g.detach().numpy() for g in grads)]
    if create_graph:  # a second derivative through both gradients
        result += [g.detach().numpy() for g in lib.autograd.grad((grads[0] ** 2).sum() + (grads[1] ** 2).sum(),
                                                                 (B, L))]
    return type(X.grad_fn).__name__, result


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([(), (2,), (1, 3), (2, 1)]), st.sampled_from([(), (2,), (3, 1), (1,)]), st.integers(1, 4),
       st.integers(1, 3), st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_cholesky_solve_matches_torch(b_batch, factor_batch, n, columns, upper, junk, seed):
    rng = np.random.default_rng(seed)
    factor = _factor(rng, factor_batch, n, upper, junk)
    b = rng.standard_normal(b_batch + (n, columns))
    out_shape = np.broadcast_shapes(b_batch, factor_batch) + (n, columns)
    weights = rng.standard_normal(out_shape)
    ours, theirs = _run(gradscope, b, factor, upper, weights), _run(torch, b, factor, upper, weights)
    assert ours[0] == theirs[0] == "CholeskySolveBackward0"
    for mine, other in zip(ours[1], theirs[1]):
        assert mine.shape == other.shape
        np.testing.assert_allclose(mine, other, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_second_derivatives_and_method_match_torch(upper):
    rng = np.random.default_rng(3)
    factor, b = _factor(rng, (2,), 3, upper, True), rng.standard_normal((2, 3, 2))
    weights = rng.standard_normal((2, 3, 2))
    ours = _run(gradscope, b, factor, upper, weights, method=True, create_graph=True)
    theirs = _run(torch, b, factor, upper, weights, method=True, create_graph=True)
    for mine, other in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(mine, other, rtol=1e-9, atol=1e-10)


def _node(lib):
    L = lib.tensor([[2.0, 0.0], [1.0, 1.0]], requires_grad=True)
    node = lib.cholesky_solve(lib.ones(2, 1, requires_grad=True), L, upper=False).grad_fn
    return (sorted(name for name in dir(node) if name.startswith(("_saved_", "_raw_saved_"))), node._saved_upper,
            node._saved_input2 is L, node._saved_result.tolist(), node._saved_self.tolist())


def test_the_node_saves_what_torchs_saves():
    assert _node(gradscope) == _node(torch)


def test_out_is_written_as_torch():
    results = []
    for lib in (gradscope, torch):
        out = lib.empty(0)
        lib.cholesky_solve(lib.ones(2, 1), lib.tensor([[2.0, 0.0], [1.0, 1.0]]), out=out)
        results.append(out.tolist())
    assert results[0] == results[1]


ERRORS = {
    "b vector": lambda T: T.cholesky_solve(T.ones(3), T.eye(3)),
    "u vector": lambda T: T.cholesky_solve(T.ones(3, 1), T.ones(3)),
    "dtypes": lambda T: T.cholesky_solve(T.ones(3, 1), T.eye(3, dtype=T.float64)),
    "dtypes reversed": lambda T: T.cholesky_solve(T.ones(3, 1, dtype=T.float64), T.eye(3)),
    "not square": lambda T: T.cholesky_solve(T.ones(3, 1), T.ones(3, 2)),
    "sizes": lambda T: T.cholesky_solve(T.ones(4, 2), T.eye(3)),
    "batches": lambda T: T.cholesky_solve(T.ones(2, 3, 1), T.eye(3).expand(4, 3, 3)),
    "integers": lambda T: T.cholesky_solve(T.ones(3, 1, dtype=T.long), T.eye(3, dtype=T.long)),
    "out with grad": lambda T: T.cholesky_solve(T.ones(3, 1, requires_grad=True), T.eye(3), out=T.empty(0)),
}


def _error(lib, name):
    try:
        ERRORS[name](lib)
    except (RuntimeError, NotImplementedError) as error:
        return type(error).__name__, str(error)
    return None


@pytest.mark.parametrize("name", ERRORS)
def test_cholesky_solve_errors_are_torchs(name):
    assert _error(gradscope, name) == _error(torch, name) is not None


@pytest.mark.parametrize("upper", [False, True])
def test_complex_cholesky_solve_and_its_gradients_match_torch(upper):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))
    factor = np.linalg.cholesky(a @ np.conj(np.swapaxes(a, -1, -2)) + 3 * np.eye(3))
    factor = np.conj(np.swapaxes(factor, -1, -2)) if upper else factor
    b = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    results = []
    for lib in (gradscope, torch):
        B, L = lib.tensor(b, requires_grad=True), lib.tensor(factor, requires_grad=True)
        X = lib.cholesky_solve(B, L, upper)
        X.abs().sum().backward()
        results.append([X.detach().numpy(), B.grad.numpy(), L.grad.numpy()])
    for mine, other in zip(*results):
        np.testing.assert_allclose(mine, other, rtol=1e-9, atol=1e-10)
