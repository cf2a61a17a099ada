"""embedding and one_hot: PyTorch's arguments, checks and error texts over the embedding primitive
(ops/embedding.py)."""

from __future__ import annotations

import warnings

import numpy as np

import gradscope
from gradscope._shapes import int_argument
from gradscope.autograd.dispatch import apply_holding
from gradscope.autograd.tensor import Tensor
from gradscope.ops import embedding as E


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` picked by the integer `input` (EmbeddingBackward0). The `padding_idx` row gets
    no gradient; `max_norm` first rescales, in place, every row looked up whose `norm_type`-norm
    exceeds it.

    >>> F.embedding(gradscope.tensor([[0, 2]]), gradscope.eye(3)).shape
    torch.Size([1, 2, 3])
    """
    if padding_idx is not None:
        if padding_idx >= weight.shape[0] or padding_idx < -weight.shape[0]:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % weight.shape[0]
    else:
        padding_idx = -1
    indices = input._data
    if indices.dtype not in (np.int64, np.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm(weight, indices, max_norm, norm_type)
    return apply_holding(E.embedding, (weight,), (indices, padding_idx, bool(scale_grad_by_freq), bool(sparse)),
                         (input,))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sums, means or maxes of bags of embeddings (EmbeddingBagBackward0): the rows of a 2-D `input`, or
    the segments of a 1-D `input` that start at `offsets`. Empty bags give zeros; `padding_idx` entries are
    left out; `per_sample_weights` (mode "sum") weight each lookup.

    >>> F.embedding_bag(gradscope.tensor([0, 1, 2]), gradscope.eye(3), gradscope.tensor([0, 1]), mode="sum")
    tensor([[1., 0., 0.],
            [0., 1., 1.]])
    """
    if weight.dtype == gradscope.int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
                      stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences. However, found offsets of type "
                             + ("<class 'torch.Tensor'>" if isinstance(offsets, Tensor) else str(type(offsets))))
        offsets = gradscope.arange(0, input.numel(), input.size(1), dtype=input.dtype)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in E.MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        _renorm(weight, input._data, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    return apply_holding(E.embedding_bag, (weight, per_sample_weights),
                         _bag_arguments(input, offsets, weight, scale_grad_by_freq, mode, sparse, include_last_offset,
                                        padding_idx), (input, offsets))[0]


def _bag_arguments(input: Tensor, offsets: Tensor, weight: Tensor, scale_grad_by_freq: bool, mode: str,
                   sparse: bool, include_last_offset: bool, padding_idx: int | None) -> tuple:
    """ATen's checks of the indices, offsets and padding_idx, and the primitive's parameters."""
    num_weights = weight.shape[0]
    for tensor in (input, offsets):  # NOTE: PyTorch names the indices for the offsets' dtype too
        if tensor._data.dtype not in (np.int64, np.int32):
            raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                               f"Long, Int; but got {tensor.type()} instead (while checking arguments for "
                               "embedding_bag)")
    indices, starts = input._data.astype(np.int64), offsets._data.astype(np.int64)
    fast_kernel = weight.dtype == gradscope.float32 and mode != "max" and padding_idx is None
    if padding_idx is None:
        padding_idx = -1
    elif not -num_weights <= padding_idx < num_weights:
        raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num_weights} through "
                           f"{num_weights - 1}, but got {padding_idx}")
    elif padding_idx < 0:
        padding_idx += num_weights
    if len(starts):
        if starts[0] != 0:  # the offsets, shown as a tensor, have the indices' type by then
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                               f"position 0. However, got {starts[0]}\n[ {input.type()}{{}} ]")
        if starts[-1] > len(indices):
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {len(indices)} but got "
                               f"offsets[-1] of {starts[-1]}")
    bad = (indices < 0) | (indices >= num_weights)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        if fast_kernel:  # PyTorch's float32 sum/mean kernel (no padding_idx) words it its own way
            raise RuntimeError(f"Index {position} of input takes value {indices[position]} which is not in the valid "
                               f"range [0, {num_weights})")
        raise RuntimeError(f"embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be "
                           f"{indices[position]}")
    return (indices, starts, bool(scale_grad_by_freq), E.MODES.index(mode), bool(sparse), bool(include_last_offset),
            padding_idx)


def _renorm(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """PyTorch's embedding_renorm_: each looked-up row whose norm exceeds max_norm scaled to
    max_norm / (norm + 1e-7), in place, outside autograd (the weight's version counter moves)."""
    rows = np.unique(indices)
    with gradscope.no_grad():
        norms = weight[rows].norm(norm_type, dim=1, keepdim=True)
        scale = (max_norm / (norms + 1e-7)).masked_fill(norms <= max_norm, 1.0)
        weight[rows] = weight[rows] * scale


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (int64) to one-hot rows: shape (*tensor.shape, num_classes), int64; num_classes=-1
    means max + 1.

    >>> F.one_hot(gradscope.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    num_classes = int_argument(num_classes, "one_hot", "num_classes", 2)
    classes = tensor._data
    if classes.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if not classes.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(classes.max()) + 1
    if classes.size and classes.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if classes.size and classes.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((classes[..., None] == np.arange(num_classes)).astype(np.int64))
