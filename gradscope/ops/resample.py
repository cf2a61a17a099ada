"""Separable resampling: nearest, nearest-exact, linear, bilinear, bicubic and trilinear upsampling (and, in pooling.py,
adaptive average pooling) are one pass per spatial dim.

A pass along an axis makes output i from a few input "taps": out[i] = Σₜ weight[i, t] · x[index[i, t]],
gathered for every i and t at once (no loop over pixels). Its adjoint adds g[i] · weight[i, t] back at
index[i, t]: an index scatter, whose own VJP is the gather again, so every resampling op is
differentiable twice. Taps are computed as PyTorch's kernels compute them (UpSample.h: the 2x and 1x
shortcuts of nearest, float32 index arithmetic for nearest, the clamped source index and the zero-weight
second tap of linear), so the same input elements are read with the same weights; like PyTorch, a zero
weight still multiplies its tap (0 · inf is NaN in both). Taps marked invalid (padding of variable
windows) are skipped outright.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradscope.ops.registry import primitive


@dataclass(frozen=True)
class Taps:
    """One pass: `index` and `weight` (o, t) arrays, and which taps count (None: all of them)."""

    index: np.ndarray
    weight: np.ndarray | None = None
    valid: np.ndarray | None = None


def _along(values: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """(o, t) values shaped to broadcast against a (…, o, t, …) gather along `axis` of an ndim array."""
    return values.reshape(values.shape + (1,) * (ndim - axis - 1))


def pass_forward(x: np.ndarray, axis: int, taps: Taps) -> np.ndarray:
    gathered = np.take(x, taps.index, axis=axis)  # (…, o, t, …)
    if taps.weight is not None:
        gathered = gathered * _along(taps.weight.astype(x.dtype), axis, x.ndim)
    if taps.valid is not None:
        gathered = np.where(_along(taps.valid, axis, x.ndim), gathered, 0).astype(x.dtype, copy=False)
    return gathered.sum(axis=axis + 1) if taps.index.shape[1] > 1 else gathered.squeeze(axis + 1)


def pass_adjoint(xp, g, shape: tuple, axis: int, taps: Taps):
    """The gradient of `pass_forward` for input shape `shape`: each g[i] added back at its taps."""
    ndim = len(shape)
    g = xp.unsqueeze_dims(g, (axis + 1,))
    if taps.weight is not None:
        g = g * xp.cast(_along(taps.weight, axis, ndim), g.dtype)
    if taps.valid is not None:
        g = xp.where(_along(taps.valid, axis, ndim), g, 0.0)
    return xp.index_scatter(g, shape, (slice(None),) * axis + (taps.index,), True)


# ------------------------------------------------------------------------------- PyTorch's taps
def _scale(n: int, o: int, scale: float | None, dtype=np.float64):
    """compute_scales_value: 1 / the user's scale factor when one was given, else input / output size,
    in `dtype` (float32 for nearest's indices)."""
    return dtype(1.0 / scale) if scale is not None and scale > 0 else dtype(n) / dtype(o)


def nearest_taps(n: int, o: int, scale: float | None, exact: bool) -> Taps:
    """nearest: ⌊i · scale⌋; nearest-exact: ⌊(i + ½) · scale⌋; in float32, as PyTorch (floorf)."""
    i = np.arange(o)
    if not exact and o == n:
        index = i
    elif not exact and o == 2 * n:
        index = i >> 1
    else:
        factor = _scale(n, o, scale, np.float32)
        position = (i + 0.5) * np.float64(factor) if exact else i.astype(np.float32) * factor
        index = np.minimum(np.floor(position.astype(np.float32)).astype(np.int64), n - 1)
    return Taps(index[:, None])


def linear_taps(n: int, o: int, align_corners: bool, scale: float | None) -> Taps:
    """Two taps per output, x[i0] and x[i0 + 1] (i0 itself at the last element), weights 1 - λ and λ."""
    i = np.arange(o, dtype=np.float64)
    if align_corners:
        source = i * ((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        source = np.maximum(_scale(n, o, scale) * (i + 0.5) - 0.5, 0.0)
    first = source.astype(np.int64)
    second = first + (first < n - 1)
    fraction = np.clip(source - first, 0.0, 1.0)
    return Taps(np.stack([first, second], 1), np.stack([1.0 - fraction, fraction], 1))


_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution coefficient


def cubic_taps(n: int, o: int, align_corners: bool, scale: float | None) -> Taps:
    """Four taps per output, x[i0 - 1] … x[i0 + 2] read with their index clamped to the input (so an edge
    element can take several taps), weighted by Keys' cubic convolution of the distance, as PyTorch's
    upsample_bicubic2d. Unlike linear's, the source index is not clamped at 0 before it is split."""
    i = np.arange(o, dtype=np.float64)
    if align_corners:
        source = i * ((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        source = _scale(n, o, scale) * (i + 0.5) - 0.5
    first = np.floor(source)
    t = source - first
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weight = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1)
    index = np.clip(first.astype(np.int64)[:, None] + np.arange(-1, 3), 0, n - 1)
    return Taps(index, weight)


def separable(taps_of, param_names: tuple, dims: int):
    """Forward and VJP rule of an op made of passes over the last `dims` dims: `taps_of(sizes, params)`
    gives one Taps per dim. Passes run last dim first (PyTorch's bilinear interpolates along W inside
    its H interpolation); the rule runs their adjoints in the opposite order."""
    def forward(a, *params):
        all_taps = taps_of(a.shape[-dims:], params)
        for i in reversed(range(dims)):
            a = pass_forward(a, a.ndim - dims + i, all_taps[i])
        return a

    adjoint = separable_adjoint(taps_of, dims)

    def rule(g, s):
        return adjoint(s.xp, g, tuple(s.self_sym_sizes), tuple(getattr(s, name) for name in param_names))
    return forward, rule


def separable_adjoint(taps_of, dims: int):
    """`adjoint(xp, g, sizes, params)`: the gradient, for an input of shape `sizes`, of the passes `taps_of` gives."""
    def adjoint(xp, g, sizes, params):
        all_taps = taps_of(sizes[-dims:], params)
        for i in range(dims):
            axis = len(sizes) - dims + i
            g = pass_adjoint(xp, g, sizes[:axis + 1] + tuple(g.shape[axis + 1:]), axis, all_taps[i])
        return g
    return adjoint


def _nearest(exact: bool):
    def taps_of(sizes, params):
        output_size, *scales = params
        return [nearest_taps(n, o, scale, exact) for n, o, scale in zip(sizes, output_size, scales, strict=True)]
    return taps_of


def _linear(sizes, params):
    output_size, align_corners, *scales = params
    return [linear_taps(n, o, align_corners, scale) for n, o, scale in zip(sizes, output_size, scales, strict=True)]


def _cubic(sizes, params):
    output_size, align_corners, *scales = params
    return [cubic_taps(n, o, align_corners, scale) for n, o, scale in zip(sizes, output_size, scales, strict=True)]


def _upsample_primitive(name: str, node: str, dims: int, params: tuple, taps_of):
    forward, rule = separable(taps_of, params, dims)
    return primitive(name, forward, node, inputs=("self",), params=params, attrs=("self_sym_sizes",), vjp=(rule,))


_NEAREST_1D, _NEAREST_2D = ("output_size", "scales"), ("output_size", "scales_h", "scales_w")
upsample_nearest1d = _upsample_primitive("upsample_nearest1d", "UpsampleNearest1DBackward0", 1, _NEAREST_1D,
                                         _nearest(False))
upsample_nearest2d = _upsample_primitive("upsample_nearest2d", "UpsampleNearest2DBackward0", 2, _NEAREST_2D,
                                         _nearest(False))
upsample_nearest_exact1d = _upsample_primitive("upsample_nearest_exact1d", "UpsampleNearestExact1DBackward0", 1,
                                               _NEAREST_1D, _nearest(True))
upsample_nearest_exact2d = _upsample_primitive("upsample_nearest_exact2d", "UpsampleNearestExact2DBackward0", 2,
                                               _NEAREST_2D, _nearest(True))
upsample_linear1d = _upsample_primitive("upsample_linear1d", "UpsampleLinear1DBackward0", 1,
                                        ("output_size", "align_corners", "scales"), _linear)
upsample_bilinear2d = _upsample_primitive("upsample_bilinear2d", "UpsampleBilinear2DBackward0", 2,
                                          ("output_size", "align_corners", "scales_h", "scales_w"), _linear)
upsample_bicubic2d = _upsample_primitive("upsample_bicubic2d", "UpsampleBicubic2DBackward0", 2,
                                         ("output_size", "align_corners", "scales_h", "scales_w"), _cubic)
_NEAREST_3D = ("output_size", "scales_d", "scales_h", "scales_w")
upsample_nearest3d = _upsample_primitive("upsample_nearest3d", "UpsampleNearest3DBackward0", 3, _NEAREST_3D,
                                         _nearest(False))
upsample_nearest_exact3d = _upsample_primitive("upsample_nearest_exact3d", "UpsampleNearestExact3DBackward0", 3,
                                               _NEAREST_3D, _nearest(True))
_TRILINEAR = ("output_size", "align_corners", "scales_d", "scales_h", "scales_w")
upsample_trilinear3d = _upsample_primitive("upsample_trilinear3d", "UpsampleTrilinear3DBackward0", 3, _TRILINEAR,
                                           _linear)
