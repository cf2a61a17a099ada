"""Convolution: three primitives, im2col (unfold), col2im (fold) and convolution, for any number of
spatial dims (conv1d, conv2d and their transposes are all `convolution`, as in PyTorch).

Why these three: im2col and col2im are each other's adjoint, so each one's VJP is the other and both
are differentiable any number of times. A convolution is an im2col followed by a matmul with the
weight, and everything its VJPs need is again im2col, col2im and matmul:

    conv:            y  = W · im2col(x)          dx = col2im(Wᵀ · g)     dW = g · im2col(x)ᵀ
    conv_transpose:  y  = col2im(Wᵀ · x)         dx = W · im2col(g)      dW = x · im2col(g)ᵀ

so the rules below are written once on `xp` and build a differentiable graph under create_graph.
On arrays (a first-order backward, and every forward) the same products run on columns copied once, a batch chunk
at a time, into a buffer that stays in cache, each chunk's product written straight into its result; at stride 1
the input gradient is a correlation of g with the reversed kernel, so no col2im is needed there either.
Both im2col/col2im kernels are strided views (`as_strided`) plus one copy or one reduction: no Python loop over
pixels or kernel positions. col2im sums overlapping windows by reading the placed blocks along
diagonals of a zero-padded buffer, which needs neither a scatter nor `np.add.at`.

Paddings are per spatial dim, either one int (both sides) or a `(before, after)` pair; a negative
amount crops. The pairs let conv_transpose's `output_padding` and pooling's `ceil_mode` reuse the
same kernels.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradscope.ops import conv_terms
from gradscope.ops.conv_terms import landing
from gradscope.ops.namespace import NUMPY
from gradscope.ops.registry import primitive, to_input


def pad_pairs(padding) -> tuple:
    """Per-dim `(before, after)` from ints (both sides) or pairs."""
    return tuple((p, p) if isinstance(p, (int, np.integer)) else (int(p[0]), int(p[1])) for p in padding)


def pad_or_crop(x: np.ndarray, pads, value=0) -> np.ndarray:
    """`x` with its trailing `len(pads)` dims grown by `(before, after)` each: filled with `value`
    where an amount is positive, cut where it is negative."""
    if not any(b or a for b, a in pads):
        return x
    if not any(b > 0 or a > 0 for b, a in pads):  # only cuts: the kept part copied, no buffer to fill first
        kept = tuple(slice(-b, max(n + a, 0)) for n, (b, a) in zip(x.shape[-len(pads):], pads, strict=True))
        return x[(Ellipsis,) + kept].copy()
    lead = x.ndim - len(pads)
    sizes = x.shape[lead:]
    shape = x.shape[:lead] + tuple(max(n + b + a, 0) for n, (b, a) in zip(sizes, pads, strict=True))
    source, target = [Ellipsis], [Ellipsis]
    for n, (b, a) in zip(sizes, pads, strict=True):
        start, stop = max(-b, 0), n - max(-a, 0)
        if stop <= start:  # nothing of x is kept
            return np.zeros(shape, x.dtype) if value == 0 else np.full(shape, value, x.dtype)
        source.append(slice(start, stop))
        target.append(slice(max(b, 0), max(b, 0) + stop - start))
    # only the margins are filled, not the whole buffer before x is copied over most of it
    out = np.empty(shape, x.dtype)
    for axis, kept in enumerate(target[1:], start=lead):
        if kept.start:
            out[(slice(None),) * axis + (slice(0, kept.start),)] = value
        if kept.stop < shape[axis]:
            out[(slice(None),) * axis + (slice(kept.stop, None),)] = value
    out[tuple(target)] = x[tuple(source)]
    return out


# up to this many kernel positions, a pass per position (col2im's adds, max pooling's maxima) beats one reduction
# over all of them (a diagonal sum, an argmax along a short axis)
FEW_POSITIONS = 16


def grid_size(size: int, kernel: int, dilation: int, stride: int) -> int:
    """How many windows fit along a dim of `size` (already padded)."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def windows(x: np.ndarray, kernel, dilation, stride) -> np.ndarray:
    """Read-only view `(*lead, *grid, *kernel)` of every window over x's trailing `len(kernel)` dims."""
    k = len(kernel)
    sizes, steps = x.shape[-k:], x.strides[-k:]
    grid = tuple(max(grid_size(n, kk, d, s), 0) for n, kk, d, s in zip(sizes, kernel, dilation, stride, strict=True))
    strides = (x.strides[:-k] + tuple(st * s for st, s in zip(steps, stride, strict=True))
               + tuple(st * d for st, d in zip(steps, dilation, strict=True)))
    return as_strided(x, x.shape[:-k] + grid + tuple(kernel), strides, writeable=False)


