"""torch.func against PyTorch 2.13: the same transforms of the same functions give the same values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch

X = [0.5, -1.0, 2.0]
V = [1.0, 0.25, -2.0]


def _xv(lib):
    return lib.tensor(X, dtype=lib.float64), lib.tensor(V, dtype=lib.float64)


def _per_sample_grads(F, lib, x, v):
    model = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        model.weight.copy_(lib.arange(6, dtype=lib.float64).reshape(2, 3) / 10)
        model.bias.fill_(0.5)
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss(p, sample):
        return (F.functional_call(model, p, (sample,)) ** 2).sum()

    return F.vmap(F.grad(loss), in_dims=(None, 0))(params, lib.stack([x, v, x * v]))


CASES = {
    "grad": lambda F, lib, x, v: F.grad(lambda a: (a.sin() * a).sum())(x),
    "grad_argnums_tuple": lambda F, lib, x, v: F.grad(lambda a, b: (a * b.exp()).sum(), argnums=(0, 1))(x, v),
    "grad_has_aux": lambda F, lib, x, v: F.grad(lambda a: ((a ** 2).sum(), a * 3), has_aux=True)(x),
    "grad_of_grad": lambda F, lib, x, v: F.grad(lambda a: F.grad(lambda b: (b ** 4).sum())(a).sum())(x),
    "grad_closure": lambda F, lib, x, v: F.grad(lambda a: F.grad(lambda b: (a * b).sum() * a.sum())(v).sum())(x),
    "grad_dict_input": lambda F, lib, x, v: F.grad(lambda d: (d["w"] * d["b"]).sum())({"w": x, "b": v}),
    "grad_and_value": lambda F, lib, x, v: F.grad_and_value(lambda a: (a ** 3).sum())(x),
    "vjp": lambda F, lib, x, v: F.vjp(lambda a, b: (a * b, a.exp()), x, v)[1]((v, x)),
    "vjp_output": lambda F, lib, x, v: F.vjp(lambda a: a.tanh(), x)[0],
    "jvp": lambda F, lib, x, v: F.jvp(lambda a: a.sin() * a.sum(), (x,), (v,)),
    "jvp_two_primals": lambda F, lib, x, v: F.jvp(lambda a, b: a * b.cos(), (x, v), (v, x)),
    "jacrev": lambda F, lib, x, v: F.jacrev(lambda a: a.sin() * a[0])(x),
    "jacrev_argnums": lambda F, lib, x, v: F.jacrev(lambda a, b: a * b.sum(), argnums=(0, 1))(x, v),
    "jacrev_tuple_output": lambda F, lib, x, v: F.jacrev(lambda a: (a.exp(), a.sum()))(x),
    "jacrev_has_aux": lambda F, lib, x, v: F.jacrev(lambda a: (a.sin(), a.sum()), has_aux=True)(x),
    "jacfwd": lambda F, lib, x, v: F.jacfwd(lambda a: a.exp() * a[1])(x),
    "hessian": lambda F, lib, x, v: F.hessian(lambda a: (a ** 3 * a[0]).sum())(x),
    "vmap": lambda F, lib, x, v: F.vmap(lambda a, b: (a * b).sum())(lib.stack([x, v]), lib.stack([v, v])),
    "vmap_in_dims_none": lambda F, lib, x, v: F.vmap(lambda a, b: a * b, in_dims=(1, None))(lib.outer(x, v), v),
    "vmap_out_dims": lambda F, lib, x, v: F.vmap(lambda a: (a, a.sum()), out_dims=(1, 0))(lib.outer(x, v)),
    "vmap_of_jacrev": lambda F, lib, x, v: F.vmap(F.jacrev(lambda a: a.sin() * a.sum()))(lib.outer(x, v)),
    "per_sample_grads": _per_sample_grads,
    "linearize": lambda F, lib, x, v: _linearized(F, lib.sin, (x,), [(v,), (x,)]),
    "linearize_pytrees": lambda F, lib, x, v: _linearized(
        F, lambda a, d: (a * d["w"].exp(), {"s": (a * d["b"]).sum()}), (x, {"w": v, "b": x}),
        [(v, {"w": x, "b": v}), (x, {"w": x, "b": x})]),
    "linearize_constant_output": lambda F, lib, x, v: _linearized(F, lambda a: lib.ones(2, dtype=lib.float64), (x,),
                                                                  [(v,)]),
    "linearize_dict_of_parameters": lambda F, lib, x, v: _linearized(
        F, lambda p: (x * p["weight"]).sum(1).tanh() + p["bias"],
        ({"weight": lib.outer(v, x), "bias": v[:3]},), [({"weight": lib.ones(3, 3, dtype=lib.float64), "bias": x},)]),
}


def _linearized(F, function, primals, tangents):
    """linearize's output, and its jvp_fn at each of the tangents (PyTorch's traces warn of constants it folds)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        output, jvp_fn = F.linearize(function, *primals)
        return output, [jvp_fn(*one) for one in tangents]


