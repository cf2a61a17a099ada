"""pad and interpolate: PyTorch's arguments, checks and error texts over the padding and resampling
primitives (ops/padding.py, ops/resample.py)."""

from __future__ import annotations

import math
import warnings

import gradscope
from gradscope._shapes import int_argument, ints_argument
from gradscope.autograd.dispatch import apply
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import size_list
from gradscope.nn._functional.pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from gradscope.ops import padding as P
from gradscope.ops import resample as R
from gradscope.ops import shape as S

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
    pad = ints_argument(pad, "pad", "pad", 2)
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
    target, source = [slice(None)] * ndim, input
    # the input narrowed one padded dim at a time, the last first (a SliceBackward0 each, as in PyTorch)
    for dim, (before, after) in reversed(list(zip(range(ndim - dims, ndim), amounts, strict=True))):
        target[dim] = slice(max(before, 0), shape[dim] - max(after, 0))
        source = apply(S.slice_, (source,), (dim, max(-before, 0), input.shape[dim] - max(-after, 0), 1))
    out[tuple(target)] = source
    for dim, (before, after) in zip(range(ndim - dims, ndim), amounts, strict=True):
        if before > 0:
            out[_narrow(ndim, dim, 0, before)] = out[_narrow(ndim, dim, shape[dim] - before - max(after, 0), before)]
        if after > 0:
            out[_narrow(ndim, dim, shape[dim] - after, after)] = out[_narrow(ndim, dim, max(before, 0), after)]
    return out


# ------------------------------------------------------------------------------- interpolate
_UPSAMPLE = {  # (mode, spatial dims) → primitive
    ("nearest", 1): R.upsample_nearest1d, ("nearest", 2): R.upsample_nearest2d,
    ("nearest-exact", 1): R.upsample_nearest_exact1d, ("nearest-exact", 2): R.upsample_nearest_exact2d,
    ("nearest", 3): R.upsample_nearest3d, ("nearest-exact", 3): R.upsample_nearest_exact3d,
    ("linear", 1): R.upsample_linear1d, ("bilinear", 2): R.upsample_bilinear2d, ("bicubic", 2): R.upsample_bicubic2d,
    ("trilinear", 3): R.upsample_trilinear3d,
}
_NEEDS = {"linear": 3, "bilinear": 4, "trilinear": 5}  # modes whose wrong rank has an error of its own
_ALL_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _sizes_and_scales(input: Tensor, size, scale_factor, recompute_scale_factor, mode: str) -> tuple:
    """PyTorch's Python-side resolution: exactly one of size and scale_factor, expanded per spatial dim;
    the output size from a scale factor is ⌊n · scale⌋, the scale kept unless recomputed."""
    dims = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            if not all(isinstance(n, int) for n in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, "
                                f"int], but got size with types {[type(n) for n in size]}")
            sizes = tuple(size)
        else:
            sizes = (int_argument(size, "interpolate", "size", 2),) * dims
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return sizes, (None,) * dims
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dims:
            raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(input.shape[2:])} and scale_factor of shape "
                             f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                             "scale_factor in (s1, s2, ...,sK) format.")
        scales = tuple(float(f) for f in scale_factor)
    else:
        scales = (float(scale_factor),) * dims
    sizes = tuple(math.floor(n * f) for n, f in zip(input.shape[2:], scales, strict=True))
    if recompute_scale_factor or mode == "area":
        return sizes, (None,) * dims
    return sizes, scales


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input to `size` or by `scale_factor`.
    Modes: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D),
    with align_corners, and 'area' (adaptive average pooling). Node names as PyTorch's
    (UpsampleBilinear2DBackward0 …).

    >>> F.interpolate(gradscope.tensor([[[1., 2.]]]), scale_factor=2, mode="linear")
    tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                             "bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    ndim = input.dim()
    sizes, scales = _sizes_and_scales(input, size, scale_factor, recompute_scale_factor, mode)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode in _NEEDS and ndim != _NEEDS[mode] and ndim in (3, 4, 5):
        raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {_NEEDS[mode]}D input")
    if mode == "area" and ndim in (3, 4, 5):
        return {3: adaptive_avg_pool1d, 4: adaptive_avg_pool2d, 5: adaptive_avg_pool3d}[ndim](input, sizes)
    op = _UPSAMPLE.get((mode, ndim - 2))
    if op is None:
        if mode == "lanczos" and ndim == 4:
            if not antialias:
                raise ValueError("Lanczos mode requires antialias=True")
            raise NotImplementedError("interpolate: mode 'lanczos' (antialiased) is not supported by gradscope")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for the "
                                  f"modes: {_ALL_MODES} (got {mode})")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by gradscope")
    if any(n <= 0 for n in sizes) or any(n <= 0 for n in input.shape[2:]):
        axes = ("D", "H", "W")[5 - ndim:]
        given = ", ".join(f"{a}: {n}" for a, n in zip(axes, input.shape[2:], strict=True))
        wanted = ", ".join(f"{a}: {n}" for a, n in zip(axes, sizes, strict=True))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({given}) output "
                           f"({wanted})")
    params = (sizes, *scales) if mode.startswith("nearest") else (sizes, bool(align_corners), *scales)
    return apply(op, (input,), params)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
    """Deprecated in PyTorch for interpolate (a UserWarning), which it calls."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning,
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None):
    """Deprecated in PyTorch: interpolate(mode='nearest')."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None):
    """Deprecated in PyTorch: interpolate(mode='bilinear', align_corners=True)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
