"""linalg.matrix_exp, linalg.householder_product (torch.orgqr) and torch.geqrf against torch: values, first and
second derivatives and node names over drawn shapes (batches, norms that need squarings, fewer reflectors than
columns), float32, and the argument errors with PyTorch's texts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, NotImplementedError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


def _second_order(lib, fn, arrays, seed):
    rng = np.random.default_rng(seed)
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    result = fn(lib, *inputs)
    weights = lib.tensor(rng.normal(size=tuple(result.shape)))
    grads = lib.autograd.grad((result * weights).sum(), inputs, create_graph=True)
    second = lib.autograd.grad(sum((g * g).sum() for g in grads), inputs)
    return ([result.detach().numpy()] + [g.detach().numpy() for g in grads] + [g.numpy() for g in second],
            result.grad_fn.name(), grads[0].grad_fn.name())


def _assert_same(ours, theirs, rtol=1e-7):  # NOTE: large norms square many times: 1e-9 apart in 2nd order
    for a, b in zip(ours[0], theirs[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, np.abs(b).max(initial=0)))
    assert ours[1:] == theirs[1:]


@settings(deadline=None, max_examples=30)
@given(batch=st.sampled_from([(), (2,), (2, 1)]), n=st.integers(1, 4), scale=st.sampled_from([0.1, 1.0, 3.0]),
       seed=st.integers(0, 2**16))
def test_matrix_exp_matches_torch(batch, n, scale, seed):
    a = np.random.default_rng(seed).normal(size=batch + (n, n)) * scale
    fn = lambda lib, x: lib.linalg.matrix_exp(x)  # noqa: E731
    _assert_same(_second_order(gradscope, fn, [a], seed), _second_order(torch, fn, [a], seed))


@settings(deadline=None, max_examples=30)
@given(batch=st.sampled_from([(), (3,)]), shape=st.tuples(st.integers(1, 5), st.integers(0, 4)),
       reflectors=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_householder_product_matches_torch(batch, shape, reflectors, seed):
    m, n = max(shape), min(shape)
    k = min(reflectors, n)
    rng = np.random.default_rng(seed)
    a, tau = rng.normal(size=batch + (m, n)), rng.uniform(0.2, 1.8, size=batch + (k,))
    fn = lambda lib, x, t: lib.linalg.householder_product(x, t)  # noqa: E731
    if k == 0:  # nothing to differentiate along: values only
        for lib in (gradscope, torch):
            assert lib.linalg.householder_product(lib.tensor(a), lib.tensor(tau)).shape == (batch + (m, n))
        return
    _assert_same(_second_order(gradscope, fn, [a, tau], seed), _second_order(torch, fn, [a, tau], seed))


def test_float32_values_and_dtypes():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3)).astype(np.float32)
    x, tau = rng.normal(size=(4, 2)).astype(np.float32), rng.uniform(size=2).astype(np.float32)
    for ours, theirs in [(gradscope.matrix_exp(gradscope.tensor(a)), torch.matrix_exp(torch.tensor(a))),
                         (gradscope.orgqr(gradscope.tensor(x), gradscope.tensor(tau)),
                          torch.orgqr(torch.tensor(x), torch.tensor(tau)))]:
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_geqrf_is_lapacks_and_refuses_a_backward():
    a = np.random.default_rng(1).normal(size=(2, 5, 3))
    ours, theirs = gradscope.geqrf(gradscope.tensor(a, requires_grad=True)), torch.geqrf(torch.tensor(a))
    assert type(ours).__name__ == "geqrf" and repr(ours).startswith("torch.return_types.geqrf(\na=")
    np.testing.assert_allclose(ours.a.detach().numpy(), theirs.a.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.tau.detach().numpy(), theirs.tau.numpy(), atol=1e-12)
    assert ours.a.grad_fn.name() == "GeqrfBackward0" and ours.a.grad_fn is ours.tau.grad_fn
    with pytest.raises(NotImplementedError, match=r"^the derivative for 'geqrf' is not implemented\.$"):
        ours.a.sum().backward()
    assert gradscope.geqrf(gradscope.ones(2, 5)).tau.shape == (2,)


@pytest.mark.parametrize("call", [
    lambda lib: lib.matrix_exp(lib.randn(3, 4)),
    lambda lib: lib.matrix_exp(lib.randn(3)),
    lambda lib: lib.matrix_exp(lib.ones(3, 3, dtype=lib.int64)),
    lambda lib: lib.linalg.householder_product(lib.randn(3), lib.rand(1)),
    lambda lib: lib.linalg.householder_product(lib.randn(3, 4), lib.rand(2)),
    lambda lib: lib.linalg.householder_product(lib.randn(4, 3), lib.rand(4)),
    lambda lib: lib.linalg.householder_product(lib.randn(2, 4, 3), lib.rand(3)),
    lambda lib: lib.linalg.householder_product(lib.randn(2, 4, 3), lib.rand(3, 3)),
    lambda lib: lib.linalg.householder_product(lib.randn(4, 3), lib.rand(3, dtype=lib.float64)),
    lambda lib: lib.orgqr(lib.ones(4, 3, dtype=lib.int64), lib.ones(3, dtype=lib.int64)),
    lambda lib: lib.geqrf(lib.randn(3)),
    lambda lib: lib.geqrf(lib.ones(3, 3, dtype=lib.int64)),
])
def test_errors_match_torch(call):
    assert _error(lambda: call(gradscope)) == _error(lambda: call(torch))
