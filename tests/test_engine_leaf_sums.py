"""A leaf reached at every step of a loop waits for the sum of its gradients (engine.run's deferred leaves), which
the engine adds into in place once the sum is its own. Its first gradient may be one that others still read (another
leaf's, a view of another node's gradient, a read-only broadcast, one a hook or retain_grad keeps): adding into it
would change their values. Every gradient and every kept value is PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope as gs
from gradscope.trace import Recorder

STEPS = 5


def _shared_first_gradient(lib, kept):
    # the two AddBackward0 hand one array on to a and to b's, which hands it to b: each leaf's first gradient is the
    # other's too
    a = lib.tensor([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]], requires_grad=True)
    b = lib.tensor([[0.5, 1.5, -0.5], [2.0, -0.25, 1.0]], requires_grad=True)
    h = lib.ones(2, 3)
    for step in range(STEPS):
        h = (h * 0.5).tanh() * (step + 1.0) + (a + (b + 0.0))
    return h, (a, b)


def _view_of_a_gradient(lib, kept):
    # ViewBackward0 hands a its first gradient as a view of the array the first AddBackward0 hands on to n's node
    # too, which runs after a's second gradient (a * 2.0's) came
    a = lib.tensor([1.0, -2.0, 0.5, 0.25, 3.0, -1.0], requires_grad=True)
    h = lib.ones(2, 3)
    for step in range(STEPS):
        n = (h * 0.5).tanh() * (step + 1.0)
        m = (a * 2.0).view(2, 3)
        h = (n + a.view(2, 3)) + m
    return h, (a,)


def _transposed(lib, kept):
    # a linear layer's weight: its gradient comes through TBackward0, a transposed view
    w = lib.tensor([[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]], requires_grad=True)
    h = lib.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 1.0], [2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    for _ in range(STEPS):
        h = (h @ w.t() @ w).tanh() + h
    return h, (w,)


def _read_only_broadcast(lib, kept):
    # SumBackward0 hands a a read-only broadcast of its 0-d gradient
    a = lib.tensor([[1.0, -2.0], [0.5, 0.25]], requires_grad=True)
    h = lib.ones(2, 2)
    for step in range(STEPS):
        h = (h * 0.5).tanh() * (step + 1.0) + a * 0.5 + a.sum()
    return h, (a,)


def _expanded_from_a_row(lib, kept):
    # ExpandBackward0's sum over the broadcast rows, next to the row's own gradient
    a = lib.tensor([[1.0, -2.0, 0.5]], requires_grad=True)
    h = lib.ones(4, 3)
    for step in range(STEPS):
        h = (h * 0.5).tanh() * (step + 1.0) + a.expand(4, 3) + a
    return h, (a,)


def _a_hook_keeps_the_gradient(lib, kept):
    # the hook's argument is the array a takes first: a must sum into another
    a = lib.tensor([[1.0, -2.0], [0.5, 0.25]], requires_grad=True)
    h = lib.ones(2, 2)
    for step in range(STEPS):
        p = a + 0.0
        p.register_hook(lambda g: kept.append(g))
        h = (h * 0.5).tanh() * (step + 1.0) + p
    return h, (a,)


def _retained_gradient(lib, kept):
    a = lib.tensor([[1.0, -2.0], [0.5, 0.25]], requires_grad=True)
    h = lib.ones(2, 2)
    for step in range(STEPS):
        p = a * 1.0
        p.retain_grad()
        kept.append(p)
        h = (h * 0.5).tanh() * (step + 1.0) + p
    return h, (a,)


def _zero_dimensional(lib, kept):
    # 0-d gradients sum to NumPy scalars, not arrays
    a = lib.tensor(0.75, requires_grad=True)
    h = lib.ones(3)
    for step in range(STEPS):
        h = (h * a).tanh() * (step + 1.0) + a
    return h, (a,)


WITHOUT_USER_CODE = [_shared_first_gradient, _view_of_a_gradient, _transposed, _read_only_broadcast,
                     _expanded_from_a_row, _zero_dimensional]
CASES = WITHOUT_USER_CODE + [_a_hook_keeps_the_gradient, _retained_gradient]


@pytest.mark.parametrize("case", WITHOUT_USER_CODE, ids=lambda f: f.__name__.strip("_"))
def test_without_user_code_the_leaves_wait_for_their_sums_to_the_end(case, monkeypatch):
    """The cases below reach the deferred leaves' sums: no count of the graph's edges is ever made."""
    from gradscope.autograd import engine  # the module whose graph walk is watched

    monkeypatch.setattr(engine, "_dependencies", lambda roots: pytest.fail("the graph was walked for the counts"))
    h, leaves = case(gs, [])
    _backward(gs, h)
    assert all(leaf.grad is not None for leaf in leaves)


def _values(kept):
    """What the hooks kept (their arguments) and retain_grad's gradients."""
    return [(k.grad if k.requires_grad else k).numpy().copy() for k in kept]


def _backward(lib, h):
    (h * lib.arange(h.numel(), dtype=h.dtype).reshape(h.shape).cos()).sum().backward()


@pytest.mark.parametrize("passes", [1, 2])  # the second adds into a .grad
@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__.strip("_"))
def test_a_leaf_reached_at_every_step_gets_pytorchs_gradient_and_changes_nothing_it_summed(case, passes):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gs, torch):
        kept: list = []
        before = None
        for _ in range(passes):
            h, leaves = case(lib, kept)
            if before is not None:  # new leaves, holding the first pass's gradients
                for leaf, grad in zip(leaves, before):
                    leaf.grad = grad
            _backward(lib, h)
            before = [leaf.grad.clone() for leaf in leaves]
        results.append(([leaf.grad.numpy().copy() for leaf in leaves], _values(kept)))
    (ours, ours_kept), (theirs, theirs_kept) = results
    for g, t in zip(ours, theirs):
        assert g.shape == t.shape
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)
    assert len(ours_kept) == len(theirs_kept)
    for g, t in zip(ours_kept, theirs_kept):
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__.strip("_"))
def test_the_sums_bits_are_those_the_engine_makes_when_it_never_adds_in_place(case):
    """Under a recorder (an observer) the engine makes every sum a new array; the deferred leaves' sums, added into
    in place, have the same bits."""
    grads = []
    for recorded in (False, True):
        recorder = Recorder(keep_values=0) if recorded else None
        if recorder is not None:
            recorder.__enter__()
        try:
            h, leaves = case(gs, [])
            _backward(gs, h)
        finally:
            if recorder is not None:
                recorder.__exit__(None, None, None)
                recorder.finish()
        grads.append([leaf.grad.numpy().copy() for leaf in leaves])
    for ours, fresh in zip(*grads):
        np.testing.assert_array_equal(ours, fresh)


def test_a_loops_weight_is_summed_in_place_after_its_first_sum(monkeypatch):
    """The first gradient is shared with another leaf, so the first sum is a new array; every later gradient is
    added into that one, and into nothing else."""
    from gradscope.autograd import engine  # the module whose additions are watched

    if engine._HELD_ALONE is None:
        pytest.skip("this interpreter's reference counts do not show who holds a gradient")
    into = []

    def add(x, y, out=None):
        into.append(out is x)
        return np.add(x, y, out)

    monkeypatch.setattr(engine, "_add", add)
    h, (a, b) = _shared_first_gradient(gs, [])
    h.sum().backward()
    # per leaf: STEPS gradients, the first taken as it is, the second summed anew, the rest added into that sum
    assert into == [True] * (2 * (STEPS - 2))
    torch = pytest.importorskip("torch")
    th, (ta, tb) = _shared_first_gradient(torch, [])
    th.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-6)
