"""The dispatcher's and the engine's shortcuts keep PyTorch's behaviour: state they read once per op or
node (a leaf's hooks, a node's flags) is kept up to date, and their functions build no closure cells."""

import contextvars
import warnings

import numpy as np
import pytest

import gradscope as gs
from gradscope.autograd import dispatch, engine, node


def test_per_op_and_per_node_functions_have_no_cells():
    # a comprehension that reads a local makes that local a cell, built on every call even when it never runs
    hot = [dispatch.apply, dispatch._record_unary, dispatch._record_simple, dispatch._edges_and_meta,
           dispatch._attr_values, dispatch._light, node.node_class(gs.ops.elementwise.sin)._vjp, engine.run,
           engine._dependencies, gs.mul, gs.sin]
    assert {f.__qualname__: f.__code__.co_cellvars for f in hot if f.__code__.co_cellvars} == {}


def test_leaf_hooks_registered_after_the_graph_was_built_run():
    # the leaf's AccumulateGrad exists (the graph holds it) before the hooks are registered
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    seen = []
    x.register_hook(lambda g: seen.append(("hook", g.tolist())) or g * 2)
    x.register_post_accumulate_grad_hook(lambda t: seen.append(("post", t.grad.tolist())))
    y.backward()
    assert seen == [("hook", [3.0, 3.0]), ("post", [6.0, 6.0])]
    assert x.grad.tolist() == [6.0, 6.0]


def test_node_hooks_on_a_leaf_accumulator_run():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    accumulator = y.grad_fn.next_functions[0][0].next_functions[0][0]
    seen = []
    accumulator.register_prehook(lambda grads: seen.append(grads[0].tolist()))
    y.backward()
    assert seen == [[3.0, 3.0]]


def test_a_leaf_detached_in_place_gets_no_gradient():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    x.detach_()
    y.backward()
    assert x.grad is None


def test_an_op_holding_params_frees_them_after_backward():
    # nll_loss holds its target as PyTorch does: a second backward through it raises
    logits = gs.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = gs.nn.functional.cross_entropy(logits, gs.tensor([0, 2]))
    loss.backward()
    try:
        loss.backward()
    except RuntimeError as error:
        assert "second time" in str(error)
    else:
        raise AssertionError("a second backward through a freed graph must raise")


def test_mode_blocks_leave_the_context_as_they_found_it():
    # every op sets NumPy's error state in the context: more variables in it make that dearer
    from gradscope.autograd.grad_mode import DEFAULT_MODES, modes

    def run():
        with gs.no_grad(), gs.enable_grad():
            pass
        with gs.inference_mode():
            pass
        x = gs.tensor([1.0], requires_grad=True)
        (x * 2).sum().backward()
        return modes in contextvars.copy_context(), modes.get() is DEFAULT_MODES

    assert contextvars.Context().run(run) == (False, True)


def test_a_switch_reset_out_of_order_keeps_the_switch_set_meanwhile():
    from gradscope.autograd import observers
    from gradscope.autograd.grad_mode import grad_enabled

    def run():
        token = observers.active.set(("observer",))
        grad_enabled.set(False)  # a plain set_grad_enabled(False) inside the observer's block
        observers.active.reset(token)
        return observers.active.get(), grad_enabled.get()

    assert contextvars.Context().run(run) == ((), False)


def test_ops_that_keep_meta_give_gradients_of_their_inputs_shape_and_dtype():
    # the engine doesn't sum or cast what their rules return: a wrong `keeps_meta` would leak a gradient of
    # another dtype or shape into the graph
    kept = [op for op in gs.ops.REGISTRY.values() if op.keeps_meta]
    assert {op.name for op in kept} >= {"sin", "tanh", "exp", "relu", "t", "alias"}
    rng = np.random.default_rng(0)
    for op in kept:
        for dtype in (np.float16, np.float32, np.float64):
            for shape in ((), (3,), (2, 3)):
                x = gs.tensor(rng.uniform(0.5, 2.0, shape).astype(dtype), requires_grad=True)
                y = dispatch.apply(op, (x,), (), [x._data])
                assert y.dtype == x.dtype, op.name
                g = np.ones(y.shape, dtype)  # a view's (t's) may have another shape
                (grad,) = y.grad_fn._vjp(y.grad_fn, [g], False)
                assert (np.shape(grad), grad.dtype) == (shape, np.dtype(dtype)), (op.name, dtype, shape)


