"""pixel_shuffle, pixel_unshuffle and channel_shuffle: PyTorch's checks and error texts over the
rearranging primitives of ops/nn.py (each one's VJP is the other rearrangement)."""

from __future__ import annotations

from gradscope.autograd.dispatch import apply
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import size_list
from gradscope.ops import nn as N


def _check_rank(name: str, input: Tensor) -> None:
    if input.dim() < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with {input.dim()} "
                           "dimension(s)")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r), the sub-pixel convolution's rearrangement (PixelShuffleBackward0).

    >>> F.pixel_shuffle(gradscope.ones(1, 8, 2, 3), 2).shape
    torch.Size([1, 2, 4, 6])
    """
    _check_rank("pixel_shuffle", input)
    if upscale_factor <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {upscale_factor}")
    channels = input.shape[-3]
    if channels % (upscale_factor * upscale_factor):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={channels} is not divisible by "
                           f"{upscale_factor * upscale_factor}")
    return apply(N.pixel_shuffle, (input,), (int(upscale_factor),))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of pixel_shuffle: (*, C, H·r, W·r) → (*, C·r², H, W) (PixelUnshuffleBackward0)."""
    _check_rank("pixel_unshuffle", input)
    if downscale_factor <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {downscale_factor}")
    for what, dim in (("height", -2), ("width", -1)):
        if input.shape[dim] % downscale_factor:
            raise RuntimeError(f"pixel_unshuffle expects {what} to be divisible by downscale_factor, but "
                               f"input.size({dim})={input.shape[dim]} is not divisible by {downscale_factor}")
    return apply(N.pixel_unshuffle, (input,), (int(downscale_factor),))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of `groups` groups, as ShuffleNet does (ChannelShuffleBackward0)."""
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {size_list(input)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    channels = input.shape[1]
    if channels % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} channels and {groups} "
                           "groups.")
    return apply(N.channel_shuffle, (input,), (int(groups),))


native_channel_shuffle = channel_shuffle