def _flatten(value) -> list:
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _flatten(value[key])]
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch(name):
    torch = reference_torch()
    if torch is None:
        pytest.skip("PyTorch not installed")
    ours = _flatten(CASES[name](gradscope.func, gradscope, *_xv(gradscope)))
    theirs = _flatten(CASES[name](torch.func, torch, *_xv(torch)))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
        assert a.requires_grad == b.requires_grad


def test_results_keep_the_callers_graph():
    """An input that already requires grad keeps its graph through the transform, as in PyTorch."""
    for lib in filter(None, (gradscope, reference_torch())):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        g = lib.func.grad(lambda a: (a ** 3).sum())(x)
        (second,) = lib.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(second.numpy(), 6 * np.array(X))


def test_functional_call_restores_the_module():
    model = gradscope.nn.Linear(2, 1)
    weight = model.weight
    out = gradscope.func.functional_call(model, {"weight": gradscope.zeros(1, 2), "bias": gradscope.ones(1)},
                                         gradscope.ones(2))
    assert out.tolist() == [1.0] and model.weight is weight


ERRORS = {
    "grad_not_scalar": lambda F, lib, x, v: F.grad(lambda a: a * 2)(x),
    "grad_not_tensor": lambda F, lib, x, v: F.grad(lambda a: 1.0)(x),
    "grad_aux_not_pair": lambda F, lib, x, v: F.grad(lambda a: a.sum(), has_aux=True)(x),
    "argnum_out_of_range": lambda F, lib, x, v: F.grad(lambda a: a.sum(), argnums=2)(x),
    "argnums_repeated": lambda F, lib, x, v: F.grad(lambda a, b: a.sum(), argnums=(0, 0))(x, v),
    "jvp_primals_not_tuple": lambda F, lib, x, v: F.jvp(lambda a: a, x, (v,)),
    "vmap_sizes_differ": lambda F, lib, x, v: F.vmap(lambda a, b: a + b)(x, v[:2]),
    "functional_call_strict": lambda F, lib, x, v: F.functional_call(
        lib.nn.Linear(2, 1), {"weight": lib.zeros(1, 2), "extra": lib.ones(1)}, (lib.ones(2),), strict=True),
    "functional_call_ambiguous": lambda F, lib, x, v: F.functional_call(
        lib.nn.Linear(2, 1), ({"weight": lib.zeros(1, 2)}, {"weight": lib.ones(1, 2)}), (lib.ones(2),)),
    "vmap_bad_randomness": lambda F, lib, x, v: F.vmap(lambda a: a, randomness="sometimes")(x),
    "vmap_nothing_batched": lambda F, lib, x, v: F.vmap(lambda a: a, in_dims=None)(x),
    "linearize_tangent_count": lambda F, lib, x, v: _linearized(F, lambda a, b: a * b, (x, v), [(v,)]),
    "linearize_tangent_structure": lambda F, lib, x, v: _linearized(
        F, lambda d: d["a"] * d["b"], ({"a": x, "b": v},), [({"a": x},)]),
    "linearize_tangent_nested": lambda F, lib, x, v: _linearized(F, lambda a: a, (x,), [([x, v, x],)]),
    "linearize_tangent_shape": lambda F, lib, x, v: _linearized(F, lib.sin, (x,), [(v[:2],)]),
    "linearize_tangent_dtype": lambda F, lib, x, v: _linearized(F, lambda a, b: a * b, (x, v), [(x, v.float())]),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_pytorch(name):
    messages = []
    for lib in filter(None, (gradscope, reference_torch())):
        with pytest.raises(Exception) as info:
            ERRORS[name](lib.func, lib, *_xv(lib))
        messages.append(f"{type(info.value).__name__}: {info.value}")
    assert len(set(messages)) == 1, messages
