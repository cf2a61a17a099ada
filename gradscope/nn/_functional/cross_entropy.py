"""nll_loss and cross_entropy over (C,), (N, C) and (N, C, d1, ...) inputs, as PyTorch's nll_loss_nd
dispatches them: NllLossBackward0 up to 2-D, NllLoss2DBackward0 for 4-D, and other ranks viewed as
(N, C, 1, -1) for nll_loss2d (a ViewBackward0 on top with reduction='none'). Class weights,
ignore_index and label smoothing (class-index and class-probability targets) as in PyTorch."""

from __future__ import annotations

import numpy as np

from gradscope.autograd import functions as _F
from gradscope.autograd import fused_losses
from gradscope.autograd.dispatch import apply, apply_holding
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import scalar_type, size_list, times
from gradscope.nn._functional._reduction import ENUM, checked_reduction, not_differentiable
from gradscope.ops import losses as L


def _check_class_targets(input: Tensor, target: Tensor, weight: Tensor | None) -> None:
    """PyTorch's checks of class-index targets, in its order, read off the arrays (this runs on every loss call
    the one-frame forward does not serve). The kernels check the targets' bounds, after the weight's
    `requires_grad` (PyTorch's order)."""
    data, classes = input._data, target._data
    ndim, shape = data.ndim, data.shape
    if ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {ndim})")
    if ndim != 1 and classes.ndim > 0 and shape[0] != classes.shape[0]:
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({classes.shape[0]}).")
    n_classes = shape[1 if ndim > 1 else 0]
    if ndim <= 2:  # nll_loss: one class index a row
        if classes.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        _check_target_dtype(target)
        if ndim == 1 and classes.ndim == 1 and classes.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {classes.shape[0]}")
        if classes.shape != shape[:ndim - 1] and classes.shape != (1,):
            raise RuntimeError(f"Expected target size {list(shape[:1])}, got {list(classes.shape)}")
        if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
            raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no classes "
                               f"but got weight tensor of shape: {size_list(weight)}")
        return
    # nll_loss2d, on the input itself (4-D) or on it viewed as (N, C, 1, -1)
    if ndim == 4:
        if classes.ndim != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got targets of dimension: "
                               f"{classes.ndim}")
    elif classes.shape != shape[:1] + shape[2:]:
        raise RuntimeError(f"Expected target size {list(shape[:1] + shape[2:])}, got {list(classes.shape)}")
    _check_target_dtype(target)
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if classes.shape != shape[:1] + shape[2:]:
        raise RuntimeError(f"size mismatch (got input: {size_list(input)} , target: {size_list(target)}")
    if classes.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {scalar_type(target)}")


def _check_target_dtype(target: Tensor) -> None:
    if target._data.dtype not in _CLASS_INDICES:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {scalar_type(target)}")


_CLASS_INDICES = (np.dtype(np.int64), np.dtype(np.uint8))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices `target` under log-probabilities `input`: (C,), (N, C) or
    (N, C, d1, ...); `weight` per class, `ignore_index` targets count for nothing.

    >>> F.nll_loss(gradscope.tensor([[-1.0, -2.0]]), gradscope.tensor([1]))
    tensor(2.)
    """
    return _nll_loss(input, target, weight, ignore_index, checked_reduction(size_average, reduce, reduction))


def _nll_loss(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str) -> Tensor:
    """nll_loss once its reduction is checked (cross_entropy checks its own)."""
    _check_class_targets(input, target, weight)
    ndim = input._data.ndim
    not_differentiable("nll_loss_forward" if ndim <= 2 else "nll_loss2d_forward", "weight", weight)
    if input._data.dtype.kind != "f":  # the kernels take floating log-probabilities only
        kernel = "nll_loss_out_frame" if ndim <= 2 else "nll_loss2d_forward_out_frame"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_type(input)}'")
    if ndim <= 2:
        return _F.nll_loss(input, target, weight, ignore_index, ENUM[reduction])
    w = None if weight is None else weight._data
    if ndim == 4:
        return apply_holding(L.nll_loss2d, (input,), (target._data, w, ENUM[reduction], ignore_index), (target, weight))
    batch, n_classes = input.shape[:2]
    rows = input.contiguous().view(batch, n_classes, 1, -1) if input.numel() else input.view(batch, n_classes, 0, 0)
    targets = target.reshape(batch, 1, -1) if target.numel() else target.reshape(batch, 0, 0)
    loss = apply_holding(L.nll_loss2d, (rows,), (targets._data, w, ENUM[reduction], ignore_index), (targets, weight))
    return loss.view(target.shape) if reduction == "none" else loss


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim (1, or 0 for a 1-D input) then nll_loss for class-index
    targets; a target shaped like `input` holds class probabilities.

    >>> F.cross_entropy(gradscope.zeros(2, 4), gradscope.tensor([0, 3]))
    tensor(1.3863)
    """
    reduction = checked_reduction(size_average, reduce, reduction)
    class_dim = 0 if input._data.ndim == 1 else 1
    if target._data.shape == input._data.shape:
        if not target.is_floating_point():
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{scalar_type(target)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _probability_cross_entropy(input, target, weight, reduction, label_smoothing, class_dim)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    log_probs = _F.log_softmax(input, class_dim)
    loss = _nll_loss(log_probs, target, weight, ignore_index, reduction)
    if label_smoothing <= 0.0:
        return loss
    smooth = _smoothing_term(log_probs, target, weight, ignore_index, reduction, class_dim)
    return times(loss, 1 - label_smoothing) + times(smooth, label_smoothing / input.shape[class_dim])


cross_entropy = fused_losses.cross_entropy(cross_entropy)


def _class_weights(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    """`weight` (C,) shaped to broadcast along the class dim of an `ndim`-dim input."""
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _probability_cross_entropy(input, target, weight, reduction, label_smoothing, class_dim) -> Tensor:
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: {size_list(weight)}")
    log_probs = _F.log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        if label_smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    picked = log_probs * target
    if weight is not None:
        picked = picked * (_class_weights(weight, log_probs.dim(), class_dim) if log_probs.dim() > 1 else weight)
    if reduction == "none":
        return -picked.sum(class_dim)
    if reduction == "sum":
        return -picked.sum()
    # NOTE: PyTorch divides by a C++ integer here: div(Tensor, Scalar), DivBackward1
    return apply(L.div_scalar, (-picked.sum(),), (log_probs.numel() // n_classes,))


def _smoothing_term(log_probs, target, weight, ignore_index, reduction, class_dim) -> Tensor:
    """The uniform-target part of label-smoothed cross-entropy, normalised like the nll part."""
    if weight is not None:
        log_probs = log_probs * _class_weights(weight, log_probs.dim(), class_dim)
    ignored = target == ignore_index
    smooth = (-log_probs.sum(class_dim)).masked_fill(ignored, 0.0)
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return smooth.sum()
    if weight is None:
        return smooth.sum() / (~ignored).sum()
    kept = target.masked_fill(ignored, 0)
    return smooth.sum() / weight[kept].masked_fill(ignored, 0.0).sum()
