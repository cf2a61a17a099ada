"""Casting values a dtype can't hold (NaN, inf, out of range) is silent, as PyTorch's is: `torch.tensor(1e300,
dtype=torch.float32)` is inf and `x.to(torch.int32)` of NaN is what the CPU's conversion gives, without NumPy's
"overflow/invalid value encountered in cast" RuntimeWarning, which a user hunting a NaN would take for a report."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch

VALUES = [1e10, 1.0, float("nan"), float("inf"), -float("inf"), -1e300]
CASTS = ["float16", "int32", "int64", "uint8", "int8", "bool"]


@pytest.mark.parametrize("dtype", CASTS)
def test_a_cast_of_values_the_dtype_cant_hold_is_silent(dtype):
    torch = reference_torch()
    source = gradscope.tensor(VALUES, dtype=gradscope.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = source.to(getattr(gradscope, dtype))
    assert str(ours.dtype) == f"torch.{dtype}"
    if torch is not None:
        theirs = torch.tensor(VALUES, dtype=torch.float64).to(getattr(torch, dtype))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_a_number_too_large_for_the_dtype_becomes_inf_silently(dtype):
    torch = reference_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kind = getattr(gradscope, dtype)
        ours = [gradscope.tensor(1e300, dtype=kind), gradscope.tensor([-1e300, 1.0], dtype=kind)]
    assert np.isposinf(ours[0].item()) and np.isneginf(ours[1][0].item()) and ours[1][1].item() == 1.0
    if torch is not None:
        kind = getattr(torch, dtype)
        theirs = [torch.tensor(1e300, dtype=kind), torch.tensor([-1e300, 1.0], dtype=kind)]
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
