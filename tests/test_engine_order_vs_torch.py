"""The engine runs ready nodes in PyTorch's order whichever way they wait: in the heap, as the node run next
without the heap, or, for a leaf without hooks, taking its gradient as soon as it is routed to it."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _log_every_node(root, log: list) -> None:
    """A pre-hook on every node reachable from `root` appending its name to `log`."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        # NOTE: the hook holds the name, not the node: node → hook → node would be a cycle, and torch frees its
        # graphs' Python objects late enough that another test's gc.collect() would count it (test_no_cycles)
        name = node.name()
        node.register_prehook(lambda grads, name=name: log.append(name))
        stack += [child for child, _ in node.next_functions]


def _linear_stack(lib, weights, x):
    h = lib.tensor(x)
    parameters = []
    for w, b in weights:
        w, b = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
        parameters += [w, b]
        h = lib.tanh(lib.nn.functional.linear(h, w, b))
    return h.sum(), parameters


def test_a_stack_of_linear_layers_runs_its_nodes_in_torchs_order():
    # each AddmmBackward0 makes its TBackward0 and the previous layer's TanhBackward0 ready at once
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal((3, 3)), rng.standard_normal(3)) for _ in range(4)]
    x = rng.standard_normal((2, 3))
    logs, grads = [], []
    for lib in (gradscope, torch):
        loss, parameters = _linear_stack(lib, weights, x)
        log = []
        _log_every_node(loss.grad_fn, log)
        loss.backward()
        logs.append(log)
        grads.append([p.grad.numpy() for p in parameters])
    assert logs[0] == logs[1]
    assert "TBackward0" in logs[0]
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)  # NOTE: BLAS libraries round products differently


@pytest.mark.parametrize("hooked", [False, True])
def test_a_node_made_ready_waits_for_a_larger_one_in_the_heap(hooked):
    # out's node makes p's and q's ready; q's (the later) runs, then makes r's ready, whose number is below p's:
    # p's runs first. Hooks on the leaves watch the order in which they take their gradients
    logs = []
    for lib in (gradscope, torch):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        v = lib.tensor([2.0, 3.0], requires_grad=True)
        r = x.sin() * v
        p = x.cos()
        q = r.exp()
        out = (p + q).sum()
        log = []
        _log_every_node(out.grad_fn, log)
        if hooked:
            x.register_post_accumulate_grad_hook(lambda t, log=log, v=v: log.append(("x", v.grad is None)))
        out.backward()
        logs.append(log)
    assert logs[0] == logs[1]


def test_leaves_made_ready_together_take_their_gradients_in_torchs_order_around_a_hooked_one():
    # addmm's node makes b, x and w ready at once; x's hook sees b's gradient already taken and w's not yet
    for hooked in ("b", "x", "w"):
        logs = []
        for lib in (gradscope, torch):
            b = lib.ones(3, dtype=lib.float64, requires_grad=True)
            x = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
            w = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
            leaves = {"b": b, "x": x, "w": w}
            log = []
            leaves[hooked].register_post_accumulate_grad_hook(
                lambda t, log=log, leaves=leaves: log.append({name: leaf.grad is None
                                                              for name, leaf in leaves.items()}))
            lib.addmm(b, x, w).sum().backward()
            logs.append(log)
        assert logs[0] == logs[1], hooked


def test_a_parameter_used_at_every_step_takes_its_summed_gradient_once():
    # an RNN-like loop: the weight's AccumulateGrad gets a gradient from each step, summed before it takes it
    rng = np.random.default_rng(1)
    w0, x0 = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    results = []
    for lib in (gradscope, torch):
        w = lib.tensor(w0, requires_grad=True)
        h = lib.tensor(x0)
        seen = []
        w.register_post_accumulate_grad_hook(lambda t, seen=seen: seen.append(t.grad.clone()))
        for _ in range(4):
            h = lib.tanh(h @ w.t())
        h.sum().backward()
        results.append((len(seen), w.grad.numpy()))
    assert results[0][0] == results[1][0] == 1
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-13)


def _looped_weight_grads(lib, w0, x0, b0, steps: int = 5):
    w, b = lib.tensor(w0, requires_grad=True), lib.tensor(b0, requires_grad=True)
    h = lib.tensor(x0)
    for _ in range(steps):
        h = lib.tanh(lib.nn.functional.linear(h, w, b))
    h.sum().backward()
    return w.grad.numpy(), b.grad.numpy()


