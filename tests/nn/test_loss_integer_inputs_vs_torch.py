"""Losses of integer and bool tensors, beside PyTorch: its fused kernels (mse, smooth_l1, huber) take floating types
only and raise for the promoted type, where NumPy would compute an integer loss (mean of [1, 4, 5] as 3); one float
operand promotes, and l1_loss's mean refuses in its own words."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")

LOSSES = ["mse_loss", "smooth_l1_loss", "huber_loss", "l1_loss"]
OPERANDS = {
    "int64": lambda lib: (lib.tensor([1, 2, 3]), lib.tensor([0, 0, 1])),
    "int32": lambda lib: (lib.tensor([1, 2, 3], dtype=lib.int32), lib.tensor([0, 0, 1], dtype=lib.int32)),
    "int32 and int64": lambda lib: (lib.tensor([1, 2, 3], dtype=lib.int32), lib.tensor([0, 0, 1])),
    "bool": lambda lib: (lib.tensor([True, False, True]), lib.tensor([False, False, True])),
    "int and float": lambda lib: (lib.tensor([1, 2, 3]), lib.tensor([0.0, 0.0, 1.5])),
    "float and int": lambda lib: (lib.tensor([1.0, 2.5, 3.0]), lib.tensor([0, 0, 1])),
}


def _outcome(lib, loss, operands, reduction):
    try:
        value = getattr(lib.nn.functional, loss)(*OPERANDS[operands](lib), reduction=reduction)
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return type(error).__name__, str(error)
    return "ok", value.tolist(), str(value.dtype).replace("torch.", "")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("operands", list(OPERANDS))
@pytest.mark.parametrize("loss", LOSSES)
def test_as_pytorch(loss, operands, reduction):
    assert _outcome(gradscope, loss, operands, reduction) == _outcome(torch, loss, operands, reduction)