def _im2col(x, kernel_size, dilation, padding, stride):
    """(*lead, C, *spatial) → (*lead, C·K, L): each column one window, C slowest, then kernel positions
    (PyTorch's unfold layout)."""
    k = len(kernel_size)
    view = windows(pad_or_crop(x, pad_pairs(padding)), kernel_size, dilation, stride)
    n_lead = view.ndim - 2 * k
    order = tuple(range(n_lead)) + tuple(range(n_lead + k, n_lead + 2 * k)) + tuple(range(n_lead, n_lead + k))
    blocks = view.transpose(order)  # (*lead, C, *kernel, *grid)
    length = math.prod(view.shape[n_lead:-k])  # not -1: a batch may be empty
    cols = blocks.reshape(x.shape[:-k - 1] + (x.shape[-k - 1] * math.prod(kernel_size), length))
    # NOTE: 1x1 windows at stride 1 reshape without a copy; an op's output never shares its input's memory
    return cols.copy() if np.may_share_memory(cols, x) else cols


def _col2im(cols, output_size, kernel_size, dilation, padding, stride):
    """The adjoint of `_im2col`: every column added back onto the window it came from."""
    pads = pad_pairs(padding)
    canvas = tuple(n + b + a for n, (b, a) in zip(output_size, pads, strict=True))
    grid = tuple(grid_size(c, kk, d, s) for c, kk, d, s in zip(canvas, kernel_size, dilation, stride, strict=True))
    lead = cols.shape[:-2]
    channels = cols.shape[-2] // math.prod(kernel_size)
    blocks = cols.reshape(lead + (channels,) + tuple(kernel_size) + grid)
    if math.prod(kernel_size) <= FEW_POSITIONS:
        return _add_by_position(blocks, output_size, kernel_size, dilation, pads, stride)
    return _add_along_diagonals(blocks, canvas, kernel_size, dilation, pads, stride)


def _add_by_position(blocks, output_size, kernel_size, dilation, pads, stride):
    """One strided add per kernel position: the blocks of that position, as one slab, onto the output."""
    k = len(kernel_size)
    grid = blocks.shape[-k:]
    out = np.zeros(blocks.shape[:-2 * k] + tuple(output_size), blocks.dtype)
    for position in np.ndindex(*kernel_size):
        spans = [landing(kk * d - b, g, n, s)
                 for kk, g, n, d, s, (b, _) in zip(position, grid, output_size, dilation, stride, pads, strict=True)]
        if all(span is not None for span in spans):
            source, target = zip(*spans, strict=True)
            out[(Ellipsis,) + target] += blocks[(Ellipsis,) + position + source]
    return out


