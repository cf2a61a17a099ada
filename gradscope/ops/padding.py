"""Padding: constant (or cropping, with negative amounts), reflection and replication.

`pad` parameters are in PyTorch's order: (last dim before, last dim after, the dim before it …).
A constant pad's adjoint is the opposite crop, itself a constant pad, so its VJP is the same op.
Reflection and replication read each output element from one input element: a gather by index
arrays over the padded dims, whose VJP adds the gradient back at those indices (repeated indices
accumulate): an op of its own, as PyTorch's *PadNDBackwardBackward0, whose VJP is the pad again.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.conv import pad_or_crop
from gradscope.ops.namespace import NUMPY
from gradscope.ops.registry import primitive


def pad_pairs_last_first(pad) -> tuple:
    """(before, after) per padded dim, leading dim first, from PyTorch's last-dim-first flat tuple."""
    return tuple((pad[i], pad[i + 1]) for i in range(0, len(pad), 2))[::-1]


def _constant_pad(a, pad, value):
    out = pad_or_crop(a, pad_pairs_last_first(pad), value)
    return out.copy() if out is a else out


constant_pad_nd = primitive(
    "constant_pad_nd", _constant_pad, "ConstantPadNdBackward0", inputs=("self",), params=("pad", "value"),
    unsaved=("value",),
    vjp=(lambda g, s: s.xp.apply(constant_pad_nd, (g,), (tuple(-p for p in s.pad), 0)),))


def _reflect(positions, size):
    period = 2 * (size - 1)
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded < size, folded, period - folded)


def _source_indices(sizes, padding, mode: str) -> tuple:
    """Per padded dim, which input element each output element reads; an open mesh (np.ix_)."""
    indices = []
    for size, (before, after) in zip(sizes, pad_pairs_last_first(padding), strict=True):
        positions = np.arange(-before, size + after)
        indices.append(_reflect(positions, size) if mode == "reflect" else np.clip(positions, 0, size - 1))
    return (Ellipsis,) + np.ix_(*indices)


def _gather_pad(mode: str):
    def forward(a, padding):
        return a[_source_indices(a.shape[-(len(padding) // 2):], padding, mode)]
    return forward


def _scatter_back(mode: str):
    """PyTorch's reflection/replication_pad*_backward: each gradient element added back at the input element its
    output element read."""
    def backward(grad_output, a, padding):
        sizes = a.shape[-(len(padding) // 2):]
        return NUMPY.index_scatter(grad_output, a.shape, _source_indices(sizes, padding, mode), True)
    return backward


def _padding_primitive(mode: str, dims: int, node: str):
    # the backward as an op of its own, as PyTorch's: linear in the gradient (its rule is the pad again), constant
    # in the input, which it takes for its shape (a zero gradient there)
    backward = primitive(f"{mode}_pad{dims}d_backward", _scatter_back(mode), f"{node}BackwardBackward0",
                         inputs=("grad_output", "self"), params=("padding",),
                         vjp=(lambda gg, s: s.xp.apply(pad, (gg,), (s.padding,)), lambda gg, s: s.xp.zeros_like(gg)))
    # NOTE: saves self as PyTorch does (its rule needs only the sizes): a second backward then raises, as there
    pad = primitive(f"{mode}_pad{dims}d", _gather_pad(mode), f"{node}Backward0", inputs=("self",), params=("padding",),
                    saves=("self",), vjp=(lambda g, s: s.xp.apply(backward, (g, s.self), (s.padding,)),))
    return pad


reflection_pad1d = _padding_primitive("reflect", 1, "ReflectionPad1D")
reflection_pad2d = _padding_primitive("reflect", 2, "ReflectionPad2D")
reflection_pad3d = _padding_primitive("reflect", 3, "ReflectionPad3D")
replication_pad1d = _padding_primitive("replicate", 1, "ReplicationPad1D")
replication_pad2d = _padding_primitive("replicate", 2, "ReplicationPad2D")
replication_pad3d = _padding_primitive("replicate", 3, "ReplicationPad3D")
