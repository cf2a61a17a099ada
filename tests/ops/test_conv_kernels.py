"""On arrays, a convolution's forward copies each batch chunk's columns once and writes its product into the output
(ops/conv.py); its stride-1 gradients run on shifts of the flattened padded input, a batch chunk at a time; every
other gradient, and every graph built under create_graph, on im2col/col2im. The kernels compute the same thing:
checked against each other on random shapes, and against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope
from gradscope.autograd.tensor_namespace import TENSOR
from gradscope.ops import conv as C
from gradscope.ops.namespace import NUMPY


@st.composite
def geometries(draw):
    """A stride-1 geometry: batch, groups, channels, sizes, kernel, dilation and (before, after) paddings, the
    after one negative at times (a transposed convolution's output_padding)."""
    dims = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(-1, 2))) for _ in range(dims))
    size = tuple(max(draw(st.integers(1, 6)), d * (k - 1) + 1 - b - a + 1)
                 for k, d, (b, a) in zip(kernel, dilation, pads, strict=True))
    groups = draw(st.integers(1, 3))
    return (draw(st.integers(0, 3)), groups, groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3)),
            size, kernel, dilation, pads)


def _poisoned(empty):
    """np.empty whose float memory holds NaN: a kernel that reads memory it never wrote shows it in its result
    (fresh memory is often zeros, which would hide it)."""
    def poisoned(shape, dtype=float, *args, **kwargs):
        out = empty(shape, dtype, *args, **kwargs)
        if out.dtype.kind == "f":
            out.fill(np.nan)
        return out
    return poisoned


