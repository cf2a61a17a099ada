"""The index tensors of gather, take, index_select, index_add and the scatters are saved by PyTorch's nodes: an index
changed in place before the backward makes it raise PyTorch's error, as any saved tensor does. gradscope's nodes
read the index's memory, so they used the changed index and gave other gradients, without a word."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")

OPS = {
    "gather": lambda T, x, s, i: x.gather(0, i),
    "take": lambda T, x, s, i: T.take(x, i),
    "index_select": lambda T, x, s, i: x.index_select(0, i),
    "index_add": lambda T, x, s, i: x.index_add(0, i, s),
    "scatter": lambda T, x, s, i: x.scatter(0, i, s),
    "scatter value": lambda T, x, s, i: x.scatter(0, i, 7.0),
    "scatter_add": lambda T, x, s, i: x.scatter_add(0, i, s),
    "scatter_reduce": lambda T, x, s, i: x.scatter_reduce(0, i, s, "amax"),
    "scatter_ in place": lambda T, x, s, i: (x * 1).scatter_(0, i, s),
}


def _outcome(lib, name, change):
    x = lib.arange(4.0, requires_grad=True)
    src = lib.tensor([10.0, 20.0], requires_grad=True)
    index = lib.tensor([0, 2])
    out = OPS[name](lib, x, src, index)
    if change:
        index.add_(1)
    try:
        (out * lib.arange(1.0, out.numel() + 1).reshape(out.shape)).sum().backward()
    except RuntimeError as error:
        return "RuntimeError", str(error).split(" Hint:")[0]
    return x.grad.tolist(), None if src.grad is None else src.grad.tolist()


@pytest.mark.parametrize("change", [False, True], ids=["index kept", "index changed in place"])
@pytest.mark.parametrize("name", OPS)
def test_an_index_changed_in_place_is_refused_as_torch(name, change):
    assert _outcome(gradscope, name, change) == _outcome(torch, name, change)
