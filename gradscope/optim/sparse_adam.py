"""optim.SparseAdam: Adam for sparse gradients (nn.Embedding(sparse=True)), whose moments move only at the rows a
gradient touches. gradscope has no sparse tensors: every gradient is dense, so a step refuses as PyTorch's does
for a dense gradient (suggesting Adam), and says why. Construction checks what PyTorch's checks."""

from __future__ import annotations

from collections.abc import Iterable

from gradscope.autograd.tensor import Tensor
from gradscope.optim.optimizer import Optimizer


class SparseAdam(Optimizer):
    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})
        complex_params = [[index, position] for index, group in enumerate(self.param_groups)
                          for position, param in enumerate(group["params"]) if param.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                             "parameters")

    def _update(self, param: Tensor, group: dict) -> None:
        raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead (gradscope has "
                           "no sparse tensors: nn.Embedding(sparse=True) gives a dense gradient)")
