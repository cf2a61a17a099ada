"""Second derivatives through the losses PyTorch computes with a backward kernel of its own: mse_loss, smooth_l1_loss,
huber_loss, soft_margin_loss and binary_cross_entropy. Their gradients are PyTorch's MseLossBackwardBackward0,
SmoothL1LossBackwardBackward0, HuberLossBackwardBackward0, SoftMarginLossBackwardBackward0 and
BinaryCrossEntropyBackwardBackward0 (a target's gradient too, the kernel with the two swapped), whose rules are
PyTorch's *_double_backward formulas: binary_cross_entropy's add 1e-12 to x and 1 - x where its kernel clamps, and
smooth_l1/huber take the seam |x - t| = beta (delta) as outside. gradscope's gradients were composites (MulBackward0,
DivBackward0) with the same values away from those points.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

REDUCTIONS = ("mean", "sum", "none")


def _losses(T, reduction: str):
    F = T.nn.functional
    weight = T.tensor([0.5, 2.0, 1.5, 1.0], dtype=T.float64)
    return {
        "mse_loss": lambda x, t: F.mse_loss(x, t, reduction=reduction),
        "smooth_l1_loss": lambda x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=0.5),
        "huber_loss": lambda x, t: F.huber_loss(x, t, reduction=reduction, delta=0.5),
        "soft_margin_loss": lambda x, t: F.soft_margin_loss(x, t.detach().sign(), reduction=reduction),
        "binary_cross_entropy": lambda x, t: F.binary_cross_entropy(x, t, reduction=reduction),
        "binary_cross_entropy_weighted": lambda x, t: F.binary_cross_entropy(x, t, weight, reduction=reduction),
    }


NAMES = sorted(_losses(torch, "mean"))


def _inputs(T, name: str):
    # includes the seams of smooth_l1 and huber (|x - t| = 0.5) and x = t
    x = np.array([[0.5, 0.2, 0.9, 0.3], [0.45, 0.6, 0.1, 0.75]])
    t = np.array([[0.0, 0.2, 0.35, 0.8], [0.7, 0.1, 0.5, 0.25]])
    return T.tensor(x, requires_grad=True), T.tensor(t, requires_grad=not name.startswith("soft_margin"))


def _second_order(T, name: str, reduction: str, wrt: int):
    x, t = _inputs(T, name)
    out = _losses(T, reduction)[name](x, t)
    w = T.tensor(np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)), requires_grad=True)
    g = T.autograd.grad((out * w).sum(), (x, t)[wrt], create_graph=True)[0]
    wanted = [v for v in (x, t, w) if v.requires_grad]
    second = T.autograd.grad((g * g.detach().sign().add(2)).sum(), wanted, allow_unused=True)
    return type(g.grad_fn).__name__, [None if s is None else s.detach().numpy().copy() for s in second]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("wrt", ["input", "target"])
def test_the_gradients_node_and_its_derivatives_are_pytorchs(name, reduction, wrt):
    if wrt == "target" and (name.startswith("soft_margin") or name.startswith("binary")):
        pytest.skip("no target gradient (soft_margin), or a composite one (binary_cross_entropy's)")
    index = 0 if wrt == "input" else 1
    ours_node, ours = _second_order(gradscope, name, reduction, index)
    theirs_node, theirs = _second_order(torch, name, reduction, index)
    assert ours_node == theirs_node
    assert [s is None for s in ours] == [s is None for s in theirs]
    for mine, reference in zip(ours, theirs, strict=True):
        if reference is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_gradgradcheck(name):
    def away_from_seams(x, t):
        return _losses(gradscope, "mean")[name](x, t)
    rng = np.random.default_rng(7)
    x = gradscope.tensor(rng.uniform(0.1, 0.9, (2, 4)), requires_grad=True)
    t = gradscope.tensor(rng.uniform(0.1, 0.9, (2, 4)), requires_grad=not name.startswith("soft_margin"))
    assert gradscope.autograd.gradgradcheck(away_from_seams, (x, t))
