"""torch.nn.modules.distance: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.distance import CosineSimilarity, PairwiseDistance

__all__ = [
    "CosineSimilarity", "PairwiseDistance"
]
