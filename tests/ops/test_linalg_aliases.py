"""torch.det, torch.logdet, torch.inverse, … beyond the sample table: logdet's nan and -inf, errors, the
deprecation warnings of torch.cholesky and torch.qr (once each), named results."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope
from gradscope.autograd import errors


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("matrix", [[[0.0, 1.0], [1.0, 0.0]], [[2.0, 1.0], [1.0, 3.0]]])
def test_logdet_of_negative_and_positive_determinants(torch, matrix):
    results = []
    for lib in (gradscope, torch):
        a = lib.tensor(matrix, dtype=lib.float64, requires_grad=True)
        out = lib.logdet(a)
        (grad,) = lib.autograd.grad(out, a)
        results.append((out.item(), grad.numpy(), out.grad_fn.name()))
    (value, grad, name), (expected, expected_grad, expected_name) = results
    np.testing.assert_equal(value, expected)  # nan == nan, -inf == -inf
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12)
    assert name == expected_name == "WhereBackward0"


def test_logdet_of_a_singular_matrix_is_minus_infinity(torch):
    for lib in (gradscope, torch):
        assert lib.zeros(2, 2).logdet().item() == -np.inf


ERRORS = {
    "matrix_power_rectangular": lambda lib: lib.matrix_power(lib.ones(2, 3), 2),
    "matrix_power_vector": lambda lib: lib.ones(3).matrix_power(2),
    "cholesky_inverse_vector": lambda lib: lib.cholesky_inverse(lib.ones(3)),
    "inverse_of_integers": lambda lib: lib.inverse(lib.ones(2, 2, dtype=lib.long)),
    "pinverse_of_a_vector": lambda lib: lib.pinverse(lib.ones(3)),
    "pinv_of_integers": lambda lib: lib.linalg.pinv(lib.ones(2, 3, dtype=lib.long)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(torch, name):
    messages = []
    for lib in (gradscope, torch):
        with pytest.raises(RuntimeError) as caught:
            ERRORS[name](lib)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_results_are_named_as_torch(torch):
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    for name in ("slogdet", "svd"):
        ours, theirs = getattr(gradscope, name)(gradscope.tensor(a)), getattr(torch, name)(torch.tensor(a))
        assert type(ours).__name__ == type(theirs).__name__ == name
        assert repr(ours).splitlines()[0] == repr(theirs).splitlines()[0]
    assert gradscope.matrix_power(gradscope.tensor([[1, 1], [0, 1]]), 5).tolist() == [[1, 5], [0, 1]]


def test_cholesky_inverse_reads_one_triangle_as_torch(torch):
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    for upper in (False, True):
        results = []
        for lib in (gradscope, torch):
            x = lib.tensor(a, requires_grad=True)
            out = lib.cholesky_inverse(x, upper=upper)
            (out * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
            results.append((out.detach().numpy(), x.grad.numpy()))
        for mine, theirs in zip(*results, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_out_where_torch_accepts_it(torch):
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    for name, args in (("slogdet", ()), ("inverse", ()), ("matrix_power", (3,)), ("cholesky_inverse", ()),
                       ("svd", ())):
        results = []
        for lib in (gradscope, torch):
            shape = getattr(lib, name)(lib.tensor(a), *args)
            out = tuple(lib.empty(0, dtype=lib.float64) for _ in shape) if isinstance(shape, tuple) else lib.empty(
                0, dtype=lib.float64)
            returned = getattr(lib, name)(lib.tensor(a), *args, out=out)
            assert returned is out or all(r is o for r, o in zip(returned, out, strict=True))
            results.append([t.numpy().copy() for t in (out if isinstance(out, tuple) else (out,))])
        for mine, theirs in zip(*results, strict=True):
            np.testing.assert_allclose(np.abs(mine), np.abs(theirs), rtol=1e-12)


def test_deprecated_forms_warn_once():
    errors._WARNED.discard("cholesky")
    errors._WARNED.discard("qr")
    a = gradscope.eye(2, dtype=gradscope.float64)
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated in favor of torch.linalg.cholesky"):
        gradscope.cholesky(a)
    with pytest.warns(UserWarning, match="torch.qr is deprecated in favor of torch.linalg.qr"):
        a.qr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradscope.cholesky(a)
        gradscope.qr(a)
