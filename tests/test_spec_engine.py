"""Spec §3: the engine — scheduling order, accumulation, freeing, create_graph and higher order, autograd.grad
and autograd.backward, reentrant backward, threads, deep graphs and freeing graphs by reference counting alone."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading

import pytest

import gradscope as gs

FREED = (
    "RuntimeError: Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you "
    "need to access saved tensors after calling backward."
)
CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient "
    "which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you "
    "have to use this function, make sure to reset the .grad fields of your parameters to None after use to break "
    "the cycle and avoid the leak."
)


# scheduling ----------------------------------------------------------------------------------------------------
def test_hooks_fire_latest_created_first_and_after_all_contributions(oracle):
    oracle.check(
        """
        x = torch.tensor(1., requires_grad=True)
        y = x * 2
        p = y * 3
        q = y * 4
        z = p + q
        order = []
        p.register_hook(lambda g: order.append(("p", g.item())))
        q.register_hook(lambda g: order.append(("q", g.item())))
        y.register_hook(lambda g: order.append(("y", g.item())))
        z.backward()
        print(order, x.grad)
        """,
        stdout="[('q', 1.0), ('p', 1.0), ('y', 7.0)] tensor(14.)\n",
    )


def test_ready_nodes_run_by_descending_sequence_number_accumulate_grad_first(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        b = torch.ones(2, requires_grad=True)
        out = ((a * 2).exp() + b * 3).sum()
        log = []
        def walk(node, seen):
            if node is None or node in seen:
                return
            seen.add(node)
            node.register_prehook(lambda go, n=node: log.append(n.name()))
            for nxt, _ in node.next_functions:
                walk(nxt, seen)
        walk(out.grad_fn, set())
        out.backward()
        print(log)
        """,
        stdout="['SumBackward0', 'AddBackward0', 'MulBackward0', 'torch::autograd::AccumulateGrad', 'ExpBackward0', "
               "'MulBackward0', 'torch::autograd::AccumulateGrad']\n",
    )


# accumulation and freeing ----------------------------------------------------------------------------------------
def test_accumulation_over_calls_and_paths(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        for _ in range(3):
            (x * 2).sum().backward()
        print(x.grad)
        w = torch.ones(2, requires_grad=True)
        h = w * 2
        seen = []
        h.register_hook(lambda g: seen.append(g.tolist()))
        (h * 3 + h * h + h).sum().backward()
        print(seen, w.grad)
        """,
        stdout="tensor([6., 6.])\n[[8.0, 8.0]] tensor([16., 16.])\n",
    )


def test_autograd_grad_does_not_touch_dot_grad(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        print(torch.autograd.grad((x * 2).sum(), x), x.grad)
        """,
        stdout="(tensor([2., 2.]),) None\n",
    )


@pytest.mark.parametrize("expr", ["(x * 2).sum()", "x.exp().sum()", "(x * x).sum()"])
def test_second_backward_without_retain_graph_fails(oracle, expr):
    oracle.check(f"x = torch.ones(2, requires_grad=True)\ny = {expr}\ny.backward()\ny.backward()", error=FREED)