def test_a_broadcast_or_promoted_rule_result_is_summed_and_cast():
    x = gs.tensor(np.ones(3, np.float32), requires_grad=True)
    w = gs.tensor(np.full((2, 3), 2.0), requires_grad=False)  # float64: NumPy would promote the rule's result
    (x * w.float()).sum().backward()
    assert (x.grad.shape, x.grad.dtype) == ((3,), gs.float32)
    assert x.grad.tolist() == [4.0, 4.0, 4.0]
    z = gs.tensor(np.float32(1.5), requires_grad=True)
    (z * gs.tensor(np.float64(2.0))).backward()  # a 0-dim float64 operand keeps float32 (PyTorch's promotion)
    assert (z.grad.dtype, z.grad.item()) == (gs.float32, 2.0)


def test_a_python_float_operand_gives_numpys_result_and_stays_a_number_on_the_node():
    # the arithmetic operators compute with a cached 0-dim array of the tensor's dtype in its place
    for dtype in (np.float32, np.float64):
        values = np.array([1.5, -2.0, 3.25], dtype)
        x = gs.tensor(values, requires_grad=True)
        for number in (1.01, 0.1, -0.0, 0.0, float("nan"), 1e300, -1e-300, 1.01):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with np.errstate(all="ignore"):
                    expected = [values * number, values + number, values - number, values / number]
                results = [x * number, x + number, x - number, x / number]
            for result, want in zip(results, expected):
                assert result.dtype == x.dtype
                np.testing.assert_array_equal(result.detach().numpy(), want)
                assert (np.signbit(result.detach().numpy()) == np.signbit(want)).all()
        y = x * 1.01
        assert type(y.grad_fn._saved_other.item()) is float and y.grad_fn._saved_other.dtype == gs.float64
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 1.01, dtype))


