"""`torch.backends.cpu`: which vectorised kernels PyTorch picked for this CPU. gradscope has none of its own (its
kernels are NumPy's), so it answers PyTorch's name for the plain ones."""

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    return "DEFAULT"