def test_gradients_summed_in_place_are_those_summed_out_of_place(monkeypatch):
    # a weight used at every step gets its gradients summed in the buffer: in place once the buffer alone holds them
    from gradscope.autograd import engine

    rng = np.random.default_rng(2)
    w0, x0, b0 = rng.standard_normal((4, 4)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    for dtype in (np.float32, np.float64):
        arrays = [a.astype(dtype) for a in (w0, x0, b0)]
        in_place = _looped_weight_grads(gradscope, *arrays)
        monkeypatch.setattr(engine, "_HELD_ALONE", None)  # never in place
        out_of_place = _looped_weight_grads(gradscope, *arrays)
        monkeypatch.undo()
        for ours, reference in zip(in_place, out_of_place):
            np.testing.assert_array_equal(ours, reference)
            assert ours.dtype == dtype
        for ours, theirs in zip(in_place, _looped_weight_grads(torch, *arrays)):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_a_gradient_a_hook_kept_is_not_summed_into():
    # w's two gradients meet in its buffer; a post-hook kept each (not a copy): neither may change
    kept = {}
    for lib in (gradscope, torch):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a, b = w * 2.0, w * 3.0
        kept[lib] = []
        for node in (a.grad_fn, b.grad_fn):
            node.register_hook(lambda inputs, outputs, kept=kept[lib]: kept.append(inputs[0]))
        (a + b).sum().backward()
        kept[lib] = [g.detach().numpy().copy() for g in kept[lib]] + [w.grad.numpy()]
    for ours, theirs in zip(kept[gradscope], kept[torch], strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_an_observer_keeps_each_nodes_gradients_as_it_was_told_them():
    # the routing hands leaves their gradients without touching a node's list of outputs an observer may keep
    from gradscope.autograd import observers

    class Keeper:
        def __init__(self):
            self.told = []

        def backward_node_end(self, node, grad_inputs):
            self.told.append((node.name(), grad_inputs, list(grad_inputs)))

    w = gradscope.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = gradscope.tensor([0.5, -0.5], requires_grad=True)
    x = gradscope.tensor([[1.0, -1.0]])
    with observers.observing(Keeper()) as keeper:
        gradscope.tanh(gradscope.nn.functional.linear(x, w, b)).sum().backward()
    assert [name for name, _, _ in keeper.told] == ["SumBackward0", "TanhBackward0", "AddmmBackward0", "TBackward0"]
    for _, kept, copy in keeper.told:
        assert len(kept) == len(copy) and all(a is b for a, b in zip(kept, copy))
    assert keeper.told[2][1][0] is not None and keeper.told[3][1][0] is not None  # b's and w's gradients


def _node_and_leaf_order(lib, arrays, plan, hook_every: int) -> list:
    """The order in which random_graphs' graph runs its nodes (pre-hooks) and its leaves take their gradients
    (post-accumulate hooks on every `hook_every`-th leaf, recording which leaves have a `.grad` by then)."""
    from tests.test_random_graphs import step

    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
    values = list(leaves)
    for kind, a, b in plan:
        values.append(step(lib, kind, values[a % len(values)], values[b % len(values)]))
    out = sum((v * (i + 1)).sum() for i, v in enumerate(values[len(leaves):]))
    log = []
    # NOTE: the hooks hold weak references and names, never the leaves or nodes they hang on: a cycle through torch's
    # objects is freed late, and test_no_cycles, later in the same process, would count it
    refs = [weakref.ref(leaf) for leaf in leaves]
    for i, leaf in enumerate(leaves[::hook_every]):
        leaf.register_post_accumulate_grad_hook(
            lambda t, i=i, refs=refs: log.append((i, tuple(ref().grad is None for ref in refs))))
    seen, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        name = node.name()
        if not name.endswith("AccumulateGrad"):
            node.register_prehook(lambda grads, name=name: log.append(name))
        stack += [child for child, _ in node.next_functions]
    out.backward()
    return log


@pytest.mark.parametrize("seed", range(60))
def test_random_graphs_run_in_torchs_order(seed):
    import random

    from tests.test_random_graphs import BINARY, OTHER, UNARY

    rng = random.Random(seed)
    shape = rng.choice([(3, 3), (2, 3), (4,)])
    arrays = [np.random.default_rng(seed * 10 + i).standard_normal(shape) for i in range(rng.randint(1, 3))]
    plan = [(rng.choice(UNARY + BINARY + OTHER), rng.randrange(10), rng.randrange(10))
            for _ in range(rng.randint(1, 10))]
    for hook_every in (1, 2):
        try:
            theirs = _node_and_leaf_order(torch, arrays, plan, hook_every)
        except RuntimeError:  # a plan torch refuses (test_random_graphs compares the errors)
            return
        assert _node_and_leaf_order(gradscope, arrays, plan, hook_every) == theirs, plan


def _unbound_products(lib, x0):
    """Nodes reached twice by one node: x * x, and a multi-output node through two of its outputs, either one
    first; and a multi-output node reached first through output 0 alone, then through another output."""
    x = lib.tensor(x0, requires_grad=True)
    a, b, c = x.unbind(0)
    square = x.exp()
    later = (c * a).sum()  # runs after a * b (made before it), which reaches unbind's node with output 0's first
    first = (square * square).sum() + (a * b).sum() + (b * a).sum() + later
    d, e = x.tanh().unbind(1)[:2]
    late = (e * 3).sum() + (d.sin() * 2).sum()
    return x, first + late


def test_a_node_reached_twice_by_one_node_sums_both_gradients_as_torch():
    x0 = np.random.default_rng(3).standard_normal((3, 3))
    logs, grads = [], []
    for lib in (gradscope, torch):
        x, loss = _unbound_products(lib, x0)
        log = []
        _log_every_node(loss.grad_fn, log)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t, seen=seen: seen.append(1))
        loss.backward()
        logs.append(log)
        grads.append((len(seen), x.grad.numpy()))
    assert logs[0] == logs[1]
    assert grads[0][0] == grads[1][0] == 1
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-13)


