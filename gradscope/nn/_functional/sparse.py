"""embedding and one_hot: PyTorch's arguments, checks and error texts over the embedding primitive
(ops/embedding.py)."""

from __future__ import annotations

import numpy as np

import gradscope
from gradscope.autograd.dispatch import apply
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
    return apply(E.embedding, (weight,), (indices, padding_idx, bool(scale_grad_by_freq), bool(sparse)))


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
