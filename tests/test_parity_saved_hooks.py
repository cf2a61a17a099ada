"""Saved-tensor hooks keep the double-backward path, against PyTorch 2.13.

A hook pair replaces how a node stores a saved tensor; what unpack returns must still lead back through
the graph, to the saving input's producer or, for a leaf, to its AccumulateGrad. Each case differentiates
twice (grad with create_graph=True, then backward) with no hooks, with identity hooks, with hooks that
copy, and with hooks registered on `_raw_saved_*` after the fact; all must give PyTorch's gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch


def _identity(lib):
    return lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)


def _copying(lib):
    return lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t)


def _cube(lib, a, b):
    return a ** 3  # b unused


def _exp_of_product(lib, a, b):
    return (a * b).exp()  # mul saves both inputs (a leaf and a leaf), exp its result


def _product_of_intermediate(lib, a, b):
    h = a.sin()
    return h * h * b  # saved inputs that are not leaves


def _custom_function(lib, a, b):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    return Cube.apply(a) * b


GRAPHS = [_cube, _exp_of_product, _product_of_intermediate, _custom_function]
HOOKS = ["none", "identity", "copying", "raw_register_hooks"]


def _second_order(lib, graph, hooks):
    a = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    if hooks in ("identity", "copying"):
        with (_identity if hooks == "identity" else _copying)(lib):
            out = graph(lib, a, b)
    else:
        out = graph(lib, a, b)
        if hooks == "raw_register_hooks":
            node, seen = out.grad_fn, set()
            while node is not None and node not in seen:  # every _raw_saved_* along the first chain
                seen.add(node)
                for name in dir(node):
                    if name.startswith("_raw_saved_"):
                        raw = getattr(node, name)
                        if hasattr(raw, "register_hooks"):
                            raw.register_hooks(lambda t: t, lambda t: t)
                node = node.next_functions[0][0] if node.next_functions else None
    first = lib.autograd.grad(out.sum(), (a, b), create_graph=True, allow_unused=True)
    sum(g.sum() for g in first if g is not None).backward()
    return [None if t.grad is None else t.grad.tolist() for t in (a, b)]


def test_identity_hooks_keep_the_leaf_reachable_in_double_backward():
    """The issue's case: a**3, grad(create_graph=True), backward: a.grad is 6a = [6, 12, 18] (it was None)."""
    for lib in filter(None, (gradscope, reference_torch())):
        for make in (_identity, _copying):
            a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
            with make(lib):
                b = a ** 3
            (g,) = lib.autograd.grad(b.sum(), a, create_graph=True)
            g.sum().backward()
            assert a.grad.tolist() == [6.0, 12.0, 18.0], lib.__name__
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a ** 3
        b.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        (g,) = lib.autograd.grad(b.sum(), a, create_graph=True)
        g.sum().backward()
        assert a.grad.tolist() == [6.0, 12.0, 18.0], lib.__name__


@pytest.mark.parametrize("hooks", HOOKS)
@pytest.mark.parametrize("graph", GRAPHS, ids=lambda graph: graph.__name__.strip("_"))
def test_second_order_gradients_do_not_depend_on_saved_tensor_hooks(graph, hooks):
    ours = _second_order(gradscope, graph, hooks)
    assert ours == _second_order(gradscope, graph, "none")
    torch = reference_torch()
    if torch is not None:
        theirs = _second_order(torch, graph, hooks)
        for mine, reference in zip(ours, theirs, strict=True):
            assert (mine is None) == (reference is None)
            if mine is not None:
                np.testing.assert_allclose(mine, reference, rtol=1e-12)
