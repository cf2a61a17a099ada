"""NAdam (Adam with Nesterov momentum), as torch.optim.NAdam."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class NAdam(Optimizer):
    """For each parameter p with gradient g (negated when `maximize`; weight decay as in Adam or,
    when `decoupled_weight_decay`, AdamW), at step t:

        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  Π = Π * mu_t
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - Π) * g / d - lr * mu_{t+1} / (1 - Π * mu_{t+1}) * m / d

    >>> opt = optim.NAdam(model.parameters(), lr=2e-3)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        u.check_lr(lr)
        u.check(eps, "epsilon value")
        u.check_betas(betas)
        u.check(weight_decay, "weight_decay value")
        u.check(momentum_decay, "momentum_decay value")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, param: Tensor, group: dict) -> None:
        state = self.state[param]
        if not state:
            state["step"] = u.step_counter()
            state["mu_product"] = u.step_counter(1.0)
            state["exp_avg"] = u.zeros_like(param)
            state["exp_avg_sq"] = u.zeros_like(param)
        lr, (beta1, beta2) = u.scalar(group["lr"]), group["betas"]
        grad = u.gradient(self, param, group)
        step = u.increment(state["step"])
        bias_correction2 = 1 - beta2**step
        if group["weight_decay"] != 0 and group["decoupled_weight_decay"]:
            u.mul_(param, 1 - lr * group["weight_decay"])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * group["momentum_decay"])))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * group["momentum_decay"])))
        # NOTE: the product is kept in the counter's dtype (float32 by default), rounding as PyTorch's does
        u.mul_(state["mu_product"], mu)
        mu_product = float(state["mu_product"]._data)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        u.lerp_(exp_avg, grad, 1 - beta1)
        u.mul_(exp_avg_sq, beta2)
        u.addcmul_(exp_avg_sq, grad, grad, 1 - beta2)
        denom = u.real(exp_avg_sq) / bias_correction2
        np.sqrt(denom, out=denom)
        denom += group["eps"]
        u.addcdiv_(param, grad, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
        u.addcdiv_(param, u.real(exp_avg), denom, (-lr * mu_next) / (1.0 - mu_product * mu_next))
