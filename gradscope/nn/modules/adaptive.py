"""torch.nn.modules.adaptive: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.adaptive import AdaptiveLogSoftmaxWithLoss, _ASMoutput

__all__ = [
    "AdaptiveLogSoftmaxWithLoss", "_ASMoutput"
]
