"""`torch.xpu` as gradscope answers it: there is no Intel GPU. PyTorch's examples pick their device with
`torch.xpu.is_available()` among cuda and mps; PyTorch without XPU answers False and 0, accepts seeding and cache
calls, and refuses questions about a device in the words below."""

from __future__ import annotations

_NOT_COMPILED = "Torch not compiled with XPU enabled"


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Ignored: there is no XPU generator to seed (as in PyTorch without XPU)."""


manual_seed_all = manual_seed


def seed() -> None:
    """Ignored, as `manual_seed`."""


seed_all = seed


def empty_cache() -> None:
    """There is no XPU memory cache to empty."""


def memory_allocated(device=None) -> int:
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def _refuse(*args, **kwargs):
    raise AssertionError(_NOT_COMPILED)


# questions about the current device: PyTorch's lazy init asserts XPU was compiled in
synchronize = current_device = set_device = get_device_name = get_device_properties = get_device_capability = _refuse
