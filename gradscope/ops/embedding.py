"""Embedding lookup: rows of a weight matrix picked by integer indices (PyTorch's EmbeddingBackward0).

The VJP adds each gradient row back onto the row it was read from (repeated indices accumulate), with
the `padding_idx` row left at zero and, with scale_grad_by_freq, each row scaled by how rarely its
index occurs in the batch. That scatter is IndexPutBackward0's op, whose VJP gathers again, so the
lookup is differentiable twice.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import Primitive, primitive


def _embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse):
    return weight[indices]


def _embedding_vjp(g, s):
    xp, indices = s.xp, s.indices
    if s.padding_idx >= 0 or s.scale_grad_by_freq:
        scale = np.ones(indices.shape + (1,))
        if s.padding_idx >= 0:
            scale = scale * (indices != s.padding_idx)[..., None]
        if s.scale_grad_by_freq:
            counts = np.bincount(indices.ravel(), minlength=s.weight_sym_argsize_0)
            scale = scale / counts[indices][..., None]
        g = g * xp.cast(scale, g.dtype)
    # NOTE: PyTorch's node keeps the number of rows only; a row's size is the gradient's
    return xp.index_scatter(g, (s.weight_sym_argsize_0, *g.shape[indices.ndim:]), (indices,), True)


embedding = primitive("embedding", _embedding, "EmbeddingBackward0", inputs=("weight",),
                      params=("indices", "padding_idx", "scale_grad_by_freq", "sparse"),
                      attrs=("weight_sym_argsize_0",), held=("indices",), vjp=(_embedding_vjp,))


# ------------------------------------------------------------------------------- embedding_bag
MODES = ("sum", "mean", "max")


def _bag_layout(indices, offsets, include_last_offset, padding_idx):
    """Each lookup's bag (-1: in none), whether it counts (in a bag, not padding), and the number of bags. The
    last bag runs to the end of the indices (with include_last_offset too: PyTorch reads no end from offsets)."""
    starts = offsets[:-1] if include_last_offset else offsets
    bag = np.searchsorted(starts, np.arange(len(indices)), side="right") - 1
    counted = (bag >= 0) & (indices != padding_idx)
    return bag, counted, len(starts)


def _bag_maxima(rows, bag, lookups, indices, output_shape):
    """Each bag's maximum per column and the index it came from (-1 in an empty bag). As PyTorch's CPU kernel folds a
    bag: its first row, then each later value strictly greater than the one kept. Ties keep the first; a NaN that
    comes first stays (nothing is greater than it), one that comes later is passed over (it is greater than
    nothing). `rows`: the counted lookups' rows, in order; `bag`: their bags; `lookups`: their positions."""
    output = np.full(output_shape, -np.inf, dtype=rows.dtype)
    np.fmax.at(output, bag, rows)  # NaN-skipping: the maxima where a bag's first row is not NaN
    first = np.full(output_shape[0], len(rows))
    np.minimum.at(first, bag, np.arange(len(rows)))
    nonempty = first < len(rows)
    stays = np.zeros(output_shape, dtype=bool)
    stays[nonempty] = np.isnan(rows[first[nonempty]])
    output[stays] = np.nan
    picked = np.full(output_shape, len(indices))  # the first lookup that reaches the kept value
    hit = np.nonzero((rows == output[bag]) | (stays[bag] & (np.arange(len(rows)) == first[bag])[:, None]))
    np.minimum.at(picked, (bag[hit[0]], hit[1]), lookups[hit[0]])
    return output, np.where(picked < len(indices), np.append(indices, -1)[picked], -1)


def _embedding_bag(weight, per_sample_weights, indices, offsets, scale_grad_by_freq, mode, sparse,
                   include_last_offset, padding_idx):
    """(bags, each lookup's bag, each bag's size, the row each max came from): sums in lookup order, as
    PyTorch's CPU kernel adds them."""
    bag, counted, bags = _bag_layout(indices, offsets, include_last_offset, padding_idx)
    rows = weight[indices[counted]]
    if per_sample_weights is not None:
        rows = rows * per_sample_weights[counted][:, None]
    sizes = np.bincount(bag[counted], minlength=bags)
    output_shape = (bags, weight.shape[1])
    if MODES[mode] == "max":
        output, maximum = _bag_maxima(rows, bag[counted], np.flatnonzero(counted), indices, output_shape)
        output[sizes == 0] = 0
        return output, bag, sizes, maximum
    output = np.zeros(output_shape, dtype=weight.dtype)
    np.add.at(output, bag[counted], rows)
    if MODES[mode] == "mean":
        output = output / np.maximum(sizes, 1)[:, None].astype(weight.dtype)
    return output, bag, sizes, np.zeros(0, dtype=np.int64)


