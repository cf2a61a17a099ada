"""A convolution's products term by term on arrays: each kernel position multiplies only the part of the input it
meets, never padding.

The column kernels of ops/conv.py fill the places off the input with zeros and multiply those too. For finite
factors 0 · w adds nothing, so the sums are the same; but 0 · NaN and 0 · inf are NaN. A NaN weight would then
reach outputs whose windows meet it only over padding, and a NaN in g would reach weight gradient positions that
never read it, so the debugger would blame positions no NaN touched. ops/conv.py runs these kernels instead when a
factor that meets those zeros is not finite. They compute what PyTorch's float32 CPU kernels (oneDNN) compute: a
padding place is no term at all. (Its float64 kernels, and its float32 ones at batch 1 and small kernels, multiply
padding zeros in the forward and the weight gradient; the graph built under create_graph here does too.)

Shapes are a convolution's: x (N, C, *size), weight (O, C/G, *kernel), g and outputs (N, O, *grid), paddings
(before, after) pairs.
"""

from __future__ import annotations

import numpy as np


def landing(shift: int, grid: int, size: int, stride: int) -> tuple[slice, slice] | None:
    """Along one dim, the blocks (grid positions o) whose output coordinate stride·o + shift is inside
    [0, size), and those coordinates; None if there are none."""
    first, last = max(-(shift // stride), 0), min((size - 1 - shift) // stride + 1, grid)
    if last <= first:
        return None
    return slice(first, last), slice(stride * first + shift, stride * (last - 1) + shift + 1, stride)


def spans(kernel, grid, size, stride, pads, dilation) -> list[tuple]:
    """`(position, grid slices, input slices)` of each kernel position that reads some of x: the grid positions
    whose window puts that kernel position on x, and the elements of x it reads there."""
    found = []
    for position in np.ndindex(*kernel):
        along = [landing(kk * d - b, o, m, s)
                 for kk, o, m, d, s, (b, _) in zip(position, grid, size, dilation, stride, pads, strict=True)]
        if all(span is not None for span in along):
            found.append((position,) + tuple(zip(*along, strict=True)))
    return found


def _grouped(array, groups):
    """(N, G·K, *spatial) → (N, G, K, *spatial)."""
    return array.reshape(array.shape[:1] + (groups, array.shape[1] // groups) + array.shape[2:])


def _flat(block):
    """(N, G, K, *span) → (N, G, K, prod(span))."""
    return block.reshape(block.shape[:3] + (-1,))


def _kernel_blocks(weight, groups):
    """The weight as (G, O/G, C/G, *kernel)."""
    return weight.reshape((groups, weight.shape[0] // groups) + weight.shape[1:])


def correlate(x, weight, grid, stride, pads, dilation, groups) -> np.ndarray:
    """Each output channel's weight slid over x: out[o] = Σ w[k] · x[s·o + d·k - b] over the k that land on x."""
    dtype = np.result_type(x.dtype, weight.dtype)
    out = np.zeros((x.shape[0], weight.shape[0]) + tuple(grid), dtype)
    blocks, source, target = _kernel_blocks(weight, groups), _grouped(x, groups), _grouped(out, groups)
    for position, on_grid, on_input in spans(weight.shape[2:], grid, x.shape[2:], stride, pads, dilation):
        read = source[(slice(None),) * 3 + on_input]
        place = (slice(None),) * 3 + on_grid
        target[place] += (blocks[(Ellipsis,) + position] @ _flat(read)).reshape(target[place].shape)
    return out


def correlate_adjoint(g, weight, size, stride, pads, dilation, groups) -> np.ndarray:
    """The adjoint of `correlate` in x: each g[o] · w[k] added onto the x it read."""
    dtype = np.result_type(g.dtype, weight.dtype)
    out = np.zeros((g.shape[0], weight.shape[1] * groups) + tuple(size), dtype)
    blocks, source, target = _kernel_blocks(weight, groups), _grouped(g, groups), _grouped(out, groups)
    for position, on_grid, on_input in spans(weight.shape[2:], g.shape[2:], size, stride, pads, dilation):
        read = source[(slice(None),) * 3 + on_grid]
        place = (slice(None),) * 3 + on_input
        target[place] += (blocks[(Ellipsis,) + position].swapaxes(-1, -2) @ _flat(read)).reshape(target[place].shape)
    return out


def weight_product(a, source, weight_shape, stride, pads, dilation, groups) -> np.ndarray:
    """Σ over the batch and grid of a[o] · source[s·o + d·k - b], shaped like the weight: conv's weight gradient
    (a = g, source = x) and conv_transpose's (a = x, source = g)."""
    kernel = tuple(weight_shape[2:])
    out = np.zeros(weight_shape, np.result_type(a.dtype, source.dtype))
    blocks, rows, columns = _kernel_blocks(out, groups), _grouped(a, groups), _grouped(source, groups)
    for position, on_grid, on_input in spans(kernel, a.shape[2:], source.shape[2:], stride, pads, dilation):
        products = _flat(rows[(slice(None),) * 3 + on_grid]) @ _flat(columns[(slice(None),) * 3 + on_input]).swapaxes(
            -1, -2)
        blocks[(Ellipsis,) + position] = products.sum(0)
    return out


def finite(array) -> bool:
    """Whether no element of `array` is NaN or ±inf: whether the column kernels' padding zeros add nothing there."""
    return _all_of(np.isfinite(array), axis=None)  # NOTE: not .all(), a Python wrapper (~17 bytecodes a call)


_all_of = np.logical_and.reduce


# ------------------------------------------------------------------- as a graph (create_graph): the same terms on xp
# The im2col rules of ops/conv.py multiply padding zeros too: where a factor is not finite, the first-order values of a
# graph built under create_graph come from these instead, written in xp's ops so they are differentiable again.
def correlate_graph(xp, x, weight, grid, stride, pads, dilation, groups):
    """`correlate` on xp: each kernel position's product padded onto the grid, the products added."""
    from gradscope.ops.padding import constant_pad_nd  # NOTE: here, not at the top: padding imports ops/conv.py

    n, out_channels = x.shape[0], weight.shape[0]
    blocks = xp.reshape(weight, (groups, out_channels // groups) + tuple(weight.shape[1:]))
    source = xp.reshape(x, (n, groups, x.shape[1] // groups) + tuple(x.shape[2:]))
    out = None
    for position, on_grid, on_input in spans(weight.shape[2:], grid, x.shape[2:], stride, pads, dilation):
        read = xp.getitem(source, (slice(None),) * 3 + on_input)
        span = tuple(s.stop - s.start for s in on_grid)
        product = xp.matmul(xp.getitem(blocks, (Ellipsis,) + position), xp.reshape(read, tuple(read.shape[:3]) + (-1,)))
        product = xp.reshape(product, (n, groups, out_channels // groups) + span)
        pad = tuple(p for s, size in reversed(list(zip(on_grid, grid, strict=True))) for p in (s.start, size - s.stop))
        placed = xp.apply(constant_pad_nd, (product,), (pad, 0))
        out = placed if out is None else out + placed
    if out is None:
        return xp.zeros((n, out_channels) + tuple(grid), np.result_type(x.dtype, weight.dtype))
    return xp.reshape(out, (n, out_channels) + tuple(grid))


def weight_product_graph(xp, a, source, weight_shape, stride, pads, dilation, groups):
    """`weight_product` on xp: each kernel position's Σ a · source over its span, stacked into the kernel."""
    kernel = tuple(weight_shape[2:])
    n, per_group = a.shape[0], a.shape[1] // groups
    in_group = source.shape[1] // groups
    rows = xp.reshape(a, (n, groups, per_group) + tuple(a.shape[2:]))
    columns = xp.reshape(source, (n, groups, in_group) + tuple(source.shape[2:]))
    found = {position: (on_grid, on_input)
             for position, on_grid, on_input in spans(kernel, a.shape[2:], source.shape[2:], stride, pads, dilation)}
    blocks = []
    for position in np.ndindex(*kernel):
        if position not in found:
            blocks.append(xp.zeros((groups, per_group, in_group), np.result_type(a.dtype, source.dtype)))
            continue
        on_grid, on_input = found[position]
        left = xp.getitem(rows, (slice(None),) * 3 + on_grid)
        right = xp.getitem(columns, (slice(None),) * 3 + on_input)
        products = xp.matmul(xp.reshape(left, tuple(left.shape[:3]) + (-1,)),
                             xp.transpose(xp.reshape(right, tuple(right.shape[:3]) + (-1,)), -1, -2))
        blocks.append(xp.sum(products, (0,)))
    return xp.reshape(xp.stack(blocks, -1), tuple(weight_shape))
