"""float16 linspace as PyTorch's kernel computes it: c10::Half arithmetic, each count and the step made float16s and
each product and sum rounded (no multiply-add). Before, float16 went through NumPy's linspace in float64, rounded
once: 12 of linspace(0, 1, 24)'s values differed from PyTorch's by an ulp."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("steps", [0, 1, 2, 5, 24, 255, 2049, 70001])
@pytest.mark.parametrize("ends", [(0, 1), (-1.3210486, 6.4042265), (9.47, -7.04), (-623.27, 41.33), (5, -60000)])
def test_half_linspace_gives_pytorchs_values(steps, ends):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a count past 65504 overflows quietly, as in PyTorch
        ours = gradscope.linspace(*ends, steps, dtype=gradscope.float16)
    theirs = torch.linspace(*ends, steps, dtype=torch.float16)
    assert ours.dtype == gradscope.float16
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_half_linspace_of_many_random_ranges():
    rng = np.random.default_rng(5)
    for _ in range(300):
        steps = int(rng.integers(0, 400))
        start, end = rng.standard_normal(2) * rng.choice([1, 10, 1000])
        np.testing.assert_array_equal(gradscope.linspace(start, end, steps, dtype=gradscope.float16).numpy(),
                                      torch.linspace(start, end, steps, dtype=torch.float16).numpy())
