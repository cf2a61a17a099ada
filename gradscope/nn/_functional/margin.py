"""Margin and embedding losses of torch.nn.functional (margin_ranking, hinge_embedding,
cosine_embedding, triplet_margin, soft_margin, multilabel_soft_margin), composed as PyTorch's C++ and
Python compose them, so the last node and the gradients at the hinges (clamp_min passes the gradient
at 0) are PyTorch's."""

from __future__ import annotations

import gradscope
from gradscope.autograd.dispatch import apply_holding
from gradscope.autograd.functions import where
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import minus, number_minus, plus, scalar_type
from gradscope.nn._functional._reduction import (
    ENUM,
    checked_reduction,
    legacy_reduction,
    not_differentiable,
    reduce_loss,
)
from gradscope.nn._functional.activation import logsigmoid
from gradscope.nn._functional.distance import pairwise_distance
from gradscope.ops import losses as L
from gradscope.ops import margin_losses as L2

_EPSILON = 1e-12


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -target·(input1 - input2) + margin), target ±1.

    >>> F.margin_ranking_loss(gradscope.tensor([1.0]), gradscope.tensor([2.0]), gradscope.tensor([1.0]))
    tensor(1.)
    """
    reduction = checked_reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return reduce_loss(plus(-target * (input1 - input2), float(margin)).clamp_min(0), reduction)  # a double


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1.

    >>> F.hinge_embedding_loss(gradscope.tensor([0.3, 2.0]), gradscope.tensor([-1.0, 1.0]))
    tensor(1.3500)
    """
    reduction = checked_reduction(size_average, reduce, reduction)
    zeros = gradscope.zeros_like(input)
    margin_clamp = number_minus(margin, input).clamp_min(0)
    output = where(target != 1, margin_clamp, zeros) + where(target != -1, input, zeros)
    return reduce_loss(output, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1; cos over the last
    dim, its squared norms padded by 1e-12.

    >>> F.cosine_embedding_loss(gradscope.tensor([[1.0, 0.0]]), gradscope.tensor([[0.0, 1.0]]),
    ...                         gradscope.tensor([1.0]))
    tensor(1.)
    """
    reduction = checked_reduction(size_average, reduce, reduction)
    target_dim = target.dim()
    if target_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = 2 if target_dim == 1 else 1
    if input1.dim() != expected or input2.dim() != expected:
        raise RuntimeError(f"{target_dim}D target tensor expects {expected}D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    product_sum = (input1 * input2).sum(target_dim)
    magnitude1 = plus((input1 * input1).sum(target_dim), _EPSILON)
    magnitude2 = plus((input2 * input2).sum(target_dim), _EPSILON)
    cosine = product_sum / (magnitude1 * magnitude2).sqrt()
    zeros = gradscope.zeros_like(cosine)
    positive = where(target == 1, number_minus(1, cosine), zeros)
    negative = where(target == -1, minus(cosine, margin).clamp_min(0), zeros)
    return reduce_loss(positive + negative, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(anchor, positive) - d(anchor, negative) + margin) with pairwise_distance d; `swap` uses
    the smaller of d(anchor, negative) and d(positive, negative).

    >>> a = gradscope.zeros(1, 2)
    >>> F.triplet_margin_loss(a, a, a + 3.0, eps=0.0)
    tensor(0.)
    """
    reduction = checked_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D "
                           "inputs")
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_negative = gradscope.minimum(distance_negative, pairwise_distance(positive, negative, p, eps))
    return reduce_loss((plus(distance_positive, margin) - distance_negative).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) − d(anchor, negative)) for any distance function d (pairwise
    distance by default); with `swap`, the negative's distance is the smaller of its two.

    >>> F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda x, y: 1 - F.cosine_similarity(x, y))
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:
        negative_distance = gradscope.minimum(negative_distance, distance(positive, negative))
    loss = gradscope.clamp_min(margin + positive_distance - negative_distance, 0)
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if reduction == "mean" else loss


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target·input)), target ±1 (SoftMarginLossBackward0).

    >>> F.soft_margin_loss(gradscope.tensor([0.0]), gradscope.tensor([1.0]))
    tensor(0.6931)
    """
    reduction = checked_reduction(size_average, reduce, reduction)
    not_differentiable("soft_margin_loss", "target", target)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return apply_holding(L.soft_margin_loss, (input,), (target._data, ENUM[reduction]), (target,))


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on logits per class, averaged over the classes (the last dim).

    >>> F.multilabel_soft_margin_loss(gradscope.zeros(1, 2), gradscope.tensor([[1.0, 0.0]]))
    tensor(0.6931)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def _check_input(input: Tensor) -> None:
    if not (input.dim() == 0 or (input.dim() == 1 and input.numel() > 0) or (input.dim() == 2 and input.shape[1] > 0)):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")


def _check_long(target: Tensor) -> None:
    if target.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {scalar_type(target)}")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """The multi-class hinge Σ_{i ≠ y} max(0, margin − x[y] + x[i])^p / C per sample (MultiMarginLossBackward0).

    >>> F.multi_margin_loss(gradscope.tensor([[0.1, 0.2, 0.4, 0.8]]), gradscope.tensor([3]))
    tensor(0.3250)
    """
    reduction = checked_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    not_differentiable("multi_margin_loss", "weight", weight)
    _check_input(input)
    rows = 1 if input.dim() <= 1 else input.shape[0]
    if target.dim() > 1 or target.numel() != rows:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{rows}], but got {list(target.shape)}. Input "
                           f"has shape {list(input.shape)}.")
    _check_long(target)
    w = None if weight is None else weight._data.astype(input._data.dtype)
    return apply_holding(L2.multi_margin_loss, (input,), (target._data, int(p), float(margin), w, ENUM[reduction]),
                         (target, weight))


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Σ over target classes j (target's entries up to the first −1) and other classes i of
    max(0, 1 − (x[j] − x[i])), divided by the class count (MultilabelMarginLossBackward0).

    >>> F.multilabel_margin_loss(gradscope.tensor([[0.1, 0.2, 0.4, 0.8]]), gradscope.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    reduction = checked_reduction(size_average, reduce, reduction)
    _check_input(input)
    if target.shape != input.shape:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    _check_long(target)
    return apply_holding(L2.multilabel_margin_loss, (input,), (target._data, ENUM[reduction]), (target,))
