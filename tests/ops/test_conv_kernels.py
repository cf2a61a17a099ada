"""On arrays, a convolution's products run on columns copied once, a batch chunk at a time, each written straight into
its result, and at stride 1 the input gradient is a correlation with the reversed kernel (ops/conv.py); other input
gradients, and every graph built under create_graph, run on im2col/col2im. The kernels compute the same thing:
checked against each other on random shapes, and against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope
from gradscope.ops import conv as C
from gradscope.ops.namespace import NUMPY


@st.composite
def geometries(draw):
    """A geometry: batch, groups, channels, sizes, kernel, dilation and (before, after) paddings, the
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


@settings(max_examples=120, deadline=None)
@given(geometry=geometries(), stride=st.lists(st.integers(1, 3), min_size=3, max_size=3),
       chunk_bytes=st.sampled_from([1, 200, C.CHUNK_BYTES]), biased=st.booleans(), seed=st.integers(0, 2**16))
def test_array_kernels_compute_what_im2col_and_col2im_compute(geometry, stride, chunk_bytes, biased, seed):
    """The forward (with a bias carried by a row of ones, or without one) and the weight product at any stride, the
    input gradient at stride 1 (at other strides it is col2im's); chunks of one sample and more reuse the columns'
    buffer, whose places off the input must stay zero (np.empty is poisoned: memory never written shows)."""
    n, groups, channels, out_channels, size, kernel, dilation, pads = geometry
    stride = tuple(stride[:len(size)])
    ones = (1,) * len(size)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels) + size)
    weight = rng.standard_normal((out_channels, channels // groups) + kernel)
    bias = rng.standard_normal(out_channels) if biased else None
    expected = C._correlate_im2col(NUMPY, x, weight, stride, pads, dilation, groups)
    g = rng.standard_normal(expected.shape)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(C, "CHUNK_BYTES", chunk_bytes)  # 1: a sample a chunk
        patch.setattr(np, "empty", _poisoned(np.empty))
        pairs = [
            (C._correlate_direct(x, weight, bias, stride, pads, dilation, groups),
             expected if bias is None else expected + bias.reshape((-1,) + ones)),
            (C._weight_product_direct(g, x, weight.shape, stride, pads, dilation, groups),
             C._weight_product_im2col(NUMPY, g, x, weight.shape, stride, pads, dilation, groups)),
        ]
        if stride == ones:
            pairs.append((C._correlate_adjoint_direct(g, weight, pads, dilation, groups),
                          C._correlate_transposed_col2im(NUMPY, g, weight, size, ones, pads, dilation, groups)))
    for ours, theirs in pairs:
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@settings(max_examples=120, deadline=None)
@given(geometry=geometries(), chunk_bytes=st.sampled_from([1, 200, C.CHUNK_BYTES]), seed=st.integers(0, 2**16),
       nan=st.booleans())
def test_both_gradients_from_gs_columns_are_the_kernels_each_computes(geometry, chunk_bytes, seed, nan):
    """At stride 1 the joint backward (ConvolutionBackward0's `joint_vjp`) takes x's and the weight's gradients from
    one set of g's columns: what col2im and im2col give. A NaN in g (at times) reaches the same places of x's
    gradient; of the weight's, those it reaches through products with x's elements: im2col's also multiplies it by
    the zeros of x's padding (PyTorch's float32 kernels skip the padding, its float64 ones don't; see
    test_array_kernels_multiply_only_terms_of_the_definition)."""
    n, groups, channels, out_channels, size, kernel, dilation, pads = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels) + size)
    weight = rng.standard_normal((out_channels, channels // groups) + kernel)
    g = rng.standard_normal(C._correlate_im2col(NUMPY, x, weight, (1,) * len(size), pads, dilation, groups).shape)
    if nan and g.size:
        g.flat[rng.integers(g.size)] = np.nan
    ones = (1,) * len(size)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(C, "CHUNK_BYTES", chunk_bytes)
        patch.setattr(np, "empty", _poisoned(np.empty))
        dx, dw = C._adjoint_and_weight_direct(g, x, weight, pads, dilation, groups)
    assert dx.shape == x.shape and dw.shape == weight.shape and dw.flags.c_contiguous
    np.testing.assert_allclose(dx, C._correlate_transposed_col2im(NUMPY, g, weight, size, ones, pads, dilation, groups),
                               rtol=1e-12, atol=1e-12)
    expected = C._weight_product_im2col(NUMPY, g, x, weight.shape, ones, pads, dilation, groups)
    assert not (np.isnan(dw) & ~np.isnan(expected)).any()
    finite = ~np.isnan(expected)
    np.testing.assert_allclose(dw[finite], expected[finite], rtol=1e-12, atol=1e-12)
    if not nan:
        assert finite.all() and not np.isnan(dw).any()


def _terms(grid, kernel, size, stride, pads, dilation):
    """(grid position, kernel position, input position) of every term of a convolution: the kernel positions of
    each window that land on x, none on padding."""
    for o in np.ndindex(*grid):
        for k in np.ndindex(*kernel):
            i = tuple(s * oo + d * kk - b for oo, kk, s, d, (b, _) in zip(o, k, stride, dilation, pads, strict=True))
            if all(0 <= ii < m for ii, m in zip(i, size, strict=True)):
                yield o, k, i


def _by_definition(x, weight, g, stride, pads, dilation, groups):
    """The forward, x's gradient and the weight's, each a sum of its terms, one term at a time."""
    grouped = lambda a: a.reshape(a.shape[:1] + (groups, a.shape[1] // groups) + a.shape[2:])  # noqa: E731
    out, dx = np.zeros(g.shape), np.zeros(x.shape)
    dw = np.zeros(weight.shape)
    xs, gs, ws, outs, dxs = grouped(x), grouped(g), grouped(weight[None])[0], grouped(out), grouped(dx)
    dws = dw.reshape(ws.shape)
    every = (slice(None),) * 3
    for o, k, i in _terms(g.shape[2:], weight.shape[2:], x.shape[2:], stride, pads, dilation):
        outs[every + o] += np.einsum("ngc,goc->ngo", xs[every + i], ws[every + k])
        dxs[every + i] += np.einsum("ngo,goc->ngc", gs[every + o], ws[every + k])
        dws[every + k] += np.einsum("ngo,ngc->goc", gs[every + o], xs[every + i])
    return out, dx, dw


def _assert_same_terms(ours, theirs):
    """Equal, NaN and ±inf at the same places."""
    assert ours.shape == theirs.shape
    for kind in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(kind(ours), kind(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-10, atol=1e-10)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(max_examples=80, deadline=None)
@given(geometry=geometries(), stride=st.lists(st.integers(1, 3), min_size=3, max_size=3),
       poisoned=st.lists(st.sampled_from(["x", "weight", "g"]), max_size=3), seed=st.integers(0, 2**16))
def test_array_kernels_multiply_only_terms_of_the_definition(geometry, stride, poisoned, seed):
    """A NaN or an inf in x, the weight or g reaches only the outputs and gradients whose sums have a term with it:
    the kernels' padding zeros (0 · NaN is NaN) must not carry it further. Every array kernel of a convolution and
    of its transpose (whose forward is x's gradient, and whose x gradient is the forward) against the terms one at
    a time."""
    n, groups, channels, out_channels, size, kernel, dilation, pads = geometry
    stride = tuple(stride[:len(size)])
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels) + size)
    weight = rng.standard_normal((out_channels, channels // groups) + kernel)
    g = rng.standard_normal(C._correlate_im2col(NUMPY, x, weight, stride, pads, dilation, groups).shape)
    for name in poisoned:
        array = {"x": x, "weight": weight, "g": g}[name]
        if array.size:
            array.flat[rng.integers(array.size)] = rng.choice([np.nan, np.inf, -np.inf])
    out, dx, dw = _by_definition(x, weight, g, stride, pads, dilation, groups)
    _assert_same_terms(C._correlate_direct(x, weight, None, stride, pads, dilation, groups), out)
    _assert_same_terms(C._weight_product_direct(g, x, weight.shape, stride, pads, dilation, groups), dw)
    _assert_same_terms(C._correlate_transposed(NUMPY, g, weight, size, stride, pads, dilation, groups), dx)
    if stride == (1,) * len(size):
        for ours, theirs in zip(C._adjoint_and_weight_direct(g, x, weight, pads, dilation, groups), (dx, dw),
                                strict=True):
            _assert_same_terms(ours, theirs)


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
    """Values and the three gradients, through the array kernels, in both float dtypes."""
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


@pytest.mark.parametrize("name, kwargs, dims", [
    ("conv2d", {"padding": 1, "stride": 2}, 2),
    ("conv1d", {"padding": 2, "dilation": 2, "groups": 2}, 1),
    ("conv3d", {"padding": (1, 0, 1)}, 3),
    ("conv_transpose2d", {"padding": 1, "stride": 2, "output_padding": 1}, 2),
    ("conv_transpose1d", {"padding": 1, "groups": 2}, 1),
])
def test_term_graphs_differentiate_as_the_im2col_graphs(name, kwargs, dims, monkeypatch):
    """Under create_graph, a weight (or a g, or a transposed convolution's x) that is not finite builds the gradients
    from conv_terms' graphs. Forced on finite inputs, they give the im2col graphs' first and second derivatives."""
    rng = np.random.default_rng(dims)
    groups = kwargs.get("groups", 1)
    x = rng.standard_normal((2, 4) + (6, 5, 4)[:dims])
    shape = (4, 4 // groups)  # (out, in/G), or a transposed one's (in, out/G): 4 channels either way
    w = rng.standard_normal(shape + (3, 2, 3)[:dims])

    def derivatives():
        tensors = [gradscope.tensor(a, requires_grad=True) for a in (x, w)]
        out = getattr(gradscope.nn.functional, name)(*tensors, **kwargs)
        first = gradscope.autograd.grad((out * out).sum(), tensors, create_graph=True)
        second = gradscope.autograd.grad(sum((g * g).sum() for g in first), tensors)
        return [t.detach().numpy() for t in (*first, *second)]

    expected = derivatives()
    monkeypatch.setattr(C.conv_terms, "finite", lambda array: False)
    for ours, theirs in zip(derivatives(), expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("name, kwargs", [("conv2d", {"padding": 1}), ("conv2d", {"padding": 1, "stride": 2}),
                                          ("conv_transpose2d", {"padding": 1}),
                                          ("conv_transpose2d", {"padding": 1, "stride": 2})])
@pytest.mark.parametrize("poisoned", ["x", "weight", "g"])
def test_create_graph_keeps_nans_where_a_first_order_backward_does(name, kwargs, poisoned):
    """The gradients' values under create_graph are the array kernels' (term by term where a factor is not finite)."""
    rng = np.random.default_rng(len(name) + len(kwargs))
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((3, 3, 3, 3))
    arrays = {"x": x, "weight": w}
    if poisoned in arrays:
        arrays[poisoned][(1, 0, 0, 0) if poisoned == "weight" else (0, 0, 0, 0)] = np.nan
    results = []
    for create_graph in (False, True):
        tensors = [gradscope.tensor(a, requires_grad=True) for a in (x, w)]
        out = getattr(gradscope.nn.functional, name)(*tensors, **kwargs)
        g = np.ones(tuple(out.shape))
        if poisoned == "g":
            g[0, 1, 0, 0] = np.nan
        grads = gradscope.autograd.grad(out, tensors, gradscope.tensor(g), create_graph=create_graph)
        results.append([t.detach().numpy() for t in grads])
    for ours, theirs in zip(*results, strict=True):
        _assert_same_terms(ours, theirs)