def test_retain_graph_allows_repeated_backward(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x.exp().sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
        print(x.grad)
        """,
        stdout="tensor([8.1548, 8.1548])\n",
    )


# create_graph ----------------------------------------------------------------------------------------------------
def test_higher_order_with_autograd_grad(oracle):
    oracle.check(
        """
        x = torch.tensor(3., requires_grad=True)
        g, = torch.autograd.grad(x ** 3, x, create_graph=True)
        print(g)
        print(torch.autograd.grad(g, x))
        h = torch.tensor([1., 2.], requires_grad=True)
        g1, = torch.autograd.grad(h.sin().sum(), h, create_graph=True)
        g2, = torch.autograd.grad(g1.sum(), h, create_graph=True)
        g3, = torch.autograd.grad(g2.sum(), h)
        print(g1, g2, g3)
        """,
        stdout="tensor(27., grad_fn=<MulBackward0>)\n(tensor(18.),)\n"
               "tensor([ 0.5403, -0.4161], grad_fn=<MulBackward0>) tensor([-0.8415, -0.9093], grad_fn=<MulBackward0>) "
               "tensor([-0.5403,  0.4161])\n",
    )


def _run_fresh(module: str, body: str) -> str:
    """Run `body` in a fresh interpreter (warn-once state is per process) and return its stdout."""
    source = f"import warnings\nimport {module} as torch\n" + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


CREATE_GRAPH_BODY = """
    x = torch.tensor(3., requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x ** 3).backward(create_graph=True)
        print(x.grad)
        (x ** 3).backward(create_graph=True)
    print(x.grad)
    print(len(caught))
    print(caught[0].category.__name__, caught[0].message)
"""


def test_backward_create_graph_warns_once_per_process_and_builds_grad_graph():
    expected = ("tensor(27., grad_fn=<CopyBackwards>)\ntensor(54., grad_fn=<AddBackward0>)\n1\n"
                f"UserWarning {CREATE_GRAPH_WARNING}\n")
    assert _run_fresh("gradscope", CREATE_GRAPH_BODY) == expected


def test_backward_create_graph_matches_torch():
    pytest.importorskip("torch")
    theirs = re.sub(r"\s*\(Triggered internally at [^)]*\)\.?", "", _run_fresh("torch", CREATE_GRAPH_BODY))
    assert _run_fresh("gradscope", CREATE_GRAPH_BODY) == theirs


# autograd.grad ---------------------------------------------------------------------------------------------------
def test_autograd_grad_returns_a_tuple_or_a_dict(oracle):
    oracle.check(
        """
        a = torch.tensor([1., 2.], requires_grad=True)
        b = torch.tensor([3., 4.], requires_grad=True)
        print(torch.autograd.grad((a * b).sum(), {"a": a, "b": b}))
        print(torch.autograd.grad((a * b).sum(), [a, b]))
        print(torch.autograd.grad((a * b).sum(), a))
        """,
        stdout="{'a': tensor([3., 4.]), 'b': tensor([1., 2.])}\n(tensor([3., 4.]), tensor([1., 2.]))\n"
               "(tensor([3., 4.]),)\n",
    )


def test_autograd_grad_input_without_grad(oracle):
    oracle.check(
        "a = torch.ones(2, requires_grad=True)\ntorch.autograd.grad((a * 2).sum(), [a, torch.ones(2)])",
        error="RuntimeError: One of the differentiated Tensors does not require grad",
    )


def test_autograd_grad_with_grad_outputs_and_batched_grads(oracle):
    oracle.check(
        """
        x = torch.tensor([1., 2.], requires_grad=True)
        y = x ** 2
        print(torch.autograd.grad(y, x, torch.tensor([1., 10.]), retain_graph=True))
        print(torch.autograd.grad(y, x, torch.eye(2), is_grads_batched=True))
        """,
        stdout="(tensor([ 2., 40.]),)\n(tensor([[2., 0.],\n        [0., 4.]]),)\n",
    )


def test_autograd_backward_with_several_roots(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        b = torch.ones(2, requires_grad=True)
        result = torch.autograd.backward([(a * 2).sum(), b * 3], [None, torch.ones(2)])
        print(result, a.grad, b.grad)
        torch.autograd.backward((a * b).sum(), inputs=[b])
        print(a.grad, b.grad)
        """,
        stdout="None tensor([2., 2.]) tensor([3., 3.])\ntensor([2., 2.]) tensor([4., 4.])\n",
    )


# reentrant backward ----------------------------------------------------------------------------------------------
def test_reentrant_autograd_grad_inside_a_custom_backward(oracle):
    oracle.check(
        """
        class Cube(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                x, = ctx.saved_tensors
                with torch.enable_grad():
                    inner = x.detach().requires_grad_()
                    local, = torch.autograd.grad((inner ** 3).sum(), inner)
                return grad * local

        x = torch.tensor([1., 2.], requires_grad=True)
        (Cube.apply(x) * torch.tensor([1., 10.])).sum().backward()
        print(x.grad)
        """,
        stdout="tensor([  3., 120.])\n",
    )


def test_reentrant_backward_inside_a_custom_backward(oracle):
    oracle.check(
        """
        side = torch.ones(2, requires_grad=True)

        class Twice(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                with torch.enable_grad():
                    (side * 5).sum().backward()
                return grad * 2

        x = torch.ones(2, requires_grad=True)
        Twice.apply(x).sum().backward()
        print(x.grad, side.grad)
        """,
        stdout="tensor([2., 2.]) tensor([5., 5.])\n",
    )


