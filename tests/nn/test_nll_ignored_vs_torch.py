"""nll_loss / cross_entropy where targets are ignored: PyTorch leaves an ignored row's gradient at 0, even when
every target is ignored and the mean divides by a total weight of 0 (a nan loss, whose square's gradient is nan
times 0 elsewhere)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_every_target_ignored_has_torchs_zero_gradient(reduction, weighted):
    # the mean divides by a total weight of 0 (a nan loss), and PyTorch leaves the ignored rows' gradient at 0
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor([[0.5, -0.2], [0.1, 0.3]], requires_grad=True)
        weight = lib.tensor([0.5, 2.0]) if weighted else None
        for target in (lib.tensor([1, 1]), lib.tensor([0, 1])):
            loss = lib.nn.functional.cross_entropy(x, target, weight=weight, ignore_index=1, reduction=reduction)
            results.append([g.tolist() for g in lib.autograd.grad((loss * loss).sum(), x, create_graph=True)])
        x1 = lib.tensor([0.5, -0.2], requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x1, lib.tensor(1), weight=weight, ignore_index=1, reduction=reduction)
        results.append(lib.autograd.grad(loss.sum(), x1)[0].tolist())
    half = len(results) // 2
    for ours, theirs in zip(results[:half], results[half:], strict=True):
        np.testing.assert_allclose(np.array(ours, dtype=float), np.array(theirs, dtype=float), rtol=1e-6)
