"""nn.init additions used by layer inits: trunc_normal_, orthogonal_, eye_."""

from __future__ import annotations

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


@pytest.mark.parametrize(("shape", "dtype", "bounds"), [
    ((3, 4), "float32", dict(std=0.02)),  # ViT/timm inits: normal draws, redrawn outside [-2, 2] (never here)
    ((64, 33), "float32", dict(mean=0.5, std=1.0, a=-1.0, b=2.0)),  # a third redrawn, over several rounds
    ((7,), "float64", dict(a=-0.5, b=0.5)),
    ((40, 9), "float32", dict(a=2.0, b=3.0)),  # 2% of the mass: uniform proposals, accepted by density
    ((5, 5), "float64", dict(mean=1.0, std=0.1, a=1.2, b=2.0)),
])
def test_trunc_normal_draws_what_pytorch_draws_from_the_same_seed(shape, dtype, bounds):
    torch = pytest.importorskip("torch")
    values = []
    for lib in (torch, gradscope):
        lib.manual_seed(0)
        tensor = lib.nn.init.trunc_normal_(lib.empty(*shape, dtype=getattr(lib, dtype)), **bounds)
        values.append((tensor.numpy().copy(), lib.rand(3).numpy()))  # and the generator's state after it
    np.testing.assert_array_equal(values[0][0], values[1][0])
    np.testing.assert_array_equal(values[0][1], values[1][1])


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
