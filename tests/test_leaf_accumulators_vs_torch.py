"""A leaf's AccumulateGrad behaves as PyTorch's, though gradscope keeps it from graph to graph until user code gets
it (Tensor._leaf_edge): the same node while graphs or the user hold it, hooks and metadata that die with it, a
temporary leaf kept alive by its graph, and no reference cycle between a leaf and its node."""

import gc
import threading
import weakref

import numpy as np
import pytest

import gradscope as gs


def test_a_leaf_has_one_accumulator_while_graphs_or_the_user_hold_it(oracle):
    oracle.check("""
        w = torch.ones(2, requires_grad=True)
        def accumulator(y):
            return y.grad_fn.next_functions[0][0].next_functions[0][0]
        a, b = (w * 2).sum(), (w * 3).sum()
        print(accumulator(a) is accumulator(b), accumulator(a).variable is w, accumulator(a).next_functions)
        print(accumulator(a).name(), accumulator(a).requires_grad)
        kept = accumulator(a)
        del a, b
        print(accumulator((w * 4).sum()) is kept, torch.autograd.graph.get_gradient_edge(w).node is kept)
        edge = (w * 2).sum().grad_fn.next_functions[0][0].next_functions[0]
        print(edge[0] is kept, type(edge[1]).__name__, edge[1])
        print(torch.autograd.graph.get_gradient_edge(w).output_nr)
    """, stdout="""
        True True ()
        torch::autograd::AccumulateGrad True
        True True
        True int 0
        0
    """)


def test_hooks_and_metadata_on_an_accumulator_live_as_long_as_it(oracle):
    # the graph holds it (and so its hooks) after the user's reference is gone; a graph made once every holder
    # has gone gets a new one, without them
    oracle.check("""
        w = torch.ones(2, requires_grad=True)
        def accumulator(y):
            return y.grad_fn.next_functions[0][0].next_functions[0][0]
        hits = []
        y = (w * 2).sum()
        accumulator(y).register_hook(lambda grad_inputs, grad_outputs: hits.append(("post", grad_outputs[0].tolist())))
        accumulator(y).register_prehook(lambda grad_outputs: hits.append(("pre", grad_outputs[0].tolist())))
        accumulator(y).metadata["seen"] = True
        y.backward(retain_graph=True)
        print(hits, accumulator(y).metadata)
        y.backward()
        print(len(hits), w.grad)
        del y
        y = (w * 2).sum()
        y.backward()
        print(len(hits), w.grad, accumulator(y).metadata)
    """, stdout="""
        [('pre', [2.0, 2.0]), ('post', [2.0, 2.0])] {'seen': True}
        4 tensor([4., 4.])
        4 tensor([6., 6.]) {}
    """)


def test_a_graph_keeps_a_temporary_leaf_alive_and_so_does_its_accumulator(oracle):
    oracle.check("""
        import gc
        y = (torch.tensor([1.0, 2.0], requires_grad=True) ** 2).sum()
        y.backward()
        gc.collect()
        print(y.grad_fn.next_functions[0][0].next_functions[0][0].variable.grad)
        accumulator = (torch.ones(3, requires_grad=True) * 2).sum().grad_fn.next_functions[0][0].next_functions[0][0]
        gc.collect()
        print(accumulator.variable, accumulator.variable.is_leaf)
        accumulator(torch.full((3,), 5.0))
        print(accumulator.variable.grad)
    """, stdout="""
        tensor([2., 4.])
        tensor([1., 1., 1.], requires_grad=True) True
        tensor([5., 5., 5.])
    """)


def _walk(node, seen: list) -> None:
    for child, _ in node.next_functions:
        if child is not None and child not in seen:
            seen.append(child)
            _walk(child, seen)


@pytest.mark.parametrize("seen", ["never", "next_functions", "hooks", "gradient edges", "graph kept"])
def test_a_dropped_models_parameters_are_freed_without_the_cyclic_collector(seen):
    gc.collect()
    gc.disable()
    try:
        gs.manual_seed(0)
        model = gs.nn.Sequential(gs.nn.Linear(3, 4), gs.nn.Tanh(), gs.nn.Linear(4, 1))
        parameters = [weakref.ref(p) for p in model.parameters()]
        kept = []
        for _ in range(3):
            loss = model(gs.randn(2, 3)).sum()
            nodes: list = []
            if seen in ("next_functions", "hooks"):
                _walk(loss.grad_fn, nodes)
                assert {id(node.variable) for node in nodes if node.name().endswith("AccumulateGrad")} == {
                    id(p()) for p in parameters}
            if seen == "hooks":  # NOTE: a comprehension: no loop variable left holding a node
                [node.register_prehook(lambda grad_outputs: None) for node in nodes]
            if seen == "gradient edges":
                kept += [gs.autograd.graph.get_gradient_edge(p) for p in model.parameters()]
            loss.backward()
            if seen == "graph kept":
                kept.append(loss)
        del model, loss, nodes, kept
        assert [p() for p in parameters] == [None] * 4
    finally:
        gc.enable()


def test_an_accumulator_the_user_keeps_keeps_its_leaf_as_torchs_does():
    gc.collect()
    gc.disable()
    try:
        w = gs.nn.Parameter(gs.ones(2))
        accumulator = (w * 2).sum().grad_fn.next_functions[0][0].next_functions[0][0]
        leaf = weakref.ref(w)
        del w
        assert leaf() is not None and accumulator.variable is leaf()
        del accumulator
        assert leaf() is None
    finally:
        gc.enable()


def test_threads_building_graphs_on_shared_parameters_accumulate_every_gradient():
    weight = gs.ones(3, requires_grad=True)
    barrier = threading.Barrier(2)

    def steps():
        barrier.wait()
        for _ in range(200):
            y = (weight * 2).sum() + (weight * 3).sum()  # two edges into the weight's accumulator
            y.backward()

    threads = [threading.Thread(target=steps) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    np.testing.assert_array_equal(weight.grad.numpy(), np.full(3, 2 * 200 * 5.0))
