"""Nodes that only refuse a backward (torch::autograd::NotImplemented): as PyTorch's, they list edges only for
the inputs that require grad, in order, each straight to that input (no view in between), and a backward
through them raises PyTorch's error."""

from __future__ import annotations

import warnings

import pytest

import gradscope

torch = pytest.importorskip("torch")

CASES = {
    "floor_divide(a, b)": lambda lib, a, b: lib.floor_divide(a, b),
    "floor_divide(b, a)": lambda lib, a, b: lib.floor_divide(b, a),
    "floor_divide(a, a)": lambda lib, a, b: lib.floor_divide(a, a * 2),
    "floor_divide(a, 2)": lambda lib, a, b: lib.floor_divide(a, 2),
    "floor_divide_": lambda lib, a, b: (b * 1).floor_divide_(a),
    "remainder(2, a)": lambda lib, a, b: lib.remainder(2, a),
    "heaviside(a, b)": lambda lib, a, b: lib.heaviside(a, b),
    "heaviside(b, a)": lambda lib, a, b: lib.heaviside(b, a),
    "heaviside_": lambda lib, a, b: (b * 1).heaviside_(a),
    "scatter add, src needs grad": lambda lib, a, b: b.scatter(0, lib.tensor([0]), a, reduce="add"),
    "scatter multiply, self needs grad": lambda lib, a, b: a.scatter(0, lib.tensor([1, 0]), b, reduce="multiply"),
    "scatter add, both": lambda lib, a, b: (a * 2).scatter(0, lib.tensor([1]), a, reduce="add"),
    "scatter value": lambda lib, a, b: a.scatter(0, lib.tensor([0]), 2.0, reduce="add"),
    "bernoulli_(p)": lambda lib, a, b: lib.zeros(3).bernoulli_(a.sigmoid()),
}


def _seen(lib, case):
    a = lib.tensor([5.0, 7.0, 2.0], requires_grad=True)
    b = lib.tensor([2.0, 3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = CASES[case](lib, a, b)
    node = y.grad_fn
    seen = [node.name(), [None if fn is None else (fn.name(), nr) for fn, nr in node.next_functions]]
    try:
        y.sum().backward()
    except RuntimeError as error:
        seen.append(str(error))
    return seen


@pytest.mark.parametrize("case", CASES)
def test_not_implemented_node_edges_and_error_match_torch(case):
    assert _seen(gradscope, case) == _seen(torch, case)
