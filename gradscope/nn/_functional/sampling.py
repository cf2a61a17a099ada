"""pad and interpolate: PyTorch's arguments, checks and error texts over the padding and resampling
primitives (ops/padding.py, ops/resample.py)."""

from __future__ import annotations

import gradscope
from gradscope.autograd.dispatch import apply
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import size_list
from gradscope.ops import padding as P

_GATHER_PADS = {
    "reflect": (P.reflection_pad1d, P.reflection_pad2d, P.reflection_pad3d),
    "replicate": (P.replication_pad1d, P.replication_pad2d, P.replication_pad3d),
}
_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative amounts, crop) the last len(pad) // 2 dims; `pad` lists (before, after)
    from the last dim backwards. Modes: 'constant' (ConstantPadNdBackward0), 'reflect' and 'replicate'
    (ReflectionPad{1,2,3}DBackward0, ReplicationPad…), 'circular' (CopySlices, as PyTorch builds it).

    >>> F.pad(gradscope.ones(1, 2, 3), (1, 2), value=0.5).shape
    torch.Size([1, 2, 6])
    """
    pad = tuple(int(p) for p in pad)
    ndim = input.dim()
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")
    if mode == "constant":
        return apply(P.constant_pad_nd, (input,), (pad, 0 if value is None else value))
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    dims = len(pad) // 2
    if not 1 <= dims <= 3 or ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\nSupported combinations for "
            "non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n  - 3D or 4D input: "
            "padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":
        return _pad_circular(input, pad)
    if mode == "reflect":
        for i in range(dims):
            size, (before, after) = input.shape[ndim - 1 - i], pad[2 * i: 2 * i + 2]
            if before >= size or after >= size:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                                   f"but got: padding ({before}, {after}) at dimension {ndim - 1 - i} of input "
                                   f"{size_list(input)}")
    return apply(_GATHER_PADS[mode][dims - 1], (input,), (pad,))


def _narrow(ndim: int, dim: int, start: int, length: int) -> tuple:
    return (slice(None),) * dim + (slice(start, start + length),) + (slice(None),) * (ndim - dim - 1)


def _pad_circular(input: Tensor, pad: tuple) -> Tensor:
    """PyTorch's construction, copy for copy: the input into the middle of an empty tensor, then each
    dim's wrapped ends copied from the opposite side of the tensor being built, so the corners wrap
    too. Its grad_fn is therefore a CopySlices, as in PyTorch."""
    ndim = input.dim()
    dims = len(pad) // 2
    amounts = [(pad[2 * (ndim - 1 - dim)], pad[2 * (ndim - 1 - dim) + 1]) for dim in range(ndim - dims, ndim)]
    shape = list(input.shape)
    for dim, (before, after) in zip(range(ndim - dims, ndim), amounts, strict=True):
        if before > shape[dim] or after > shape[dim]:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if shape[dim] + before + after < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension.")
        shape[dim] += before + after
    out = gradscope.zeros(shape, dtype=input.dtype)
    target, source = [slice(None)] * ndim, [slice(None)] * ndim
    for dim, (before, after) in zip(range(ndim - dims, ndim), amounts, strict=True):
        target[dim] = slice(max(before, 0), shape[dim] - max(after, 0))
        source[dim] = slice(max(-before, 0), input.shape[dim] - max(-after, 0))
    out[tuple(target)] = input[tuple(source)]
    for dim, (before, after) in zip(range(ndim - dims, ndim), amounts, strict=True):
        if before > 0:
            out[_narrow(ndim, dim, 0, before)] = out[_narrow(ndim, dim, shape[dim] - before - max(after, 0), before)]
        if after > 0:
            out[_narrow(ndim, dim, shape[dim] - after, after)] = out[_narrow(ndim, dim, max(before, 0), after)]
    return out
