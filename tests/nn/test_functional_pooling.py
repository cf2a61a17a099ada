"""Pooling beyond what the op samples check: PyTorch's errors, float32 kept float32, double backward
through max pooling, and larger shapes against torch."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from gradscope.nn import functional as F

SETUP = "F = torch.nn.functional\nx = torch.ones(1, 4, 5, 5)\nv = torch.ones(1, 2, 3, 4, 4)\n"

ERRORS = {
    "padding over half the kernel": ("F.max_pool2d(x, 2, padding=2)",
                                     "RuntimeError: pad should be at most half of effective kernel size, but got "
                                     "pad=2, kernel_size=2 and dilation=1"),
    "negative padding": ("F.max_pool2d(x, 2, padding=-1)", "RuntimeError: pad must be non-negative, but got pad: -1"),
    "kernel of three ints": ("F.max_pool2d(x, (2, 2, 2))",
                             "RuntimeError: max_pool2d: kernel_size must either be a single int, or a tuple of two "
                             "ints"),
    "stride of three ints": ("F.max_pool2d(x, 2, stride=(1, 1, 1))",
                             "RuntimeError: max_pool2d: stride must either be omitted, a single int, or a tuple of two "
                             "ints"),
    "dilation of three ints": ("F.max_pool2d(x, 2, dilation=(1, 1, 1))",
                               "RuntimeError: max_pool2d: dilation must be either a single int, or a tuple of two "
                               "ints"),
    "output too small": ("F.max_pool2d(torch.ones(4, 1, 1), 2)",
                         "RuntimeError: Given input size: (4x1x1). Calculated output size: (4x0x0). Output size is too "
                         "small"),
    "2-D input": ("F.max_pool2d(torch.ones(4, 5), 2)",
                  "RuntimeError: non-empty 3D or 4D (batch mode) tensor expected for input"),
    "zero stride": ("F.max_pool2d(x, 2, stride=0)", "RuntimeError: stride should not be zero"),
    "zero dilation": ("F.max_pool2d(x, 2, dilation=0)",
                      "RuntimeError: dilation should be greater than zero, but got dilationH: 0 dilationW: 0"),
    "zero divisor": ("F.avg_pool2d(x, 2, divisor_override=0)", "RuntimeError: divisor must be not zero"),
    "max_pool1d of 4-D": ("F.max_pool1d(x, 2)",
                          "RuntimeError: max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch "
                          "size for input, but got:[1, 4, 5, 5]"),
    "max_pool1d too small": ("F.max_pool1d(torch.ones(4, 1), 2)",
                             "RuntimeError: max_pool1d() Invalid computed output size: 0"),
    "avg_pool1d of 4-D": ("F.avg_pool1d(x, 2)",
                          "RuntimeError: Expected 2 to 3 dimensions, but got 4-dimensional tensor for argument #1 "
                          "'self' (while checking arguments for avg_pool1d)"),
    "adaptive output of three": ("F.adaptive_avg_pool2d(x, (2, 2, 2))",
                                 "RuntimeError: adaptive_avg_pool2d: output_size must be 2"),
    "adaptive of 1-D": ("F.adaptive_max_pool2d(torch.ones(5), (2, 2))",
                        "ValueError: Input dimension should be at least 3"),
    "adaptive 1d of 4-D": ("F.adaptive_max_pool1d(x, 2)",
                           "RuntimeError: Expected 2 to 3 dimensions, but got 4-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for adaptive_max_pool1d)"),
    "3-d pool of 3-D": ("F.max_pool3d(torch.ones(2, 3, 3), 2)",
                        "RuntimeError: non-empty 4D or 5D (batch mode) tensor expected for input"),
    "3-d kernel of two ints": ("F.max_pool3d(v, (2, 2))",
                               "RuntimeError: max_pool3d: kernel_size must either be a single int, or a tuple of three "
                               "ints"),
    "3-d zero kernel": ("F.max_pool3d(v, (2, 2, 0), stride=1)",
                        "RuntimeError: kernel size should be greater than zero, but got kT: 2 kH: 2 kW: 0"),
    "3-d zero dilation": ("F.max_pool3d(v, 2, dilation=0)",
                          "RuntimeError: dilation should be greater than zero, but got dilationT: 0 dilationH: 0 "
                          "dilationW: 0"),
    "3-d output too small": ("F.max_pool3d(v, 4)",
                             "RuntimeError: Given input size: (2x3x4x4). Calculated output size: (2x0x1x1). Output "
                             "size is too small"),
    "avg_pool3d stride of two": ("F.avg_pool3d(v, 2, stride=(1, 1))",
                                 "RuntimeError: avg_pool3d: stride must be omitted, a single int, or a tuple of three "
                                 "ints"),
    "avg_pool3d kernel over the input": ("F.avg_pool3d(torch.ones(1, 2, 2, 2, 2), 3, padding=1)",
                                         "RuntimeError: input image (T: 2 H: 2 W: 2) smaller than kernel size (kT: 3 "
                                         "kH: 3 kW: 3)"),
    "adaptive 3d of 2-D": ("F.adaptive_avg_pool3d(torch.ones(2, 3), 2)",
                           "RuntimeError: adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got [2, 3]"),
    "adaptive 3d output of two": ("F.adaptive_max_pool3d(v, (2, 2))",
                                  "RuntimeError: adaptive_max_pool3d(): internal error: output_size.size() must be 3"),
    "adaptive 3d sequence of 2-D": ("F.adaptive_avg_pool3d(torch.ones(3, 3), (2, None, 2))",
                                    "ValueError: Input dimension should be at least 4"),
    "adaptive 2d of 2-D": ("F.adaptive_avg_pool2d(torch.ones(3, 3), 2)",
                           "RuntimeError: adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [3, 3]"),
    "conv_transpose3d output padding": ("F.conv_transpose3d(v, torch.ones(2, 3, 2, 2, 2), output_padding=2)",
                                        "RuntimeError: output padding must be smaller than either stride or dilation, "
                                        "but got output_padding_depth: 2 output_padding_height: 2 output_padding_width:"
                                        " 2 stride_depth: 1 stride_height: 1 stride_width: 1 dilation_depth: 1 "
                                        "dilation_height: 1 dilation_width: 1"),
    "lrn of 2-D": ("F.local_response_norm(torch.ones(2, 2), 2)",
                   "ValueError: Expected 3D or higher dimensionality" + " " * 26 + "input (got 2 dimensions)"),
    "softshrink negative lambda": ("F.softshrink(x, -1)",
                                   "RuntimeError: lambda must be in range [0, 3.40282e+38] for input dtype Float, but "
                                   "found -1"),
    "pixel_shuffle channels": ("F.pixel_shuffle(torch.ones(1, 8, 2, 2), 3)",
                               "RuntimeError: pixel_shuffle expects its input's 'channel' dimension to be divisible by "
                               "the square of upscale_factor, but input.size(-3)=8 is not divisible by 9"),
    "pixel_shuffle of 2-D": ("F.pixel_shuffle(torch.ones(2, 2), 2)",
                             "RuntimeError: pixel_shuffle expects input to have at least 3 dimensions, but got input "
                             "with 2 dimension(s)"),
    "pixel_unshuffle width": ("F.pixel_unshuffle(torch.ones(1, 8, 2, 3), 2)",
                              "RuntimeError: pixel_unshuffle expects width to be divisible by downscale_factor, but "
                              "input.size(-1)=3 is not divisible by 2"),
    "channel_shuffle groups": ("F.channel_shuffle(torch.ones(1, 8, 2), 3)",
                               "RuntimeError: Number of channels must be divisible by groups. Got 8 channels and 3 "
                               "groups."),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


def test_indices_are_int64_and_need_no_grad(oracle):
    oracle.check(SETUP + "x.requires_grad_()\nvalues, indices = F.max_pool2d(x, 2, return_indices=True)\n"
                 "print(indices.dtype, indices.requires_grad, values.grad_fn.name())",
                 stdout="torch.int64 False MaxPool2DWithIndicesBackward0\n")


@pytest.mark.parametrize("call", [
    lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.adaptive_avg_pool2d(x, (2, 3)), lambda x: F.adaptive_max_pool2d(x, 3),
    lambda x: F.max_pool1d(x[0], 2), lambda x: F.avg_pool1d(x[0], 2),
])
def test_float32_stays_float32(call):
    x = gradscope.randn(2, 3, 5, 5, requires_grad=True)
    out = call(x)
    (grad,) = gradscope.autograd.grad(out.sum(), x)
    assert out.dtype == grad.dtype == gradscope.float32


def test_integer_pooling_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[[[-3, 1, 4], [-1, 0, 2], [5, -7, 1]]]])
    for call in (lambda lib, x: lib.nn.functional.max_pool2d(x, 2, 1),
                 lambda lib, x: lib.nn.functional.avg_pool2d(x, 2, 1)):
        ours, theirs = (call(lib, lib.tensor(values)) for lib in (gradscope, torch))
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name, call", [
    ("max_pool2d", lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("avg_pool2d", lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("adaptive_avg_pool2d", lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, (5, 3))),
    ("adaptive_max_pool2d", lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, (4, 6))),
])
def test_matches_torch_on_a_larger_input_with_double_backward(name, call):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(len(name)).standard_normal((2, 3, 11, 9))
    results = []
    for lib in (gradscope, torch):
        leaf = lib.tensor(x, requires_grad=True)
        out = call(lib, leaf)
        (grad,) = lib.autograd.grad((out * out).sum(), leaf, create_graph=True)
        (second,) = lib.autograd.grad((grad * grad).sum(), leaf)
        results.append([out.detach().numpy(), grad.detach().numpy(), second.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
