"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov, as torch.optim.SGD."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class SGD(Optimizer):
    """For each parameter p with gradient g (negated when `maximize`):

        g = g + weight_decay * p
        b = g on the first step, else momentum * b + (1 - dampening) * g     (when momentum != 0)
        g = g + momentum * b if nesterov else b
        p = p - lr * g

    Updates are in place on each parameter's array, so each step bumps `p._version` by one. `foreach` and
    `fused` only choose PyTorch's kernel; they are accepted and give the same result here.

    >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if differentiable:
            raise NotImplementedError("SGD(differentiable=True) is not supported by gradscope yet")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": differentiable,
                    "fused": fused}
        super().__init__(params, defaults)

    def _update(self, param: Tensor, group: dict) -> None:
        grad = u.gradient(self, param, group)
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[param]
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = u.zeros_like(param)  # a clone of the gradient
                np.copyto(u.real(buffer), grad)
            else:
                u.mul_(buffer, momentum)
                u.add_(buffer, grad, alpha=1 - group["dampening"])
            grad = grad + u.real(buffer) * momentum if group["nesterov"] else u.real(buffer)
        u.add_(param, grad, alpha=-u.scalar(group["lr"]))
