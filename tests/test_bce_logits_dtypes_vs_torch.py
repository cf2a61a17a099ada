"""binary_cross_entropy_with_logits refuses what PyTorch refuses, in its words: logits that aren't floating
("log_sigmoid_cpu" not implemented), an integer target (its result can't be cast to the target's dtype), a bool
target (a bool subtraction). gradscope computed all three (0.7553 for a bool target), which hides the user's
mistake (labels left as int64) where PyTorch would stop them."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch

INPUTS = ["float16", "float32", "float64", "int32", "int64", "bool"]
TARGETS = ["float32", "float64", "int64", "int32", "uint8", "bool"]


def _outcome(lib, input_dtype, target_dtype, reduction, module):
    values = np.linspace(-2.0, 2.0, 12).reshape(4, 3)
    x = lib.tensor(values).to(getattr(lib, input_dtype))
    t = lib.tensor((values > 0).astype(np.float64)).to(getattr(lib, target_dtype))
    try:
        if module:
            out = lib.nn.BCEWithLogitsLoss(reduction=reduction)(x, t)
        else:
            out = lib.nn.functional.binary_cross_entropy_with_logits(x, t, reduction=reduction)
    except Exception as error:  # noqa: BLE001 - the class and words are what is compared
        return type(error).__name__, str(error)
    return str(out.dtype), out.detach().double().numpy()


@pytest.mark.parametrize("module", [False, True], ids=["functional", "module"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("target_dtype", TARGETS)
@pytest.mark.parametrize("input_dtype", INPUTS)
def test_logits_and_targets_of_each_dtype_as_pytorch(input_dtype, target_dtype, reduction, module):
    torch = reference_torch()
    if torch is None:
        pytest.skip("PyTorch is not installed")
    ours = _outcome(gradscope, input_dtype, target_dtype, reduction, module)
    theirs = _outcome(torch, input_dtype, target_dtype, reduction, module)
    assert ours[0] == theirs[0]
    if isinstance(theirs[1], str):
        assert ours[1] == theirs[1]
    else:
        tolerance = 2e-3 if "float16" in (input_dtype, target_dtype) else 1e-6
        np.testing.assert_allclose(ours[1], theirs[1], rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both_target_dtype"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("input_dtype", "target_dtype"), [("float64", "float32"), ("float64", "float16"),
                                                           ("float32", "float16"), ("float32", "float64")])
def test_loss_takes_the_targets_dtype_as_pytorch(input_dtype, target_dtype, reduction, weights):
    """PyTorch's kernel builds the loss in place on 1 - target, so the loss has the target's dtype (a narrower one
    too), each step rounded to it; the logits' gradient keeps the logits' dtype."""
    torch = reference_torch()
    if torch is None:
        pytest.skip("PyTorch is not installed")
    rng = np.random.default_rng(5)
    logits, targets, extra = rng.standard_normal((4, 3)) * 3, rng.random((4, 3)), rng.random((2, 3)) + 0.5

    def run(lib):
        x = lib.tensor(logits, dtype=getattr(lib, input_dtype), requires_grad=True)
        t = lib.tensor(targets, dtype=getattr(lib, target_dtype))
        extra_dtype = getattr(lib, target_dtype if weights == "both_target_dtype" else input_dtype)
        weight, pos_weight = (lib.tensor(row, dtype=extra_dtype) for row in extra)
        keywords = {"none": {}, "weight": {"weight": weight}, "pos_weight": {"pos_weight": pos_weight},
                    "both_target_dtype": {"weight": weight, "pos_weight": pos_weight}}[weights]
        loss = lib.nn.functional.binary_cross_entropy_with_logits(x, t, reduction=reduction, **keywords)
        (loss * 2).sum().backward()
        return str(loss.dtype), type(loss.grad_fn).__name__, str(x.grad.dtype), loss.detach().double().numpy(), (
            x.grad.double().numpy())

    mine, theirs = run(gradscope), run(torch)
    assert mine[:3] == theirs[:3]
    tolerance = 2e-3 if "float16" in (input_dtype, target_dtype) else 1e-6
    for a, b in zip(mine[3:], theirs[3:], strict=True):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)
