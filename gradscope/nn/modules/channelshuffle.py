"""torch.nn.modules.channelshuffle: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.shuffle import ChannelShuffle

__all__ = [
    "ChannelShuffle"
]
