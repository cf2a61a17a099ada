"""F.fractional_max_pool2d / 3d: PyTorch's argument handling and checks around the fractional pooling
primitives (ops/fractional_pooling.py); without `_random_samples`, the samples are drawn with torch.rand from
the default generator, as PyTorch draws them."""

from __future__ import annotations

import gradscope
from gradscope.autograd.dispatch import apply
from gradscope.autograd.tensor import Tensor
from gradscope.ops import fractional_pooling as P

_AXES = {2: ("height", "width"), 3: ("time", "height", "width")}


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False, _random_samples: Tensor | None = None):
    """Max over kernel_size windows at pseudo-random starts, to output_size (or input size × output_ratio):
    (values, flat indices within each plane) (FractionalMaxPool2DBackward0).

    >>> F.fractional_max_pool2d_with_indices(gradscope.ones(1, 1, 5, 5), 2, output_size=3)[0].shape
    torch.Size([1, 1, 3, 3])
    """
    return _pool(input, kernel_size, output_size, output_ratio, _random_samples, 2)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False, _random_samples: Tensor | None = None):
    """fractional_max_pool2d_with_indices over (N, C, T, H, W) or (C, T, H, W) (FractionalMaxPool3DBackward0)."""
    return _pool(input, kernel_size, output_size, output_ratio, _random_samples, 3)


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    """The pooled values, or (values, indices) with return_indices."""
    pooled = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                                                _random_samples)
    return pooled if return_indices else pooled[0]


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    """The pooled values, or (values, indices) with return_indices."""
    pooled = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                                                _random_samples)
    return pooled if return_indices else pooled[0]


def _pool(input: Tensor, kernel_size, output_size, output_ratio, samples: Tensor | None, dims: int):
    name = f"fractional_max_pool{dims}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if len(output_ratio) > dims:
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = _tuple(output_ratio, dims)
        output_size = [int(input.size(d - dims) * ratio[d]) for d in range(dims)]
    if samples is None:
        batch = 1 if input.dim() == dims + 1 else input.size(0)
        samples = gradscope.rand(batch, input.size(-dims - 1), dims, dtype=input.dtype)
    kernel, size = _sizes(kernel_size, "kernel_size", name, dims), _sizes(output_size, "output_size", name, dims)
    _check(input, samples, kernel, size, dims)
    return apply(P.fractional_max_pool2d if dims == 2 else P.fractional_max_pool3d, (input,),
                 (samples._data, kernel, size))


def _tuple(value, dims: int) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(value) * dims if len(value) == 1 else tuple(value)
    return (value,) * dims


def _sizes(value, what: str, name: str, dims: int) -> tuple:
    sizes = _tuple(value, dims)
    if len(sizes) != dims:
        raise RuntimeError(f"{name}: {what} must either be a single Int or tuple of Ints")
    return tuple(int(v) for v in sizes)


def _check(input: Tensor, samples: Tensor, kernel: tuple, size: tuple, dims: int) -> None:
    """ATen's checks, in its order."""
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random samples to have 3 dimensions, got {samples.dim()}")
    if samples.size(2) != dims:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {dims}; got {samples.size(2)}.")
    if input.dim() == dims + 2 and samples.size(0) < input.size(0):
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    prefix = "fractional_max_pool2d()" if dims == 2 else "fractional_max_pool3d_out()"
    for axis, pool, out, extent in zip(_AXES[dims], kernel, size, input.shape[-dims:], strict=True):
        # NOTE: the last window may end at the input's end in 2-D, not in 3-D (PyTorch's checks differ)
        if out + pool - 1 > extent or dims == 3 and out + pool - 1 == extent:
            raise RuntimeError(f"{prefix}: pool {axis} {pool} too large relative to input {axis} {extent}")
