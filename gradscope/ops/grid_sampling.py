"""affine_grid's generator and grid_sample's 2-D sampler (the Spatial Transformer's two ops).

An output pixel reads its input at the source point (x, y) the grid names, in [-1, 1] from the first
to the last pixel (align_corners) or pixel edge; bilinear mode mixes the four pixels around it, nearest
mode takes the nearest. The sampler is a gather of `corners` with per-corner weights, so every derivative
is one of two moves: a gather with other weights (`_sample`) or its adjoint, a scatter (`_scatter`).
Bilinear weights are products (1 - λx or λx)(1 - λy or λy); their derivatives along x, y and xy are the
other corner weights of the rules. Source points and their slopes follow PyTorch's CPU kernel
(GridSamplerKernel.cpp): border mode clips, reflection mode reflects then clips, and a clipped point
(or one on the border) has slope 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradscope.ops.registry import primitive

BILINEAR, NEAREST, BICUBIC = 0, 1, 2
_A = -0.75  # the cubic convolution kernel's parameter, as PyTorch's
ZEROS, BORDER, REFLECTION = 0, 1, 2


# ------------------------------------------------------------------------------- affine_grid
def _linspace(steps: int, align_corners: bool, dtype) -> np.ndarray:
    """PyTorch's linspace_from_neg_one: -1 … 1 (pixel centres pulled in by (n-1)/n unless align_corners),
    computed in `dtype` as torch.linspace computes it (from both ends towards the middle)."""
    if steps <= 1:
        return np.zeros(1, dtype)
    one = dtype.type(1)
    step = (one + one) / dtype.type(steps - 1)
    i = np.arange(steps)
    values = np.where(i < steps // 2, -one + step * i.astype(dtype), one - step * (steps - 1 - i).astype(dtype))
    values = values.astype(dtype)
    if not align_corners:
        values = values * dtype.type(steps - 1) / dtype.type(steps)
    return values.astype(dtype, copy=False)


def base_grid(size, align_corners: bool, dtype) -> np.ndarray:
    """(*spatial, k + 1): every output point's normalised coordinates, x (the last dim) first, then 1."""
    spatial = tuple(size[2:])
    dtype = np.dtype(dtype)
    axes = [_linspace(n, align_corners, dtype) for n in spatial]
    grid = np.ones(spatial + (len(spatial) + 1,), dtype)
    for k, values in enumerate(reversed(axes)):
        dim = len(spatial) - 1 - k
        grid[..., k] = values.reshape((-1,) + (1,) * (len(spatial) - 1 - dim)) if values.size > 1 else values[0]
    return grid


def _affine_grid(theta, size, align_corners):
    base = base_grid(size, align_corners, theta.dtype).reshape(-1, len(size) - 1)
    grid = np.matmul(base, theta.swapaxes(1, 2))  # (N, points, k)
    return grid.reshape((size[0],) + tuple(size[2:]) + (len(size) - 2,))


def _affine_grid_backward(grad, size, align_corners):
    base = base_grid(size, align_corners, grad.dtype).reshape(-1, len(size) - 1)
    return np.matmul(grad.reshape(size[0], -1, len(size) - 2).swapaxes(1, 2), base)


def _affine_grid_vjp(g, s):
    return s.xp.apply(affine_grid_generator_backward, (g,), (s.size, s.align_corners))


affine_grid_generator = primitive(
    "affine_grid_generator", _affine_grid, "AffineGridGeneratorBackward0", inputs=("theta",),
    params=("size", "align_corners"), vjp=(_affine_grid_vjp,))
# composite in PyTorch (a bmm and a transpose); its gradient is the generator again
affine_grid_generator_backward = primitive(
    "affine_grid_generator_backward", _affine_grid_backward, "TransposeBackward0", inputs=("grad",),
    params=("size", "align_corners"),
    vjp=(lambda g, s: s.xp.apply(affine_grid_generator, (g,), (s.size, s.align_corners)),))


# ------------------------------------------------------------------------------- source points
def _reflect(coordinate, twice_low: int, twice_high: int):
    """The point reflected into [low, high] off both ends as often as needed, and its slope (±1)."""
    if twice_low == twice_high:
        return np.zeros_like(coordinate), np.zeros_like(coordinate)
    dtype = coordinate.dtype.type
    low, span = dtype(twice_low / 2), dtype((twice_high - twice_low) / 2)
    shifted = coordinate - low
    sign = np.where(shifted < 0, dtype(-1), dtype(1))
    distance = np.abs(shifted)
    extra = np.fmod(distance, span)
    odd = np.floor(distance / span) % 2 == 1
    return np.where(odd, span - extra + low, extra + low), np.where(odd, -sign, sign)


