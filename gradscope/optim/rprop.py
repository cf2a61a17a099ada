"""Rprop (resilient backpropagation), as torch.optim.Rprop."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope.autograd.tensor import Tensor
from gradscope.optim import _updates as u
from gradscope.optim.optimizer import Optimizer


class Rprop(Optimizer):
    """Each parameter element keeps its own step size, grown by etaplus while its gradient keeps its
    sign and shrunk by etaminus when the sign flips (that step then skips the element); the update is
    -sign(g) * step size, whatever the gradient's magnitude.

    >>> opt = optim.Rprop(model.parameters(), lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50))
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2), step_sizes: tuple[float, float] = (1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        u.check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _update(self, param: Tensor, group: dict) -> None:
        state = self.state[param]
        if not state:
            state["step"] = u.step_counter()
            state["prev"] = u.zeros_like(param)
            lr = u.scalar(group["lr"])
            # a complex parameter's real and imaginary parts are two reals: each gets the step size lr
            state["step_size"] = Tensor._make(np.full_like(param._data, complex(lr, lr)
                                                           if param._data.dtype.kind == "c" else lr))
        u.increment(state["step"])
        grad = u.real(param.grad)
        grad = -grad if group["maximize"] else grad.copy()
        etaminus, etaplus = group["etas"]
        prev, step_size = u.writable(state["prev"]), u.writable(state["step_size"])
        agreement = np.sign(grad * prev)
        factor = np.where(agreement > 0, etaplus, np.where(agreement < 0, etaminus, 1.0)).astype(grad.dtype)
        step_size *= factor
        np.clip(step_size, *group["step_sizes"], out=step_size)
        grad[agreement < 0] = 0  # a flipped sign: no step now, and no "previous sign" for the next
        u.addcmul_(param, np.sign(grad), step_size, -1)
        prev[...] = grad
        for tensor in (state["prev"], state["step_size"]):
            u.bump(tensor)
