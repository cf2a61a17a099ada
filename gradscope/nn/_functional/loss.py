"""Regression and probabilistic losses of torch.nn.functional: mse, l1, smooth_l1, huber, binary cross
entropy (on probabilities and on logits), kl_div, poisson_nll, gaussian_nll. One primitive where PyTorch
has a fused kernel (ops/losses.py, ops/nn.py), else composed as PyTorch composes, so the nodes match."""

from __future__ import annotations

import math
import warnings

import numpy as np

import gradscope
from gradscope.autograd import functions as _F
from gradscope.autograd import fused_target_losses as _fused
from gradscope.autograd.dispatch import apply, apply_holding
from gradscope.autograd.functions import _operands
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import plus, scalar_type
from gradscope.nn._functional._reduction import (
    ENUM,
    broadcast,
    check_reduction,
    checked_reduction,
    legacy_reduction,
    not_differentiable,
    reduce_loss,
    warn_target_size,
)
from gradscope.ops import losses as L

_MSE_PARAMS = {name: (enum,) for name, enum in ENUM.items()}  # mse_loss's params by reduction: one tuple each


def _weighted_mean(weighted: Tensor, weight: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean":
        return weighted.sum() / weight.sum()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _check_weight(weight: Tensor, input: Tensor) -> None:
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")


def _refuse_integers(kernel: str, input: Tensor, target: Tensor) -> None:
    """PyTorch's fused loss kernels take floating and complex dtypes only: integers and bools (both operands) raise
    its error for the promoted type, where NumPy would compute an integer loss."""
    if input._data.dtype.kind in "biu" and target._data.dtype.kind in "biu":
        promoted = gradscope.promote_types(input.dtype, target.dtype)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{promoted.legacy_name[:-len("Tensor")]}\'')


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error (MseLossBackward0); a `weight` per element gives sum(w * err²) / sum(w).

    >>> F.mse_loss(gradscope.tensor([1., 3.]), gradscope.tensor([0., 0.]))
    tensor(5.)
    """
    if weight is None and size_average is None and reduce is None and type(reduction) is str:  # the common call
        params = _MSE_PARAMS.get(reduction)
        if params is not None and (loss := _fused.mse_loss(input, target, params)) is not None:
            return loss
    warn_target_size(input, target)
    reduction = checked_reduction(size_average, reduce, reduction)
    input, target = broadcast(input, target)
    if weight is None:
        _refuse_integers("mse_cpu", input, target)
        return _F.mse_loss(input, target, ENUM[reduction])
    _check_weight(weight, input)
    return _weighted_mean((input - target) ** 2 * weight, weight, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error, |input - target| reduced (MeanBackward0); the gradient at 0 is 0.

    >>> F.l1_loss(gradscope.tensor([1., -3.]), gradscope.tensor([0., 0.]))
    tensor(2.)
    """
    warn_target_size(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = broadcast(input, target)
    if weight is not None:
        _check_weight(weight, input)
        return _weighted_mean((input - target).abs() * weight, weight, reduction)
    check_reduction(reduction)
    return reduce_loss((input - target).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5·d²/beta where |d| < beta, |d| - beta/2 beyond, d = input - target (SmoothL1LossBackward0);
    beta = 0 is l1_loss.

    >>> F.smooth_l1_loss(gradscope.tensor([0.5, 3.]), gradscope.tensor([0., 0.]))
    tensor(1.3125)
    """
    if (size_average is None and reduce is None and type(reduction) is str and reduction in ENUM
            and (type(beta) is float or type(beta) is int) and beta > 0):  # the common call
        loss = _fused.smooth_l1_loss(input, target, (ENUM[reduction], beta))
        if loss is not None:
            return loss
    warn_target_size(input, target)
    reduction = checked_reduction(size_average, reduce, reduction)
    input, target = broadcast(input, target)
    if beta == 0.0:
        return reduce_loss((input - target).abs(), reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _refuse_integers("smooth_l1_cpu", input, target)
    return apply(L.smooth_l1_loss, (input, target), (ENUM[reduction], beta), _operands(input, target))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5·d² where |d| < delta, delta·(|d| - delta/2) beyond (HuberLossBackward0); with `weight`
    the weighted losses' plain mean.

    >>> F.huber_loss(gradscope.tensor([0.5, 3.]), gradscope.tensor([0., 0.]))
    tensor(1.3125)
    """
    if (weight is None and type(reduction) is str and reduction in ENUM and (type(delta) is float or type(delta) is int)
            and delta > 0):  # the common call
        loss = _fused.huber_loss(input, target, (ENUM[reduction], delta))
        if loss is not None:
            return loss
    warn_target_size(input, target)
    input, target = broadcast(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _refuse_integers("huber_cpu", input, target)
    if input._data.dtype.kind in "biu":  # PyTorch's kernel writes the loss into a tensor of the input's type
        promoted = gradscope.promote_types(input.dtype, target.dtype).legacy_name[:-len("Tensor")]
        raise RuntimeError(f"result type {promoted} can't be cast to the desired output type {scalar_type(input)}")
    if weight is None:
        check_reduction(reduction)
        return apply(L.huber_loss, (input, target), (ENUM[reduction], delta), _operands(input, target))
    _check_weight(weight, input)
    weighted = apply(L.huber_loss, (input, target), (ENUM["none"], delta), _operands(input, target)) * weight
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    return reduce_loss(weighted, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-(t·log(x) + (1 - t)·log(1 - x)) on probabilities x, each log clamped at -100
    (BinaryCrossEntropyBackward0; the target gets a gradient too).

    >>> F.binary_cross_entropy(gradscope.tensor([0.5]), gradscope.tensor([1.]))
    tensor(0.6931)
    """
    if (weight is None and size_average is None and reduce is None and type(reduction) is str and reduction in ENUM
            and type(input) is Tensor and _probabilities(input._data)):  # the common call
        loss = _fused.binary_cross_entropy(input, target, (None, ENUM[reduction]))
        if loss is not None:
            return loss
    reduction = checked_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         "is deprecated. Please ensure they have the same size.")
    if weight is not None:
        weight = weight.expand(np.broadcast_shapes(target.shape, weight.shape))
    not_differentiable("binary_cross_entropy", "weight", weight)
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {scalar_type(target)} but expected {scalar_type(input)}")
    if not _probabilities(input._data):
        raise RuntimeError("all elements of input should be between 0 and 1")
    w = None if weight is None else weight._data
    return apply_holding(L.binary_cross_entropy, (input, target), (w, ENUM[reduction]), (weight,))


def _probabilities(values: np.ndarray) -> bool:
    """Whether every value is in [0, 1] (binary_cross_entropy's check: NaN is not)."""
    return bool(((values >= 0) & (values <= 1)).all())


def _refuse_logits_dtypes(input: Tensor, target: Tensor) -> None:
    """PyTorch's refusals, in its words, of logits that aren't floating (its log_sigmoid kernel has no loop for
    them) and of an integer or bool target (its result, the input's dtype, can't be written into the target's;
    a bool target meets a subtraction first). NumPy would compute all three."""
    if isinstance(input, Tensor) and input._data.dtype.kind not in "fc":
        raise NotImplementedError(f'"log_sigmoid_cpu" not implemented for \'{scalar_type(input)}\'')
    if isinstance(target, Tensor) and isinstance(input, Tensor):
        kind = target._data.dtype.kind
        if kind == "b":
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
                               "or `logical_xor()` operator instead.")
        if kind in "iu":
            raise RuntimeError(f"result type {scalar_type(input)} can't be cast to the desired output type "
                               f"{scalar_type(target)}")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step (BinaryCrossEntropyWithLogitsBackward0)."""
    if (weight is None and pos_weight is None and size_average is None and reduce is None and type(reduction) is str
            and reduction in ENUM):  # the common call
        loss = _fused.binary_cross_entropy_with_logits(input, target, (None, None, ENUM[reduction]))
        if loss is not None:
            return loss
    reduction = checked_reduction(size_average, reduce, reduction)
    # PyTorch's order: its Python function's size check, the autograd layer's refusals, then the kernel's
    if input._data.shape != target._data.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    not_differentiable("binary_cross_entropy_with_logits", "weight", weight)
    not_differentiable("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    _refuse_logits_dtypes(input, target)
    return _F.binary_cross_entropy_with_logits(input, target, weight=weight, pos_weight=pos_weight,
                                               reduction=ENUM[reduction])


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target ‖ exp(input)) pointwise: target·(log target - input), input holding log-probabilities;
    'batchmean' divides the sum by the batch size.

    >>> F.kl_div(gradscope.tensor([0.0]), gradscope.tensor([1.0]), reduction="sum")
    tensor(0.)
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    check_reduction("sum" if reduction == "batchmean" else reduction)
    return pointwise_kl_div(input, target, reduction, log_target)


def pointwise_kl_div(input: Tensor, target: Tensor, reduction: str, log_target: bool) -> Tensor:
    """kl_div after its argument checks and warnings (torch.kl_div's, which has none)."""
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        pointwise = gradscope.xlogy(target, target) - target * input
    if reduction != "batchmean":
        return reduce_loss(pointwise, reduction)
    total = pointwise.sum()
    return total / input.shape[0] if input.dim() else total


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of `target` under Poisson(exp(input)) (or Poisson(input) with
    log_input=False); `full` adds Stirling's term for targets above 1.

    >>> F.poisson_nll_loss(gradscope.tensor([0.0]), gradscope.tensor([1.0]))
    tensor(1.)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * plus(input, eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """0.5·(log var + (input - target)² / var), var clamped at eps without changing its gradient;
    `var` may miss the last dim or have size 1 in one dim (one variance shared).

    >>> F.gaussian_nll_loss(gradscope.tensor([1.0]), gradscope.tensor([1.0]), gradscope.tensor([1.0]))
    tensor(0.)
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * gradscope.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim()
                  and sum(v for i, v in zip(input.shape, var.shape, strict=True) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with gradscope.no_grad():
        var.clamp_(min=eps)  # NOTE: in place without grad: the clamp has no effect on the gradient
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)