@settings(max_examples=80, deadline=None)
@given(geometry=geometries(), chunk_bytes=st.sampled_from([1, 200, C.CHUNK_BYTES]), seed=st.integers(0, 2**16))
def test_shifts_compute_what_im2col_computes(geometry, chunk_bytes, seed):
    n, groups, channels, out_channels, size, kernel, dilation, pads = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels) + size)
    weight = rng.standard_normal((out_channels, channels // groups) + kernel)
    ones = (1,) * len(size)
    expected = C._correlate_im2col(NUMPY, x, weight, ones, pads, dilation, groups)
    g = rng.standard_normal(expected.shape)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(C, "CHUNK_BYTES", chunk_bytes)  # 1: a sample a chunk
        patch.setattr(np, "empty", _poisoned(np.empty))
        pairs = [
            (C._correlate_direct(x, weight, None, ones, pads, dilation, groups), expected),
            (C._correlate_transposed_shifted(g, weight, size, pads, dilation, groups),
             C._correlate_transposed_col2im(NUMPY, g, weight, size, ones, pads, dilation, groups)),
            (C._weight_product_shifted(g, x, weight.shape, pads, dilation, groups),
             C._weight_product_im2col(NUMPY, g, x, weight.shape, ones, pads, dilation, groups)),
        ]
        pairs += zip(C._backward_shifted(g, weight, size, pads, dilation, groups, x), (pairs[1][1], pairs[2][1]))
    for ours, theirs in pairs:
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@settings(max_examples=80, deadline=None)
@given(geometry=geometries(), stride=st.lists(st.integers(1, 3), min_size=3, max_size=3),
       chunk_bytes=st.sampled_from([1, 200, C.CHUNK_BYTES]), biased=st.booleans(), seed=st.integers(0, 2**16))
def test_direct_forward_computes_what_im2col_computes(geometry, stride, chunk_bytes, biased, seed):
    """At any stride, with the bias carried by a row of ones or without one; chunks of one sample and more reuse the
    columns' buffer, whose places off the input must stay zero (the buffer is poisoned where it is not zeroed)."""
    n, groups, channels, out_channels, size, kernel, dilation, pads = geometry
    stride = tuple(stride[:len(size)])
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels) + size)
    weight = rng.standard_normal((out_channels, channels // groups) + kernel)
    bias = rng.standard_normal(out_channels) if biased else None
    expected = C._correlate_im2col(NUMPY, x, weight, stride, pads, dilation, groups)
    if biased:
        expected = expected + bias.reshape((-1,) + (1,) * len(size))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(C, "CHUNK_BYTES", chunk_bytes)
        patch.setattr(np, "empty", _poisoned(np.empty))
        ours = C._correlate_direct(x, weight, bias, stride, pads, dilation, groups)
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def test_shifts_only_at_stride_one_on_arrays_when_little_is_wasted():
    same = ((1, 1), (1, 1))
    assert C._shifts_pay(NUMPY, (28, 28), (3, 3), (1, 1), same, (1, 1))
    assert not C._shifts_pay(NUMPY, (28, 28), (3, 3), (2, 2), same, (1, 1))
    assert not C._shifts_pay(TENSOR, (28, 28), (3, 3), (1, 1), same, (1, 1))  # building a graph: im2col/col2im
    assert not C._shifts_pay(NUMPY, (8, 8), (1, 7), (1, 1), ((0, 0), (0, 0)), (1, 1))  # 2 outputs a row of 8


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 2e-4)])
@pytest.mark.parametrize("name, kwargs, in_channels, out_channels, dims", [
    ("conv2d", {"padding": 1}, 4, 6, 2),
    ("conv2d", {"padding": 2, "dilation": 2, "groups": 2}, 4, 6, 2),
    ("conv1d", {"padding": 3}, 3, 5, 1),
    ("conv3d", {"padding": (1, 0, 1)}, 2, 3, 3),
    ("conv_transpose2d", {"padding": 1, "dilation": 2, "output_padding": 1}, 4, 2, 2),
    ("conv_transpose1d", {"padding": 0, "groups": 3}, 3, 3, 1),
])
def test_stride_one_convolutions_match_torch(name, kwargs, in_channels, out_channels, dims, dtype, tolerance):
    """Values and the three gradients, through the shift kernels, in both float dtypes."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(name) + dims)
    groups = kwargs.get("groups", 1)
    x = rng.standard_normal((3, in_channels) + (9, 8, 7)[:dims]).astype(dtype)
    transposed = name.startswith("conv_transpose")
    shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
    w = rng.standard_normal(shape + (3, 2, 3)[:dims]).astype(dtype)
    b = rng.standard_normal(out_channels).astype(dtype)
    results = []
    for lib in (gradscope, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = getattr(lib.nn.functional, name)(*tensors, **kwargs)
        grads = lib.autograd.grad((out * out).sum(), tensors)
        results.append([out.detach().numpy(), *(g.numpy() for g in grads)])
    for ours, theirs in zip(*results, strict=True):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance * np.abs(theirs).max())


@settings(max_examples=150, deadline=None)
@given(pads=st.lists(st.tuples(st.integers(-6, 3), st.integers(-6, 3)), min_size=1, max_size=3),
       value=st.sampled_from([0.0, -np.inf, 2.5]))
def test_pad_or_crop_is_a_window_on_x_in_a_buffer_of_value(pads, value):
    """Each trailing dim grown by (before, after), filled with `value`, or cut where an amount is negative, down to
    nothing when the cuts pass each other (only margins are filled, and a crop only copies: both against the
    definition)."""
    x = np.random.default_rng(0).standard_normal((2, 5, 4, 3))
    k = len(pads)
    sizes = x.shape[-k:]
    shape = x.shape[:-k] + tuple(max(n + b + a, 0) for n, (b, a) in zip(sizes, pads, strict=True))
    expected = np.full(shape, value)
    # x's element i along a dim lands at i + before, if that is inside the result
    kept = [(i, i + b) for n, (b, _), size in zip(sizes, pads, shape[-k:], strict=True)
            for i in [np.arange(n)[(np.arange(n) + b >= 0) & (np.arange(n) + b < size)]]]
    if all(len(i) for i, _ in kept):
        expected[(Ellipsis,) + np.ix_(*[j for _, j in kept])] = x[(Ellipsis,) + np.ix_(*[i for i, _ in kept])]
    np.testing.assert_array_equal(C.pad_or_crop(x, tuple(pads), value), expected)
