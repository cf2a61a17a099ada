"""Pooling over the trailing spatial dims: max (with indices), average, adaptive average and adaptive max.

Max and average pooling read the same strided windows as im2col (ops/conv.py). A max pool's VJP
adds each gradient at the input element its window picked (the first maximum in window order, as
PyTorch's kernels pick, so ties are a choice made on purpose); as in PyTorch that scatter is an op of
its own (MaxPool2DWithIndicesBackwardBackward0 …), whose VJP gathers, so max pooling is differentiable
twice. An average pool's VJP spreads g / divisor over each window (a col2im); it too is an op of its own
(AvgPool2DBackwardBackward0 …, and the adaptive pools' likewise), whose VJP is the pool again and gives the input a
zero gradient, as PyTorch's.

Adaptive average pooling is separable: along each dim, output i averages the input range
[⌊i·n/o⌋, ⌈(i+1)·n/o⌉), one resampling pass per dim (ops/resample.py), windows of varying size
gathered at once. Adaptive max pooling gathers its varying windows the same way.
"""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops import shape as S
from gradscope.ops.conv import FEW_POSITIONS, col2im, pad_or_crop, windows
from gradscope.ops.namespace import NUMPY
from gradscope.ops.registry import primitive
from gradscope.ops.resample import Taps, separable, separable_adjoint


def pool_geometry(sizes, kernel_size, stride, padding, dilation, ceil_mode) -> tuple[tuple, tuple]:
    """Output size per dim, and the padding ceil_mode adds at the end so the last window fits
    (PyTorch's pooling_output_shape: a last window must start inside the input or its left padding)."""
    out, extra = [], []
    for n, k, s, p, d in zip(sizes, kernel_size, stride, padding, dilation, strict=True):
        span = d * (k - 1) + 1
        o = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out.append(o)
        extra.append(max((o - 1) * s + span - (n + 2 * p), 0))
    return tuple(out), tuple(extra)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _pool_windows(a, kernel_size, stride, padding, dilation, ceil_mode, fill):
    k = len(kernel_size)
    out, extra = pool_geometry(a.shape[-k:], kernel_size, stride, padding, dilation, ceil_mode)
    padded = pad_or_crop(a, tuple((p, p + e) for p, e in zip(padding, extra, strict=True)), fill)
    view = windows(padded, kernel_size, dilation, stride)
    return view[(Ellipsis,) + tuple(slice(0, o) for o in out) + (slice(None),) * k], out