@pytest.mark.parametrize("hooked", [False, True])
def test_a_leaf_root_also_reached_from_another_root_takes_the_sum_once(hooked):
    x0 = np.random.default_rng(4).standard_normal(3)
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor(x0, requires_grad=True)
        seen = []
        if hooked:
            x.register_post_accumulate_grad_hook(lambda t, seen=seen: seen.append(t.grad.clone()))
        y = (x * 2).exp()
        lib.autograd.backward([y.sum(), x], [None, lib.ones(3, dtype=lib.float64)])
        results.append(([s.numpy() for s in seen], x.grad.numpy()))
    assert len(results[0][0]) == len(results[1][0]) == int(hooked)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-13)


def test_a_leaf_used_once_per_graph_takes_each_graphs_gradient_as_it_comes():
    # two graphs alive at once share the leaf's AccumulateGrad: a backward through one runs it once
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        first, second = (x * 3).sum(), (x * 5).sum()
        seen = []
        x.register_post_accumulate_grad_hook(lambda t, seen=seen: seen.append(t.grad.clone()))
        first.backward()
        second.backward()
        results.append([s.numpy().tolist() for s in seen])
    assert results[0] == results[1] == [[3.0, 3.0], [8.0, 8.0]]


def _many_leaves_order(lib, seed: int) -> list:
    """A node (stack or cat) making many leaves ready at once, some of its inputs not leaves, while other nodes
    wait in the heap; hooks on some leaves record which leaves have a `.grad` when each takes its own."""
    import random

    rng = random.Random(seed)
    count = rng.randint(3, 8)
    leaves = [lib.tensor(np.full(2, i + 1.0), requires_grad=True) for i in range(count)]
    inputs = [leaf if rng.random() < 0.7 else leaf * 2.0 for leaf in leaves]  # some made ready through a node
    # branches made before the stack (smaller sequence numbers): their nodes wait while its node runs
    branches = [rng.choice(leaves + [lib.ones(2, requires_grad=True)]).sin() for _ in range(rng.randint(0, 6))]
    joined = (lib.stack if rng.random() < 0.5 else lib.cat)(inputs)
    out = joined.sum()
    for branch in branches:
        out = out + branch.exp().sum()
    log = []
    refs = [weakref.ref(leaf) for leaf in leaves]
    for i, leaf in enumerate(leaves):
        if rng.random() < 0.5:
            leaf.register_post_accumulate_grad_hook(
                lambda t, i=i, refs=refs: log.append((i, tuple(ref().grad is None for ref in refs))))
    _log_every_node(out.grad_fn, log)
    out.backward()
    return log


@pytest.mark.parametrize("seed", range(80))
def test_many_leaves_made_ready_together_take_their_gradients_in_torchs_order(seed):
    # PyTorch's heap hands out equal entries (every leaf's AccumulateGrad has the largest number) in an order of
    # its own: for four leaves pushed into an empty heap, the first, the third, the second, the fourth
    assert _many_leaves_order(gradscope, seed) == _many_leaves_order(torch, seed)


def _second_step(lib, w0, x0, probe):
    """A loop's second step: the first step's graph is still alive (its loss not yet rebound), so the parameters'
    AccumulateGrad nodes are those it used, and shared. `probe(lib, w, v, h)` hangs what it checks on the step."""
    w, v = lib.tensor(w0, requires_grad=True), lib.tensor(w0[0], requires_grad=True)
    loss = None
    for _ in range(2):
        w.grad = v.grad = None
        h = lib.tensor(x0) * v
        hs = []
        for _ in range(3):
            h = lib.tanh(h @ w.t())
            hs.append(h)
        new_loss = hs[-1].sum()
        if loss is not None:
            probe(lib, w, v, hs)
        loss = new_loss
    return w, v, loss


def _grads_seen(w, v):
    return tuple(None if t.grad is None else t.grad.numpy().round(12).tolist() for t in (w, v))


