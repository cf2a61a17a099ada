"""torch.nn.modules.lazy: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.lazy import LazyModuleMixin

__all__ = [
    "LazyModuleMixin"
]