# NOTE: PyTorch's max-pool kernels take an element when `value > best or isnan(value)`: a window's first maximum,
# or its last NaN. Both ways of finding it below keep that rule.
def window_max(view, k: int, disjoint: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum over the trailing `k` axes of `view`, and the flat kernel position picked. `disjoint`:
    no two windows share an element of the input."""
    kernel = view.shape[-k:]
    if math.prod(kernel) <= FEW_POSITIONS:
        return max_over_positions(view, kernel, disjoint)
    return max_by_argmax(view.reshape(view.shape[:-k] + (-1,)))


# NOTE: disjoint windows copied position-major first (no more than the input) turn every pass below from rows one
# window wide into whole contiguous blocks: the CNN bench's 2×2 pool (32×16×28×28, f32) 452 → 368 µs; overlapping
# windows would copy the input several times over (3×3 at stride 1: 2.7 → 3.4 ms), so they stay strided views
def max_over_positions(view, kernel, disjoint: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One elementwise pass per kernel position, each over that position's block of every window: a strided view of
    the input, or of disjoint windows a block of one position-major copy of them. No Python loop over windows. NaNs
    (rare) cost a second run that takes each window's last one."""
    k = len(kernel)
    if disjoint:
        windows_by_position = np.empty(tuple(kernel) + view.shape[:-k], view.dtype)
        np.copyto(windows_by_position, np.moveaxis(view, tuple(range(-k, 0)), tuple(range(k))))
        blocks = [windows_by_position[position] for position in np.ndindex(*kernel)]
    else:
        blocks = [view[(Ellipsis,) + position] for position in np.ndindex(*kernel)]
    best, arg = _running_max(blocks, nan_aware=False)
    if best.dtype.kind == "f" and np.isnan(best).any():  # np.maximum carries a window's NaN to its maximum
        best, arg = _running_max(blocks, nan_aware=True)
    return best, arg


def _running_max(blocks, nan_aware: bool) -> tuple[np.ndarray, np.ndarray]:
    best = blocks[0].copy()
    arg = np.zeros(best.shape, np.int8)
    for p, value in enumerate(blocks[1:], 1):
        taken = value > best
        if nan_aware:
            taken |= np.isnan(value)
        np.maximum(best, value, out=best)  # keeps `best` on ties and takes a NaN from either side, as the rule
        np.maximum(arg, np.multiply(taken, np.int8(p)), out=arg)  # positions grow: the last one taken is the largest
    return best, arg


def max_by_argmax(flat) -> tuple[np.ndarray, np.ndarray]:
    """Over the last axis of a copy of the windows: NumPy's argmax, then the last NaN where there is one."""
    arg = flat.argmax(-1)  # the first maximum, or the first NaN
    values = np.take_along_axis(flat, arg[..., None], -1)[..., 0]
    if values.dtype.kind == "f" and np.isnan(values).any():
        nan = np.isnan(flat)
        arg = np.where(nan.any(-1), flat.shape[-1] - 1 - nan[..., ::-1].argmax(-1), arg)
    return values, arg


def _input_index(arg, starts, kernel_size, dilation, sizes) -> np.ndarray:
    """The flat index in the input plane (PyTorch's indices) of each window's picked kernel position `arg`.
    `starts[i]` holds where the windows begin along dim i (negative inside the left padding)."""
    plane_strides = np.cumprod((1,) + tuple(sizes[:0:-1]))[::-1]
    offsets = sum(position * d * step for position, d, step
                  in zip(np.unravel_index(np.arange(math.prod(kernel_size)), kernel_size), dilation, plane_strides,
                         strict=True))
    base = sum(start * step for start, step in zip(starts, plane_strides, strict=True))
    index = offsets.take(arg)
    index += base  # in place: one array of the output's size, not two
    if any(start.min() < 0 for start in starts):
        # only a window of nothing but the lowest value picks its padding, and then at its first position: PyTorch
        # reports the first element inside the input instead (the first position on the dilation grid that is >= 0)
        inside = sum(np.where(start < 0, start % d, start) * step
                     for start, d, step in zip(starts, dilation, plane_strides, strict=True))
        index += (arg == 0) * (inside - base)
    return index


def _open_axes(values, axis: int, k: int):
    """A 1-D array laid along output axis `axis` of `k` trailing axes (broadcasts against them)."""
    return np.reshape(values, (-1,) + (1,) * (k - 1 - axis))


def _max_pool(a, kernel_size, stride, padding, dilation, ceil_mode):
    k = len(kernel_size)
    view, out = _pool_windows(a, kernel_size, stride, padding, dilation, ceil_mode, _lowest(a.dtype))
    starts = [_open_axes(np.arange(o) * s - p, i, k)
              for i, (o, s, p) in enumerate(zip(out, stride, padding, strict=True))]
    disjoint = all(s >= d * (kk - 1) + 1 for s, kk, d in zip(stride, kernel_size, dilation, strict=True))
    values, arg = window_max(view, k, disjoint)
    return values, _input_index(arg, starts, kernel_size, dilation, a.shape[-k:])


def _scatter_to_indices(g, indices, sizes, k: int, xp, accumulate: bool):
    """Each gradient element added at its flat index into its own plane of an input of shape `sizes`."""
    plane = math.prod(sizes[-k:])
    planes = math.prod(sizes[:-k])
    indices = np.asarray(indices).reshape(planes, -1)
    flat = (indices + np.arange(planes)[:, None] * plane).ravel()
    grad = xp.index_scatter(xp.reshape(g, (-1,)), (planes * plane,), (flat,), accumulate)
    return xp.reshape(grad, sizes)


def _pick_gradient(g, s, dims: int):
    """PyTorch's max_pool_double_backward: the gradient at each pooled element's pick, read back."""
    indices = s.indices
    size = indices.shape[:-dims] + (-1,)
    picked = s.xp.apply(S.gather, (s.xp.reshape(g, size),), (-1, indices.reshape(size), False))
    return s.xp.reshape(picked, indices.shape)


def pooled_indices(s):
    return s.result1 if not s.xp.is_tensor else s.result1._data  # an integer output: no graph to keep


def index_pool_backward(name: str, node: str, dims: int):
    """A max pool's backward as an op of its own, as PyTorch's: the pooled gradient added at the indices into
    zeros shaped like the input (`accumulate` False where no two windows overlap). Its node has an edge to the
    input as well, whose gradient is zeros."""
    return primitive(
        f"{name}_backward",
        lambda grad_output, a, indices, accumulate: _scatter_to_indices(grad_output, indices, a.shape, dims, NUMPY,
                                                                        accumulate),
        f"{node}BackwardBackward0", inputs=("grad_output", "self"), params=("indices", "accumulate"),
        held=("indices",), unsaved=("accumulate",),
        vjp=(lambda g, s: _pick_gradient(g, s, dims), lambda g, s: s.xp.zeros_like(g)))


def _max_pool_primitive(dims: int):
    backward = index_pool_backward(f"max_pool{dims}d_with_indices", f"MaxPool{dims}DWithIndices", dims)

    def vjp(g, s):
        # windows that don't overlap can't pick the same element: plain assignment suffices
        overlap = any(st < d * (kk - 1) + 1 for st, kk, d in zip(s.stride, s.kernel_size, s.dilation, strict=True))
        return s.xp.apply(backward, (g[0], s.self), (pooled_indices(s), overlap))

    return primitive(
        f"max_pool{dims}d_with_indices", _max_pool, f"MaxPool{dims}DWithIndicesBackward0", inputs=("self",),
        params=("kernel_size", "stride", "padding", "dilation", "ceil_mode"), attrs=("self_sym_sizes",),
        outputs=2, differentiable_outputs=(0,), saves=(("self", "result1"),), vjp=(vjp,))


max_pool2d_with_indices = _max_pool_primitive(2)
max_pool3d_with_indices = _max_pool_primitive(3)


def pool_divisors(sizes, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Each output's divisor, PyTorch's avg_pool rule: the window clipped to the padded input (or to the
    input itself without count_include_pad), a product over dims; or the override."""
    k = len(kernel_size)
    out, _ = pool_geometry(sizes, kernel_size, stride, padding, (1,) * k, ceil_mode)
    if divisor_override:
        return np.full(out, divisor_override)
    divisor = np.ones((), np.int64)
    for i, (n, o, kk, s, p) in enumerate(zip(sizes, out, kernel_size, stride, padding, strict=True)):
        start = np.arange(o) * s - p
        end = np.minimum(start + kk, n + p)
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        divisor = divisor * _open_axes(count, i, k)
    return divisor


def _avg_pool(a, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    k = len(kernel_size)
    view, _ = _pool_windows(a, kernel_size, stride, padding, (1,) * k, ceil_mode, 0)
    sums = view.sum(axis=tuple(range(-k, 0)))
    divisor = pool_divisors(a.shape[-k:], kernel_size, stride, padding, ceil_mode, count_include_pad,
                            divisor_override)
    if a.dtype.kind != "f":  # NOTE: PyTorch divides integers as C does, truncating toward zero
        return (np.sign(sums) * (np.abs(sums) // divisor)).astype(a.dtype)
    return (sums / divisor.astype(a.dtype)).astype(a.dtype, copy=False)


def _avg_pool_backward(g, a, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """PyTorch's avg_pool2d_backward: each window's g / divisor spread over the elements of `a` it covers."""
    k, sizes = len(kernel_size), a.shape
    divisor = pool_divisors(sizes[-k:], kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    out, extra = pool_geometry(sizes[-k:], kernel_size, stride, padding, (1,) * k, ceil_mode)
    spread = g / divisor.astype(g.dtype)
    lead, kernel, length = tuple(sizes[:-k]), math.prod(kernel_size), math.prod(out)
    # every window element gets its window's g / divisor: columns of one repeated value, folded back
    columns = np.broadcast_to(spread.reshape(lead + (1, length)), lead + (kernel, length)).reshape(
        lead[:-1] + (lead[-1] * kernel, length))
    pads = tuple((p, p + e) for p, e in zip(padding, extra, strict=True))
    return col2im.forward(columns, tuple(sizes[-k:]), kernel_size, (1,) * k, pads, stride)


_AVG_POOL_PARAMS = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")


def _avg_pool_primitive(dims: int):
    def params_of(s):
        return tuple(getattr(s, name) for name in _AVG_POOL_PARAMS)

    # the backward as an op of its own, as PyTorch's: linear in the gradient (its rule is the pool again), constant
    # in the input, which it takes for its shape (a zero gradient there, where a rule of reshapes left it unused)
    backward = primitive(
        f"avg_pool{dims}d_backward", _avg_pool_backward, f"AvgPool{dims}DBackwardBackward0",
        inputs=("grad_output", "self"), params=_AVG_POOL_PARAMS,
        vjp=(lambda gg, s: s.xp.apply(pool, (gg,), params_of(s)), lambda gg, s: s.xp.zeros_like(gg)))
    pool = primitive(
        f"avg_pool{dims}d", _avg_pool, f"AvgPool{dims}DBackward0", inputs=("self",), params=_AVG_POOL_PARAMS,
        saves=("self",), opmath=True,  # self: saved as PyTorch does
        vjp=(lambda g, s: s.xp.apply(backward, (g, s.self), params_of(s)),))
    return pool


avg_pool2d = _avg_pool_primitive(2)
avg_pool3d = _avg_pool_primitive(3)


# ------------------------------------------------------------------------------- adaptive pooling
def adaptive_bounds(n: int, o: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `o` adaptive windows over `n` elements starts and ends (end exclusive)."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _adaptive_taps(sizes, params) -> list[Taps]:
    """Each output averages its window: taps over the widest window, those past a window's end skipped."""
    all_taps = []
    for n, o in zip(sizes, params[0], strict=True):
        start, end = adaptive_bounds(n, o)
        offsets = np.arange(int((end - start).max()))
        index = start[:, None] + offsets
        weight = np.broadcast_to(1.0 / (end - start)[:, None], index.shape)
        all_taps.append(Taps(np.minimum(index, n - 1), weight, index < end[:, None]))
    return all_taps


def _adaptive_avg_pool_primitive(dims: int):
    forward, _ = separable(_adaptive_taps, ("output_size",), dims=dims)
    adjoint = separable_adjoint(_adaptive_taps, dims)
    # PyTorch's node keeps the pooled sizes as grad_output's: its rule pools the gradient to them again
    pooled_sizes = tuple(f"grad_output_sym_argsize_minus_{i}" for i in range(dims, 0, -1))

    def pooled_sizes_of(s):
        return tuple(getattr(s, name) for name in pooled_sizes)

    # the backward as an op of its own, as avg_pool's
    backward = primitive(
        f"adaptive_avg_pool{dims}d_backward",
        lambda grad_output, a: adjoint(NUMPY, grad_output, a.shape, (grad_output.shape[-dims:],)),
        f"AdaptiveAvgPool{dims}DBackwardBackward0", inputs=("grad_output", "self"), attrs=pooled_sizes,
        vjp=(lambda gg, s: s.xp.apply(pool, (gg,), (pooled_sizes_of(s),)), lambda gg, s: s.xp.zeros_like(gg)))
    pool = primitive(
        f"adaptive_avg_pool{dims}d", forward, f"AdaptiveAvgPool{dims}DBackward0", inputs=("self",),
        params=("output_size",), unsaved=("output_size",), saves=("self",),
        vjp=(lambda g, s: s.xp.apply(backward, (g, s.self)),))
    return pool


adaptive_avg_pool2d = _adaptive_avg_pool_primitive(2)
adaptive_avg_pool3d = _adaptive_avg_pool_primitive(3)


def _adaptive_max_pool(a, output_size):
    """Windows of varying size gathered into one (…, *out, k_1·…·k_d) array, each padded to the widest
    window by repeating its own last element; a repeat picked (a NaN at the end) is that element."""
    k = len(output_size)
    gathers, coordinates = [], []
    for i, (n, o) in enumerate(zip(a.shape[-k:], output_size, strict=True)):
        start, end = adaptive_bounds(n, o)
        width = int((end - start).max())
        positions = np.minimum(start[:, None] + np.arange(width), end[:, None] - 1)
        shape = [1] * (2 * k)  # laid along output axis i and window axis k + i of the (*out, *window) result
        shape[i], shape[k + i] = o, width
        gathers.append(positions.reshape(shape))
        coordinates.append((_open_axes(np.arange(o), i, k), positions))
    values, arg = window_max(a[(Ellipsis,) + tuple(gathers)], k)
    index = 0
    for (row, positions), position, n in zip(coordinates, np.unravel_index(arg, [p.shape[1] for _, p in coordinates]),
                                             a.shape[-k:], strict=True):
        index = index * n + positions[row, position]
    return values, index


def _adaptive_max_pool_primitive(dims: int):
    backward = index_pool_backward(f"adaptive_max_pool{dims}d", f"AdaptiveMaxPool{dims}D", dims)
    return primitive(
        f"adaptive_max_pool{dims}d", _adaptive_max_pool, f"AdaptiveMaxPool{dims}DBackward0", inputs=("self",),
        params=("output_size",), attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,),
        saves=(("self", "result1"),),
        vjp=(lambda g, s: s.xp.apply(backward, (g[0], s.self), (pooled_indices(s), True)),))


adaptive_max_pool2d = _adaptive_max_pool_primitive(2)
adaptive_max_pool3d = _adaptive_max_pool_primitive(3)


# ------------------------------------------------------------------------------- max unpooling
def _max_unpool(a, indices, output_size):
    """Each value written at its flat index of its output plane (or volume) in zeros (max pooling's indices)."""
    k = len(output_size)
    plane = int(np.prod(output_size))
    lead, pooled = a.shape[:-k], int(np.prod(a.shape[-k:]))
    values, where = a.reshape(-1, pooled), indices.reshape(-1, pooled)
    if where.size and (where.min() < 0 or where.max() >= plane):
        bad = int(where[(where < 0) | (where >= plane)][-1])  # NOTE: the last bad index, as PyTorch reports it
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(str(n) for n in output_size)})")
    out = np.zeros((values.shape[0], plane), a.dtype)
    np.put_along_axis(out, where, values, axis=1)
    return out.reshape(lead + tuple(output_size))


def _max_unpool_vjp(g, s):
    """The gradient read back at the indices."""
    xp, sizes = s.xp, s.self_sym_sizes
    k = len(s.output_size)
    rows = int(np.prod(sizes[:-k]))
    where = s.indices.reshape(rows, -1)
    picked = xp.getitem(xp.reshape(g, (rows, -1)), (np.arange(rows)[:, None], where))
    return xp.reshape(picked, tuple(sizes))


def _max_unpool_primitive(dims: int):
    return primitive(f"max_unpool{dims}d", _max_unpool, f"MaxUnpool{dims}DBackward0", inputs=("self",),
                     params=("indices", "output_size"), attrs=("self_sym_sizes",), held=("indices",),
                     unsaved=("output_size", "self_sym_sizes"), vjp=(_max_unpool_vjp,))


max_unpool2d = _max_unpool_primitive(2)
max_unpool3d = _max_unpool_primitive(3)
