"""DataParallel: on a CPU-only library it is a wrapper that calls the module, as PyTorch's is without GPUs."""

from __future__ import annotations

from gradscope.nn.module import Module


class DataParallel(Module):
    """Wraps `module` (its parameters are then named `module.…`) and calls it unchanged.

    >>> net = nn.DataParallel(model)
    >>> net(x)  # model(x)
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
