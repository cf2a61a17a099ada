"""Ties and edges in pooling and embedding, where the gradient is a choice: PyTorch's choice, stated by
hand. test_kinks.py runs the table (`KINKS` here joins its own); the indices pooling returns at ties are
checked here."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradscope

INF = math.inf

# name: (call on float64 leaves, input values, expected gradient of call(...).sum() for each input)
NN_KINKS = {
    "max_pool2d: a tie goes to the window's first maximum": (
        lambda lib, x: lib.F.max_pool2d(x, 2), [[[[1.0, 3.0], [3.0, 3.0]]]], [[[[0.0, 1.0], [0.0, 0.0]]]]),
    "max_pool1d: overlapping windows add up at a shared maximum": (
        lambda lib, x: lib.F.max_pool1d(x, 3, 1), [[[0.0, 5.0, 1.0, 2.0]]], [[[0.0, 2.0, 0.0, 0.0]]]),
    "max_pool1d: ties across overlapping windows": (
        lambda lib, x: lib.F.max_pool1d(x, 2, 1), [[[2.0, 2.0, 2.0]]], [[[1.0, 1.0, 0.0]]]),
    "max_pool1d: padding never wins, even over -inf": (
        lambda lib, x: lib.F.max_pool1d(x, 2, 1, padding=1), [[[-INF, -INF, 5.0]]], [[[2.0, 0.0, 2.0]]]),
    "max_pool2d dilated over -inf: the first element on the dilation grid": (
        lambda lib, x: lib.F.max_pool2d(x, 2, padding=1, dilation=2), [[[[-INF] * 3] * 3]],
        [[[[0.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]]),
    "adaptive_max_pool2d: a tie goes to the first maximum": (
        lambda lib, x: lib.F.adaptive_max_pool2d(x, (1, 2)), [[[[4.0, 4.0, 4.0]]]], [[[[1.0, 1.0, 0.0]]]]),
    "avg_pool2d: ceil_mode's extra window divides by what it covers": (
        lambda lib, x: lib.F.avg_pool2d(x, (1, 2), (1, 2), ceil_mode=True), [[[[1.0, 2.0, 3.0]]]],
        [[[[0.5, 0.5, 1.0]]]]),
    "avg_pool2d: ceil_mode's extra window counts the padding it overlaps, not what lies beyond": (
        lambda lib, x: lib.F.avg_pool2d(x, (1, 3), (1, 2), (0, 1), ceil_mode=True), [[[[1.0, 2.0, 3.0, 4.0]]]],
        [[[[1 / 3, 2 / 3, 1 / 3, 1 / 3 + 1 / 2]]]]),
    "embedding: the padding_idx row gets no gradient": (
        lambda lib, w: lib.F.embedding(lib.tensor([[1, 0], [0, 2]]), w, padding_idx=0),
        [[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]], [[[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]]),
    "embedding: scale_grad_by_freq divides by each index's count in the batch": (
        lambda lib, w: lib.F.embedding(lib.tensor([[1, 0], [1, 1]]), w, scale_grad_by_freq=True)
        * lib.tensor([[1.0], [2.0]], dtype=lib.float64),
        [[[1.0, 2.0], [3.0, 4.0]]], [[[2.0, 2.0], [(1 + 1 + 2) / 3, (1 + 1 + 2) / 3]]]),
}


def test_max_pool_indices_match_torch_at_ties():
    torch = pytest.importorskip("torch")
    values = np.array([[[[1.0, 2.0, 2.0, 0.0], [2.0, 2.0, 1.0, 2.0], [0.0, 2.0, 2.0, 2.0]]]])
    for call in (lambda lib, x: lib.nn.functional.max_pool2d(x, 2, 1, return_indices=True),
                 lambda lib, x: lib.nn.functional.max_pool2d(x, (2, 3), (1, 2), 1, ceil_mode=True, return_indices=True),
                 lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, (2, 3), return_indices=True)):
        ours, theirs = (call(lib, lib.tensor(values))[1].numpy() for lib in (gradscope, torch))
        np.testing.assert_array_equal(ours, theirs)