def test_a_hook_sees_shared_parameters_gradients_when_torchs_would():
    rng = np.random.default_rng(5)
    w0, x0 = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    seen = []
    for lib in (gradscope, torch):
        log = []

        def probe(lib, w, v, hs, log=log):
            for h in hs:
                h.register_hook(lambda g, w=w, v=v: log.append(_grads_seen(w, v)))
        w, v, loss = _second_step(lib, w0, x0, probe)
        loss.backward()
        seen.append((log, _grads_seen(w, v)))
    assert seen[0] == seen[1]


def test_a_custom_function_sees_shared_parameters_gradients_when_torchs_would():
    rng = np.random.default_rng(6)
    w0, x0 = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    seen = []
    for lib in (gradscope, torch):
        log = []

        class Look(lib.autograd.Function):
            @staticmethod
            def forward(ctx, h):
                return h.clone()

            @staticmethod
            def backward(ctx, g):
                Look.log.append(_grads_seen(*Look.watched))
                return g

        Look.log = log

        def probe(lib, w, v, hs):
            Look.watched = (w, v)
            hs[0] = Look.apply(hs[0])

        w, v, _ = _second_step(lib, w0, x0, probe)
        h = lib.tanh(Look.apply(lib.tensor(x0) * v) @ w.t())
        lib.tanh(h @ w.t()).sum().backward()
        seen.append((log, _grads_seen(w, v)))
    assert seen[0] == seen[1]


def test_a_backward_failing_midway_leaves_shared_parameters_as_torchs_does():
    # w's gradients all come before the failing node (it has run by then); v's would come after it
    rng = np.random.default_rng(7)
    w0, x0 = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    results = []
    for lib in (gradscope, torch):
        w, v, _ = _second_step(lib, w0, x0, lambda *args: None)
        base = lib.tensor(x0) * v
        middle = base.exp()
        h = lib.tanh(lib.tanh((middle + 0.5) @ w.t()) @ w.t())  # the products save middle + 0.5, not middle
        with lib.no_grad():
            middle.add_(1)  # exp's backward needs its result: modified in place, the backward fails there
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            h.sum().backward()
        results.append(_grads_seen(w, v))
    assert results[0] == results[1]
    assert results[0][0] is not None and results[0][1] is None


@pytest.mark.parametrize("case", ["earlier", "same node", "second of three", "second of four"])
def test_a_hooked_leaf_sees_a_shared_parameters_gradient_when_torchs_would(case):
    # earlier: w took its gradient at a node that ran before u's; same node: u is made ready first, then w; second
    # of three (four): a plain leaf first, then w, then u (then another leaf: PyTorch's heap then runs u before w)
    results = []
    for lib in (gradscope, torch):
        w, u = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0, 4.0], requires_grad=True)
        z = lib.tensor([5.0, 6.0], requires_grad=True)
        alive = (w * 2).sum()  # noqa: F841 - the last step's graph: the next edge shares w's AccumulateGrad
        if case == "earlier":
            loss = (u * 3).sum() + (w * 5).sum()
        elif case == "same node":
            loss = (u * w).sum()
        elif case == "second of three":
            loss = lib.stack([z, w, u]).sum()
        else:
            loss = lib.stack([z, w, u, lib.ones(2, requires_grad=True)]).sum()
        log = []
        u.register_post_accumulate_grad_hook(lambda t, w=w, log=log: log.append(_grads_seen(w, t)))
        loss.backward()
        results.append(log)
    assert results[0] == results[1]


def _leaves_beside_a_waiting_node(lib, n: int, extra: int) -> list:
    """The order in which `n` hooked leaves stacked together take their gradients, while the other input of the
    product they enter (`b`) waits as the engine's second node, above `extra` others in the heap."""
    order = []
    ws = [lib.tensor([1.0, 2.0], requires_grad=True) for _ in range(n)]
    for i, w in enumerate(ws):
        w.register_hook(lambda g, i=i: order.append(i))
    x = lib.tensor([0.5, 0.25], requires_grad=True)
    b = x.exp()
    others = [x.sin() * k for k in range(extra)]
    loss = (lib.stack(ws) * b).sum() + sum((t.sum() for t in others), lib.tensor(0.0))
    loss.backward()
    return order


@pytest.mark.parametrize("extra", [0, 1, 2])
@pytest.mark.parametrize("n", [3, 5, 6, 7])
def test_leaves_made_ready_beside_a_waiting_node_take_their_gradients_in_torchs_order(n, extra):
    # the waiting node counts among those PyTorch's queue holds (leaf_order), wherever the engine keeps it
    assert _leaves_beside_a_waiting_node(gradscope, n, extra) == _leaves_beside_a_waiting_node(torch, n, extra)
