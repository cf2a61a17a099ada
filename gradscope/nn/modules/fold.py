"""torch.nn.modules.fold: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.linear import Fold, Unfold

__all__ = [
    "Fold", "Unfold"
]
