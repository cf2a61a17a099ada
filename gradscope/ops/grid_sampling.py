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

import itertools
from dataclasses import dataclass

import numpy as np

from gradscope.ops.ranges import fused_multiply_add, linspace_values
from gradscope.ops.registry import primitive

BILINEAR, NEAREST, BICUBIC = 0, 1, 2
_A = -0.75  # the cubic convolution kernel's parameter, as PyTorch's
ZEROS, BORDER, REFLECTION = 0, 1, 2


# ------------------------------------------------------------------------------- affine_grid
def _linspace(steps: int, align_corners: bool, dtype) -> np.ndarray:
    """PyTorch's linspace_from_neg_one: -1 … 1 (pixel centres pulled in by (n-1)/n unless align_corners),
    computed in `dtype` as torch.linspace computes it (ops.ranges)."""
    if steps <= 1:
        return np.zeros(1, dtype)
    values = linspace_values(-1, 1, steps, dtype)
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


def _source(coordinate, size: int, padding: int, align_corners: bool, fused: bool):
    """Pixel coordinate of normalised `coordinate` along a dim of `size`, and d(pixel)/d(coordinate); `fused` for
    the 2-D sampler, whose unnormalising multiply-add rounds once."""
    dtype = coordinate.dtype.type
    if align_corners:
        scale = dtype((size - 1) / 2)
        pixel = (coordinate + dtype(1)) * scale
    else:
        scale = dtype(size / 2)
        if fused:
            # NOTE: PyTorch's vectorised 2-D kernel is compiled with (x + 1) · scale − 0.5 fused into one rounding
            # (its 3-D kernel, scalar, rounds twice). An identity grid lands on pixel centres, where that rounding
            # decides the corner, so the grid's gradient (the Spatial Transformer's theta at its identity start).
            pixel = fused_multiply_add(coordinate + dtype(1), scale, -0.5, coordinate.dtype).astype(coordinate.dtype)
        else:
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
    """The pixels an output point reads: per corner a flat index into the input's spatial plane (or volume) and
    whether it lies inside (an outside corner reads 0), each (N, points); `weight` the mixing weights. For the
    interpolating modes, per grid coordinate d (x, y, z): `slope[d]` the source point's slope, `along[d]` the
    weights' derivatives along d, `cross[d, e]` along d then e (d < e), `curve[d]` twice along d (empty when
    zero, as for linear weights)."""

    index: tuple
    inside: tuple
    weight: tuple
    slope: tuple = ()
    along: tuple = ()
    cross: dict | None = None
    curve: tuple = ()


def _integer(pixel, size: int):
    """floor or round of a pixel coordinate as int64, far and non-finite values parked outside [0, size)."""
    parked = np.where(np.isfinite(pixel), np.clip(pixel, -2, size + 1), -2)
    return parked.astype(np.int64)


