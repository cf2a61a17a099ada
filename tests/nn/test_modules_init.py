"""nn.init additions used by layer inits: trunc_normal_, orthogonal_, eye_."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradscope
from gradscope.nn import init


@pytest.fixture(autouse=True)
def _seed():
    gradscope.manual_seed(0)


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments():
    values = init.trunc_normal_(gradscope.empty(200, 100), mean=0.5, std=1.0, a=-1.0, b=2.0).numpy()
    assert values.min() >= -1.0 and values.max() <= 2.0
    # moments of N(0.5, 1) truncated to [-1.5σ, 1.5σ] around its mean: mean 0.5, std ≈ 0.743
    assert abs(values.mean() - 0.5) < 0.02 and abs(values.std() - 0.743) < 0.02


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    weight = init.orthogonal_(gradscope.empty(*shape, dtype=gradscope.float64), gain=2.0)
    flat = weight.numpy().reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-12)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(gradscope.empty(3))


def test_eye():
    np.testing.assert_array_equal(init.eye_(gradscope.empty(2, 3)).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(gradscope.empty(2, 2, 2))
    assert not math.isnan(init._erfinv(np.array([0.5]))[0])
