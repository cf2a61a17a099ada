"""RAdam (rectified Adam), as torch.optim.RAdam."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class RAdam(Optimizer):
    """For each parameter p with gradient g (negated when `maximize`; weight decay as in Adam or,
    when `decoupled_weight_decay`, AdamW), at step t:

        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        p = p - lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t    (rho_t > 5)
        p = p - lr * m / (1 - beta1^t)                                               (otherwise)

    with r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).

    >>> opt = optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        u.check_lr(lr)
        u.check(eps, "epsilon value")
        u.check_betas(betas)
        u.check(weight_decay, "weight_decay value")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, param: Tensor, group: dict) -> None:
        state = self.state[param]
        if not state:
            state["step"] = u.step_counter()
            state["exp_avg"] = u.zeros_like(param)
            state["exp_avg_sq"] = u.zeros_like(param)
        lr, (beta1, beta2) = u.scalar(group["lr"]), group["betas"]
        grad = u.gradient(self, param, group)
        step = u.increment(state["step"])
        if group["weight_decay"] != 0 and group["decoupled_weight_decay"]:
            u.mul_(param, 1 - lr * group["weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        u.lerp_(exp_avg, grad, 1 - beta1)
        u.mul_(exp_avg_sq, beta2)
        u.addcmul_(exp_avg_sq, grad, grad, 1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = u.real(exp_avg) / bias_correction1
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            # NOTE: PyTorch computes `scalar / tensor` as reciprocal(tensor) * scalar, rounding twice
            adaptive = np.sqrt(u.real(exp_avg_sq))
            adaptive += group["eps"]
            np.reciprocal(adaptive, out=adaptive)
            adaptive *= bias_correction2**0.5
            update *= adaptive
            update *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        u.add_(param, update, alpha=-1.0)
