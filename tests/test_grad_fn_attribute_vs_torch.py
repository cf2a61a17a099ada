"""`grad_fn` and PyTorch's private `_grad_fn`, as scripts use them: `x._grad_fn = None` detaches x in place (it
becomes a leaf that requires no grad: backward through it then finds no graph), any other value and `del
x._grad_fn` are refused, and `grad_fn` can be neither set nor deleted. Before, `_grad_fn` was gradscope's own
slot: `x._grad_fn = None` left x requiring grad (a leaf outside the graph, silently), `x._grad_fn = 3` was taken
and `del x._grad_fn` removed the slot. Each case runs on gradscope and on PyTorch 2.13 and must agree."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")

CASES = {
    "read": lambda L, x, y: y._grad_fn is y.grad_fn and x._grad_fn is None,
    "set to None": lambda L, x, y: setattr(y, "_grad_fn", None),
    "set to a node": lambda L, x, y: setattr(y, "_grad_fn", x.grad_fn),
    "set to a number": lambda L, x, y: setattr(x, "_grad_fn", 5),
    "deleted": lambda L, x, y: delattr(y, "_grad_fn"),
    "deleted on a leaf": lambda L, x, y: delattr(x, "_grad_fn"),
    "grad_fn set": lambda L, x, y: setattr(y, "grad_fn", None),
    "grad_fn deleted": lambda L, x, y: delattr(y, "grad_fn"),
    "a view": lambda L, x, y: setattr(y[1:], "_grad_fn", None),
    "a view of a leaf": lambda L, x, y: setattr(x.view(3), "_grad_fn", None),
    "a leaf": lambda L, x, y: setattr(x, "_grad_fn", None),
}


def _state(t) -> tuple:
    return t.requires_grad, t.is_leaf, t.grad_fn is None, t.retains_grad, t._version


def _outcome(L, case: str):
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    try:
        result = CASES[case](L, x, y)
    except (RuntimeError, AttributeError) as error:
        result = (type(error).__name__, str(error))
    return result, _state(x), _state(y)


@pytest.mark.parametrize("case", CASES)
def test_grad_fn_attributes_as_torch(case):
    assert _outcome(gradscope, case) == _outcome(torch, case)


@pytest.mark.parametrize("through", ["detached", "kept"])
def test_backward_after_grad_fn_set_to_none(through):
    """A tensor detached by `_grad_fn = None` ends the graph: backward through it alone is PyTorch's error, and
    through a sum with a kept tensor, its input gets only the kept tensor's gradient."""
    def run(L):
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y, z = x * 2, x * 3
        y._grad_fn = None
        try:
            (y.sum() if through == "detached" else (y + z).sum()).backward()
        except RuntimeError as error:
            return str(error)
        return x.grad.tolist(), y.grad

    assert run(gradscope) == run(torch)


def test_a_parameter_detached_by_grad_fn_none():
    def run(L):
        w = L.nn.Parameter(L.ones(2))
        w._grad_fn = None
        return type(w).__name__, w.requires_grad, w.is_leaf

    assert run(gradscope) == run(torch)