def _source(coordinate, size: int, padding: int, align_corners: bool):
    """Pixel coordinate of normalised `coordinate` along a dim of `size`, and d(pixel)/d(coordinate)."""
    dtype = coordinate.dtype.type
    if align_corners:
        scale = dtype((size - 1) / 2)
        pixel = (coordinate + dtype(1)) * scale
    else:
        scale = dtype(size / 2)
        pixel = (coordinate + dtype(1)) * scale - dtype(0.5)
    slope = np.full_like(pixel, scale)
    if padding == REFLECTION:
        twice_low, twice_high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        pixel, reflect_slope = _reflect(pixel, twice_low, twice_high)
        slope = slope * reflect_slope
    if padding != ZEROS:
        slope = np.where((pixel > 0) & (pixel < size - 1), slope, dtype(0))
        # NOTE: PyTorch's clip sends NaN to 0, the first pixel
        pixel = np.where(np.isnan(pixel), dtype(0), np.minimum(np.maximum(pixel, dtype(0)), dtype(size - 1)))
    return pixel, slope


@dataclass(frozen=True)
class Corners:
    """The pixels an output point reads: per corner a flat index into H·W and whether it lies inside
    (an outside corner reads 0), each (N, points); `weight` the mixing weights, and for bilinear mode their
    derivatives along x, y and x then y, with `slope_x`, `slope_y` the source point's slopes."""

    index: tuple
    inside: tuple
    weight: tuple
    along_x: tuple = ()
    along_y: tuple = ()
    along_xy: tuple = ()
    slope_x: np.ndarray | None = None
    slope_y: np.ndarray | None = None
    along_xx: tuple = ()  # second derivatives along one axis: zero for bilinear weights (left empty), not bicubic's
    along_yy: tuple = ()


def _integer(pixel, size: int):
    """floor or round of a pixel coordinate as int64, far and non-finite values parked outside [0, size)."""
    parked = np.where(np.isfinite(pixel), np.clip(pixel, -2, size + 1), -2)
    return parked.astype(np.int64)


def corners(grid, height: int, width: int, mode: int, padding: int, align_corners: bool) -> Corners:
    n = grid.shape[0]
    grid = grid.reshape(n, -1, 2)
    if mode == BICUBIC:
        return _bicubic_corners(grid, height, width, padding, align_corners)
    x, slope_x = _source(grid[..., 0], width, padding, align_corners)
    y, slope_y = _source(grid[..., 1], height, padding, align_corners)
    if mode == NEAREST:
        column, row = _integer(np.rint(x), width), _integer(np.rint(y), height)
        inside = (column >= 0) & (column < width) & (row >= 0) & (row < height)
        return Corners((np.where(inside, row * width + column, 0),), (inside,), (np.ones_like(x),))
    west, north = np.floor(x), np.floor(y)
    to_west, to_north = x - west, y - north  # PyTorch's w and n: distances from the north-west corner
    to_east, to_south = 1 - to_west, 1 - to_north
    west, north = _integer(west, width), _integer(north, height)
    index, inside = [], []
    for row in (north, north + 1):
        for column in (west, west + 1):
            ok = (column >= 0) & (column < width) & (row >= 0) & (row < height)
            index.append(np.where(ok, row * width + column, 0))
            inside.append(ok)
    one = np.ones_like(x)
    return Corners(tuple(index), tuple(inside),
                   weight=(to_south * to_east, to_south * to_west, to_north * to_east, to_north * to_west),
                   along_x=(-to_south, to_south, -to_north, to_north),
                   along_y=(-to_east, -to_west, to_east, to_west),
                   along_xy=(one, -one, -one, one), slope_x=slope_x, slope_y=slope_y)


def _cubic(t):
    """The four cubic-convolution weights of taps −1, 0, 1, 2 at fraction t, and their derivatives in t."""
    a = _A
    near = lambda d: ((a + 2) * d - (a + 3)) * d * d + 1  # noqa: E731 - |d| ≤ 1
    far = lambda d: ((a * d - 5 * a) * d + 8 * a) * d - 4 * a  # noqa: E731 - 1 < |d| < 2
    near_slope = lambda d: (3 * (a + 2) * d - 2 * (a + 3)) * d  # noqa: E731
    far_slope = lambda d: (3 * a * d - 10 * a) * d + 8 * a  # noqa: E731
    near_curve = lambda d: 6 * (a + 2) * d - 2 * (a + 3)  # noqa: E731
    far_curve = lambda d: 6 * a * d - 10 * a  # noqa: E731
    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    slopes = (far_slope(t + 1), near_slope(t), -near_slope(1 - t), -far_slope(2 - t))
    curves = (far_curve(t + 1), near_curve(t), near_curve(1 - t), far_curve(2 - t))
    return weights, slopes, curves


