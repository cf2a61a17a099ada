"""`torch.cpu`: the one device gradscope has."""

from __future__ import annotations

from gradscope._lazy import lazy_exports as _lazy_exports

# torch.cpu.amp, PyTorch's old home of torch.amp, loads on first use
__getattr__, __dir__ = _lazy_exports(__name__, globals(), submodules=("amp",))


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing runs asynchronously on the CPU."""