# threads ---------------------------------------------------------------------------------------------------------
def test_seed_003_train_fn_in_ten_threads():
    """Seed 003: ten threads each build and backpropagate their own graph."""
    results, failures = [], []

    def train_fn():
        try:
            x = gs.ones(5, 5, requires_grad=True)
            y = (x + 3) * (x + 4) * 0.5
            y.sum().backward()
            results.append(x.grad)
        except Exception as error:  # reported below with the thread's exception
            failures.append(error)

    threads = [threading.Thread(target=train_fn) for _ in range(10)]
    for p in threads:
        p.start()
    for p in threads:
        p.join()
    assert failures == []
    assert len(results) == 10
    for grad in results:  # d/dx (x+3)(x+4)/2 = (2x+7)/2 = 4.5 at x = 1
        assert grad.tolist() == [[4.5] * 5] * 5


def test_eight_threads_accumulating_into_one_leaf_give_exact_totals():
    w = gs.zeros(3, requires_grad=True)
    failures = []
    start = threading.Barrier(8)

    def work():
        try:
            start.wait()
            for _ in range(100):
                (w * 2).sum().backward()
        except Exception as error:  # reported below
            failures.append(error)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave threads as often as possible
    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old_interval)
    assert failures == []
    assert w.grad.tolist() == [1600.0, 1600.0, 1600.0]


def test_a_graph_shared_between_threads_errors_like_a_double_backward():
    x = gs.ones(2, requires_grad=True)
    y = x.exp().sum()
    outcomes = []

    def work():
        try:
            y.backward()
            outcomes.append("ok")
        except RuntimeError as error:
            outcomes.append(str(error))

    for _ in range(2):
        t = threading.Thread(target=work)
        t.start()
        t.join()
    assert outcomes == ["ok", FREED.removeprefix("RuntimeError: ")]