def _tap(position, size: int, padding: int, align_corners: bool):
    """A tap's integer pixel after padding (PyTorch's get_value_bounded) and whether it reads the input."""
    if padding != ZEROS:
        position, _ = _source_of_pixel(position, size, padding, align_corners)
    inside = np.isfinite(position) & (position > -1) & (position < size)
    column = np.where(inside, position, 0).astype(np.int64)  # NOTE: truncation, as the C++ cast
    return column, inside & (column >= 0) & (column < size)


def _source_of_pixel(pixel, size: int, padding: int, align_corners: bool):
    if padding == REFLECTION:
        twice_low, twice_high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        pixel, _ = _reflect(pixel, twice_low, twice_high)
    dtype = pixel.dtype.type
    return np.where(np.isnan(pixel), dtype(0), np.minimum(np.maximum(pixel, dtype(0)), dtype(size - 1))), None


def _bicubic_corners(grid, height: int, width: int, padding: int, align_corners: bool) -> Corners:
    """Sixteen taps around the source point, weighted by cubic convolution along each axis; padding maps the
    taps themselves, so the point's slope is the unnormalising scale alone."""
    n = grid.shape[0]
    grid = grid.reshape(n, -1, 2)
    x, slope_x = _source(grid[..., 0], width, ZEROS, align_corners)
    y, slope_y = _source(grid[..., 1], height, ZEROS, align_corners)
    west, north = np.floor(x), np.floor(y)
    (wx, dwx, ddwx), (wy, dwy, ddwy) = _cubic(x - west), _cubic(y - north)
    index, inside, weight, along_x, along_y, along_xy, along_xx, along_yy = [], [], [], [], [], [], [], []
    for i in range(4):
        row, row_inside = _tap(north - 1 + i, height, padding, align_corners)
        for k in range(4):
            column, column_inside = _tap(west - 1 + k, width, padding, align_corners)
            ok = row_inside & column_inside
            index.append(np.where(ok, row * width + column, 0))
            inside.append(ok)
            weight.append(wx[k] * wy[i])
            along_x.append(dwx[k] * wy[i])
            along_y.append(wx[k] * dwy[i])
            along_xy.append(dwx[k] * dwy[i])
            along_xx.append(ddwx[k] * wy[i])
            along_yy.append(wx[k] * ddwy[i])
    return Corners(tuple(index), tuple(inside), tuple(weight), tuple(along_x), tuple(along_y), tuple(along_xy),
                   slope_x, slope_y, tuple(along_xx), tuple(along_yy))


def _sample(values, c: Corners, weights) -> np.ndarray:
    """Σ over corners of weight · values at the corner (0 outside): (N, C, H, W) → (N, C, points)."""
    n, channels = values.shape[:2]
    flat = values.reshape(n, channels, -1)
    total = None
    for index, inside, weight in zip(c.index, c.inside, weights, strict=True):
        read = np.take_along_axis(flat, index[:, None, :], 2)
        term = np.where(inside[:, None, :], read, 0) * weight[:, None, :].astype(values.dtype, copy=False)
        total = term if total is None else total + term
    return total


def _scatter(g, c: Corners, weights, shape) -> np.ndarray:
    """The adjoint of `_sample`: each g · weight added at its corner's pixel; g (N, C, points) → `shape`."""
    n, channels = shape[:2]
    pixels = int(np.prod(shape[2:]))
    planes = (np.arange(n * channels).reshape(n, channels, 1) * pixels)
    indices, values = [], []
    for index, inside, weight in zip(c.index, c.inside, weights, strict=True):
        mask = np.broadcast_to(inside[:, None, :], g.shape)
        indices.append((planes + index[:, None, :])[mask])
        values.append((g * weight[:, None, :])[mask])
    total = np.bincount(np.concatenate(indices), np.concatenate(values), minlength=n * channels * pixels)
    return total.astype(g.dtype, copy=False).reshape(shape)


def _channel_sum(g, sampled):
    return (g * sampled).sum(1)


# ------------------------------------------------------------------------------- grid_sampler_2d
def _grid_sampler(input, grid, mode, padding, align_corners):
    n, channels, height, width = input.shape
    c = corners(grid, height, width, mode, padding, align_corners)
    return _sample(input, c, c.weight).reshape((n, channels) + grid.shape[1:3])


def _grid_sampler_backward(grad, input, grid, mode, padding, align_corners, output_mask):
    """(gradient of input, gradient of grid); one not asked for in output_mask is zeros."""
    n, channels, height, width = input.shape
    c = corners(grid, height, width, mode, padding, align_corners)
    g = grad.reshape(n, channels, -1)
    grad_input = _scatter(g, c, c.weight, input.shape) if output_mask[0] else np.zeros_like(input)
    grad_grid = np.zeros_like(grid)
    if output_mask[1] and mode != NEAREST:
        flat = grad_grid.reshape(n, -1, 2)
        flat[..., 0] = c.slope_x * _channel_sum(g, _sample(input, c, c.along_x))
        flat[..., 1] = c.slope_y * _channel_sum(g, _sample(input, c, c.along_y))
    return grad_input, grad_grid


