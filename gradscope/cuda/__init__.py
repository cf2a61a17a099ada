"""`torch.cuda` as gradscope answers it: there is no GPU. Portable scripts ask `is_available()` and run
on the CPU; seeding calls are accepted and do nothing, as PyTorch's do without a GPU."""

from __future__ import annotations

from gradscope._lazy import lazy_exports as _lazy_exports

# torch.cuda.amp, PyTorch's old home of torch.amp, loads on first use
__getattr__, __dir__ = _lazy_exports(__name__, globals(), submodules=("amp",))


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


# GPU memory statistics: none is ever allocated (PyTorch's answers without CUDA)
def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def max_memory_reserved(device=None) -> int:
    return 0


def reset_peak_memory_stats(device=None) -> None:
    """Nothing to reset."""


def _no_cuda():
    raise AssertionError("Torch not compiled with CUDA enabled")


def current_device() -> int:
    _no_cuda()


def get_device_name(device=None) -> str:
    _no_cuda()


def set_device(device) -> None:
    _no_cuda()
