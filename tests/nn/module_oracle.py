"""Shared by the module tests: build one layer in gradscope and in PyTorch, give both PyTorch's state,
run the same float64 inputs through both and compare outputs, gradients, state and repr."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
import gradscope.nn as gnn


def require_torch():
    return pytest.importorskip("torch")


def to_gradscope(value):
    if isinstance(value, (tuple, list)):
        return type(value)(to_gradscope(v) for v in value)
    torch = require_torch()
    if isinstance(value, torch.Tensor):
        result = gradscope.tensor(value.detach().numpy().copy())
        return result.requires_grad_() if value.requires_grad else result
    return value


def as_numpy(value):
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


def flatten(value) -> list:
    if isinstance(value, (tuple, list)):
        return [item for v in value for item in flatten(v)]
    return [] if value is None else [value]


def twin(make, dtype_double: bool = True):
    """The same layer in both libraries: `make(nn)` builds it; gradscope's gets torch's state_dict."""
    torch = require_torch()
    torch.manual_seed(0)
    theirs = make(torch.nn)
    ours = make(gnn)
    if dtype_double:
        theirs, ours = theirs.double(), ours.double()
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: gradscope.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def run_both(ours, theirs, make_inputs, calls: int = 1, rtol: float = 1e-10, atol: float = 1e-12,
             modules: tuple | None = None) -> None:
    """Call both layers `calls` times on the same inputs; outputs, input and parameter gradients and
    the state (running statistics) after each call must agree. `modules` names the layers when
    `ours`/`theirs` are wrappers calling them with extra arguments."""
    torch = require_torch()
    our_module, their_module = modules or (ours, theirs)
    for _ in range(calls):
        torch_inputs = make_inputs(torch)
        our_inputs = to_gradscope(torch_inputs)
        their_out, our_out = theirs(*torch_inputs), ours(*our_inputs)
        their_flat, our_flat = flatten(their_out), flatten(our_out)
        assert len(their_flat) == len(our_flat)
        for t, o in zip(their_flat, our_flat):
            assert tuple(o.shape) == tuple(t.shape)
            np.testing.assert_allclose(as_numpy(o), as_numpy(t), rtol=rtol, atol=atol)
        differentiable = [(t, o) for t, o in zip(their_flat, our_flat) if t.requires_grad]
        if differentiable:
            weights = [torch.randn(t.shape, dtype=t.dtype) for t, _ in differentiable]
            sum(((t * w).sum() for (t, _), w in zip(differentiable, weights))).backward()
            sum(((o * to_gradscope(w)).sum() for (_, o), w in zip(differentiable, weights))).backward()
        for t, o in zip(flatten(torch_inputs), flatten(our_inputs)):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                np.testing.assert_allclose(as_numpy(o.grad), as_numpy(t.grad), rtol=rtol, atol=atol)
        their_params = dict(their_module.named_parameters())
        for name, param in our_module.named_parameters():
            if their_params[name].grad is None:
                assert param.grad is None, name
            else:
                np.testing.assert_allclose(as_numpy(param.grad), as_numpy(their_params[name].grad), rtol=rtol,
                                           atol=atol, err_msg=name)
        their_state = their_module.state_dict()
        for name, value in our_module.state_dict().items():
            np.testing.assert_allclose(as_numpy(value), as_numpy(their_state[name]), rtol=rtol, atol=atol,
                                       err_msg=name)
