"""torch.nn.modules.sparse: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.sparse import Embedding, EmbeddingBag

__all__ = [
    "Embedding", "EmbeddingBag"
]