def _add_along_diagonals(blocks, canvas, kernel_size, dilation, pads, stride):
    """Every position at once, for kernels of many positions: the blocks placed in one buffer, each output
    element the sum of a diagonal of it."""
    k = len(kernel_size)
    lead, grid = blocks.shape[:-2 * k], blocks.shape[-k:]
    # Block value (kk, o) belongs at canvas position y = s·o + d·kk. Placed at index s·o + reach in a
    # buffer (reach = d·(k-1) of zeros in front), canvas position y is the sum over kk of the buffer at
    # y + reach - d·kk: a diagonal, read as a strided view and summed, only over the canvas positions
    # the output keeps (the padding is cut before summing, not after).
    reach = tuple(d * (kk - 1) for kk, d in zip(kernel_size, dilation, strict=True))
    buffer = np.zeros(blocks.shape[:-k] + tuple(c + r for c, r in zip(canvas, reach, strict=True)), blocks.dtype)
    buffer[(Ellipsis,) + tuple(slice(r, r + s * (g - 1) + 1, s) for r, s, g in zip(reach, stride, grid, strict=True))] \
        = blocks
    cut = tuple((max(b, 0), max(a, 0)) for b, a in pads)
    start = buffer[(Ellipsis,) + tuple(slice(r + b, None) for r, (b, _) in zip(reach, cut, strict=True))]
    steps, kernel_steps = buffer.strides[-k:], buffer.strides[-2 * k:-k]
    kept = tuple(c - b - a for c, (b, a) in zip(canvas, cut, strict=True))
    diagonal = as_strided(
        start, lead + kept + tuple(kernel_size), buffer.strides[:-2 * k] + steps
        + tuple(ks - d * st for ks, d, st in zip(kernel_steps, dilation, steps, strict=True)), writeable=False)
    summed = diagonal.sum(axis=tuple(range(-k, 0)))
    return pad_or_crop(summed, tuple((max(-b, 0), max(-a, 0)) for b, a in pads))


def _spatial(shape, k: int) -> tuple:
    return tuple(shape[-k:])


im2col = primitive(
    "im2col", _im2col, "Im2ColBackward0", inputs=("self",),
    params=("kernel_size", "dilation", "padding", "stride"), attrs=("self_sym_sizes",),
    vjp=(lambda g, s: s.xp.apply(col2im, (g,), (_spatial(s.self_sym_sizes, len(s.kernel_size)), s.kernel_size,
                                                 s.dilation, s.padding, s.stride)),))
col2im = primitive(
    "col2im", _col2im, "Col2ImBackward0", inputs=("self",),
    params=("output_size", "kernel_size", "dilation", "padding", "stride"),
    vjp=(lambda g, s: s.xp.apply(im2col, (g,), (s.kernel_size, s.dilation, s.padding, s.stride)),))


# ------------------------------------------------------------------------------- convolution
def _correlate(xp, x, weight, stride, pads, dilation, groups):
    """Each output channel's weight slid over x: (N, C, *size) with weight (O, C/G, *k) → (N, O, *grid)."""
    if not xp.is_tensor:
        return _correlate_direct(x, weight, None, stride, pads, dilation, groups)
    if not conv_terms.finite(weight._data):  # im2col's padding zeros would meet it (ops/conv_terms.py)
        grid = _output_grid(x.shape[2:], weight.shape[2:], stride, pads, dilation)
        return conv_terms.correlate_graph(xp, x, weight, grid, stride, pads, dilation, groups)
    return _correlate_im2col(xp, x, weight, stride, pads, dilation, groups)


def _correlate_transposed(xp, g, weight, size, stride, pads, dilation, groups):
    """The adjoint of `_correlate` in x: (N, O, *grid) with weight (O, C/G, *k) → (N, C, *size)."""
    if not xp.is_tensor and all(s == 1 for s in stride):
        return _correlate_adjoint_direct(g, weight, pads, dilation, groups)
    return _correlate_transposed_col2im(xp, g, weight, size, stride, pads, dilation, groups)


def _weight_product(xp, a, source, weight_shape, stride, pads, dilation, groups):
    """Σₙ a · im2col(source)ᵀ shaped like the weight: conv's dW (a = g, source = x) and
    conv_transpose's (a = x, source = g)."""
    if not xp.is_tensor:
        return _weight_product_direct(a, source, weight_shape, stride, pads, dilation, groups)
    if not conv_terms.finite(a._data):  # im2col's padding zeros would meet it (ops/conv_terms.py)
        return conv_terms.weight_product_graph(xp, a, source, weight_shape, stride, pads, dilation, groups)
    return _weight_product_im2col(xp, a, source, weight_shape, stride, pads, dilation, groups)


