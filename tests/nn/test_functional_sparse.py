"""embedding and one_hot beyond the op samples: PyTorch's errors, max_norm's in-place renormalisation."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

ERRORS = {
    "float indices": ("F.embedding(torch.tensor([1.0]), w)",
                      "RuntimeError: Expected tensor for argument #1 'indices' to have one of the following scalar "
                      "types: Long, Int; but got torch.FloatTensor instead (while checking arguments for embedding)"),
    "index too large": ("F.embedding(torch.tensor([3]), w)", "IndexError: index out of range in self"),
    "negative index": ("F.embedding(torch.tensor([-1]), w)", "IndexError: index out of range in self"),
    "padding_idx too large": ("F.embedding(torch.tensor([1]), w, padding_idx=3)",
                              "AssertionError: Padding_idx must be within num_embeddings"),
    "padding_idx too small": ("F.embedding(torch.tensor([1]), w, padding_idx=-4)",
                              "AssertionError: Padding_idx must be within num_embeddings"),
    "1-D weight": ("F.embedding(torch.tensor([1]), torch.ones(3))", "RuntimeError: 'weight' must be 2-D"),
    "one_hot of floats": ("F.one_hot(torch.tensor([1.0]))",
                          "RuntimeError: one_hot is only applicable to index tensor of type LongTensor."),
    "one_hot negative": ("F.one_hot(torch.tensor([-1]))", "RuntimeError: Class values must be non-negative."),
    "one_hot too large": ("F.one_hot(torch.tensor([3]), 3)",
                          "RuntimeError: Class values must be smaller than num_classes."),
    "one_hot empty": ("F.one_hot(torch.tensor([], dtype=torch.long))",
                      "RuntimeError: Can not infer total number of classes from empty tensor."),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check("F = torch.nn.functional\nw = torch.ones(3, 2)\n" + snippet, error=error)


def test_one_hot_matches_torch(oracle):
    oracle.check("""
        F = torch.nn.functional
        y = F.one_hot(torch.tensor([[0, 2], [1, 1]]))
        print(y, y.dtype, F.one_hot(torch.tensor([1]), 4), F.one_hot(torch.tensor([], dtype=torch.long), 3).shape)
    """, stdout="tensor([[[1, 0, 0],\n         [0, 0, 1]],\n\n        [[0, 1, 0],\n         [0, 1, 0]]]) torch.int64 "
                "tensor([[0, 1, 0, 0]]) torch.Size([0, 3])\n")


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_max_norm_renormalises_looked_up_rows_in_place_like_torch(norm_type):
    torch = pytest.importorskip("torch")
    weight = np.random.default_rng(0).standard_normal((5, 3)) * 2
    results = []
    for lib in (gradscope, torch):
        w = lib.tensor(weight, requires_grad=True)
        version = w._version
        out = lib.nn.functional.embedding(lib.tensor([[0, 2], [2, 4]]), w, max_norm=1.5, norm_type=norm_type)
        (grad,) = lib.autograd.grad((out ** 2).sum(), w)
        results.append((w.detach().numpy().copy(), out.detach().numpy(), grad.numpy(), w._version - version))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_embedding_keeps_float32():
    w = gradscope.randn(4, 3, requires_grad=True)
    out = gradscope.nn.functional.embedding(gradscope.tensor([1, 3]), w)
    (grad,) = gradscope.autograd.grad(out.sum(), w)
    assert out.dtype == grad.dtype == gradscope.float32
