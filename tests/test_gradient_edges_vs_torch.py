"""torch.autograd.graph.GradientEdge / get_gradient_edge / increment_version vs PyTorch: edges wherever PyTorch takes
them (autograd.grad's outputs and inputs, autograd.backward's tensors and inputs, Tensor.backward's inputs), what a
version bump does to a later backward, and PyTorch's errors."""

from __future__ import annotations

import importlib
import warnings

import pytest

import gradscope

torch = pytest.importorskip("torch")


def _rounded(tensors):
    return [None if t is None else [round(v, 9) for v in t.reshape(-1).tolist()] for t in tensors]


def _scenarios(lib):
    graph = importlib.import_module(f"{lib.__name__}.autograd.graph")
    edge_of, bump = graph.get_gradient_edge, graph.increment_version
    x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)

    def squares():
        y = x * 2
        return y, (y ** 2).sum()

    def leaf_bumped():
        v = x.exp().sum()
        bump(x)
        v.backward()
        return x.grad

    def output_bumped():
        w = x.exp()
        v = w.sum()
        bump(w)
        v.backward()

    def tensor_backward():
        a = lib.ones(2, dtype=lib.float64, requires_grad=True)
        (a * 3).sum().backward(inputs=[edge_of(a)])
        return a.grad

    def backward_into_non_leaf():
        a = lib.ones(2, dtype=lib.float64, requires_grad=True)
        b = a * 3
        lib.autograd.backward(b.sum(), inputs=edge_of(b))
        return a.grad

    def backward_from_edge():
        a = lib.ones(2, dtype=lib.float64, requires_grad=True)
        lib.autograd.backward(edge_of(a * 3), lib.ones(2, dtype=lib.float64))
        return a.grad

    def tensor_gone():
        y, z = squares()
        edge = edge_of(y)
        del y
        return lib.autograd.grad(z, edge)

    def multi_output():
        b, d = (x[:2] * 3).unbind()
        return edge_of(d).output_nr, _rounded(lib.autograd.grad(b + 2 * d, edge_of(d)))

    with lib.inference_mode():
        inference = lib.ones(2)
    return {
        "fields": lambda: (graph.GradientEdge._fields, edge_of(squares()[0]).output_nr,
                           edge_of(squares()[0]).ownership_token),
        "node": lambda: (lambda y: (edge_of(y).node is y.grad_fn, type(edge_of(x).node).__name__))(squares()[0]),
        "unpacks": lambda: (lambda node, nr, token: (type(node).__name__, nr, token))(*edge_of(x)),
        "equal": lambda: edge_of(x) == edge_of(x),
        "grad_of_edge": lambda: _rounded(lib.autograd.grad(squares()[1], edge_of(x))),
        "grad_of_non_leaf_edge": lambda: (lambda y, z: _rounded(lib.autograd.grad(z, edge_of(y))))(*squares()),
        "edges_and_tensors": lambda: (lambda y, z: _rounded(lib.autograd.grad(z, [edge_of(x), y])))(*squares()),
        "edge_as_output": lambda: (lambda y, z: _rounded(lib.autograd.grad(
            edge_of(z), x, grad_outputs=lib.tensor(1.0, dtype=lib.float64))))(*squares()),
        "edge_output_without_gradient": lambda: (lambda y, z: lib.autograd.grad(edge_of(y), x))(*squares()),
        "unused": lambda: _rounded(lib.autograd.grad(squares()[1], [edge_of(x * 5)], allow_unused=True)),
        "unused_refused": lambda: lib.autograd.grad(squares()[1], [edge_of(x * 5)]),
        "materialize_refused": lambda: lib.autograd.grad(squares()[1], [edge_of(x * 5)], materialize_grads=True),
        "no_grad_tensor": lambda: edge_of(lib.ones(2)),
        "tensor_gone": lambda: _rounded(tensor_gone()),
        "multi_output": multi_output,
        "generator_inputs": lambda: _rounded(lib.autograd.grad(squares()[1], (t for t in [x]))),
        "leaf_bumped": lambda: _rounded([leaf_bumped()]),
        "output_bumped": output_bumped,
        "bump_list": lambda: (lambda w: (bump([w, w]), w._version)[1])(x.exp()),
        "bump_number": lambda: bump(5),
        "bump_list_of_numbers": lambda: bump([5]),
        "bump_inference": lambda: bump(inference),
        "tensor_backward_inputs": lambda: _rounded([tensor_backward()]),
        "backward_into_non_leaf": backward_into_non_leaf,
        "backward_from_edge": lambda: _rounded([backward_from_edge()]),
    }


def _outcome(lib, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _scenarios(lib)[name]()
        except (RuntimeError, TypeError) as error:
            return type(error).__name__, str(error).split(" (Triggered internally")[0]


@pytest.mark.parametrize("name", list(_scenarios(gradscope)))
def test_gradient_edges_match_torch(name):
    assert _outcome(gradscope, name) == _outcome(torch, name)


def test_import_gradscope_leaves_graph_unloaded_until_an_edge_is_met():
    import subprocess
    import sys
    code = ("import sys, gradscope as t\nx = t.ones(2, requires_grad=True)\nt.autograd.grad((x * 2).sum(), [x])\n"
            "print('gradscope.autograd.graph' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
