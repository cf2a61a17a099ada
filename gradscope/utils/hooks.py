"""torch.utils.hooks: RemovableHandle, what every register_*hook returns (code that keeps handles imports the type
from here), and `unserializable_hook`."""

from __future__ import annotations

from collections.abc import Callable

from gradscope.autograd.hooks import RemovableHandle

__all__ = ["RemovableHandle", "unserializable_hook"]


def unserializable_hook(f: Callable) -> Callable:
    """Mark `f` as a hook that can't be serialized (PyTorch's marker attribute; gradscope never pickles hooks)."""
    f.__torch_unserializable__ = True
    return f
