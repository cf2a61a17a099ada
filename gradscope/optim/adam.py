"""Adam (with AMSGrad, L2 or decoupled weight decay), as torch.optim.Adam."""

from __future__ import annotations

from collections.abc import Iterable

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class Adam(Optimizer):
    """For each parameter p with gradient g (negated when `maximize`), at step t:

        g = g + weight_decay * p            (p = p * (1 - lr * weight_decay) instead when decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)               (amsgrad; v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    PyTorch's single-tensor formulas, in place on each parameter's array; `foreach`, `fused`,
    `capturable` and `differentiable` only choose PyTorch's kernel and give the same result here.

    >>> opt = optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        u.check_lr(lr)
        u.check(eps, "epsilon value")
        u.check_betas(betas)
        u.check(weight_decay, "weight_decay value")
        if not (all(isinstance(beta, float) for beta in betas) or all(isinstance(beta, Tensor) for beta in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = {"lr": lr, "betas": tuple(map(u.scalar, betas)), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def _update(self, param: Tensor, group: dict) -> None:
        state = self.state[param]
        if not state:
            state["step"] = u.step_counter()
            state["exp_avg"] = u.zeros_like(param)
            state["exp_avg_sq"] = u.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = u.zeros_like(param)
        lr, (beta1, beta2) = u.scalar(group["lr"]), group["betas"]
        grad = u.gradient(self, param, group)
        step = u.increment(state["step"])
        if group["weight_decay"] != 0 and group["decoupled_weight_decay"]:
            u.mul_(param, 1 - lr * group["weight_decay"])
        u.adam_(param, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"), beta1, beta2,
                lr / (1 - beta1**step), (1 - beta2**step) ** 0.5, group["eps"], u.scratches(self, grad))