# deep graphs and freeing -------------------------------------------------------------------------------------------
def test_a_100000_op_chain_backpropagates_and_is_freed_without_recursion():
    x = gs.tensor(1.0, dtype=gs.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward(retain_graph=True)
    assert x.grad.item() == pytest.approx(1.00001 ** 100_000, rel=1e-9)
    del y  # dropping a deep graph (saved tensors retained) must not overflow the stack either


NO_CYCLES = """
import gc, weakref

class Sentinel:
    pass

def watch(tensors, nodes):
    refs = [weakref.ref(t) for t in tensors]
    for node in nodes:
        sentinel = Sentinel()
        node.metadata["sentinel"] = sentinel
        refs.append(weakref.ref(sentinel))
    return refs

class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x * x
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return grad * 2 * x

def build(case, x):
    y = x.exp()
    if case == "retain_grad":
        y.retain_grad()
    if case == "hook":
        y.register_hook(lambda g: g * 2)
    if case == "function":
        y = Square.apply(y)
    if case == "view":
        y = y.clone()
        y[0:1].mul_(3)
    z = (y * y).sum()
    return y, z

gc.collect()
gc.disable()
try:
    x = torch.ones(3, requires_grad=True)
    alive = {}
    for case in ["forward only", "backward", "retain_graph", "retain_grad", "hook", "function", "view", "grad"]:
        y, z = build(case, x)
        if case == "backward" or case == "retain_grad" or case == "hook" or case == "view":
            z.backward()
        if case == "retain_graph":
            z.backward(retain_graph=True)
        if case == "grad":
            g, = torch.autograd.grad(z, x, create_graph=True)
            y = g
        refs = watch([y, z], [y.grad_fn, z.grad_fn, z.grad_fn.next_functions[0][0]])
        del y, z
        if case == "grad":
            del g
        alive[case] = sum(r() is not None for r in refs)
    print(alive)
finally:
    gc.enable()
"""


def test_graphs_are_freed_by_reference_counting_alone(oracle):
    oracle.check(
        NO_CYCLES,
        stdout="{'forward only': 0, 'backward': 0, 'retain_graph': 0, 'retain_grad': 0, 'hook': 0, 'function': 0, "
               "'view': 0, 'grad': 0}\n",
    )


# §10 acceptance checks ------------------------------------------------------------------------------------------
def test_check_09_retain_graph_doubles_grads(oracle):
    oracle.check(
        """
        x = torch.tensor([0., 1.], requires_grad=True)
        y = x.exp().sum()
        y.backward(retain_graph=True)
        print(x.grad)
        y.backward()
        print(x.grad)
        """,
        stdout="tensor([1.0000, 2.7183])\ntensor([2.0000, 5.4366])\n",
    )


def test_check_10_accumulation_and_grad_leaves_dot_grad_alone(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        for _ in range(3):
            (x * 2).sum().backward()
        print(x.grad)
        w = torch.ones(2, requires_grad=True)
        torch.autograd.grad((w * 2).sum(), w)
        print(w.grad)
        """,
        stdout="tensor([6., 6.])\nNone\n",
    )


def test_check_21_hook_order_tensor_prehook_retain_node_posthook(oracle):
    oracle.check(
        """
        x = torch.tensor(1., requires_grad=True)
        y = x * 2
        p = y * 3
        q = y * 4
        z = p + q
        log = []
        for name, t in (("p", p), ("q", q), ("y", y)):
            t.register_hook(lambda g, name=name: log.append(f"{name} hook {g.item()}"))
        y.grad_fn.register_prehook(lambda go: log.append("y node prehook"))
        y.retain_grad()
        y.grad_fn.register_hook(lambda gi, go: log.append(f"y node posthook, y.grad={y.grad.item()}"))
        z.backward()
        print(log)
        """,
        stdout="['q hook 1.0', 'p hook 1.0', 'y hook 7.0', 'y node prehook', 'y node posthook, y.grad=7.0']\n",
    )


def test_check_25_second_order(oracle):
    oracle.check(
        """
        x = torch.tensor(3., requires_grad=True)
        g, = torch.autograd.grad(x ** 3, x, create_graph=True)
        print(g, torch.autograd.grad(g, x)[0])
        """,
        stdout="tensor(27., grad_fn=<MulBackward0>) tensor(18.)\n",
    )


def test_check_26_unused_inputs(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        b = torch.ones(2, requires_grad=True)
        out = (a * 2).sum()
        print(torch.autograd.grad(out, [a, b], allow_unused=True, retain_graph=True))
        print(torch.autograd.grad(out, [a, b], materialize_grads=True, retain_graph=True))
        torch.autograd.grad(out, [a, b])
        """,
        stdout="(tensor([2., 2.]), None)\n(tensor([2., 2.]), tensor([0., 0.]))\n",
        error="RuntimeError: The differentiated Tensor at index 1 appears to not have been used in the graph. Set "
              "allow_unused=True if this is the desired behavior.",
    )


def test_create_graph_through_an_in_place_op_on_a_view(oracle):
    """CopySlices and the re-generated view node are differentiable twice."""
    oracle.check(
        """
        x = torch.tensor([1., 2., 3., 4.], requires_grad=True)
        b = x.clone() * 1
        b[1:3] = x[1:3] ** 3
        v = b[0:2]
        y = (b ** 2).sum() + (v * 3).sum()
        g, = torch.autograd.grad(y, x, create_graph=True)
        print(g)
        print(torch.autograd.grad(g.sum(), x)[0])
        """,
        stdout="tensor([   5.,  228., 1458.,    8.], grad_fn=<AddBackward0>)\n"
               "tensor([2.0000e+00, 5.1600e+02, 2.4300e+03, 2.0000e+00])\n",
    )


def test_second_derivative_through_relu_is_zero_not_missing(oracle):
    """relu's backward is an op of its own (ThresholdBackwardBackward0): differentiating it again
    gives zeros, as in PyTorch, instead of a graph that doesn't require grad."""
    oracle.check(
        """
        x = torch.tensor([-1., 2., 3.], dtype=torch.float64, requires_grad=True)
        g, = torch.autograd.grad(torch.relu(x).sum(), x, create_graph=True)
        print(g)
        print(torch.autograd.grad((g * g).sum(), x))
        """,
        stdout="tensor([0., 1., 1.], dtype=torch.float64, grad_fn=<ThresholdBackwardBackward0>)\n"
               "(tensor([0., 0., 0.], dtype=torch.float64),)\n",
    )
