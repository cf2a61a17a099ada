"""Errors users meet daily, in PyTorch's words, found by running a battery of common mistakes under both
libraries: an integer index out of range names the dimension by the item's place in the index, RNN-family input
dims, GroupNorm's channel count, a negative size given to a factory (NumPy's ValueError came through) and a
negative std for normal draws (gradscope drew from it). Each runs on gradscope and on PyTorch 2.13 (the oracle)."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")

# index -> (the index out of range, the dimension PyTorch names: its place in the index, that dim's size)
INDEXES = {"(0, 3)": (3, 1, 3), "(0, 0, 5)": (5, 2, 4), "(Ellipsis, 9)": (9, 1, 4), "(slice(None), 7)": (7, 1, 3),
           "(None, 0, 5)": (5, 2, 3), "(0, None, 3)": (3, 2, 3), "(1, -4)": (-4, 1, 3),
           "(0, slice(None), 4)": (4, 2, 4), "(Ellipsis, 0, 9)": (9, 2, 4), "(True, 0, 7)": (7, 2, 3),
           "(0, [0], 9)": (9, 2, 4)}


@pytest.mark.parametrize("index", INDEXES)
@pytest.mark.parametrize("write", [False, True])
def test_an_index_out_of_range_names_its_place(oracle, index, write):
    value, dim, size = INDEXES[index]
    oracle.check(f"x = torch.ones(2, 3, 4)\nx[{index}]" + (" = 1" if write else ""),
                 error=f"IndexError: index {value} is out of bounds for dimension {dim} with size {size}")


@pytest.mark.parametrize("module, words", [
    ("nn.RNN(3, 4)", "RNN: Expected input to be 2D or 3D, got 4D tensor instead"),
    ("nn.LSTM(3, 4)", "LSTM: Expected input to be 2D or 3D, got 4D instead"),
    ("nn.GRU(3, 4)", "GRU: Expected input to be 2D or 3D, got 4D instead")])
def test_recurrent_layers_refuse_other_input_dims_in_pytorchs_words(oracle, module, words):
    oracle.check(f"import torch.nn as nn\n{module}(torch.ones(5, 2, 3, 1))", error=f"ValueError: {words}")


def test_group_norm_names_the_counts(oracle):
    oracle.check("torch.nn.GroupNorm(2, 3)", error="ValueError: num_channels (3) must be divisible by num_groups (2)")


@pytest.mark.parametrize("call, words", [
    ("torch.zeros(-1)", "zeros: Dimension size must be non-negative."),
    ("torch.zeros((3, -1))", "zeros: Dimension size must be non-negative."),
    ("torch.ones(2, -1)", "Trying to create tensor with negative dimension -1: [2, -1]"),
    ("torch.empty(-2)", "Trying to create tensor with negative dimension -2: [-2]"),
    ("torch.full((-1,), 1.)", "Trying to create tensor with negative dimension -1: [-1]"),
    ("torch.rand(-1)", "Trying to create tensor with negative dimension -1: [-1]"),
    ("torch.randn(2, -3)", "Trying to create tensor with negative dimension -3: [2, -3]"),
    ("torch.randint(3, (-1,))", "Trying to create tensor with negative dimension -1: [-1]"),
    ("torch.eye(-1)", "n must be greater or equal to 0, got -1"),
    ("torch.eye(2, -1)", "m must be greater or equal to 0, got -1"),
    ("torch.normal(0., -1., (2,))", "normal expects std >= 0.0, but found std -1"),
    ("torch.normal(torch.zeros(2), -1.5)", "normal expects std >= 0.0, but found std -1.5"),
    ("torch.zeros(2).normal_(0, -1)", "normal expects std >= 0.0, but found std -1"),
])
def test_factories_refuse_negative_sizes_and_stds_in_pytorchs_words(oracle, call, words):
    oracle.check(call, error=f"RuntimeError: {words}")


@pytest.mark.parametrize("data, error", [
    ("[[1, 2], [3]]", "ValueError: expected sequence of length 2 at dim 1 (got 1)"),
    ("[[1.], [2., 3.]]", "ValueError: expected sequence of length 1 at dim 1 (got 2)"),
    ("[[[1, 2], [3, 4]], [[1, 2], [3]]]", "ValueError: expected sequence of length 2 at dim 2 (got 1)"),
    ("[[1, 2], []]", "ValueError: expected sequence of length 2 at dim 1 (got 0)"),
    ("([1, 2], [3, 4, 5])", "ValueError: expected sequence of length 2 at dim 1 (got 3)"),
    ("[[[1]], [[1], [2]]]", "ValueError: expected sequence of length 1 at dim 1 (got 2)"),
    ("[[1, 2], 3]", "TypeError: not a sequence"),
])
def test_uneven_nested_lists_are_refused_in_pytorchs_words(oracle, data, error):
    oracle.check(f"torch.tensor({data})", error=error)


@pytest.mark.parametrize("function", ["matmul", "bmm"])
@pytest.mark.parametrize("shapes", [((2, 2, 3), (3, 3, 5)), ((2, 2, 3), (2, 4, 5)), ((2, 2, 3), (3, 4, 5)),
                                    ((2, 2, 3), (4, 5)), ((3,), (2, 2, 4)), ((2, 1, 2, 3), (4, 3, 5)),
                                    ((1, 2, 3), (2, 4, 5)), ((5, 2, 3), (1, 3, 4)), ((2, 2, 3), (2, 3, 4))])
def test_batched_products_check_their_sizes_as_pytorch(function, shapes):
    """bmm took any dims and broadcast its batches (NumPy's matmul); a batched matmul named an mm's shapes."""
    outcomes = []
    for lib in (gradscope, torch):
        try:
            outcomes.append(tuple(getattr(lib, function)(lib.ones(shapes[0]), lib.ones(shapes[1])).shape))
        except RuntimeError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("data, error", [
    ("'a'", "TypeError: new(): invalid data type 'str'"),
    ("['a']", "ValueError: too many dimensions 'str'"),
    ("[['a', 'b']]", "ValueError: too many dimensions 'str'"),
    ("[1, 'a']", "TypeError: new(): invalid data type 'str'"),
    ("[[1], ['b']]", "TypeError: new(): invalid data type 'str'"),
])
def test_strings_in_tensor_data_are_refused_in_pytorchs_words(oracle, data, error):
    oracle.check(f"torch.tensor({data})", error=error)
