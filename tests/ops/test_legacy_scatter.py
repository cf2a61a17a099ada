"""scatter(dim, index, src, reduce="add"|"multiply") and scatter_(…, reduce=…): PyTorch's legacy accumulating
scatter, with its values, its refusing node, its errors and its once-only deprecation warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope
from gradscope.autograd import errors

INDEX = [[0, 1, 2, 0], [1, 1, 0, 0]]  # column 3 writes row 0 twice: the reduction must accumulate


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _both(torch, fn):
    base = np.arange(1.0, 13.0).reshape(3, 4)
    source = np.arange(2.0, 10.0).reshape(2, 4)
    results = []
    for lib in (gradscope, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            results.append(fn(lib, lib.tensor(base, requires_grad=True), lib.tensor(INDEX),
                              lib.tensor(source, requires_grad=True)))
    return results


CALLS = {
    "function_src": lambda lib, x, i, s: lib.scatter(x, 0, i, s, reduce="add"),
    "method_src_multiply": lambda lib, x, i, s: x.scatter(0, i, s, reduce="multiply"),
    "method_value_add": lambda lib, x, i, s: x.scatter(0, i, 2.5, reduce="add"),
    "method_value_multiply": lambda lib, x, i, s: x.scatter(0, i, 2.5, reduce="multiply"),
    "in_place_src": lambda lib, x, i, s: x.detach().clone().scatter_(0, i, s.detach(), reduce="multiply"),
    "in_place_value_keyword": lambda lib, x, i, s: x.detach().clone().scatter_(0, i, value=3.0, reduce="add"),
    "in_place_recorded": lambda lib, x, i, s: (x * 1).scatter_(0, i, s, reduce="add"),
    "dim_1": lambda lib, x, i, s: x.scatter(1, i, s, reduce="add"),
}


@pytest.mark.parametrize("name", CALLS)
def test_values_and_node_match_torch(torch, name):
    ours, theirs = _both(torch, CALLS[name])
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    assert ours.requires_grad == theirs.requires_grad
    if theirs.grad_fn is not None:
        assert ours.grad_fn.name() == theirs.grad_fn.name() == "torch::autograd::NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
            ours.sum().backward()


def test_integers_accumulate_as_torch(torch):
    for lib in (gradscope, torch):
        target = lib.tensor([1, 2, 3])
        target.scatter_(0, lib.tensor([0, 0, 2]), lib.tensor([2, 3, 4]), reduce="multiply")
        assert target.tolist() == [6, 2, 12]


def test_unknown_reduction_is_refused_as_torch(torch):
    for lib in (gradscope, torch):
        with pytest.raises(RuntimeError, match="^reduce argument must be either add or multiply.$"):
            lib.zeros(3).scatter(0, lib.tensor([0]), lib.ones(1), reduce="mean")


def test_tensor_src_warns_once_a_number_never():
    errors._WARNED.discard("scatter_reduce_argument")
    index = gradscope.tensor([0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradscope.zeros(3).scatter(0, index, 1.0, reduce="add")
    with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src is deprecated"):
        gradscope.zeros(3).scatter(0, index, gradscope.ones(2), reduce="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradscope.zeros(3).scatter_(0, index, gradscope.ones(2), reduce="multiply")
