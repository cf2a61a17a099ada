"""A leaf's first gradient becomes `.grad` without a copy only when nothing else can see it: never shared
with another leaf's `.grad`, the user's gradient tensor, a hook's argument or a saved value; and `.grad`
has the leaf's layout, as PyTorch's AccumulateGrad (a linear layer's weight gradient is C-ordered)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope as gs
from gradscope.trace import Recorder


@pytest.fixture(params=["unrecorded", "recorded"])
def recording(request):
    """Each test once as it is and once under a Recorder holding every array it can (keep_values=0): its
    references to a gradient only read (it copies before a write), so they make no copy, and hide none."""
    if request.param == "unrecorded":
        yield None
        return
    with Recorder(keep_values=0) as recorder:
        yield recorder
    recorder.finish()


def _independent(*tensors) -> None:
    """No two of these tensors' arrays share memory."""
    arrays = [t.numpy() for t in tensors]
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)


def test_linear_weight_grad_is_c_ordered_and_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w, b, x = rng.standard_normal((4, 5)), rng.standard_normal(4), rng.standard_normal((7, 5))
    grads = []
    for lib in (gs, torch):
        weight, bias = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
        lib.nn.functional.linear(lib.tensor(x), weight, bias).tanh().sum().backward()
        grads.append((weight.grad, bias.grad))
    (ours_w, ours_b), (theirs_w, theirs_b) = grads
    np.testing.assert_allclose(ours_w.numpy(), theirs_w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_b.numpy(), theirs_b.numpy(), rtol=1e-12)
    assert ours_w.stride() == theirs_w.stride() == (5, 1)


def test_mm_with_a_transposed_operand_gives_the_operand_layout():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    strides = []
    for lib in (gs, torch):
        left, right = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        lib.mm(left.t().t(), right.t()).sum().backward()
        strides.append((left.grad.stride(), right.grad.stride()))
        np.testing.assert_allclose(left.grad.numpy(), np.ones((3, 2)) @ b)
        np.testing.assert_allclose(right.grad.numpy(), np.ones((2, 3)) @ a)
    assert strides[0] == strides[1]


def test_two_leaves_fed_one_gradient_get_separate_grads(recording):
    a, b = gs.randn(3, 4, requires_grad=True), gs.randn(3, 4, requires_grad=True)
    (a.t() * 2 + b.t()).sum().backward()
    c, d = gs.randn(3, requires_grad=True), gs.randn(3, requires_grad=True)
    ((c.view(3, 1) + d.view(3, 1)) * 3).sum().backward()
    _independent(a.grad, b.grad, c.grad, d.grad)
    a.grad.add_(1.0)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones((3, 4)))
    c.grad.add_(1.0)
    np.testing.assert_array_equal(d.grad.numpy(), np.full(3, 3.0))


def test_the_users_gradient_is_copied(recording):
    x = gs.randn(3, 4, dtype=gs.float64, requires_grad=True)
    v = gs.from_numpy(np.ones((3, 4)))
    x.backward(v)
    y = gs.randn(3, 4, dtype=gs.float64, requires_grad=True)
    w = gs.from_numpy(np.ones((4, 3)).T)  # a view whose base nothing else holds
    y.t().backward(w.t())
    _independent(x.grad, v, y.grad, w)
    v.mul_(5)
    w.mul_(5)
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(y.grad.numpy(), np.ones((3, 4)))


def test_a_gradient_a_hook_kept_is_copied(recording):
    x = gs.randn(3, 4, requires_grad=True)
    kept = []
    y = x.view(3, 4)  # ViewBackward0 hands x a view of the gradient the hook keeps
    y.register_hook(kept.append)
    (y * 3).sum().backward()
    _independent(x.grad, kept[0])
    kept[0].zero_()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 4), 3.0))


def test_a_gradient_passed_through_to_two_leaves_and_kept_by_the_graph(recording):
    # AddBackward0 hands one array to both inputs; a retained graph runs twice and accumulates in place
    a, b = gs.randn(2, 2, requires_grad=True), gs.randn(2, 2, requires_grad=True)
    loss = ((a + b) * gs.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=a.dtype)).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    expected = 2 * np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(a.grad.numpy(), expected)
    np.testing.assert_array_equal(b.grad.numpy(), expected)
    _independent(a.grad, b.grad)


def test_a_transposed_leaf_gets_a_gradient_in_its_layout():
    torch = pytest.importorskip("torch")
    array = np.arange(12.0).reshape(4, 3)
    strides = []
    for lib in (gs, torch):
        leaf = lib.from_numpy(array.copy().T).requires_grad_()
        (leaf * 2).sum().backward()
        strides.append(leaf.grad.stride())
        np.testing.assert_array_equal(leaf.grad.numpy(), np.full((3, 4), 2.0))
    assert strides[0] == strides[1] == (1, 3)


