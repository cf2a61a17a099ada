"""Fractional max pooling (Graham, 2014): windows of a fixed size whose starts follow a pseudo-random sequence
drawn from one sample in [0, 1) per plane and axis, as PyTorch's CPU kernel computes it (in the input's dtype,
so float32 inputs give float32 rounding). The backward sends each gradient to the element its window picked."""

from __future__ import annotations

import numpy as np

from gradscope.ops.pooling import index_pool_backward, pooled_indices
from gradscope.ops.registry import primitive


def _starts(samples: np.ndarray, input_size: int, output_size: int, pool: int) -> np.ndarray:
    """Each plane's window starts along one axis: ⌊(i + u)·α⌋ - ⌊u·α⌋ with α = (in - pool) / (out - 1), the
    last window flush with the end."""
    starts = np.full((len(samples), output_size), input_size - pool, dtype=np.int64)
    if output_size > 1:
        dtype = samples.dtype.type
        alpha = dtype(input_size - pool) / dtype(output_size - 1)
        steps = np.arange(output_size - 1, dtype=samples.dtype)
        starts[:, :-1] = ((steps + samples[:, None]) * alpha).astype(np.int64) - (samples * alpha).astype(
            np.int64)[:, None]
    return starts


def _fractional_max_pool(a, random_samples, kernel_size, output_size):
    """(the maxima, their flat indices within each plane); NaN wins a window (the last NaN), ties go to the
    first maximum."""
    k = len(kernel_size)
    spatial = a.shape[-k:]
    planes = a.reshape(-1, *spatial)
    # PyTorch's sample order per plane: (width, height) in 2-D, (time, height, width) in 3-D
    axes = (1, 0) if k == 2 else (0, 1, 2)
    samples = random_samples[: a.shape[0] if a.ndim == k + 2 else 1].reshape(-1, k)
    starts = [_starts(samples[:, axes.index(d)], spatial[d], output_size[d], kernel_size[d]) for d in range(k)]
    # every plane's window elements as flat indices: (plane, *output, *window)
    flat = np.zeros((len(planes), *output_size, *kernel_size), dtype=np.int64)
    for d in range(k):
        shape = [len(planes)] + [1] * (2 * k)
        shape[1 + d] = output_size[d]
        offsets = [1] * (2 * k + 1)
        offsets[1 + k + d] = kernel_size[d]
        coordinate = starts[d].reshape(shape) + np.arange(kernel_size[d]).reshape(offsets)
        flat = flat * spatial[d] + coordinate
    windows = np.take_along_axis(planes.reshape(len(planes), -1), flat.reshape(len(planes), -1), axis=1).reshape(
        flat.shape[: k + 1] + (-1,))
    flat = flat.reshape(windows.shape)
    nan = np.isnan(windows)
    picked = np.argmax(np.where(nan, -np.inf, windows), axis=-1)
    last_nan = windows.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    picked = np.where(nan.any(axis=-1), last_nan, picked)
    values = np.take_along_axis(windows, picked[..., None], -1)[..., 0]
    indices = np.take_along_axis(flat, picked[..., None], -1)[..., 0]
    shape = a.shape[:-k] + tuple(output_size)
    return values.reshape(shape), indices.reshape(shape)


def _fractional_primitive(dims: int):
    backward = index_pool_backward(f"fractional_max_pool{dims}d", f"FractionalMaxPool{dims}D", dims)
    return primitive(
        f"fractional_max_pool{dims}d", _fractional_max_pool, f"FractionalMaxPool{dims}DBackward0", inputs=("self",),
        params=("random_samples", "kernel_size", "output_size"), unsaved=("random_samples", "self_sym_sizes"),
        attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,), saves=(("self", "result1"),),
        vjp=(lambda g, s: s.xp.apply(backward, (g[0], s.self), (pooled_indices(s), True)),))


fractional_max_pool2d = _fractional_primitive(2)
fractional_max_pool3d = _fractional_primitive(3)
