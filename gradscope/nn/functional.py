"""torch.nn.functional: layers and losses as functions, composed from gradscope's primitives.

Argument handling, checks and error texts follow PyTorch; the math is one primitive where PyTorch
has a fused kernel (addmm, log_softmax, nll_loss, mse_loss, ...), else a few tensor ops. The larger
families (convolution, pooling, normalisation, sampling, dropout) live in `nn/_functional/`.
"""

from __future__ import annotations

import warnings

import numpy as np

import gradscope
from gradscope.autograd import functions as _F
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional.convolution import (  # noqa: F401 - re-exported
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    unfold,
)
from gradscope.nn._functional.dropout import dropout, dropout1d, dropout2d  # noqa: F401 - re-exported
from gradscope.nn._functional.normalization import (  # noqa: F401 - re-exported
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    normalize,
    rms_norm,
)
from gradscope.nn._functional.pooling import (  # noqa: F401 - re-exported
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from gradscope.nn._functional.sampling import interpolate, pad  # noqa: F401 - re-exported
from gradscope.nn._functional.sparse import embedding, one_hot  # noqa: F401 - re-exported

_REDUCTIONS = ("none", "mean", "sum")


# ------------------------------------------------------------------------------- layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`input @ weight.T + bias`, with PyTorch's nodes: AddmmBackward0 for a 2-D input, MmBackward0
    without bias, and a ViewBackward0 on top of the addmm for other ranks.

    >>> F.linear(gradscope.ones(2, 4), gradscope.ones(3, 4), gradscope.zeros(3)).shape
    torch.Size([2, 3])
    """
    in_features = weight.shape[-1]
    if input.dim() == 0 or input.shape[-1] != in_features:
        rows = int(np.prod(input.shape[:-1])) if input.dim() else 1
        columns = input.shape[-1] if input.dim() else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{columns} and "
                           f"{in_features}x{weight.shape[0]})")
    if bias is None:
        return input.matmul(weight.t())
    if input.dim() == 2:
        return gradscope.addmm(bias, input, weight.t())
    flat = gradscope.addmm(bias, input.reshape(-1, in_features), weight.t())
    return flat.view(*input.shape[:-1], weight.shape[0])


# ------------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else gradscope.relu(input)


def tanh(input: Tensor) -> Tensor:
    return gradscope.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    return gradscope.sigmoid(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    if not inplace:
        return _F.leaky_relu(input, negative_slope)
    # NOTE: no in-place leaky_relu primitive: scaling by a constant mask gives the same values and
    # gradient (slope at 0, as PyTorch), under a MulBackward0 node instead of LeakyReluBackward1
    scale = gradscope.full_like(input, negative_slope).masked_fill(input > 0, 1.0)
    return input.mul_(scale)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    if not inplace:
        return _F.silu(input)
    # NOTE: no in-place silu primitive: x.mul_(sigmoid(x)) differentiates through both factors
    return input.mul_(gradscope.sigmoid(input))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x) with the Gaussian CDF (or its tanh approximation with approximate='tanh')."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _F.gelu(input, approximate)


def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim` (SoftmaxBackward0); `dtype` casts the input first."""
    if dim is None:
        dim = _implicit_dim("softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return gradscope.softmax(input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably (LogSoftmaxBackward0)."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return gradscope.log_softmax(input, dim)


# ------------------------------------------------------------------------------- losses
def _reduction(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", UserWarning, stacklevel=3)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _broadcast(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """torch.broadcast_tensors for two tensors: each expanded only if its shape changes."""
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        dim = next(i for i in range(1, min(a.dim(), b.dim()) + 1) if 1 != a.shape[-i] != b.shape[-i] != 1)
        raise RuntimeError(f"The size of tensor a ({a.shape[-dim]}) must match the size of tensor b "
                           f"({b.shape[-dim]}) at non-singleton dimension {max(a.dim(), b.dim()) - dim}") from None
    return (a if a.shape == shape else a.expand(shape)), (b if b.shape == shape else b.expand(shape))


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error (MseLossBackward0); a `weight` per element gives sum(w * err²) / sum(w).

    >>> F.mse_loss(gradscope.tensor([1., 3.]), gradscope.tensor([0., 0.]))
    tensor(5.)
    """
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=2)
    reduction = _reduction(size_average, reduce, reduction)
    input, target = _broadcast(input, target)
    if weight is None:
        return _F.mse_loss(input, target, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = (input - target) ** 2 * weight
    if reduction == "none":
        return weighted
    return weighted.sum() if reduction == "sum" else weighted.sum() / weight.sum()


def _check_class_targets(input: Tensor, target: Tensor, ignore_index: int) -> None:
    if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == gradscope.bool:
        name = target.dtype.legacy_name[:-len("Tensor")]
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {name}")
    if input.dim() > 1 and target.dim() > 0 and input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0]}).")
    expected = input.shape[:1] + input.shape[2:] if input.dim() > 1 else ()
    if tuple(target.shape) != tuple(expected):
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    classes = target.numpy()
    bad = classes[(classes != ignore_index) & ((classes < 0) | (classes >= input.shape[1 if input.dim() > 1 else 0]))]
    if bad.size:
        raise IndexError(f"Target {bad.flat[0]} is out of bounds.")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities `input` (N, C) or (C,)
    or (N, C, d1, ...), class weights and `ignore_index` as in PyTorch (NllLossBackward0)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_class_targets(input, target, ignore_index)
    if input.dim() <= 2:
        return _F.nll_loss(input, target, weight, ignore_index, reduction)
    # (N, C, d1, ...): move classes last and treat every position as a row of a batch
    n_classes = input.shape[1]
    rows = input.permute(0, *range(2, input.dim()), 1).reshape(-1, n_classes)
    loss = _F.nll_loss(rows, target.reshape(-1), weight, ignore_index, reduction)
    return loss.view(target.shape) if reduction == "none" else loss


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim (1, or 0 for a 1-D input) then nll_loss for class-index
    targets; a target shaped like `input` holds class probabilities.

    >>> F.cross_entropy(gradscope.zeros(2, 4), gradscope.tensor([0, 3]))
    tensor(1.3863)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    log_probs = log_softmax(input, class_dim)
    if target.shape == input.shape:
        if not target.is_floating_point():
            name = target.dtype.legacy_name[:-len("Tensor")]
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got {name}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _probability_cross_entropy(log_probs, target, weight, reduction, label_smoothing, class_dim)
    loss = nll_loss(log_probs, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return loss
    smooth = _smoothing_term(log_probs, target, weight, ignore_index, reduction, class_dim)
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _class_weights(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    """`weight` (C,) shaped to broadcast along the class dim of an `ndim`-dim input."""
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _probability_cross_entropy(log_probs, target, weight, reduction, label_smoothing, class_dim) -> Tensor:
    n_classes = log_probs.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    picked = log_probs * target
    if weight is not None:
        picked = picked * _class_weights(weight, log_probs.dim(), class_dim)
    if reduction == "none":
        return -picked.sum(class_dim)
    if reduction == "sum":
        return -picked.sum()
    return -picked.sum() / (log_probs.numel() / n_classes)


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


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step (BinaryCrossEntropyWithLogitsBackward0)."""
    reduction = _reduction(size_average, reduce, reduction)
    return _F.binary_cross_entropy_with_logits(input, target, weight=weight, pos_weight=pos_weight,
                                               reduction=reduction)