def _embedding_bag_backward(grad, per_sample_weights, indices, offsets, maximum, num_weights, scale_grad_by_freq,
                            mode, include_last_offset, padding_idx):
    """The weight's gradient: each bag's gradient back onto the rows it read (its max's rows in max mode)."""
    weight_grad = np.zeros((num_weights, grad.shape[1]), dtype=grad.dtype)
    if MODES[mode] == "max":
        found = maximum >= 0
        np.add.at(weight_grad, (maximum[found], np.nonzero(found)[1]), grad[found])
        return weight_grad
    bag, counted, bags = _bag_layout(indices, offsets, include_last_offset, padding_idx)
    scale = np.ones(len(indices), dtype=grad.dtype)
    if MODES[mode] == "mean":
        scale = scale / np.maximum(np.bincount(bag[counted], minlength=bags), 1)[np.maximum(bag, 0)]
    if per_sample_weights is not None:
        scale = scale * per_sample_weights
    if scale_grad_by_freq:
        # NOTE: PyTorch's CPU kernel (2.13) divides the rows of the k-th distinct index by the count of the k-th
        # *sorted lookup*, not by that index's own count (F.embedding divides by its own): reproduced, as
        # gradients must match PyTorch's
        counts = np.bincount(indices, minlength=num_weights)
        kth = np.searchsorted(np.unique(indices), indices)
        scale = scale / counts[np.sort(indices)[kth]]
    np.add.at(weight_grad, indices[counted], grad[bag[counted]] * scale[counted][:, None])
    return weight_grad


def _per_sample_weights_backward(grad, weight, indices, offsets, include_last_offset, padding_idx):
    bag, counted, _ = _bag_layout(indices, offsets, include_last_offset, padding_idx)
    result = np.zeros(len(indices), dtype=grad.dtype)
    result[counted] = np.sum(grad[bag[counted]] * weight[indices[counted]], axis=1)
    return result


def _bag_weight_vjp(g, s):
    maximum = s.result3 if not s.xp.is_tensor else s.result3._data  # an integer output: no graph to keep
    return s.xp.apply(embedding_bag_backward, (g[0], s.per_sample_weights),
                      (s.indices, s.offsets, maximum, s.weight_sym_argsize_0, s.scale_grad_by_freq, s.mode,
                       s.include_last_offset, s.padding_idx))


def _bag_per_sample_weights_vjp(g, s):
    return s.xp.apply(embedding_bag_per_sample_weights_backward, (g[0], s.weight),
                      (s.indices, s.offsets, s.include_last_offset, s.padding_idx))


def _refuse(name: str, error: type, text: str):
    def rule(g, s):
        raise error(text)
    rule.__name__ = f"no_{name}_derivative"
    return rule


embedding_bag = primitive(
    "embedding_bag", _embedding_bag, "EmbeddingBagBackward0", inputs=("weight", "per_sample_weights"),
    params=("indices", "offsets", "scale_grad_by_freq", "mode", "sparse", "include_last_offset", "padding_idx"),
    attrs=("weight_sym_argsize_0",), held=("indices", "offsets"), outputs=4, differentiable_outputs=(0,),
    saves=(("per_sample_weights", "result3"), ("weight",)), vjp=(_bag_weight_vjp, _bag_per_sample_weights_vjp))

# NOTE: outside the op table on purpose: PyTorch does not differentiate embedding_bag twice; these nodes, made
# under create_graph=True, only refuse a backward, with PyTorch's names and texts
embedding_bag_backward = Primitive(
    "embedding_bag_backward", _embedding_bag_backward, "EmbeddingBagBackwardBackward0",
    inputs=("grad", "per_sample_weights"),
    params=("indices", "offsets", "maximum", "num_weights", "scale_grad_by_freq", "mode", "include_last_offset",
            "padding_idx"),
    vjp=(_refuse("embedding_bag_backward", NotImplementedError,
                 "the derivative for '_embedding_bag_backward' is not implemented."),) * 2)
embedding_bag_per_sample_weights_backward = Primitive(
    "embedding_bag_per_sample_weights_backward", _per_sample_weights_backward, "NotImplemented",
    inputs=("grad", "weight"), params=("indices", "offsets", "include_last_offset", "padding_idx"),
    vjp=(_refuse("per_sample_weights_backward", RuntimeError,
                 "derivative for aten::_embedding_bag_per_sample_weights_backward is not implemented"),) * 2)
