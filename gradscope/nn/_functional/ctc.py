"""F.ctc_loss: PyTorch's composition around the ctc_loss primitive (ops/ctc.py): the unbatched form
unsqueezed and squeezed back, zero_infinity as a where (WhereBackward0), mean as the losses divided by the
target lengths (DivBackward0) then averaged, and ATen's argument checks and texts."""

from __future__ import annotations

import numpy as np

import gradscope
from gradscope.autograd.dispatch import apply_holding
from gradscope.autograd.functions import where
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._reduction import check_reduction
from gradscope.ops import ctc as C

_WHILE = "(while checking arguments for ctc_loss_allocate_outputs)"


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The connectionist temporal classification loss of (T, N, C) log-probabilities (or (T, C) unbatched)
    against padded (N, S) or concatenated targets. Its gradient is PyTorch's: right for log_probs that are a
    log_softmax, which the loss expects.

    >>> lp = gradscope.zeros(3, 1, 2).log_softmax(2)
    >>> F.ctc_loss(lp, gradscope.tensor([[1]]), [3], [1], reduction="sum")
    tensor(0.7324)
    """
    check_reduction(reduction)
    batched = log_probs.dim() == 3
    if not batched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.dim() == 1 else targets
    input_lengths = _lengths(input_lengths, "input_lengths")
    target_lengths = _lengths(target_lengths, "target_lengths")
    target_array = _check(log_probs, targets, input_lengths, target_lengths, blank)
    loss = apply_holding(C.ctc_loss, (log_probs,), (target_array, input_lengths, target_lengths, blank,
                                                   bool(zero_infinity)), (targets,))[0]
    if zero_infinity:
        loss = where(loss == float("inf"), gradscope.zeros((), dtype=loss.dtype), loss)
    if reduction == "mean":
        divisor = gradscope.tensor(target_lengths, dtype=loss.dtype).clamp_min(1)
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)


def _lengths(lengths, name: str) -> tuple:
    if isinstance(lengths, Tensor):
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == gradscope.bool:
            raise RuntimeError(f"{name} must be integral")
        return tuple(int(v) for v in lengths._data.reshape(-1))
    if isinstance(lengths, (int, np.integer)):
        return (int(lengths),)
    return tuple(int(v) for v in lengths)


def _check(log_probs: Tensor, targets: Tensor, input_lengths: tuple, target_lengths: tuple, blank: int):
    """ATen's checks in its order; the targets as an int64 array."""
    if log_probs._data.dtype.kind != "f":
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{_type_name(log_probs)}'")
    if log_probs.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.dim()}-dimensional tensor for argument "
                           f"#1 'log_probs' {_WHILE}")
    frames, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if len(input_lengths) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lengths) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    for length in target_lengths:
        if length < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {length} {_WHILE}")
    if targets.dim() == 1:
        if targets.shape[0] != sum(target_lengths):
            raise RuntimeError(f"Expected tensor to have size {sum(target_lengths)} at dimension 0, but got size "
                               f"{targets.shape[0]} for argument #2 'targets' {_WHILE}")
    else:
        if targets.shape[0] != batch:
            raise RuntimeError(f"Expected tensor to have size {batch} at dimension 0, but got size {targets.shape[0]} "
                               f"for argument #2 'targets' {_WHILE}")
        longest = max(target_lengths, default=0)
        if targets.shape[1] < longest:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                               f"{targets.shape[1]} for argument #2 'targets' {_WHILE}")
    for length in input_lengths:
        if length < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {length} {_WHILE}")
        if length > frames:
            raise RuntimeError(f"Expected input_lengths to have value at most {frames}, but got value {length} "
                               f"{_WHILE}")
    return targets._data.astype(np.int64)


def _type_name(tensor: Tensor) -> str:
    return tensor.type().removeprefix("torch.").removesuffix("Tensor")
