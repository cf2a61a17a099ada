"""Adagrad (with learning-rate decay), as torch.optim.Adagrad."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """For each parameter p with gradient g (negated when `maximize`, plus weight_decay * p), at step t:

        s = s + g * g                       (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State is created for every parameter up front, as PyTorch does.

    >>> opt = optim.Adagrad(model.parameters(), lr=1e-2, lr_decay=1e-4)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        u.check_lr(lr)
        u.check(lr_decay, "lr_decay value")
        u.check(weight_decay, "weight_decay value")
        u.check(initial_accumulator_value, "initial_accumulator_value value")
        u.check(eps, "epsilon value")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param)

    def _init_state(self, param: Tensor) -> dict:
        state = self.state[param]
        if not state:
            initial = self.defaults["initial_accumulator_value"]
            state["step"] = u.step_counter()
            # a complex parameter's accumulator starts at initial * (1 + 1j): both halves of each pair
            state["sum"] = Tensor._make(np.full_like(param._data, complex(initial, initial)
                                                     if param._data.dtype.kind == "c" else initial))
        return state

    def _update(self, param: Tensor, group: dict) -> None:
        state = self._init_state(param)
        step = u.increment(state["step"])
        grad = u.gradient(self, param, group)
        clr = u.scalar(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        u.addcmul_(state["sum"], grad, grad, 1)
        std = np.sqrt(u.real(state["sum"]))
        std += group["eps"]
        u.addcdiv_(param, grad, std, -clr)
