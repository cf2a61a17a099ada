"""Averaged SGD, as torch.optim.ASGD."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class ASGD(Optimizer):
    """SGD with a decaying step and a running average `ax` of the iterates. For each parameter p with gradient g
    (negated when `maximize`, plus weight_decay * p), at step t:

        p = p · (1 − lambd · η) − η · g;   ax = ax + μ · (p − ax)   (ax = p while μ is 1)
        η = lr / (1 + lambd · lr · t)^alpha;   μ = 1 / max(1, t − t0)

    >>> opt = optim.ASGD(model.parameters(), lr=0.01)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        u.check_lr(lr)
        u.check(weight_decay, "weight_decay value")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _update(self, param: Tensor, group: dict) -> None:
        state = self.state[param]
        lr = u.scalar(group["lr"])  # NOTE: a tensor lr stays one (a NumPy scalar): PyTorch computes η in its dtype
        if not state:
            state["step"] = u.step_counter()
            state["eta"] = u.step_counter(float(lr))
            state["mu"] = u.step_counter(1.0)
            state["ax"] = u.zeros_like(param)
        step = u.increment(state["step"])
        grad = u.gradient(self, param, group)
        lambd = group["lambd"]
        eta, mu = float(state["eta"]._data), state["mu"]._data
        u.mul_(param, 1 - lambd * eta)
        u.add_(param, grad, -eta)
        data, ax = u.real(param), u.writable(state["ax"])
        if float(mu) != 1:
            ax += (data - ax) * mu.astype(data.dtype)
        else:
            ax[...] = data
        u.bump(state["ax"])
        _fill(state["eta"], lr / ((1 + lambd * lr * step) ** group["alpha"]))
        _fill(state["mu"], 1 / max(1, step - group["t0"]))


def _fill(counter: Tensor, value: float) -> None:
    """counter.copy_(value): the 0-d state rounded to its dtype."""
    u.writable(counter)[...] = np.asarray(value, counter._data.dtype)
    u.bump(counter)
