"""affine_grid and grid_sample against torch beyond the op samples: every mode (bicubic too), padding mode and
align_corners over drawn shapes and grids (points far outside included), float32, double backward,
node names and saved values, and PyTorch's warnings and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")


def _run(lib, x, grid, u, **options):
    input, points = lib.tensor(x, requires_grad=True), lib.tensor(grid, requires_grad=True)
    out = lib.nn.functional.grid_sample(input, points, **options)
    out.backward(lib.tensor(u))
    return out.detach().numpy(), input.grad.numpy(), points.grad.numpy()


@settings(deadline=None, max_examples=80)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 5), w=st.integers(1, 5), ho=st.integers(1, 4),
       wo=st.integers(1, 4), spread=st.sampled_from([0.5, 1.0, 3.0, 40.0]), mode=st.sampled_from(MODES),
       padding_mode=st.sampled_from(PADDINGS), align_corners=st.booleans(), seed=st.integers(0, 2**16))
def test_values_and_gradients_match_torch(n, c, h, w, ho, wo, spread, mode, padding_mode, align_corners, seed):
    rng = np.random.default_rng(seed)
    x, grid = rng.standard_normal((n, c, h, w)), rng.standard_normal((n, ho, wo, 2)) * spread
    u = rng.standard_normal((n, c, ho, wo))
    options = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    for ours, theirs, what in zip(_run(gradscope, x, grid, u, **options), _run(torch, x, grid, u, **options),
                                  ("output", "input's gradient", "grid's gradient"), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=what)


@settings(deadline=None, max_examples=40)
@given(d=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(1, 4), points=st.integers(1, 3),
       spread=st.sampled_from([0.8, 2.0, 30.0]), mode=st.sampled_from(["bilinear", "nearest"]),
       padding_mode=st.sampled_from(PADDINGS), align_corners=st.booleans(), seed=st.integers(0, 2**16))
def test_volumes_match_torch(d, h, w, points, spread, mode, padding_mode, align_corners, seed):
    rng = np.random.default_rng(seed)
    x, grid = rng.standard_normal((2, 2, d, h, w)), rng.standard_normal((2, points, 2, 1, 3)) * spread
    u = rng.standard_normal((2, 2, points, 2, 1))
    options = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    for ours, theirs in zip(_run(gradscope, x, grid, u, **options), _run(torch, x, grid, u, **options), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_float32_stays_float32_and_close_to_torch(mode, padding_mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 7)).astype(np.float32)
    grid = (rng.standard_normal((2, 5, 4, 2)) * 1.3).astype(np.float32)
    u = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    options = dict(mode=mode, padding_mode=padding_mode, align_corners=False)
    ours, theirs = _run(gradscope, x, grid, u, **options), _run(torch, x, grid, u, **options)
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_non_finite_and_far_grid_points_read_as_in_torch():
    """Forward only: torch 2.13's CPU backward crashes (segfault) on such grids; ours reads nothing there."""
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    grid = np.array([[[[np.nan, 0.0], [np.inf, 0.2], [-np.inf, -np.inf], [1e30, -1e30], [-1e30, 1e30]]]])
    # NOTE: far points, where float rounding decides the reflection, are left out of reflection mode
    for padding_mode in PADDINGS:
        for mode in MODES:
            options = dict(mode=mode, padding_mode=padding_mode, align_corners=True)
            points = grid[:, :, :3] if padding_mode == "reflection" else grid
            ours = gradscope.nn.functional.grid_sample(gradscope.tensor(x), gradscope.tensor(points), **options)
            theirs = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(points), **options)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=f"{mode}, {padding_mode}")
    _, grad_input, grad_grid = _run(gradscope, x, grid, np.ones((1, 1, 1, 5)), align_corners=True)
    assert np.isfinite(grad_input).all()


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "trilinear"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [True, False])
def test_double_backward_matches_torch(mode, padding_mode, align_corners):
    rng = np.random.default_rng(7)
    if mode == "trilinear":
        mode, x, grid = "bilinear", rng.standard_normal((2, 2, 2, 3, 4)), rng.standard_normal((2, 3, 1, 2, 3)) * 1.5
    else:
        x, grid = rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((2, 3, 2, 2)) * 1.5
    u = rng.standard_normal((2, 2) + grid.shape[1:-1])
    wx, wg = rng.standard_normal(x.shape), rng.standard_normal(grid.shape)

    def second(lib):
        tensors = [lib.tensor(a, requires_grad=True) for a in (x, grid, u)]
        out = lib.nn.functional.grid_sample(tensors[0], tensors[1], mode, padding_mode, align_corners)
        gx, gg = lib.autograd.grad(out, tensors[:2], tensors[2], create_graph=True)
        assert type(gx.grad_fn).__name__ == f"GridSampler{x.ndim - 2}DBackwardBackward0"
        total = (gx * lib.tensor(wx)).sum() + (gg * lib.tensor(wg)).sum()
        return [g.numpy() for g in lib.autograd.grad(total, tensors)]

    for ours, theirs in zip(second(gradscope), second(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_nodes_and_saved_values_match_torch():
    def nodes(lib):
        theta = lib.tensor([[[0.9, 0.1, 0.0], [-0.2, 1.1, 0.1]]], requires_grad=True)
        grid = lib.nn.functional.affine_grid(theta, (1, 2, 3, 4), align_corners=True)
        out = lib.nn.functional.grid_sample(lib.ones(1, 2, 5, 5), grid, mode="nearest", padding_mode="border",
                                            align_corners=False)
        sampler, generator = out.grad_fn, grid.grad_fn
        return (type(sampler).__name__, sampler._saved_interpolation_mode, sampler._saved_padding_mode,
                sampler._saved_align_corners, sampler._saved_grid.shape, sampler._saved_input.shape,
                type(generator).__name__, tuple(generator._saved_size), generator._saved_align_corners,
                sampler.next_functions[1][0] is generator)

    assert nodes(gradscope) == nodes(torch)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")
def test_affine_grid_matches_torch_in_float64():
    rng = np.random.default_rng(11)
    for size in ((2, 3, 4, 5), (2, 1, 1, 3), (2, 1, 5, 1), (2, 1, 2, 3, 4)):
        theta = rng.standard_normal((2, 2, 3) if len(size) == 4 else (2, 3, 4))
        for align_corners in (True, False):
            ours = gradscope.nn.functional.affine_grid(gradscope.tensor(theta), size, align_corners)
            theirs = torch.nn.functional.affine_grid(torch.tensor(theta), size, align_corners)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=1e-15)


SETUP = "F = torch.nn.functional\nx = torch.ones(2, 1, 3, 3)\ngrid = torch.zeros(2, 2, 2, 2)\n" \
        "theta = torch.zeros(2, 2, 3)\n"
ALIGN_WARNING = ("UserWarning: Default grid_sample and affine_grid behavior has changed to align_corners=False "
                 "since 1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                 "documentation of grid_sample for details.")
ERRORS = {
    "mode": ("F.grid_sample(x, grid, mode='linear', align_corners=False)",
             "ValueError: nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
             "got: 'linear'"),
    "padding mode": ("F.grid_sample(x, grid, padding_mode='reflect', align_corners=False)",
                     "ValueError: nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                     "'reflection', but got: 'reflect'"),
    "dtypes": ("F.grid_sample(x.double(), grid, align_corners=False)",
               "RuntimeError: expected scalar type Double but found Float"),
    "batch": ("F.grid_sample(x, grid[:1], align_corners=False)",
              "RuntimeError: grid_sampler(): expected grid and input to have same batch size, but got input with "
              "sizes [2, 1, 3, 3] and grid with sizes [1, 2, 2, 2]"),
    "grid's last dim": ("F.grid_sample(x, torch.zeros(2, 2, 2, 3), align_corners=False)",
                        "RuntimeError: grid_sampler(): expected grid to have size 2 in last dimension, but got grid "
                        "with sizes [2, 2, 2, 3]"),
    "empty input": ("F.grid_sample(torch.ones(2, 1, 0, 3), grid, align_corners=False)",
                    "RuntimeError: grid_sampler(): expected input to have non-empty spatial dimensions, but input "
                    "has sizes [2, 1, 0, 3] with dimension 2 being empty"),
    "3-D input": ("F.grid_sample(x[:, 0], torch.zeros(2, 2, 1), align_corners=False)",
                  "RuntimeError: grid_sampler(): expected 5D input and grid with same number of dimensions, but got "
                  "input with sizes [2, 3, 3] and grid with sizes [2, 2, 1]"),
    "bicubic volume": ("F.grid_sample(torch.ones(1, 1, 2, 2, 2), torch.zeros(1, 1, 1, 1, 3), mode='bicubic', "
                       "align_corners=False)",
                       "RuntimeError: grid_sampler(): bicubic interpolation only supports 4D input"),
    "integer theta": ("F.affine_grid(theta.long(), (2, 1, 2, 2), align_corners=False)",
                      "ValueError: Expected theta to have floating point type, but got torch.int64"),
    "theta shape": ("F.affine_grid(torch.zeros(2, 3, 3), [2, 1, 2, 2], align_corners=False)",
                    "ValueError: Expected a batch of 2D affine matrices of shape Nx2x3 for size [2, 1, 2, 2]. Got "
                    "torch.Size([2, 3, 3])."),
    "theta shape 3-D": ("F.affine_grid(theta, torch.Size([2, 1, 2, 2, 2]), align_corners=False)",
                        "ValueError: Expected a batch of 3D affine matrices of shape Nx3x4 for size torch.Size([2, 1, "
                        "2, 2, 2]). Got torch.Size([2, 2, 3])."),
    "size length": ("F.affine_grid(theta, (2, 1, 2), align_corners=False)",
                    "NotImplementedError: affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                    "respectively. Got size (2, 1, 2)."),
    "empty size": ("F.affine_grid(theta, (2, 1, 0, 2), align_corners=False)",
                   "ValueError: Expected non-zero, positive output size. Got (2, 1, 0, 2)"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


def test_warnings_match_torch(oracle):
    oracle.check(SETUP + "F.grid_sample(x, F.affine_grid(theta, (2, 1, 2, 2)))", warns=(ALIGN_WARNING,) * 2)
    oracle.check(SETUP + "F.affine_grid(theta, (2, 1, 1, 2), align_corners=True)",
                 warns=("UserWarning: Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                        "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                        "of affine_grid for details.",))


def test_spatial_transformer_step_matches_torch():
    """The tutorial's localisation → affine_grid → grid_sample, one SGD step on the same weights."""
    rng = np.random.default_rng(5)
    images = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    weight = (rng.standard_normal((6, 64)) * 0.01).astype(np.float32)

    def step(lib):
        fc = lib.nn.Linear(64, 6)
        with lib.no_grad():
            fc.weight.copy_(lib.tensor(weight))
            fc.bias.copy_(lib.tensor([1, 0, 0, 0, 1, 0], dtype=lib.float))
        x = lib.tensor(images)
        theta = fc(x.view(-1, 64)).view(-1, 2, 3)
        out = lib.nn.functional.grid_sample(x, lib.nn.functional.affine_grid(theta, x.size(), align_corners=False),
                                            align_corners=False)
        out.square().mean().backward()
        return out.detach().numpy(), fc.weight.grad.numpy(), fc.bias.grad.numpy()

    for ours, theirs in zip(step(gradscope), step(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_nearest_double_backward_leaves_the_input_without_gradient_as_torch():
    def second(lib):
        x = lib.ones(1, 1, 2, 2, dtype=lib.float64, requires_grad=True)
        grid = lib.zeros(1, 1, 1, 2, dtype=lib.float64, requires_grad=True)
        out = lib.nn.functional.grid_sample(x, grid, mode="nearest", align_corners=True)
        gx, gg = lib.autograd.grad(out.sum(), (x, grid), create_graph=True)
        return [g is None for g in lib.autograd.grad(gx.sum() + gg.sum(), (x, grid), allow_unused=True)]

    assert second(gradscope) == second(torch) == [True, False]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("size", [(1, 1, 28, 28), (2, 1, 10, 7), (1, 2, 5, 33), (1, 1, 2, 3, 10)])
def test_an_identity_grid_reads_the_corners_torch_reads(size, mode, dtype):
    """An identity affine grid (the Spatial Transformer tutorial's start) lands on pixel centres: PyTorch's 2-D
    kernel rounds its unnormalising multiply-add once, its 3-D kernel twice, and that rounding decides which
    corners a point reads, so which difference its gradient is."""
    if len(size) == 5 and mode == "bicubic":
        pytest.skip("bicubic is 2-D only")
    rng = np.random.default_rng(sum(size))
    x = rng.standard_normal(size).astype(dtype)
    u = rng.standard_normal(size).astype(dtype)

    def run(lib):
        theta = lib.eye(len(size) - 2, len(size) - 1, dtype=getattr(lib, dtype)).expand(size[0], -1, -1)
        grid = lib.nn.functional.affine_grid(theta, size, align_corners=False).requires_grad_()
        out = lib.nn.functional.grid_sample(lib.tensor(x), grid, mode=mode, align_corners=False)
        out.backward(lib.tensor(u))
        return out.detach().numpy(), grid.grad.numpy()

    tolerance = 1e-12 if dtype == "float64" else 1e-4
    for ours, theirs in zip(run(gradscope), run(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)
