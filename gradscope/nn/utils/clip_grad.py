"""Gradient clipping: clip_grad_norm_ and clip_grad_value_, in place on the parameters' .grad."""

from __future__ import annotations

from collections.abc import Iterable

import gradscope
from gradscope.autograd.grad_mode import no_grad
from gradscope.autograd.tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale the gradients together so that their joint `norm_type`-norm is at most `max_norm`; returns
    the norm before clipping.

    >>> total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return gradscope.tensor(0.0)
    with no_grad():
        norms = gradscope.stack([g.norm(norm_type) for g in grads])
        total_norm = norms.norm(norm_type)
        if error_if_nonfinite and not bool(total_norm.isfinite()):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                               "so it cannot be clipped. To disable this error and scale the gradients by the "
                               "non-finite norm anyway, set `error_if_nonfinite=False`")
        # NOTE: PyTorch always multiplies (by at most 1), so a NaN norm spreads into every gradient
        coefficient = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        for grad in grads:
            grad.mul_(coefficient.to(grad.dtype))
    return total_norm


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with no_grad():
        for grad in _grads(parameters):
            grad.clamp_(min=-clip_value, max=clip_value)