def _flat_index(coordinates, sizes) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis integer coordinates (x first) → (flat index in the input's spatial dims, whether inside)."""
    inside, flat, stride = None, 0, 1
    for coordinate, size in zip(coordinates, sizes, strict=True):
        ok = (coordinate >= 0) & (coordinate < size)
        inside = ok if inside is None else inside & ok
        flat = flat + coordinate * stride
        stride *= size
    return np.where(inside, flat, 0), inside


def corners(grid, spatial: tuple, mode: int, padding: int, align_corners: bool) -> Corners:
    """The corners of every grid point of an input whose spatial dims are `spatial` ((H, W) or (D, H, W))."""
    n, k = grid.shape[0], grid.shape[-1]
    grid = grid.reshape(n, -1, k)
    sizes = tuple(reversed(spatial))  # grid coordinate d runs along spatial dim −1 − d: x along W
    if mode == BICUBIC:
        return _bicubic_corners(grid, sizes, padding, align_corners)
    sources = [_source(grid[..., d], sizes[d], padding, align_corners, k == 2) for d in range(k)]
    if mode == NEAREST:
        index, inside = _flat_index([_integer(np.rint(x), size) for (x, _), size in zip(sources, sizes)], sizes)
        return Corners((index,), (inside,), (np.ones_like(sources[0][0]),))
    low = [np.floor(x) for x, _ in sources]
    above = [x - floor for (x, _), floor in zip(sources, low, strict=True)]  # PyTorch's w, n: from the low corner
    below = [1 - a for a in above]
    one = np.ones_like(above[0])
    low = [_integer(floor, size) for floor, size in zip(low, sizes, strict=True)]
    index, inside, weight, signs, terms = [], [], [], [], []
    # NOTE: the high axis outermost (y, then x), PyTorch's corner order: nw, ne, sw, se
    for offsets in itertools.product((0, 1), repeat=k):
        offsets = offsets[::-1]  # offsets[d] for coordinate d
        flat, ok = _flat_index([floor + o for floor, o in zip(low, offsets, strict=True)], sizes)
        index.append(flat)
        inside.append(ok)
        factors = [above[d] if offsets[d] else below[d] for d in range(k)]
        terms.append(factors)
        signs.append([1 if o else -1 for o in offsets])
        weight.append(_product(factors[::-1], one))
    along = tuple(tuple(sign[d] * _product([f for e, f in enumerate(factors) if e != d][::-1], one)
                        for factors, sign in zip(terms, signs, strict=True)) for d in range(k))
    cross = {(d, e): tuple(sign[d] * sign[e] * _product([f for c, f in enumerate(factors) if c not in (d, e)][::-1],
                                                        one)
                           for factors, sign in zip(terms, signs, strict=True))
             for d in range(k) for e in range(d + 1, k)}
    return Corners(tuple(index), tuple(inside), tuple(weight), tuple(slope for _, slope in sources), along, cross)


def _product(factors, one):
    """The product of the factors (in order), `one` when there are none."""
    if not factors:
        return one
    total = factors[0]
    for factor in factors[1:]:
        total = total * factor
    return total


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


def _bicubic_corners(grid, sizes: tuple, padding: int, align_corners: bool) -> Corners:
    """Sixteen taps around the source point, weighted by cubic convolution along each axis; padding maps the
    taps themselves, so the point's slope is the unnormalising scale alone."""
    width, height = sizes
    x, slope_x = _source(grid[..., 0], width, ZEROS, align_corners, True)
    y, slope_y = _source(grid[..., 1], height, ZEROS, align_corners, True)
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
    return Corners(tuple(index), tuple(inside), tuple(weight), (slope_x, slope_y),
                   (tuple(along_x), tuple(along_y)), {(0, 1): tuple(along_xy)}, (tuple(along_xx), tuple(along_yy)))


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


# ------------------------------------------------------------------------------- grid_sampler_2d / 3d
def _grid_sampler(input, grid, mode, padding, align_corners):
    c = corners(grid, input.shape[2:], mode, padding, align_corners)
    return _sample(input, c, c.weight).reshape(input.shape[:2] + grid.shape[1:-1])


def _grid_sampler_backward(grad, input, grid, mode, padding, align_corners, output_mask):
    """(gradient of input, gradient of grid); one not asked for in output_mask is zeros."""
    n, channels = input.shape[:2]
    c = corners(grid, input.shape[2:], mode, padding, align_corners)
    g = grad.reshape(n, channels, -1)
    grad_input = _scatter(g, c, c.weight, input.shape) if output_mask[0] else np.zeros_like(input)
    grad_grid = np.zeros_like(grid)
    if output_mask[1] and mode != NEAREST:
        flat = grad_grid.reshape(n, -1, grid.shape[-1])
        for d, (slope, along) in enumerate(zip(c.slope, c.along, strict=True)):
            flat[..., d] = slope * _channel_sum(g, _sample(input, c, along))
    return grad_input, grad_grid


def _sampler_primitives(dims: int):
    """The sampler over `dims` spatial dims and its backward, each a primitive with its own rules."""
    def vjps(g, s, needs) -> list:
        mask = (bool(needs[0]), bool(needs[1]))
        grad_input, grad_grid = s.xp.apply(backward, (g, s.input, s.grid),
                                           (s.interpolation_mode, s.padding_mode, s.align_corners, mask))
        return [grad_input if needs[0] else None, grad_grid if needs[1] else None]

    def one_of(index: int):
        return lambda g, s: vjps(g, s, tuple(i == index for i in range(2)))[index]

    def double_one_of(index: int):
        return lambda g, s: _double_backward(g, s, tuple(i == index for i in range(3)))[index]

    forward = primitive(
        f"grid_sampler_{dims}d", _grid_sampler, f"GridSampler{dims}DBackward0", inputs=("input", "grid"),
        params=("interpolation_mode", "padding_mode", "align_corners"), saves=(("input", "grid"), ("input", "grid")),
        vjp=(one_of(0), one_of(1)), joint_vjp=vjps)
    backward = primitive(
        f"grid_sampler_{dims}d_backward", _grid_sampler_backward, f"GridSampler{dims}DBackwardBackward0",
        inputs=("grad_output", "input", "grid"),
        params=("interpolation_mode", "padding_mode", "align_corners", "output_mask"), outputs=2,
        output_names=("grad_input", "grad_grid"), saves=(("grad_output", "input", "grid"),) * 3,
        vjp=(double_one_of(0), double_one_of(1), double_one_of(2)), joint_vjp=_double_backward)
    return forward, backward


def _double_backward(g, s, needs) -> list:
    """The backward's own gradients: with u, v the gradients of its input and grid outputs,
    ∂grad = S(u) + S_v(input), ∂input = S_vᵀ(grad), where S_v samples with the weights' derivatives along v;
    ∂grid from the input gradient's weights (u in place of the input) and the grid gradient's own
    second derivatives (across coordinates, and along one for bicubic weights)."""
    if s.xp.is_tensor:
        raise RuntimeError("derivative for aten::grid_sampler_backward is not implemented for create_graph=True "
                           "(gradscope differentiates grid_sample twice, not three times)")
    u, v = g
    grad, input, grid = s.grad_output, s.input, s.grid
    n, channels = input.shape[:2]
    k = grid.shape[-1]
    c = corners(grid, input.shape[2:], s.interpolation_mode, s.padding_mode, s.align_corners)
    flat_grad = grad.reshape(n, channels, -1)
    grad_of_grad = np.zeros_like(flat_grad)
    grad_of_input, grad_of_grid = np.zeros_like(input), np.zeros_like(grid)
    flat = grad_of_grid.reshape(n, -1, k)
    if u is not None:
        grad_of_grad = grad_of_grad + _sample(u, c, c.weight)
    interpolating = s.interpolation_mode != NEAREST
    if interpolating and v is not None:
        v = v.reshape(n, -1, k)
        along_v = tuple(sum(c.slope[d] * v[..., d] * c.along[d][corner] for d in range(k))
                        for corner in range(len(c.index)))
        grad_of_grad = grad_of_grad + _sample(input, c, along_v)
        if needs[1]:
            grad_of_input = _scatter(flat_grad, c, along_v, input.shape)
        if needs[2]:
            for (d, e), weights in c.cross.items():
                both = c.slope[d] * c.slope[e] * _channel_sum(flat_grad, _sample(input, c, weights))
                flat[..., d] += v[..., e] * both
                flat[..., e] += v[..., d] * both
            for d, weights in enumerate(c.curve):  # bicubic weights curve along each axis too
                flat[..., d] += v[..., d] * c.slope[d] ** 2 * _channel_sum(flat_grad, _sample(input, c, weights))
    if interpolating and u is not None and needs[2]:
        for d in range(k):
            flat[..., d] += c.slope[d] * _channel_sum(flat_grad, _sample(u, c, c.along[d]))
    # NOTE: nearest sampling's input gradient doesn't depend on the input: None (no gradient), as PyTorch gives
    return [grad_of_grad.reshape(grad.shape) if needs[0] else None,
            grad_of_input if needs[1] and interpolating else None, grad_of_grid if needs[2] else None]


grid_sampler_2d, grid_sampler_2d_backward = _sampler_primitives(2)
grid_sampler_3d, grid_sampler_3d_backward = _sampler_primitives(3)