def _correlate_im2col(xp, x, weight, stride, pads, dilation, groups):
    kernel = tuple(weight.shape[2:])
    cols = xp.apply(im2col, (x,), (kernel, dilation, pads, stride))
    n, rows, length = cols.shape
    out_channels = weight.shape[0]
    product = xp.matmul(xp.reshape(weight, (groups, out_channels // groups, -1)),
                        xp.reshape(cols, (n, groups, rows // groups, length)))
    canvas = (size + b + a for size, (b, a) in zip(_spatial(x.shape, len(kernel)), pad_pairs(pads), strict=True))
    grid = tuple(grid_size(c, kk, d, s) for c, kk, d, s in zip(canvas, kernel, dilation, stride, strict=True))
    return xp.reshape(product, (n, out_channels) + grid)


def _correlate_transposed_col2im(xp, g, weight, size, stride, pads, dilation, groups):
    kernel = tuple(weight.shape[2:])
    n, out_channels = g.shape[:2]
    length = math.prod(g.shape[2:])
    grouped = xp.reshape(weight, (groups, out_channels // groups, -1))
    cols = xp.matmul(xp.transpose(grouped, -1, -2), xp.reshape(g, (n, groups, out_channels // groups, length)))
    rows = weight.shape[1] * groups * math.prod(kernel)
    return xp.apply(col2im, (xp.reshape(cols, (n, rows, length)),), (size, kernel, dilation, pads, stride))


def _weight_product_im2col(xp, a, source, weight_shape, stride, pads, dilation, groups):
    kernel = tuple(weight_shape[2:])
    cols = xp.apply(im2col, (source,), (kernel, dilation, pads, stride))
    n, rows, length = cols.shape
    a = xp.reshape(a, (n, groups, a.shape[1] // groups, length))
    per_sample = xp.matmul(a, xp.transpose(xp.reshape(cols, (n, groups, rows // groups, length)), -1, -2))
    return xp.reshape(xp.sum(per_sample, (0,)), weight_shape)


# ------------------------------------------------------------------- on arrays: columns copied once, a chunk at a time
# NOTE: against shifts of the flattened padded input (a padded copy of x, products along whole padded rows copied onto
# the grid, a pass adding the bias), the CNN bench's conv2 (32×8×28×28 → 16, 3×3, f32, one thread, best of 40):
# forward 1.83 → 1.03 ms, weight gradient 1.83 → 1.12 ms, input gradient 1.64 → 1.45 ms.
# Columns made and used a chunk of the batch at a time stay in a core's cache (1 MB of L2 here): whole batch → 1 MB
# chunks, f32 −9%, f64 −15% CPU time on that step; 256 KB and 4 MB chunks gain less.
CHUNK_BYTES = 1 << 20


def _chunks(n: int, sample_bytes: int) -> list[slice]:
    """Slices of the batch whose columns take about CHUNK_BYTES."""
    step = max(1, min(n, CHUNK_BYTES // max(sample_bytes, 1)))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def _strided(array, shape, strides) -> np.ndarray:
    """A view of the C-contiguous `array` with other shape and strides (cheaper than as_strided's wrapper)."""
    return np.ndarray(shape, array.dtype, buffer=array, strides=strides)


def _chunked_columns(x, kernel, grid, stride, pads, dilation, groups, ones: bool):
    """Yield `(batch, columns)` for chunks of x's batch: columns (m, G, C/G·K, L), im2col's per group, and with
    `ones` a last row of ones each group (it carries a bias into a product). One buffer serves every chunk: each
    kernel position copies the block of x it reads, and the places off the input, never written, stay zero (x is
    not padded first). A chunk's columns are overwritten by the next: use them before asking for it."""
    n, channels = x.shape[:2]
    size = x.shape[2:]
    in_group = channels // groups
    rows = in_group * math.prod(kernel)
    depth, length = rows + ones, math.prod(grid)
    batches = _chunks(n, groups * depth * length * x.itemsize)
    buffer = np.zeros((batches[0].stop, groups, depth, length), x.dtype)
    if ones:
        buffer[:, :, rows] = 1
    unit = x.itemsize
    cols = _strided(buffer, buffer.shape[:2] + (in_group,) + tuple(kernel) + tuple(grid),
                    tuple(unit * length * r for r in (groups * depth, depth, math.prod(kernel)))
                    + tuple(unit * length * math.prod(kernel[i + 1:]) for i in range(len(kernel)))
                    + tuple(unit * math.prod(grid[i + 1:]) for i in range(len(grid))))
    blocks = conv_terms.spans(kernel, grid, size, stride, pads, dilation)
    source = x.reshape((n, groups, in_group) + size)
    for batch in batches:
        m = batch.stop - batch.start
        for position, on_grid, on_input in blocks:
            cols[(slice(0, m), slice(None), slice(None)) + position + on_grid] = source[(batch, Ellipsis) + on_input]
        yield batch, buffer[:m]


def _output_grid(size, kernel, stride, pads, dilation) -> tuple:
    return tuple(max(grid_size(m + b + a, kk, d, s), 0)
                 for m, kk, d, s, (b, a) in zip(size, kernel, dilation, stride, pads, strict=True))


def _correlate_direct(x, weight, bias, stride, pads, dilation, groups):
    """`_correlate` on arrays, plus `bias` when given (a row of ones in the columns carries it): each chunk's product
    with the weight written straight into the output. The columns' padding zeros meet every weight element, so a
    weight with a NaN or an inf is multiplied term by term instead (ops/conv_terms.py)."""
    kernel = tuple(weight.shape[2:])
    n, out_channels = x.shape[0], weight.shape[0]
    per_group = out_channels // groups
    grid = _output_grid(x.shape[2:], kernel, stride, pads, dilation)
    if not conv_terms.finite(weight):
        out = conv_terms.correlate(x, weight, grid, stride, pads, dilation, groups)
        if bias is not None:
            out += bias.reshape((-1,) + (1,) * len(grid))
        return out
    matrix = weight.reshape(groups, per_group, -1)
    if bias is not None:
        matrix = np.concatenate((matrix, bias.reshape(groups, per_group, 1).astype(matrix.dtype)), axis=2)
    out = np.empty((n, out_channels) + grid, np.result_type(x.dtype, matrix.dtype))
    if not out.size:
        return out
    length = math.prod(grid)
    for batch, columns in _chunked_columns(x.astype(out.dtype, copy=False), kernel, grid, stride, pads, dilation,
                                           groups, bias is not None):
        np.matmul(matrix, columns, out=out[batch].reshape(len(columns), groups, per_group, length))
    return out


def _adjoint(weight, pads, dilation) -> tuple:
    """x's gradient at stride 1 is g correlated with each group's weight transposed and its kernel reversed (output
    position o = i + d·kk - b becomes i = o + d·(k-1-kk) - (d·(k-1) - b)): g's paddings there, d·(k-1) less x's."""
    return tuple((d * (kk - 1) - b, d * (kk - 1) - a)
                 for kk, d, (b, a) in zip(weight.shape[2:], dilation, pads, strict=True))


def _reversed_weight(weight, groups):
    """Each group's weight transposed, its kernel reversed: (G·C/G, O/G, *k)."""
    kernel = weight.shape[2:]
    out_channels, in_group = weight.shape[:2]
    grouped = weight.reshape((groups, out_channels // groups, in_group) + kernel).swapaxes(1, 2)
    reversed_ = np.ascontiguousarray(grouped[(Ellipsis,) + (slice(None, None, -1),) * len(kernel)])
    return reversed_.reshape((groups * in_group, out_channels // groups) + kernel)


def _correlate_adjoint_direct(g, weight, pads, dilation, groups):
    """`_correlate_transposed` at stride 1 on arrays: g correlated with the reversed weight (`_adjoint`)."""
    return _correlate_direct(g, _reversed_weight(weight, groups), None, (1,) * (weight.ndim - 2),
                             _adjoint(weight, pads, dilation), dilation, groups)


def _adjoint_and_weight_direct(g, x, weight, pads, dilation, groups):
    """x's and the weight's gradients of a stride-1 convolution on arrays, both from one set of g's columns: x's as
    `_correlate_adjoint_direct` computes it, and the weight's as those columns times x summed over the batch (row
    (o, kk) of the columns holds g moved by kernel position kk reversed, so the product is the weight's gradient with
    its kernel reversed). `_weight_product_direct` would copy x's columns as well. g's columns have padding zeros, which
    meet the weight in x's gradient and x in the weight's: when a NaN or an inf is among those, both are multiplied
    term by term instead (ops/conv_terms.py)."""
    kernel = weight.shape[2:]
    n, channels = x.shape[:2]
    out_channels, in_group = weight.shape[:2]
    size, length = x.shape[2:], math.prod(x.shape[2:])
    if not g.size or not x.size:
        return np.zeros(x.shape, g.dtype), np.zeros(weight.shape, g.dtype)
    matrix = _reversed_weight(weight, groups).reshape(groups, in_group, -1)
    dx = np.empty(x.shape, g.dtype)
    total = np.zeros((groups, matrix.shape[2], in_group), g.dtype)
    sources = x.reshape(n, groups, in_group, length)
    for batch, columns in _chunked_columns(g, kernel, size, (1,) * len(kernel), _adjoint(weight, pads, dilation),
                                           dilation, groups, False):
        np.matmul(matrix, columns, out=dx[batch].reshape(len(columns), groups, in_group, length))
        total += np.matmul(columns, sources[batch].swapaxes(-1, -2)).sum(0)
    if not (conv_terms.finite(weight) and conv_terms.finite(total)):  # total is not finite when x is not
        stride = (1,) * len(kernel)
        return (conv_terms.correlate_adjoint(g, weight, size, stride, pads, dilation, groups),
                conv_terms.weight_product(g, x, weight.shape, stride, pads, dilation, groups))
    blocks = total.reshape((groups, out_channels // groups) + kernel + (in_group,))
    flipped = blocks[(slice(None), slice(None)) + (slice(None, None, -1),) * len(kernel)]
    dw = np.moveaxis(flipped, -1, 2).reshape(weight.shape)
    return dx, np.ascontiguousarray(dw)


def _weight_product_direct(a, source, weight_shape, stride, pads, dilation, groups):
    """`_weight_product` on arrays: each chunk's a · columnsᵀ summed over its samples into the total. The columns'
    padding zeros meet every element of a, so when the total is not finite it is multiplied again term by term
    (ops/conv_terms.py)."""
    kernel = tuple(weight_shape[2:])
    n, per_group = a.shape[0], a.shape[1] // groups
    grid = a.shape[2:]
    total = np.zeros((groups, per_group, math.prod(weight_shape[1:])), np.result_type(a.dtype, source.dtype))
    if n and math.prod(grid):
        rows = a.reshape(n, groups, per_group, math.prod(grid))
        for batch, columns in _chunked_columns(source.astype(total.dtype, copy=False), kernel, grid, stride, pads,
                                               dilation, groups, False):
            total += np.matmul(rows[batch], columns.transpose(0, 1, 3, 2)).sum(0)
        if not conv_terms.finite(total):
            return conv_terms.weight_product(a, source, weight_shape, stride, pads, dilation, groups)
    return total.reshape(weight_shape)


def _pads(padding, output_padding, transposed) -> tuple:
    """The im2col/col2im paddings of a convolution: output_padding extends a transposed one's end."""
    if not transposed:
        return tuple((p, p) for p in padding)
    return tuple((p, p - extra) for p, extra in zip(padding, output_padding, strict=True))


def transposed_size(size, kernel, stride, padding, dilation, output_padding) -> tuple:
    """conv_transpose's output size along each spatial dim."""
    return tuple((n - 1) * s - 2 * p + d * (kk - 1) + extra + 1
                 for n, kk, s, p, d, extra in zip(size, kernel, stride, padding, dilation, output_padding, strict=True))


def _convolution(x, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    pads = _pads(padding, output_padding, transposed)
    if transposed:
        size = transposed_size(x.shape[2:], weight.shape[2:], stride, padding, dilation, output_padding)
        out = _correlate_transposed(NUMPY, x, weight, size, stride, pads, dilation, groups)
        if bias is not None:
            out += bias.reshape((-1,) + (1,) * (out.ndim - 2))
        return out
    return _correlate_direct(x, weight, bias, stride, pads, dilation, groups)


def _conv_input_vjp(g, s):
    pads = _pads(s.padding, s.output_padding, s.transposed)
    if s.transposed:
        return _correlate(s.xp, g, s.weight, s.stride, pads, s.dilation, s.groups)
    size = _spatial(s.input_sym_sizes, len(s.stride))
    return _correlate_transposed(s.xp, g, s.weight, size, s.stride, pads, s.dilation, s.groups)


def _conv_weight_vjp(g, s):
    pads = _pads(s.padding, s.output_padding, s.transposed)
    if s.transposed:
        return _weight_product(s.xp, s.input, g, s.weight_sym_sizes, s.stride, pads, s.dilation, s.groups)
    return _weight_product(s.xp, g, s.input, s.weight_sym_sizes, s.stride, pads, s.dilation, s.groups)


def _bias_vjp(g, s):
    """g summed over every dim but the channels'. On arrays, each sample's rows times ones, then the samples: one
    reduction over the batch and spatial dims at once is ~3× slower (the CNN bench's 32×16×28×28: 64 → 23 µs)."""
    if s.xp.is_tensor:
        return s.xp.sum(g, (0,) + tuple(range(2, g.ndim)))
    rows = g.reshape(g.shape[:2] + (math.prod(g.shape[2:]),))  # not -1: a batch may be empty
    return (rows @ np.ones(rows.shape[2], g.dtype)).sum(0)


_CONV_RULES = (_conv_input_vjp, _conv_weight_vjp, _bias_vjp)


def _conv_vjps(g, s, wanted) -> list:
    """ConvolutionBackward0's wanted gradients in one call (see Primitive.joint_vjp): on arrays at stride 1, x's and
    the weight's from one set of g's columns (`_adjoint_and_weight_direct`; the weight's is then summed in another
    order than its rule's, over x's columns: equal to rounding), otherwise each by its rule."""
    input_meta, weight_meta, _ = wanted
    grads = [None, None, None]
    if (input_meta is not None and weight_meta is not None and not s.xp.is_tensor and not s.transposed
            and all(step == 1 for step in s.stride) and g.dtype == s.input.dtype == s.weight.dtype):
        grads[:2] = _adjoint_and_weight_direct(g, s.input, s.weight, _pads(s.padding, s.output_padding, False),
                                               s.dilation, s.groups)
    for index, (rule, meta) in enumerate(zip(_CONV_RULES, wanted, strict=True)):
        if meta is not None:
            grads[index] = to_input(rule(g, s) if grads[index] is None else grads[index], meta, s.xp)
    return grads


convolution = primitive(
    "convolution", _convolution, "ConvolutionBackward0", inputs=("input", "weight", "bias"),
    params=("stride", "padding", "dilation", "transposed", "output_padding", "groups"),
    attrs=("input_sym_sizes", "weight_sym_sizes"), unsaved=("input_sym_sizes", "weight_sym_sizes"),
    saves=("weight", "input", ()),
    vjp=_CONV_RULES, joint_vjp=_conv_vjps)
