"""torch.nn.modules.pixelshuffle: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.shuffle import PixelShuffle, PixelUnshuffle

__all__ = [
    "PixelShuffle", "PixelUnshuffle"
]
