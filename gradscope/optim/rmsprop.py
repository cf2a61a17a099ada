"""RMSprop (centered, with momentum), as torch.optim.RMSprop."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """For each parameter p with gradient g (negated when `maximize`, plus weight_decay * p):

        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - ḡ²) + eps with ḡ = lerp(ḡ, g, 1 - alpha) when centered, else sqrt(v) + eps
        b = momentum * b + g / avg;  p = p - lr * b      (when momentum > 0)
        p = p - lr * g / avg                              (otherwise)

    >>> opt = optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.9, centered=True)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        u.check_lr(lr)
        u.check(eps, "epsilon value")
        u.check(momentum, "momentum value")
        u.check(weight_decay, "weight_decay value")
        u.check(alpha, "alpha value")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, param: Tensor, group: dict) -> None:
        state = self.state[param]
        if not state:
            state["step"] = u.step_counter()
            state["square_avg"] = u.zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = u.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = u.zeros_like(param)
        grad = u.gradient(self, param, group)
        u.increment(state["step"])
        alpha, square_avg = group["alpha"], state["square_avg"]
        u.mul_(square_avg, alpha)
        u.addcmul_(square_avg, grad, grad, 1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            u.lerp_(grad_avg, grad, 1 - alpha)
            avg = u.real(grad_avg) * -1
            avg *= u.real(grad_avg)
            avg += u.real(square_avg)
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(u.real(square_avg))
        avg += group["eps"]
        lr = u.scalar(group["lr"])
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            u.mul_(buffer, group["momentum"])
            u.addcdiv_(buffer, grad, avg, 1)
            u.add_(param, u.real(buffer), alpha=-lr)
        else:
            u.addcdiv_(param, grad, avg, -lr)
