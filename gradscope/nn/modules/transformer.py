"""torch.nn.modules.transformer: PyTorch's home of the transformer layers, and the helpers model code imports from it
(`_get_clones` for stacking copies of a layer, `_get_activation_fn` for "relu"/"gelu")."""

from __future__ import annotations

from gradscope.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from gradscope.nn.transformer import _activation as _get_activation_fn  # noqa: F401 - imported by model code
from gradscope.nn.transformer import _clones as _get_clones  # noqa: F401
from gradscope.nn.transformer import generate_square_subsequent_mask as _generate_square_subsequent_mask  # noqa: F401

__all__ = [
    "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer"
]
