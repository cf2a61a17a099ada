"""interpolate beyond what the op samples check: PyTorch's errors, non-finite values staying where
PyTorch's kernels put them, float32 kept float32, larger shapes and double backward against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradscope
from gradscope.nn import functional as F

SETUP = "F = torch.nn.functional\nx = torch.ones(2, 3, 5, 4)\n"

ERRORS = {
    "size length": ("F.interpolate(x, size=(3,))",
                    "ValueError: Input and output must have the same number of spatial dimensions, but got input with "
                    "spatial dimensions of [5, 4] and output size of (3,). Please provide input tensor in (N, C, d1, "
                    "d2, ...,dK) format and output size in (o1, o2, ...,oK) format."),
    "scale length": ("F.interpolate(x, scale_factor=(2,))",
                     "ValueError: Input and scale_factor must have the same number of spatial dimensions, but got "
                     "input with spatial dimensions of [5, 4] and scale_factor of shape (2,). Please provide input "
                     "tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."),
    "neither": ("F.interpolate(x)", "ValueError: either size or scale_factor should be defined"),
    "both": ("F.interpolate(x, size=3, scale_factor=2)",
             "ValueError: only one of size or scale_factor should be defined"),
    "align_corners with nearest": ("F.interpolate(x, size=3, align_corners=True)",
                                   "ValueError: align_corners option can only be set with the interpolating modes: "
                                   "linear | bilinear | bicubic | trilinear"),
    "linear on 4-D": ("F.interpolate(x, size=3, mode='linear')",
                      "NotImplementedError: Got 4D input, but linear mode needs 3D input"),
    "bilinear on 3-D": ("F.interpolate(x[0], size=3, mode='bilinear')",
                        "NotImplementedError: Got 3D input, but bilinear mode needs 4D input"),
    "bicubic on 3-D": ("F.interpolate(x[0], size=3, mode='bicubic')",
                       "NotImplementedError: Input Error: Only 3D, 4D and 5D input Tensors supported (got 3D) for the "
                       "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got "
                       "bicubic)"),
    "trilinear on 4-D": ("F.interpolate(x, size=3, mode='trilinear')",
                         "NotImplementedError: Got 4D input, but trilinear mode needs 5D input"),
    "bilinear on 5-D": ("F.interpolate(x[None], size=3, mode='bilinear')",
                        "NotImplementedError: Got 5D input, but bilinear mode needs 4D input"),
    "lanczos without antialias": ("F.interpolate(x, size=3, mode='lanczos')",
                                  "ValueError: Lanczos mode requires antialias=True"),
    "unknown mode": ("F.interpolate(x, size=3, mode='foo')",
                     "NotImplementedError: Input Error: Only 3D, 4D and 5D input Tensors supported (got 4D) for the "
                     "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got "
                     "foo)"),
    "recompute with a size": ("F.interpolate(x, size=3, recompute_scale_factor=True)",
                              "ValueError: recompute_scale_factor is not meaningful with an explicit size."),
    "float size": ("F.interpolate(x, size=(3.5, 2))",
                   "TypeError: expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, "
                   "int], but got size with types [<class 'float'>, <class 'int'>]"),
    "empty output": ("F.interpolate(x, scale_factor=0.1)",
                     "RuntimeError: Input and output sizes should be greater than 0, but got input (H: 5, W: 4) output "
                     "(H: 0, W: 0)"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


MODES = [dict(mode="nearest", size=(7, 3)), dict(mode="nearest-exact", scale_factor=1.7),
         dict(mode="bilinear", size=(8, 6)), dict(mode="bilinear", size=(3, 7), align_corners=True),
         dict(mode="bilinear", scale_factor=(0.6, 1.5)), dict(mode="area", size=(3, 3)),
         dict(mode="bicubic", size=(8, 6)), dict(mode="bicubic", size=(3, 7), align_corners=True),
         dict(mode="bicubic", scale_factor=(0.6, 1.5))]
MODES_3D = [dict(mode="trilinear", size=(4, 7, 3)),
            dict(mode="trilinear", scale_factor=(1.5, 0.6, 2), align_corners=True),
            dict(mode="nearest", scale_factor=(2, 1.5, 0.5)), dict(mode="nearest-exact", size=(3, 3, 3)),
            dict(mode="area", size=(2, 3, 1))]


@pytest.mark.parametrize("options", MODES, ids=str)
def test_non_finite_values_spread_as_in_torch(options):
    """An inf reaches only the outputs whose taps read it (or NaN where a zero weight meets it, as in
    PyTorch): no dense product smears it over a row."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 1, 5, 4))
    x[0, 0, 2, 1] = math.inf
    ours = F.interpolate(gradscope.tensor(x), **options).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x), **options).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs))


@pytest.mark.parametrize("options", MODES, ids=str)
def test_matches_torch_on_a_larger_input_with_double_backward(options):
    _check_against_torch_to_second_order(np.random.default_rng(1).standard_normal((2, 3, 9, 11)), options)


def _check_against_torch_to_second_order(x: np.ndarray, options: dict, node_names: bool = False) -> None:
    """interpolate(x, **options) in both libraries: values, first and second derivatives (and the node's name)."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradscope, torch):
        leaf = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.interpolate(leaf, **options)
        (grad,) = lib.autograd.grad((out ** 3).sum(), leaf, create_graph=True)
        (second,) = lib.autograd.grad((grad * grad).sum(), leaf)
        results.append([out.grad_fn.name(), out.detach().numpy(), grad.detach().numpy(), second.numpy()])
    if node_names:
        assert results[0][0] == results[1][0]
    for ours, theirs in zip(results[0][1:], results[1][1:], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("options", MODES + [dict(mode="linear", size=7)], ids=str)
def test_float32_stays_float32(options):
    x = gradscope.randn(2, 3, 5, requires_grad=True) if options["mode"] == "linear" else gradscope.randn(
        2, 3, 5, 4, requires_grad=True)
    out = F.interpolate(x, **options)
    (grad,) = gradscope.autograd.grad(out.sum(), x)
    assert out.dtype == grad.dtype == gradscope.float32


@pytest.mark.parametrize("options", MODES_3D, ids=str)
def test_volumes_match_torch_with_double_backward_and_node_names(options):
    """Trilinear, 3-D nearest and 3-D area resizing of (N, C, D, H, W) input: values, first and second
    derivatives and the node PyTorch records (UpsampleTrilinear3DBackward0 …)."""
    _check_against_torch_to_second_order(np.random.default_rng(2).standard_normal((2, 2, 3, 5, 4)), options,
                                         node_names=True)


@pytest.mark.parametrize("options", [dict(mode="bicubic", size=(9, 7)), dict(mode="trilinear", size=(4, 7, 3))],
                         ids=str)
def test_float32_bicubic_and_trilinear_agree_with_torch_to_float32_rounding(options):
    torch = pytest.importorskip("torch")
    shape = (1, 2, 5, 4) if options["mode"] == "bicubic" else (1, 2, 3, 5, 4)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    ours = F.interpolate(gradscope.tensor(x), **options)
    theirs = torch.nn.functional.interpolate(torch.tensor(x), **options)
    assert ours.dtype == gradscope.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
