"""What the loss families share: PyTorch's reduction arguments (legacy size_average/reduce included),
the mean/sum of a composed loss, broadcasting input and target, and PyTorch's argument checks."""

from __future__ import annotations

import warnings

import numpy as np

from gradscope.autograd.grad_mode import is_grad_enabled
from gradscope.autograd.tensor import Tensor
from gradscope.ops.nn import MEAN, NONE, SUM

REDUCTIONS = ("none", "mean", "sum")
# PyTorch's `_Reduction.get_enum`: what the fused loss kernels (ops/nn.py, ops/losses.py) take
ENUM = {"none": NONE, "mean": MEAN, "sum": SUM}


def legacy_reduction(size_average, reduce, reduction: str, stacklevel: int = 3) -> str:
    """`reduction`, or what the deprecated size_average/reduce pair means, with PyTorch's warning."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", UserWarning, stacklevel=stacklevel)
    return reduction


def checked_reduction(size_average, reduce, reduction: str) -> str:
    """legacy_reduction, then PyTorch's `_Reduction.get_enum` check."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    check_reduction(reduction)
    return reduction


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """PyTorch's apply_loss_reduction: MeanBackward0, SumBackward0, or the loss itself."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def warn_target_size(input: Tensor, target: Tensor) -> None:
    if target._data.shape != input._data.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=3)


def broadcast(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """torch.broadcast_tensors for two tensors: each expanded only if its shape changes."""
    if a._data.shape == b._data.shape:  # the common case, without NumPy's broadcast_shapes (Python, ~10k instructions)
        return a, b
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        dim = next(i for i in range(1, min(a.dim(), b.dim()) + 1) if 1 != a.shape[-i] != b.shape[-i] != 1)
        raise RuntimeError(f"The size of tensor a ({a.shape[-dim]}) must match the size of tensor b "
                           f"({b.shape[-dim]}) at non-singleton dimension {max(a.dim(), b.dim()) - dim}") from None
    return (a if a.shape == shape else a.expand(shape)), (b if b.shape == shape else b.expand(shape))


def not_differentiable(function: str, argument: str, tensor: Tensor | None) -> None:
    """PyTorch refuses, at the call, an argument its derivative formulas leave out that requires grad."""
    if tensor is not None and tensor.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument '{argument}'. "
                           "This input cannot have requires_grad True.")
