"""torch.nn.modules.linear: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.attention import NonDynamicallyQuantizableLinear
from gradscope.nn.lazy import LazyLinear
from gradscope.nn.linear import Bilinear, Identity, Linear

__all__ = [
    "Bilinear", "Identity", "LazyLinear", "Linear", "NonDynamicallyQuantizableLinear"
]
