"""Adamax (Adam with an infinity norm), as torch.optim.Adamax."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class Adamax(Optimizer):
    """For each parameter p with gradient g (negated when `maximize`, plus weight_decay * p), at step t:

        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    >>> opt = optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        u.check_lr(lr)
        u.check(eps, "epsilon value")
        u.check_betas(betas)
        u.check(weight_decay, "weight_decay value")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _update(self, param: Tensor, group: dict) -> None:
        state = self.state[param]
        if not state:
            state["step"] = u.step_counter()
            state["exp_avg"] = u.zeros_like(param)
            state["exp_inf"] = u.zeros_like(param)
        beta1, beta2 = group["betas"]
        grad = u.gradient(self, param, group)
        step = u.increment(state["step"])
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        u.lerp_(exp_avg, grad, 1 - beta1)
        u.mul_(exp_inf, beta2)
        norm = np.abs(grad)
        norm += group["eps"]
        np.maximum(u.real(exp_inf), norm, out=u.writable(exp_inf))
        u.bump(exp_inf)
        clr = u.scalar(group["lr"]) / (1 - beta1**step)
        u.addcdiv_(param, u.real(exp_avg), u.real(exp_inf), -clr)