def test_a_multi_output_node_whose_only_gradient_is_output_0s_sees_none_for_the_others():
    # the engine hands such a node `[g]`; each of its paths pads it to one gradient per output
    x = gs.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)

    class Two(gs.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2, t * 3

        @staticmethod
        def backward(ctx, first, second):
            assert second is None or not second.any()
            return first * 2

    for anomaly in (False, True):
        with gs.autograd.set_detect_anomaly(anomaly):
            x.grad = None
            first, _, third = (x * 1).unbind(1)  # the plain path (an op's node)
            seen = []
            third.register_hook(seen.append)
            (first * 2).sum().backward()
            assert seen == [None] and x.grad.tolist() == [[2.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
            x.grad = None
            Two.apply(x)[0].sum().backward()  # the general path (a custom Function's node)
            assert x.grad.tolist() == [[2.0] * 3] * 2


def test_nodes_that_saved_nothing_see_their_own_params_each():
    # a node that saved nothing may be given the Saved of the previous node of its kind: only for the same params
    import torch

    def run(lib):
        x = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        y = x
        for alpha in (2, 3, 2, 1, 0.5, 1, -1):
            y = lib.sub(lib.add(y, 0.25, alpha=alpha), y * 0.5, alpha=alpha)
        y = y + 0.1 + 0.1  # two nodes of one fused forward's params object
        y.sum().backward()
        return x.grad.tolist()

    assert run(gs) == run(torch)


def test_the_graph_walks_count_every_edge_of_a_wide_graph():
    # _dependencies walks a node's first new child without the stack: every other child still gets counted
    import torch

    def run(lib):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        a, b = x.sin(), x.tanh()
        c = a * b + a.exp() - b * 2
        d = c * a + (c + b).cos()
        grads = lib.autograd.grad(d.sum(), (x, a), retain_graph=True)
        d.sum().backward(inputs=[x])
        return [g.tolist() for g in grads] + [x.grad.tolist()]

    np.testing.assert_allclose(run(gs), run(torch), rtol=1e-13)  # sums of several paths: PyTorch's order to 1 ulp


def _linear_events(lib, how: str):
    """Three linear layers (ReLU between, cross-entropy), and what a tensor hook on each hidden activation and a
    post-accumulate hook on the first bias see of the parameters' `.grad`s when they run (which are set), then the
    gradients. `how` changes what follows a TBackward0 the engine may run in its maker's routing (see engine.run):
    "plain"; "t hook" (a prehook on the last layer's TBackward0); "shared" (the last layer's weight also used in a
    product); "saved view" (that TBackward0 also reached from a newer node, its weight hooked); "non-leaf" (a
    weight that is a product); "weight hook" (a post-accumulate hook on the middle weight); "mm orders" (bias-free
    products of two transposes of leaves, the second's made in the other order)."""
    rng = np.random.default_rng(21)
    shapes = [((4, 5), (4,)), ((4, 4), (4,)), ((3, 4), (3,))]
    params = [lib.tensor(rng.standard_normal(shape), requires_grad=True) for pair in shapes for shape in pair]
    x = lib.tensor(rng.standard_normal((6, 5)))
    events = []

    def seen(what):
        events.append((what, tuple(p.grad is not None for p in params)))

    params[1].register_post_accumulate_grad_hook(lambda p: seen("bias 0"))
    if how == "weight hook":
        params[2].register_post_accumulate_grad_hook(lambda p: seen("weight 1"))
    if how == "saved view":  # called once, with the sum of both paths' gradients
        params[4].register_post_accumulate_grad_hook(lambda p: seen("weight 2"))
    h = x
    for i in range(3):
        weight = params[2 * i] * 1.0 if how == "non-leaf" and i == 1 else params[2 * i]
        h = lib.nn.functional.linear(h, weight, params[2 * i + 1])
        if how == "t hook" and i == 2:
            h.grad_fn.next_functions[2][0].register_prehook(lambda grads: seen("t hook"))
        if i < 2:
            h = lib.relu(h)
            h.register_hook(lambda g, i=i: seen(f"relu {i}"))
    loss = lib.nn.functional.cross_entropy(h, lib.tensor([0, 1, 2, 0, 1, 2]))
    if how == "shared":
        loss = loss + (h @ params[4]).sum()
    if how == "saved view":  # the last layer's weight.t(), unpacked from its node and used again
        loss = loss + (h.grad_fn._saved_mat2 * 3).sum()
    leaves = params
    if how == "mm orders":  # the second product's transposes made in the other order than its operands'
        a, b, c, d = (lib.tensor(rng.standard_normal(shape), requires_grad=True) for shape in [(3, 2), (4, 3)] * 2)
        d_t = d.t()
        loss = loss + lib.mm(a.t(), b.t()).sum() + lib.mm(c.t(), d_t).sum()
        leaves = params + [a, b, c, d]
    loss.backward()
    return events, [p.grad.numpy() for p in leaves]


@pytest.mark.parametrize("how", ["plain", "t hook", "shared", "saved view", "non-leaf", "weight hook", "mm orders"])
def test_a_linear_layers_tbackward_run_in_its_place_gives_pytorchs_order_and_gradients(how, monkeypatch):
    """In a pass nothing listens to, a linear layer's TBackward0 runs as its AddmmBackward0 routes to it when
    it would run next anyway, alone: hooks elsewhere see the weights' `.grad`s set when PyTorch's do, and the
    gradients are PyTorch's. Where it can't, the node runs as any other."""
    import torch

    t_class = node.node_class(gs.ops.shape.t)
    runs = []
    rule = t_class._vjp
    monkeypatch.setattr(t_class, "_vjp", staticmethod(lambda self, grads, free: runs.append(self) or rule(
        self, grads, free)))
    ours, theirs = _linear_events(gs, how), _linear_events(torch, how)
    assert ours[0] == theirs[0]
    for mine, reference in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)
    # which TBackward0 nodes the loop ran by their _vjp: of a stack's three, the first layer's (its bias has a hook,
    # so a leaf waits), and the last layer's when it waits for a second gradient (a hooked node runs its general
    # path: the events show it ran); whatever its edge leads to (a shared, hooked or non-leaf weight) is routed as
    # the node would route it. Of the products', b.t()'s runs in place (last, above a.t()'s), c.t()'s not (last,
    # below d.t()'s)
    assert len(runs) == {"plain": 1, "t hook": 1, "shared": 1, "saved view": 2, "non-leaf": 1, "weight hook": 1,
                         "mm orders": 4}[how]


def _null_edge(lib):
    """A transpose whose edge is PyTorch's null one (a view made under no_grad of a base that then requires grad),
    as a product's last operand while another node waits: the gradients (the base gets none)."""
    base = lib.tensor(np.arange(12.0).reshape(4, 3))
    with lib.no_grad():
        view = base[:2]
    base.requires_grad_()
    x = lib.tensor(np.linspace(-1, 1, 15).reshape(5, 3), requires_grad=True)
    h = x * 2
    loss = lib.mm(h, view.t()).sum() + h.sum()
    loss.backward()
    return x.grad.numpy(), base.grad


def test_a_transpose_with_a_null_edge_run_in_place_routes_nothing():
    import torch

    (ours, ours_base), (theirs, theirs_base) = _null_edge(gs), _null_edge(torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert ours_base is None and theirs_base is None


@pytest.mark.parametrize("meanwhile", ["made one", "handed one out", "handed out one that died"])
def test_a_leaf_keeps_one_accumulator_when_another_thread_acts_between_its_look_and_its_lock(monkeypatch,
                                                                                            meanwhile):
    # what another thread may do to the leaf between the first (unlocked) look, which found no accumulator kept,
    # and the lock: an accumulator it made, or handed out and still alive, is handed out again, as shared
    from gradscope.autograd import tensor as tensor_module
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    other = []
    lock = tensor_module._lock_accumulators

    def lock_after_the_other_thread():
        monkeypatch.undo()
        made = x._grad_accumulator()
        if meanwhile != "made one":
            made._handed_out()
        if meanwhile != "handed out one that died":
            other.append(made)
        del made
        lock()

    monkeypatch.setattr(tensor_module, "_lock_accumulators", lock_after_the_other_thread)
    accumulator, leaf = x._leaf_edge()
    assert type(accumulator) is node.AccumulateGrad and accumulator.variable is x and leaf is x
    if meanwhile == "handed out one that died":
        assert not other and not accumulator._shared and x._accumulator is accumulator
    else:
        assert accumulator is other[0] and accumulator._shared
        assert (x._accumulator is accumulator) == (meanwhile == "made one")
    assert x._grad_accumulator() is accumulator and accumulator._shared


def test_an_edge_another_thread_makes_between_the_count_and_the_flag_leaves_the_accumulator_shared(monkeypatch):
    # _leaf_edge counts who holds the kept accumulator, then writes its flag: another thread may make an edge in
    # between (and write True before this writes False)
    from gradscope.autograd import tensor as tensor_module
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    accumulator = x._grad_accumulator()
    del accumulator
    count = tensor_module._refcount
    other = []

    def count_then_the_other_thread(held):
        counted = count(held) - 1  # as the caller counts: this frame holds it once more
        if not other:
            held._shared = True
            other.append((held, x))
        return counted

    monkeypatch.setattr(tensor_module, "_refcount", count_then_the_other_thread)
    edge = x._leaf_edge()
    monkeypatch.undo()
    assert edge[0] is other[0][0] and edge[0]._shared
