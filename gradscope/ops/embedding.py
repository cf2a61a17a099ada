"""Embedding lookup: rows of a weight matrix picked by integer indices (PyTorch's EmbeddingBackward0).

The VJP adds each gradient row back onto the row it was read from (repeated indices accumulate), with
the `padding_idx` row left at zero and, with scale_grad_by_freq, each row scaled by how rarely its
index occurs in the batch. That scatter is IndexPutBackward0's op, whose VJP gathers again, so the
lookup is differentiable twice.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import primitive


def _embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse):
    return weight[indices]


def _embedding_vjp(g, s):
    xp, indices = s.xp, s.indices
    if s.padding_idx >= 0 or s.scale_grad_by_freq:
        scale = np.ones(indices.shape + (1,))
        if s.padding_idx >= 0:
            scale = scale * (indices != s.padding_idx)[..., None]
        if s.scale_grad_by_freq:
            counts = np.bincount(indices.ravel(), minlength=s.weight_sym_sizes[0])
            scale = scale / counts[indices][..., None]
        g = g * xp.cast(scale, g.dtype)
    return xp.index_scatter(g, s.weight_sym_sizes, (indices,), True)


embedding = primitive("embedding", _embedding, "EmbeddingBackward0", inputs=("weight",),
                      params=("indices", "padding_idx", "scale_grad_by_freq", "sparse"), attrs=("weight_sym_sizes",),
                      held=("indices",), vjp=(_embedding_vjp,))
