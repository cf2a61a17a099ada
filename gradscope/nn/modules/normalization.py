"""torch.nn.modules.normalization: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.cross_map_lrn import CrossMapLRN2d
from gradscope.nn.normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm

__all__ = [
    "CrossMapLRN2d", "GroupNorm", "LayerNorm", "LocalResponseNorm", "RMSNorm"
]
