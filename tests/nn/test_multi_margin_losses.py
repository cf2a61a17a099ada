"""multi_margin_loss and multilabel_margin_loss (and their modules) against torch: values and gradients over
drawn shapes, p, margins, weights, target lists and reductions; nodes and saved values; errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope as gs

torch = pytest.importorskip("torch")


def _multilabel_targets(rng, rows: int, classes: int) -> np.ndarray:
    targets = np.array([rng.permutation(classes) for _ in range(rows)])
    for row in targets:
        end = rng.integers(0, classes + 1)
        if end < classes:
            row[end] = -1
    return targets


@settings(deadline=None, max_examples=60)
@given(rows=st.integers(1, 4), classes=st.integers(1, 5), unbatched=st.booleans(), p=st.sampled_from([1, 2]),
       margin=st.sampled_from([1.0, 0.3, 2.0]), weighted=st.booleans(),
       reduction=st.sampled_from(["none", "mean", "sum"]), seed=st.integers(0, 2**16))
def test_losses_and_gradients_match_torch(rows, classes, unbatched, p, margin, weighted, reduction, seed):
    rng = np.random.default_rng(seed)
    shape = (classes,) if unbatched else (rows, classes)
    x = rng.standard_normal(shape)
    target = rng.integers(0, classes, ()) if unbatched else rng.integers(0, classes, rows)
    labels = _multilabel_targets(rng, 1 if unbatched else rows, classes).reshape(shape)
    weight = rng.random(classes) if weighted else None

    def run(lib):
        seen = []
        for loss in (lambda x: lib.nn.MultiMarginLoss(p, margin, None if weight is None else lib.tensor(weight),
                                                      reduction=reduction)(x, lib.tensor(target)),
                     lambda x: lib.nn.MultiLabelMarginLoss(reduction=reduction)(x, lib.tensor(labels))):
            inputs = lib.tensor(x, requires_grad=True)
            out = loss(inputs)
            out.backward(lib.ones_like(out))
            seen += [out.detach().numpy(), inputs.grad.numpy(), type(out.grad_fn).__name__]
        return seen

    for ours, theirs in zip(run(gs), run(torch), strict=True):
        if isinstance(theirs, str):
            assert ours == theirs
        else:
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_saved_values_and_reprs_match_torch():
    def run(lib):
        x = lib.randn(2, 3, requires_grad=True)
        multi = lib.nn.functional.multi_margin_loss(x, lib.tensor([2, 0]), p=2, margin=0.5)
        labels = lib.nn.functional.multilabel_margin_loss(x, lib.tensor([[2, -1, 0], [0, 1, -1]]), reduction="sum")
        node, other = multi.grad_fn, labels.grad_fn
        return (node._saved_p, node._saved_margin, node._saved_reduction, node._saved_weight,
                node._saved_target.tolist(), other._saved_reduction, other._saved_is_target.tolist(),
                repr(lib.nn.MultiMarginLoss(p=2, margin=0.5)), repr(lib.nn.MultiLabelMarginLoss()),
                list(lib.nn.MultiMarginLoss(weight=lib.ones(3)).state_dict()))

    assert run(gs) == run(torch)


SETUP = "F = torch.nn.functional\nx = torch.zeros(3, 4)\nt = torch.tensor([0, 3, 1])\n"
ERRORS = {
    "p": ("F.multi_margin_loss(x, t, p=3)", "ValueError: only p == 1 and p == 2 supported"),
    "weight": ("F.multi_margin_loss(x, t, weight=torch.ones(2, 2))", "ValueError: weight must be one-dimensional"),
    "module weight": ("torch.nn.MultiMarginLoss(weight=torch.ones(2, 2))",
                      "ValueError: MultiMarginLoss: expected weight to be None or 1D tensor, got 2D instead"),
    "target range": ("F.multi_margin_loss(x, torch.tensor([0, 4, 1]))", "RuntimeError: target out of range"),
    "target size": ("F.multi_margin_loss(x, t[:2])",
                    "RuntimeError: multi_margin_loss: target tensor should be 1-D with size equal to the number of "
                    "input samples (batch size). Expected target size [3], but got [2]. Input has shape [3, 4]."),
    "target dtype": ("F.multi_margin_loss(x, t.float())", "RuntimeError: expected scalar type Long but found Float"),
    "reduction": ("F.multi_margin_loss(x, t, reduction='bad')", "ValueError: bad is not a valid value for reduction"),
    "rank": ("F.multi_margin_loss(x[None], t)",
             "RuntimeError: Expected non-empty vector or matrix with optional 0-dim batch size, but got: [1, 3, 4]"),
    "labels size": ("F.multilabel_margin_loss(x, torch.zeros(3, 3, dtype=torch.long))",
                    "RuntimeError: inconsistent target size: [3, 3] for input of size: [3, 4]"),
    "labels dtype": ("F.multilabel_margin_loss(x, torch.zeros(3, 4))",
                     "RuntimeError: expected scalar type Long but found Float"),
    "labels range": ("F.multilabel_margin_loss(x, torch.full((3, 4), 5))",
                     "RuntimeError: argument #2 'target' is out of range"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)