def test_a_linear_stacks_gradients_are_handed_over_without_copies(monkeypatch, recording):
    """Nothing else references the gradients of an MLP's parameters, the first layer's weight included (its
    input needs none): each becomes `.grad` as it is. A stale reference in the engine once made it a copy."""
    from gradscope.autograd import engine  # the module whose copy is watched

    if not engine._ALONE:
        pytest.skip("this interpreter's reference counts do not show who holds a gradient")

    def copy_like(g, data):
        raise AssertionError(f"a gradient of shape {g.shape} was copied")

    monkeypatch.setattr(engine, "_copy_like", copy_like)
    model = gs.nn.Sequential(gs.nn.Linear(5, 4), gs.nn.ReLU(), gs.nn.Linear(4, 4), gs.nn.ReLU(), gs.nn.Linear(4, 3))
    gs.nn.functional.cross_entropy(model(gs.ones(2, 5)), gs.tensor([0, 2])).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_a_recorded_gradient_handed_over_keeps_its_recorded_statistics(monkeypatch):
    """The recording reads the very array that became `.grad` (no copy): a later write into `.grad` copies it
    first, so the trace still shows the gradient as it was."""
    from gradscope.autograd import engine  # the module whose copy is watched

    if not engine._ALONE:
        pytest.skip("this interpreter's reference counts do not show who holds a gradient")
    monkeypatch.setattr(engine, "_copy_like", lambda g, data: pytest.fail(f"a gradient of shape {g.shape} was copied"))
    layer = gs.nn.Linear(3, 2)
    with Recorder(keep_values=0) as recorder:
        layer(gs.ones(4, 3)).sum().backward()
    trace = recorder.finish()
    grad = layer.weight.grad
    # the record of `.grad`, or the one of its memory it is a view of (the gradient of the weight's transpose)
    (recorded,) = [record for record in trace.passes[0].leaf_grads.values()
                   if (record._source or record).held is not None
                   and np.shares_memory((record._source or record).held, grad._data)]
    grad.mul_(10.0)
    assert (recorded._source or recorded).held is None and recorded.stats.max == 4.0 and grad.max().item() == 40.0


def test_a_gradient_a_node_passes_on_to_a_leaf_is_handed_over_without_a_copy(monkeypatch):
    """AddBackward0 hands its incoming gradient on as it is: once the engine drops the list it came in, the leaf
    takes it (and its gradient is torch's)."""
    from gradscope.autograd import engine  # the module whose copy is watched

    if not engine._ALONE:
        pytest.skip("this interpreter's reference counts do not show who holds a gradient")
    monkeypatch.setattr(engine, "_copy_like", lambda g, data: pytest.fail(f"a gradient of shape {g.shape} was copied"))
    w = gs.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    ((w + 1.0) * gs.tensor([[2.0, 3.0], [4.0, 5.0]])).sum().backward()
    assert w.grad.tolist() == [[2.0, 3.0], [4.0, 5.0]]


def test_a_parameter_used_at_every_step_sums_its_gradients_in_one_array(monkeypatch):
    """A leaf reached by many edges (a loop's weight) waits for its sum, added in place into the first array the
    engine made for it, never into an array something else still reads (AddBackward0 hands one array to both of its
    inputs): the gradients are torch's."""
    from gradscope.autograd import engine  # the module whose additions are watched

    if engine._HELD_ALONE is None:
        pytest.skip("this interpreter's reference counts do not show who holds a gradient")
    in_place = []

    def add(a, b, out=None):
        in_place.append(out is a)
        return np.add(a, b, out)

    monkeypatch.setattr(engine, "_add", add)
    results = []
    for lib in (gs, pytest.importorskip("torch")):
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        c = lib.tensor([[1.0, -1.0], [0.5, 2.0]])
        h = lib.ones(2, 2)
        for step in range(4):
            h = (h * w).tanh() + w * float(step)
        # the sum of (w + w * 3) and the older w * 5 hands one new array to both: w takes it first, w * 3's gradient
        # reaches w next, and w * 5's node, still waiting then, reads the array after
        older = w * 5.0
        (((w + w * 3.0) + older) * c + h).sum().backward()
        results.append(w.grad.tolist())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    assert in_place and all(in_place)


@pytest.mark.parametrize("replaced_by", ["transposed", "unit rows", "same layout"])
def test_a_leaf_whose_array_was_replaced_gets_gradients_in_the_new_arrays_layout(replaced_by):
    # PyTorch compares a first gradient's strides with the variable's at each accumulation: a layout noted once
    # per leaf (to spare `g.strides == data.strides`) would go stale when another array takes the leaf's place.
    # The product's gradient is C-ordered whatever the leaf's layout
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    first = rng.standard_normal((4, 5))
    new = {"transposed": np.asfortranarray(rng.standard_normal((4, 5))),
           "unit rows": rng.standard_normal((5, 1)).T,  # (1, 5), strides (8, 8): C-contiguous, not C's own
           "same layout": rng.standard_normal((4, 5))}[replaced_by]
    results = []
    for lib in (gs, torch):
        leaf = lib.tensor(first, requires_grad=True)
        for _ in range(2):  # a second step, where a per-leaf note would be read
            leaf.grad = None
            (leaf * 3).sum().backward()
        before = leaf.grad.stride()
        with lib.no_grad():
            leaf.data = lib.from_numpy(new.copy(order="K"))
        for _ in range(2):
            leaf.grad = None
            (leaf * 3).sum().backward()
        results.append((before, leaf.grad.stride(), leaf.stride(), leaf.grad.numpy().copy()))
    ours, theirs = results
    assert ours[:3] == theirs[:3]
    np.testing.assert_array_equal(ours[3], theirs[3])
