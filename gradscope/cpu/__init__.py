"""`torch.cpu`: the one device gradscope has."""

from __future__ import annotations


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing runs asynchronously on the CPU."""
