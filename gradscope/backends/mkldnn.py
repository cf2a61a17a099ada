"""`torch.backends.mkldnn` (oneDNN): not in gradscope, whose kernels are NumPy's. The flags scripts set are kept
and change nothing; `flags(...)` sets them for a block, as PyTorch's."""

from __future__ import annotations

import contextlib

enabled = True
deterministic = False
allow_tf32 = False


def is_available() -> bool:
    return False


def is_acl_available() -> bool:
    return False


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None, _fp32_precision="none") -> tuple:
    """Set the flags given (None keeps one); the flags before, for restoring them."""
    global enabled, deterministic, allow_tf32
    before = (enabled, deterministic, allow_tf32, "none")
    if _enabled is not None:
        enabled = _enabled
    if _deterministic is not None:
        deterministic = _deterministic
    if _allow_tf32 is not None:
        allow_tf32 = _allow_tf32
    return before


@contextlib.contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision="none"):
    before = set_flags(enabled, deterministic, allow_tf32, fp32_precision)
    try:
        yield
    finally:
        set_flags(*before)
