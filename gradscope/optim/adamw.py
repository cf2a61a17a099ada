"""AdamW: Adam with decoupled weight decay, as torch.optim.AdamW."""

from __future__ import annotations

from collections.abc import Iterable

from gradscope.autograd.tensor import Tensor
from gradscope.optim.adam import Adam


class AdamW(Adam):
    """Adam whose weight decay shrinks the parameter (p = p * (1 - lr * weight_decay)) before the
    update instead of joining the gradient; weight_decay defaults to 1e-2.

    >>> opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
