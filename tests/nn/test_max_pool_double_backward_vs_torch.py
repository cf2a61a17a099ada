"""The backward of every max pool that keeps indices (max_pool1d-3d, adaptive_max_pool1d-3d,
fractional_max_pool2d/3d) is an op of its own, as in PyTorch: differentiated again it records
<Pool>BackwardBackward0 with torch's edges (the pooled gradient and the input) and `_saved_indices`, and its own
gradient is torch's view, gather, view. Values and graphs against torch; gradgradcheck on ours."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _pools(lib):
    F = lib.nn.functional
    samples = {dims: lib.tensor(np.linspace(0.05, 0.95, 4 * dims).reshape(2, 2, dims)) for dims in (2, 3)}
    return {
        "max_pool1d": (1, lambda x: F.max_pool1d(x, 2, stride=1)),
        "max_pool2d": (2, lambda x: F.max_pool2d(x, 2)),
        "max_pool2d-overlap": (2, lambda x: F.max_pool2d(x, 3, stride=1, padding=1)),
        "max_pool3d": (3, lambda x: F.max_pool3d(x, 2, stride=1)),
        "adaptive_max_pool1d": (1, lambda x: F.adaptive_max_pool1d(x, 3)),
        "adaptive_max_pool2d": (2, lambda x: F.adaptive_max_pool2d(x, (3, 2))),
        "adaptive_max_pool3d": (3, lambda x: F.adaptive_max_pool3d(x, 2)),
        "fractional_max_pool2d": (2, lambda x: F.fractional_max_pool2d(x, 2, output_size=3,
                                                                      _random_samples=samples[2])),
        "fractional_max_pool3d": (3, lambda x: F.fractional_max_pool3d(x, 2, output_size=2,
                                                                      _random_samples=samples[3])),
    }


def _names(fn, depth=8) -> list:
    """Node names breadth first from `fn` (None for missing edges)."""
    names, frontier = [], [fn]
    for _ in range(depth):
        names.append([None if f is None else f.name() for f in frontier])
        frontier = [n for f in frontier if f is not None for n, _ in f.next_functions]
        if not frontier:
            break
    return names


def _run(lib, name):
    dims, pool = _pools(lib)[name]
    rng = np.random.default_rng(7)
    x = lib.tensor(rng.normal(size=(2, 2) + (5,) * dims), requires_grad=True)
    y = pool(x)
    g = lib.tensor(rng.normal(size=tuple(y.shape)), requires_grad=True)
    (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
    indices = gx.grad_fn._saved_indices.numpy() if gx.grad_fn.name().endswith("BackwardBackward0") else None
    weights = lib.tensor(rng.normal(size=tuple(x.shape)))
    gg, gxx = lib.autograd.grad((gx * gx * weights).sum(), (g, x), create_graph=True)
    return {"gx": gx.detach().numpy(), "gg": gg.detach().numpy(), "gxx": gxx.detach().numpy(),
            "gx graph": _names(gx.grad_fn), "gg graph": _names(gg.grad_fn), "indices": indices}


@pytest.mark.parametrize("name", list(_pools(gradscope)))
def test_double_backward_matches_torch(name):
    ours, theirs = _run(gradscope, name), _run(torch, name)
    for key in ("gx", "gg", "gxx"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)
    np.testing.assert_array_equal(ours["indices"], theirs["indices"])
    assert ours["gx graph"] == theirs["gx graph"]
    assert ours["gg graph"] == theirs["gg graph"]


@pytest.mark.parametrize("name", list(_pools(gradscope)))
def test_gradgradcheck(name):
    dims, pool = _pools(gradscope)[name]
    x = gradscope.randn(1, 2, *(4,) * dims, dtype=gradscope.float64, generator=gradscope.Generator().manual_seed(3))
    assert gradscope.autograd.gradgradcheck(pool, (x.requires_grad_(),))
