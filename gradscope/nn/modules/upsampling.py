"""torch.nn.modules.upsampling: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.pooling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"
]
