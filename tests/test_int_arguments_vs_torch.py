"""Int arguments (dims, counts, sizes) take ints only, with PyTorch's TypeError text, through
_shapes.int_argument/ints_argument: cumsum, cumprod, unbind, cat, stack, topk, gather, index_select, argmax, argmin,
unfold, diff, kthvalue, size, flip, roll and flatten gave Python's or NumPy's words ("tuple indices must be
integers"), and two took a float: x.flatten(1.0) (a start equal to the end) and roll(x, (1.0,), (0,))."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

FUNCTIONS = {
    "cumsum": lambda L, x: L.cumsum(x, 1.0), "cumprod": lambda L, x: L.cumprod(x, 1.0),
    "unbind": lambda L, x: L.unbind(x, 1.0), "cat": lambda L, x: L.cat([x, x], 1.0),
    "stack": lambda L, x: L.stack([x, x], 1.0), "topk k": lambda L, x: L.topk(x, 2.0),
    "topk dim": lambda L, x: L.topk(x, 2, 1.0), "gather": lambda L, x: L.gather(x, 1.0, L.zeros(2, 2, dtype=L.int64)),
    "index_select": lambda L, x: L.index_select(x, 1.0, L.tensor([0])), "argmax": lambda L, x: L.argmax(x, 1.0),
    "argmin": lambda L, x: L.argmin(x, 0.5), "diff n": lambda L, x: L.diff(x, 1.0),
    "diff dim": lambda L, x: L.diff(x, 1, 0.0), "kthvalue k": lambda L, x: L.kthvalue(x, 1.0),
    "kthvalue dim": lambda L, x: L.kthvalue(x, 1, 0.0), "flip": lambda L, x: L.flip(x, (1.0,)),
    "flip one": lambda L, x: L.flip(x, 1.0), "flip bool": lambda L, x: L.flip(x, True),
    "roll shifts": lambda L, x: L.roll(x, 1.0), "roll dims": lambda L, x: L.roll(x, 1, 0.0),
    "roll tuple": lambda L, x: L.roll(x, (1.0,), (0,)), "roll second": lambda L, x: L.roll(x, (1, 1), (0, 1.5)),
    "flatten start = end": lambda L, x: L.flatten(x, 1.0), "flatten end": lambda L, x: L.flatten(x, 1, 1.0),
    "cumsum bool": lambda L, x: L.cumsum(x, True), "cat numpy": lambda L, x: L.cat([x, x], np.float64(1)),
}
METHODS = {
    "cumsum": lambda x: x.cumsum(1.0), "unbind": lambda x: x.unbind(1.0), "topk": lambda x: x.topk(2.0),
    "gather": lambda x: x.gather(1.0, x.new_zeros(2, 2).long()), "argmax": lambda x: x.argmax(1.0),
    "unfold dimension": lambda x: x.unfold(1.0, 2, 1), "unfold size": lambda x: x.unfold(1, 2.0, 1),
    "unfold step": lambda x: x.unfold(1, 2, 1.0), "diff": lambda x: x.diff(1.0), "kthvalue": lambda x: x.kthvalue(1.0),
    "size": lambda x: x.size(1.0), "flip": lambda x: x.flip(1.0), "roll": lambda x: x.roll(1.5, 0),
    "flatten": lambda x: x.flatten(1.0), "index_select": lambda x: x.index_select(1.0, x.new_zeros(1).long()),
}


def _error(call):
    with pytest.raises(TypeError) as caught:
        call()
    return str(caught.value)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_refuse_a_float_with_pytorchs_text(name):
    def call(L):
        return lambda: FUNCTIONS[name](L, L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))

    assert _error(call(gradscope)) == _error(call(torch))


@pytest.mark.parametrize("name", METHODS)
def test_methods_refuse_a_float(name):
    """The argument is named as PyTorch names it; its position is one less in PyTorch's text for a method (known)."""
    def call(L):
        return lambda: METHODS[name](L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))

    ours, theirs = _error(call(gradscope)), _error(call(torch))
    assert ours.split(" (position")[0] == theirs.split(" (position")[0]
    assert ours.split(") ")[-1] == theirs.split(") ")[-1]


@pytest.mark.parametrize("call", [
    lambda L, x: L.cumsum(x, np.int64(1)), lambda L, x: L.roll(x, np.int64(1), 1),
    lambda L, x: L.topk(x, L.tensor(2)),
    lambda L, x: L.cat([x, x], L.tensor(1)), lambda L, x: x.size(np.int32(0)),
    lambda L, x: L.roll(x, L.tensor(1)), lambda L, x: x.unfold(L.tensor(1), 2, 1),
], ids=["cumsum numpy", "roll numpy", "topk tensor", "cat tensor", "size numpy", "roll tensor",
        "unfold tensor"])
def test_anything_with_index_is_an_int(call):
    def outcome(L):
        result = call(L, L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        return str(result if isinstance(result, int) else result[0] if isinstance(result, tuple) else result)

    assert outcome(gradscope) == outcome(torch)
