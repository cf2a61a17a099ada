"""DataParallel: on a CPU-only library it is a wrapper that calls the module, as PyTorch's is without GPUs.
DistributedDataParallel needs a process group, which gradscope never has (see gradscope.distributed)."""

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


class DistributedDataParallel(Module):
    """PyTorch's DDP wrapper: it needs an initialised process group, and a script here runs as one process with
    none (`torch.distributed.is_initialized()` is False), so making one raises PyTorch's error for that case.
    Portable scripts wrap the model only when a group was initialised."""

    def __init__(self, module: Module, *args, **kwargs) -> None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
