"""Adadelta, as torch.optim.Adadelta."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class Adadelta(Optimizer):
    """For each parameter p with gradient g (negated when `maximize`, plus weight_decay * p):

        v = rho * v + (1 - rho) * g * g
        delta = sqrt(a + eps) / sqrt(v + eps) * g
        a = rho * a + (1 - rho) * delta * delta
        p = p - lr * delta

    >>> opt = optim.Adadelta(model.parameters(), lr=1.0)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False, differentiable: bool = False) -> None:
        u.check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        u.check(eps, "epsilon value")
        u.check(weight_decay, "weight_decay value")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, param: Tensor, group: dict) -> None:
        state = self.state[param]
        if not state:
            state["step"] = u.step_counter()
            state["square_avg"] = u.zeros_like(param)
            state["acc_delta"] = u.zeros_like(param)
        u.increment(state["step"])
        grad = u.gradient(self, param, group)
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        u.mul_(square_avg, rho)
        u.addcmul_(square_avg, grad, grad, 1 - rho)
        std = np.sqrt(u.real(square_avg) + eps)
        delta = np.sqrt(u.real(acc_delta) + eps)
        delta /= std
        delta *= grad
        u.mul_(acc_delta, rho)
        u.addcmul_(acc_delta, delta, delta, 1 - rho)
        u.add_(param, delta, -u.scalar(group["lr"]))
