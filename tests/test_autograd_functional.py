"""torch.autograd.functional against PyTorch 2.13: values, create_graph, strict-mode errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch

X = [0.5, -1.0, 2.0]
V = [1.0, 0.25, -2.0]


def _inputs(lib):
    return lib.tensor(X, dtype=lib.float64), lib.tensor(V, dtype=lib.float64)


CASES = {
    "jacobian_one": lambda F, lib, x, v: F.jacobian(lambda a: a.sin() * a[0], x),
    "jacobian_tuple_in_out": lambda F, lib, x, v: F.jacobian(lambda a, b: (a * b, (a ** 2).sum()), (x, v)),
    "jacobian_scalar_out": lambda F, lib, x, v: F.jacobian(lambda a: (a.exp() * a).sum(), x),
    "jacobian_vectorize": lambda F, lib, x, v: F.jacobian(lambda a: a.tanh(), x, vectorize=True),
    "hessian_one": lambda F, lib, x, v: F.hessian(lambda a: (a ** 3 * a[1]).sum(), x),
    "hessian_tuple": lambda F, lib, x, v: F.hessian(lambda a, b: (a ** 2 * b).sum(), (x, v)),
    "vjp": lambda F, lib, x, v: F.vjp(lambda a: a.exp() * a, x, v),
    "vjp_scalar_default_v": lambda F, lib, x, v: F.vjp(lambda a: (a ** 2).sum(), x),
    "jvp": lambda F, lib, x, v: F.jvp(lambda a: a.sin() * a.sum(), x, v),
    "jvp_tuple": lambda F, lib, x, v: F.jvp(lambda a, b: (a * b, a - b), (x, v), (v, x)),
    "hvp": lambda F, lib, x, v: F.hvp(lambda a: (a ** 3).sum() * a[0], x, v),
    "vhp": lambda F, lib, x, v: F.vhp(lambda a: (a ** 3).sum() * a[0], x, v),
    "unused_input_is_zero": lambda F, lib, x, v: F.vjp(lambda a, b: a * 2, (x, v), v),
}


def _flatten(value) -> list:
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _structure(value):
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, [_structure(item) for item in value])
    return tuple(value.shape)


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch(name):
    torch = reference_torch()
    if torch is None:
        pytest.skip("PyTorch not installed")
    ours = CASES[name](gradscope.autograd.functional, gradscope, *_inputs(gradscope))
    theirs = CASES[name](torch.autograd.functional, torch, *_inputs(torch))
    assert _structure(ours) == _structure(theirs)
    for a, b in zip(_flatten(ours), _flatten(theirs)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
        assert not a.requires_grad and a.grad_fn is None


def test_create_graph_keeps_a_differentiable_result():
    """With create_graph the Hessian-vector product can be differentiated again (3rd derivative)."""
    results = []
    for lib in filter(None, (gradscope, reference_torch())):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        v = lib.tensor(V, dtype=lib.float64)
        _, hv = lib.autograd.functional.hvp(lambda a: (a ** 4).sum(), x, v, create_graph=True)
        assert hv.requires_grad
        (third,) = lib.autograd.grad(hv.sum(), x)
        jac = lib.autograd.functional.jacobian(lambda a: a ** 3, x, create_graph=True)
        assert jac.requires_grad and jac.grad_fn is not None
        results.append(third.numpy())
    np.testing.assert_allclose(results[0], 24 * np.array(X) * np.array(V))
    if len(results) == 2:
        np.testing.assert_allclose(results[0], results[1])


STRICT_ERRORS = {
    "vjp_independent_output": lambda F, lib, x, v: F.vjp(lambda a: lib.ones(3, dtype=lib.float64), x, v, strict=True),
    "vjp_unused_input": lambda F, lib, x, v: F.vjp(lambda a, b: a * 2, (x, v), v, strict=True),
    "jacobian_unused_input": lambda F, lib, x, v: F.jacobian(lambda a, b: a * 2, (x, v), strict=True),
    "jvp_linear_grad_inputs": lambda F, lib, x, v: F.jvp(lambda a: a.detach() * 1, x, v, strict=True),
    "hessian_linear": lambda F, lib, x, v: F.hessian(lambda a: a.sum(), x, strict=True),
    "hvp_linear": lambda F, lib, x, v: F.hvp(lambda a: (2 * a).sum(), x, v, strict=True),
    "vhp_linear": lambda F, lib, x, v: F.vhp(lambda a: (2 * a).sum(), x, v, strict=True),
    "jacobian_vectorize_strict": lambda F, lib, x, v: F.jacobian(lambda a: a * 2, x, strict=True, vectorize=True),
    "jacobian_forward_no_vectorize": lambda F, lib, x, v: F.jacobian(lambda a: a, x, strategy="forward-mode"),
    "jacobian_bad_strategy": lambda F, lib, x, v: F.jacobian(lambda a: a, x, strategy="sideways"),
    "v_none_non_scalar": lambda F, lib, x, v: F.vjp(lambda a: a * 2, x),
    "jvp_v_none": lambda F, lib, x, v: F.jvp(lambda a: a * 2, x),
    "v_wrong_size": lambda F, lib, x, v: F.vjp(lambda a: a * 2, x, v[:2]),
    "v_wrong_length": lambda F, lib, x, v: F.jvp(lambda a, b: a * b, (x, v), (v,)),
    "hessian_not_scalar": lambda F, lib, x, v: F.hessian(lambda a: a * 2, x),
    "hvp_tuple_output": lambda F, lib, x, v: F.hvp(lambda a: (a.sum(), a.sum()), x, v),
    "inputs_not_tensor": lambda F, lib, x, v: F.jacobian(lambda a: a, [1.0]),
    "input_tuple_not_tensor": lambda F, lib, x, v: F.vjp(lambda a, b: a, (x, 2.0), v),
}


def _error(fn, lib) -> str:
    with pytest.raises(Exception) as info:
        fn(lib.autograd.functional, lib, *_inputs(lib))
    return f"{type(info.value).__name__}: {info.value}".replace("torch.Size", "Size")


@pytest.mark.parametrize("name", STRICT_ERRORS)
def test_errors_match_pytorch(name):
    torch = reference_torch()
    ours = _error(STRICT_ERRORS[name], gradscope)
    if torch is not None:
        assert ours == _error(STRICT_ERRORS[name], torch)
