"""conv*/conv_transpose*/unfold/fold/pad beyond what the op samples check: PyTorch's errors and
warnings, float32 kept float32, and larger shapes against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope
from gradscope.nn import functional as F

SETUP = "F = torch.nn.functional\nx = torch.ones(2, 4, 7, 6)\n"

ERRORS = {
    "conv2d of a 2-D input": ("F.conv2d(torch.ones(2, 3), torch.ones(6, 2, 3, 3))",
                              "RuntimeError: Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of "
                              "size: [2, 3]"),
    "channels": ("F.conv2d(x, torch.ones(6, 2, 3, 3))",
                 "RuntimeError: Given groups=1, weight of size [6, 2, 3, 3], expected input[2, 4, 7, 6] to have 2 "
                 "channels, but got 4 channels instead"),
    "channels with groups": ("F.conv2d(x, torch.ones(6, 2, 3, 3), groups=3)",
                             "RuntimeError: Given groups=3, weight of size [6, 2, 3, 3], expected input[2, 4, 7, 6] to "
                             "have 6 channels, but got 4 channels instead"),
    "kernel larger than input": ("F.conv2d(torch.ones(2, 4, 2, 2), torch.ones(6, 4, 3, 3))",
                                 "RuntimeError: Calculated padded input size per channel: (2 x 2). Kernel size: "
                                 "(3 x 3). Kernel size can't be greater than actual input size"),
    "weight dtype": ("F.conv2d(x.double(), torch.ones(6, 4, 3, 3))",
                     "RuntimeError: expected scalar type Double but found Float"),
    "bias dtype": ("F.conv2d(x, torch.ones(6, 4, 3, 3), torch.ones(6).double())",
                   "RuntimeError: Input type (float) and bias type (double) should be the same"),
    "bias size": ("F.conv2d(x, torch.ones(6, 4, 3, 3), torch.ones(5))",
                  "RuntimeError: Given weight of size [6, 4, 3, 3], expected bias to be 1-dimensional with 6 "
                  "elements, but got bias of size [5] instead"),
    "padding string": ("F.conv2d(x, torch.ones(6, 4, 3, 3), padding='foo')",
                       "RuntimeError: Invalid padding string: 'foo'"),
    "same and strided": ("F.conv2d(x, torch.ones(6, 4, 3, 3), padding='same', stride=2)",
                         "RuntimeError: padding='same' is not supported for strided convolutions"),
    "zero stride": ("F.conv2d(x, torch.ones(6, 4, 3, 3), stride=0)",
                    "RuntimeError: non-positive stride is not supported"),
    "negative padding": ("F.conv2d(x, torch.ones(6, 4, 3, 3), padding=-1)",
                         "RuntimeError: negative padding is not supported"),
    "stride length": ("F.conv2d(x, torch.ones(6, 4, 3, 3), stride=(1, 1, 1))",
                      "RuntimeError: expected stride to be a single integer value or a list of 2 values to match "
                      "the convolution dimensions, but got stride=[1, 1, 1]"),
    "conv1d padding length": ("F.conv1d(torch.ones(2, 4, 7), torch.ones(6, 4, 3), padding=(1, 1))",
                              "RuntimeError: expected padding to be a single integer value or a list of 1 values to "
                              "match the convolution dimensions, but got padding=[1, 1]"),
    "output_padding": ("F.conv_transpose2d(x, torch.ones(4, 2, 3, 3), stride=2, output_padding=2)",
                       "RuntimeError: output padding must be smaller than either stride or dilation, but got "
                       "output_padding_height: 2 output_padding_width: 2 stride_height: 2 stride_width: 2 "
                       "dilation_height: 1 dilation_width: 1"),
    "transposed channels": ("F.conv_transpose2d(x, torch.ones(3, 2, 3, 3))",
                            "RuntimeError: Given transposed=1, weight of size [3, 2, 3, 3], expected input[2, 4, 7, 6] "
                            "to have 3 channels, but got 4 channels instead"),
    "unfold of 5-D": ("F.unfold(torch.ones(2, 3, 4, 4, 4), 2)",
                      "RuntimeError: Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
                      "non-zero dimensions for input, but got: [2, 3, 4, 4, 4]"),
    "fold blocks": ("F.fold(torch.ones(2, 8, 10), (4, 4), 2)",
                    "RuntimeError: Given output_size=(4, 4), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), "
                    "stride=(1, 1), expected size of input's dimension 2 to match the calculated number of sliding "
                    "blocks 3 * 3 = 9, but got input.size(2)=10."),
    "fold rows": ("F.fold(torch.ones(2, 7, 9), (4, 4), 2)",
                  "RuntimeError: Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                  "but got input.size(1)=7 and kernel_size=(2, 2)."),
    "pad length odd": ("F.pad(x, (1,))", "RuntimeError: Padding length must be divisible by 2"),
    "pad too long": ("F.pad(x, (1, 1) * 5)",
                     "RuntimeError: Padding length should be less than or equal to two times the input dimension but "
                     "got padding length 10 and input of dimension 4"),
    "pad value with reflect": ("F.pad(x, (1, 1), mode='reflect', value=1.0)",
                               "RuntimeError: Padding mode \"reflect\" doesn't take in value argument"),
    "reflect too wide": ("F.pad(x, (6, 6, 0, 0), mode='reflect')",
                         "RuntimeError: Argument #4: Padding size should be less than the corresponding input "
                         "dimension, but got: padding (6, 6) at dimension 3 of input [2, 4, 7, 6]"),
    "pad mode": ("F.pad(x, (1, 1), mode='foo')", "NotImplementedError: Unrecognised padding mode foo"),
    "reflect size": ("F.pad(x, (1, 1), mode='reflect')",
                     "NotImplementedError: Padding size 2 is not supported for 4D input tensor.\nSupported "
                     "combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last "
                     "dimension)\n  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: "
                     "padding size = 6 (pads last 3 dimensions)"),
    "circular wraps twice": ("F.pad(x, (7, 1, 0, 0), mode='circular')",
                             "RuntimeError: Padding value causes wrapping around more than once."),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


def test_same_padding_with_an_even_kernel_warns_once(monkeypatch):
    """As PyTorch's TORCH_WARN_ONCE: the first such call in a process warns, later ones don't."""
    from gradscope.nn._functional import convolution
    monkeypatch.setitem(convolution._warned, "same padding", False)
    x, w = gradscope.ones(2, 4, 7, 6), gradscope.ones(5, 4, 2, 2)
    with pytest.warns(UserWarning, match="^Using padding='same' with even kernel lengths and odd dilation may require "
                                         "a zero-padded copy of the input be created$"):
        assert F.conv2d(x, w, padding="same").shape == (2, 5, 7, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.conv2d(x, w, padding="same")


@pytest.mark.parametrize("call", [
    lambda x, w: F.conv2d(x, w, padding=1),
    lambda x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2),
    lambda x, w: F.unfold(x, 3),
])
def test_float32_stays_float32(call):
    x = gradscope.randn(2, 3, 5, 5, requires_grad=True)
    w = gradscope.randn(4, 3, 3, 3, requires_grad=True)
    out = call(x, w)
    assert out.dtype == gradscope.float32
    grads = gradscope.autograd.grad(out.sum(), [x, w], allow_unused=True)
    assert all(g is None or g.dtype == gradscope.float32 for g in grads)


def test_output_never_shares_the_inputs_memory():
    """A 1x1 unfold at stride 1 is a reshape of its input; the output must still be a copy."""
    x = gradscope.randn(1, 2, 3, 3)
    cols = F.unfold(x, 1)
    cols.zero_()
    assert x.abs().sum().item() > 0


@pytest.mark.parametrize("groups, stride, padding, dilation", [(1, 1, 1, 1), (2, 2, 0, 1), (4, 1, 2, 2), (1, 3, 1, 2)])
def test_conv2d_matches_torch_on_a_larger_input(groups, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(groups * 100 + stride)
    x, w, b = rng.standard_normal((3, 8, 11, 9)), rng.standard_normal((8, 8 // groups, 3, 3)), rng.standard_normal(8)
    results = []
    for lib in (gradscope, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = lib.nn.functional.conv2d(*tensors, stride=stride, padding=padding, dilation=dilation, groups=groups)
        grads = lib.autograd.grad((out * out).sum(), tensors)
        results.append([out.detach().numpy(), *(g.numpy() for g in grads)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
