"""A second backward without retain_graph raises exactly where PyTorch's does.

PyTorch frees what a node saved after a backward; a node that saved a tensor (an input, an output, or
an index/mask/target argument: IndexBackward0's indices, WhereBackward0's condition) can't run again,
one that saved none can. Every sample runs backward twice on both libraries; the second must fail
(or not) as PyTorch's does.
"""

from __future__ import annotations

import pytest
from finite_differences import Lib, differentiable_outputs
from samples import SAMPLES

import gradscope

# families whose nodes hold nothing here while PyTorch's save a tensor, owned by the work adding them
# (it can declare the argument PyTorch keeps with `held=`, see ops/registry.py)
OTHER_OWNERS: tuple[str, ...] = ()

FREED = "Trying to backward through the graph a second time"


def _second_backward(lib, sample) -> str:
    inputs = [lib.tensor(a, requires_grad=True) for a in sample.inputs()]
    outputs = [out for out in differentiable_outputs(sample.fn(lib, *inputs)) if out.requires_grad]
    if not outputs:
        return "no graph"
    grads = [lib.ones_like(out) for out in outputs]
    lib.autograd.backward(outputs, grads)
    try:
        lib.autograd.backward(outputs, grads)
    except RuntimeError as error:
        return "freed" if str(error).startswith(FREED) else str(error)
    return "ran again"


def _params():
    return [pytest.param(sample, marks=pytest.mark.xfail(reason="node holds no saved tensor", strict=False))
            if sample.name.startswith(OTHER_OWNERS) else sample for sample in SAMPLES]


@pytest.mark.parametrize("sample", _params(), ids=str)
def test_second_backward_fails_as_in_torch(sample):
    torch = pytest.importorskip("torch")
    ours = _second_backward(Lib(gradscope, gradscope.nn.functional), sample)
    assert ours == _second_backward(Lib(torch, torch.nn.functional), sample)


@pytest.mark.parametrize("case", ["list_index", "mask", "gather", "where", "setitem", "index_put", "masked_fill"])
def test_nodes_holding_index_tensors_are_freed(case):
    """x[[0, 1]] saves its indices in PyTorch: a second backward raises (it ran again, from nothing saved)."""
    x = gradscope.tensor([1.0, 2.0, 3.0], requires_grad=True)
    build = {
        "list_index": lambda: x[[0, 1]],
        "mask": lambda: x[gradscope.tensor([True, False, True])],
        "gather": lambda: x.gather(0, gradscope.tensor([2, 0])),
        "where": lambda: gradscope.where(x > 1, x, 0.0),
        "setitem": lambda: _assigned(x, 0),
        "index_put": lambda: _assigned(x, [0]),
        "masked_fill": lambda: x.masked_fill(x > 1, 0.0),
    }[case]
    y = build().sum()
    y.backward(retain_graph=True)
    y.backward()  # retained: runs again
    with pytest.raises(RuntimeError, match=FREED):
        y.backward()
    y = build().sum()
    y.backward()
    with pytest.raises(RuntimeError, match=FREED):
        y.backward()


def _assigned(x, index):
    y = x * 1
    y[index] = 5.0
    return y
