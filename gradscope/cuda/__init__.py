"""`torch.cuda` as gradscope answers it: there is no GPU. Portable scripts ask `is_available()` and run
on the CPU; seeding calls are accepted and do nothing, as PyTorch's do without a GPU."""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Ignored: there is no GPU generator to seed (as in PyTorch on a machine without CUDA)."""


def manual_seed_all(seed: int) -> None:
    """Ignored, as `manual_seed`."""


def synchronize(device=None) -> None:
    """Nothing runs asynchronously on the CPU."""


def empty_cache() -> None:
    """There is no GPU memory cache to empty."""


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: there is no GPU (PyTorch's answer without CUDA)."""
    return False
