"""torch.nn.modules.flatten: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.linear import Flatten, Unflatten

__all__ = [
    "Flatten", "Unflatten"
]
