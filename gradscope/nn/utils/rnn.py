"""torch.nn.utils.rnn: pad_sequence."""

from __future__ import annotations

from collections.abc import Sequence

import gradscope
from gradscope.autograd.tensor import Tensor


def pad_sequence(sequences: Tensor | Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack variable-length sequences (L_i, *) into (L_max, B, *) or, with batch_first, (B, L_max, *),
    filling with `padding_value` on `padding_side`.

    >>> pad_sequence([gradscope.ones(2), gradscope.ones(3)], batch_first=True)
    tensor([[1., 1., 0.],
            [1., 1., 1.]])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    longest = max(seq.shape[0] for seq in sequences)
    padded = []
    for seq in sequences:
        missing = longest - seq.shape[0]
        if missing:
            filler = gradscope.full((missing, *seq.shape[1:]), padding_value, dtype=seq.dtype)
            seq = gradscope.cat([seq, filler] if padding_side == "right" else [filler, seq])
        padded.append(seq)
    return gradscope.stack(padded, 0 if batch_first else 1)
