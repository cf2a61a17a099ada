"""`torch.accelerator` as gradscope answers it: there is no accelerator. PyTorch's own examples now pick their
device with `torch.accelerator.is_available()` and `current_accelerator()`; without one PyTorch answers False and
None, and refuses every question about the device that isn't there, in the words below."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    """None: no accelerator is built in (PyTorch's answer on a CPU-only build, whatever `check_available` says)."""
    return None


def device_count() -> int:
    return 0


def _refuse(*args, **kwargs):
    raise RuntimeError(_NONE_AVAILABLE)


# every question about the current accelerator device: PyTorch refuses them all without one
current_device_index = synchronize = current_stream = set_stream = _refuse
set_device_index = empty_cache = get_device_capability = get_memory_info = _refuse
memory_stats = memory_allocated = max_memory_allocated = memory_reserved = max_memory_reserved = _refuse
reset_peak_memory_stats = reset_accumulated_memory_stats = _refuse


def current_device_idx() -> int:
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    _refuse()


def set_device_idx(device, /) -> None:
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    _refuse()


@contextlib.contextmanager
def device_index(device, /) -> Iterator[None]:
    """`with torch.accelerator.device_index(None):` does nothing, as PyTorch's; any index needs a device."""
    if device is not None:
        _refuse()
    yield
