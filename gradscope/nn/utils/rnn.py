"""torch.nn.utils.rnn: pad_sequence, PackedSequence and packing/unpacking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

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


class PackedSequence(NamedTuple):
    """Variable-length sequences packed time step by time step: `data` holds, for each step t, the
    `batch_sizes[t]` sequences (longest first) still running; `sorted_indices` maps that order to the
    batch's (None when the batch came sorted)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return lengths._data.astype(np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _pack_time_major(padded: Tensor, lengths: np.ndarray) -> tuple[Tensor, Tensor]:
    """`padded` (T, B, *) with its batch already sorted by decreasing length."""
    batch_sizes = np.array([(lengths > t).sum() for t in range(int(lengths[0]))], dtype=np.int64)
    data = gradscope.cat([padded[t, :int(size)] for t, size in enumerate(batch_sizes)])
    return data, gradscope.from_numpy(batch_sizes)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences of `lengths`.

    >>> packed = pack_padded_sequence(gradscope.ones(3, 2, 4), [3, 1])
    >>> packed.batch_sizes
    tensor([2, 1, 1])
    """
    lengths = _lengths_array(lengths)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                               "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
    if batch_first:
        input = input.transpose(0, 1)
    if order is not None:
        input = input[:, gradscope.from_numpy(order)]
        lengths = lengths[order]
    if lengths.size and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    data, batch_sizes = _pack_time_major(input, lengths)
    if order is None:
        return PackedSequence(data, batch_sizes)
    return PackedSequence(data, batch_sizes, gradscope.from_numpy(order),
                          gradscope.from_numpy(np.argsort(order, kind="stable")))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of pack_padded_sequence: (padded batch in the original order, lengths)."""
    batch_sizes = sequence.batch_sizes._data.astype(np.int64)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    batch = int(batch_sizes[0])
    data = sequence.data
    rows, start = [], 0
    for size in batch_sizes:
        step = data[start:start + int(size)]
        start += int(size)
        if size < batch:
            filler = gradscope.full((batch - int(size), *data.shape[1:]), padding_value, dtype=data.dtype)
            step = gradscope.cat([step, filler])
        rows.append(step)
    for _ in range(steps - len(batch_sizes)):
        rows.append(gradscope.full((batch, *data.shape[1:]), padding_value, dtype=data.dtype))
    padded = gradscope.stack(rows)
    lengths = np.array([(batch_sizes > b).sum() for b in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded[:, sequence.unsorted_indices]
        lengths = lengths[sequence.unsorted_indices._data]
    return (padded.transpose(0, 1) if batch_first else padded), gradscope.from_numpy(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """pad_sequence then pack_padded_sequence."""
    lengths = [seq.shape[0] for seq in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """pad_sequence undone: each sequence of the padded batch cut to its length (a mask over its steps, as
    PyTorch's: IndexBackward0 on each, UnbindBackward0 under them)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    steps = padded_sequences.size(1)
    return [sequence[gradscope.arange(steps) < length.item()]
            for sequence, length in zip(padded_sequences, lengths)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """pack_sequence undone: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def repack_like(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack a (T, B, *) batch in the original order with the layout of `like`."""
    if like.sorted_indices is not None:
        padded = padded[:, like.sorted_indices]
    batch_sizes = like.batch_sizes._data
    data = gradscope.cat([padded[t, :int(size)] for t, size in enumerate(batch_sizes)])
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)
