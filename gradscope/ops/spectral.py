"""Discrete Fourier transforms, PyTorch's three primitives: complex to complex, real to complex, complex to real.

`normalization` is PyTorch's code: 0 none, 1 by 1/√n, 2 by 1/n, where n is the signal's size over `dim` (the real
side's, for r2c and c2r); `dim` holds non-negative dims (r2c and c2r halve the last one). Each transform is linear,
and its adjoint is the transform the other way with the same scale, so the rules are PyTorch's formulas in its
convention for complex gradients (ops.registry).
"""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops.padding import constant_pad_nd
from gradscope.ops.registry import primitive


def _scale(sizes, normalization: int) -> float:
    n = math.prod(sizes)
    return 1.0 if normalization == 0 or n == 0 else 1 / math.sqrt(n) if normalization == 1 else 1 / n


def _complex_of(dtype) -> np.dtype:
    return np.dtype(np.complex64) if dtype in (np.float32, np.complex64) else np.dtype(np.complex128)


def _scaled(out, scale: float, dtype):
    out = out if scale == 1.0 else out * scale
    return out.astype(dtype, copy=False)


def _c2c(a, dim, normalization, forward):
    # NOTE: NumPy's norm="forward" leaves its inverse transform unscaled: the scale is applied here, once
    transform = np.fft.fftn if forward else np.fft.ifftn
    out = transform(a, axes=dim, norm="backward" if forward else "forward")
    return _scaled(out, _scale([a.shape[d] for d in dim], normalization), a.dtype)


def _r2c(a, dim, normalization, onesided):
    out = np.fft.rfftn(a, axes=dim) if onesided else np.fft.fftn(a, axes=dim)
    return _scaled(out, _scale([a.shape[d] for d in dim], normalization), _complex_of(a.dtype))


def _c2r(a, dim, normalization, last_dim_size):
    sizes = [a.shape[d] for d in dim[:-1]] + [last_dim_size]
    out = np.fft.irfftn(a, s=sizes, axes=dim, norm="forward")
    return _scaled(out, _scale(sizes, normalization), np.float32 if a.dtype == np.complex64 else np.float64)


def _c2c_vjp(g, s):
    return s.xp.apply(fft_c2c, (g,), (s.dim, s.normalization, not s.forward))


def _r2c_vjp(g, s):
    # the gradient of the full spectrum: a one-sided one padded with zeros (the dropped half had no gradient)
    xp = s.xp
    last = s.dim[-1]
    if s.onesided:
        missing = s.self.shape[last] - g.shape[last]
        if missing:
            g = xp.apply(constant_pad_nd, (g,), ((0, 0) * (g.ndim - 1 - last) + (0, missing), 0))
    return xp.real(xp.apply(fft_c2c, (g,), (s.dim, s.normalization, False)))


def _c2r_vjp(g, s):
    # the half spectrum's entries stand for themselves and their conjugate mirror: those with a mirror count twice
    last = s.dim[-1]
    half = s.xp.apply(fft_r2c, (g,), (s.dim, s.normalization, True))
    doubled = g.shape[last] - half.shape[last]
    if doubled <= 0:
        return half
    mirrored = np.zeros(half.shape[last], dtype=bool)
    mirrored[1:1 + doubled] = True
    return s.xp.where(mirrored.reshape((-1,) + (1,) * (g.ndim - 1 - last)), half * 2, half)


fft_c2c = primitive("fft_c2c", _c2c, "FftC2CBackward0", inputs=("self",), params=("dim", "normalization", "forward"),
                    vjp=(_c2c_vjp,), complex_vjp=(_c2c_vjp,))
# NOTE: saves self as PyTorch does (its rule needs only the size): a second backward then raises, as there
fft_r2c = primitive("fft_r2c", _r2c, "FftR2CBackward0", inputs=("self",), params=("dim", "normalization", "onesided"),
                    saves=("self",), vjp=(_r2c_vjp,), complex_vjp=(_r2c_vjp,))
fft_c2r = primitive("fft_c2r", _c2r, "FftC2RBackward0", inputs=("self",),
                    params=("dim", "normalization", "last_dim_size"), unsaved=("last_dim_size",),
                    vjp=(_c2r_vjp,), complex_vjp=(_c2r_vjp,))