def _grid_sampler_vjps(g, s, needs) -> list:
    mask = (bool(needs[0]), bool(needs[1]))
    grad_input, grad_grid = s.xp.apply(grid_sampler_2d_backward, (g, s.input, s.grid),
                                       (s.interpolation_mode, s.padding_mode, s.align_corners, mask))
    return [grad_input if needs[0] else None, grad_grid if needs[1] else None]


def _one_of(index: int):
    return lambda g, s: _grid_sampler_vjps(g, s, tuple(i == index for i in range(2)))[index]


grid_sampler_2d = primitive(
    "grid_sampler_2d", _grid_sampler, "GridSampler2DBackward0", inputs=("input", "grid"),
    params=("interpolation_mode", "padding_mode", "align_corners"), saves=(("input", "grid"), ("input", "grid")),
    vjp=(_one_of(0), _one_of(1)), joint_vjp=_grid_sampler_vjps)


def _double_backward(g, s, needs) -> list:
    """The backward's own gradients: with u, v the gradients of its input and grid outputs, ∂grad = S(u) +
    S_v(input); ∂input = S_vᵀ(grad), where S_v samples with the weights' derivatives along v; ∂grid from the
    input gradient's weights (u in place of the input) and the grid gradient's own x-y cross derivative."""
    if s.xp.is_tensor:
        raise RuntimeError("derivative for aten::grid_sampler_2d_backward is not implemented for create_graph=True "
                           "(gradscope differentiates grid_sample twice, not three times)")
    u, v = g
    grad, input, grid = s.grad_output, s.input, s.grid
    n, channels, height, width = input.shape
    c = corners(grid, height, width, s.interpolation_mode, s.padding_mode, s.align_corners)
    flat_grad = grad.reshape(n, channels, -1)
    out_shape = grad.shape
    grad_of_grad = np.zeros_like(flat_grad)
    grad_of_input, grad_of_grid = np.zeros_like(input), np.zeros_like(grid)
    if u is not None:
        grad_of_grad = grad_of_grad + _sample(u, c, c.weight)
    bilinear = s.interpolation_mode != NEAREST  # bicubic too: its rules have the same form
    if bilinear and v is not None:
        v = v.reshape(n, -1, 2)
        along_v = tuple(c.slope_x * v[..., 0] * dx + c.slope_y * v[..., 1] * dy
                        for dx, dy in zip(c.along_x, c.along_y, strict=True))
        grad_of_grad = grad_of_grad + _sample(input, c, along_v)
        if needs[1]:
            grad_of_input = _scatter(flat_grad, c, along_v, input.shape)
        if needs[2]:
            cross = c.slope_x * c.slope_y * _channel_sum(flat_grad, _sample(input, c, c.along_xy))
            flat = grad_of_grid.reshape(n, -1, 2)
            flat[..., 0] += v[..., 1] * cross
            flat[..., 1] += v[..., 0] * cross
            if c.along_xx:  # bicubic weights curve along each axis too
                flat[..., 0] += v[..., 0] * c.slope_x ** 2 * _channel_sum(flat_grad, _sample(input, c, c.along_xx))
                flat[..., 1] += v[..., 1] * c.slope_y ** 2 * _channel_sum(flat_grad, _sample(input, c, c.along_yy))
    if bilinear and u is not None and needs[2]:
        flat = grad_of_grid.reshape(n, -1, 2)
        flat[..., 0] += c.slope_x * _channel_sum(flat_grad, _sample(u, c, c.along_x))
        flat[..., 1] += c.slope_y * _channel_sum(flat_grad, _sample(u, c, c.along_y))
    return [grad_of_grad.reshape(out_shape) if needs[0] else None, grad_of_input if needs[1] else None,
            grad_of_grid if needs[2] else None]


def _double_one_of(index: int):
    return lambda g, s: _double_backward(g, s, tuple(i == index for i in range(3)))[index]


grid_sampler_2d_backward = primitive(
    "grid_sampler_2d_backward", _grid_sampler_backward, "GridSampler2DBackwardBackward0",
    inputs=("grad_output", "input", "grid"),
    params=("interpolation_mode", "padding_mode", "align_corners", "output_mask"), outputs=2,
    output_names=("grad_input", "grad_grid"), saves=(("grad_output", "input", "grid"),) * 3,
    vjp=(_double_one_of(0), _double_one_of(1), _double_one_of(2)), joint_vjp=_double_backward)
