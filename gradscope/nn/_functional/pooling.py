"""max/avg/adaptive pooling: PyTorch's arguments, checks and error texts over the pooling primitives
(ops/pooling.py). The 1-d functions are the 2-d ones on an unsqueezed input, as in PyTorch, so their
grad_fn is a SqueezeBackward1."""

from __future__ import annotations

from gradscope.autograd.dispatch import apply
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import size_list
from gradscope.ops import pooling as P


def _pair(name: str, what: str, value, optional: bool = False) -> tuple:
    values = (value,) * 2 if isinstance(value, int) else tuple(value)
    if len(values) == 1:
        values *= 2
    if len(values) != 2:
        rule = "must either be omitted, a single int, or a tuple of two ints" if optional else (
            "must be either a single int, or a tuple of two ints" if what == "dilation" else
            "must either be a single int, or a tuple of two ints")
        raise RuntimeError(f"{name}: {what} {rule}")
    return tuple(int(v) for v in values)


def _check_pool(name: str, input: Tensor, kernel_size, stride, padding, dilation, ceil_mode) -> None:
    if input.dim() not in (3, 4) or input.numel() == 0 and input.dim() == 3:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(k <= 0 for k in kernel_size):
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel_size[0]} "
                           f"kW: {kernel_size[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dilation[0]} "
                           f"dilationW: {dilation[1]}")
    for p, k, d in zip(padding, kernel_size, dilation, strict=True):
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    out, _ = P.pool_geometry(input.shape[-2:], kernel_size, stride, padding, dilation, ceil_mode)
    if any(o < 1 for o in out):
        channels, height, width = input.shape[-3:]
        raise RuntimeError(f"Given input size: ({channels}x{height}x{width}). Calculated output size: "
                           f"({channels}x{out[0]}x{out[1]}). Output size is too small")


def _max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False):
    kernel_size = _pair("max_pool2d", "kernel_size", kernel_size)
    stride = kernel_size if stride is None or stride == [] or stride == () else _pair(
        "max_pool2d", "stride", stride, optional=True)
    padding, dilation = _pair("max_pool2d", "padding", padding), _pair("max_pool2d", "dilation", dilation)
    _check_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    return apply(P.max_pool2d_with_indices, (input,), (kernel_size, stride, padding, dilation, bool(ceil_mode)))


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each (dilated) window of (N, C, H, W) or (C, H, W), with its flat index in the
    H·W plane when return_indices; ties go to the window's first maximum (MaxPool2DWithIndicesBackward0).

    >>> F.max_pool2d(gradscope.arange(16.).view(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    values, indices = _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (values, indices) if return_indices else values


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """max_pool2d over a (N, C, 1, L) view of (N, C, L) or (C, L) input (SqueezeBackward1)."""
    if input.dim() not in (2, 3):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{size_list(input)}")
    kernel = _single(kernel_size)
    stride = kernel if stride is None or stride == [] or stride == () else _single(stride)
    padding, dilation = _single(padding), _single(dilation)
    out, _ = P.pool_geometry(input.shape[-1:], kernel, stride, padding, dilation, ceil_mode)
    if out[0] < 1:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out[0]}")
    values, indices = _max_pool2d(input.unsqueeze(-2), (1,) + kernel, (1,) + stride, (0,) + padding,
                                  (1,) + dilation, ceil_mode)
    values = values.squeeze(-2)
    return (values, indices.squeeze(-2)) if return_indices else values


def _single(value) -> tuple:
    values = (value,) if isinstance(value, int) else tuple(value)
    return tuple(int(v) for v in values)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window of (N, C, H, W) or (C, H, W): padding counts in the divisor unless
    count_include_pad=False; divisor_override replaces it (AvgPool2DBackward0).

    >>> F.avg_pool2d(gradscope.ones(1, 1, 3, 3), 2, padding=1, count_include_pad=False)
    tensor([[[[1., 1.],
              [1., 1.]]]])
    """
    kernel_size = _pair("avg_pool2d", "kernel_size", kernel_size)
    stride = kernel_size if stride is None or stride == [] or stride == () else _pair(
        "avg_pool2d", "stride", stride, optional=True)
    padding = _pair("avg_pool2d", "padding", padding)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool("avg_pool2d", input, kernel_size, stride, padding, (1, 1), ceil_mode)
    return apply(P.avg_pool2d, (input,), (kernel_size, stride, padding, bool(ceil_mode), bool(count_include_pad),
                                          divisor_override))


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """avg_pool2d over a (N, C, 1, L) view of (N, C, L) or (C, L) input (SqueezeBackward1)."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for avg_pool1d)")
    kernel = _single(kernel_size)
    stride = kernel if stride is None or stride == [] or stride == () else _single(stride)
    return avg_pool2d(input.unsqueeze(-2), (1,) + kernel, (1,) + stride, (0,) + _single(padding), ceil_mode,
                      count_include_pad).squeeze(-2)


def _adaptive_size(name: str, input: Tensor, output_size) -> tuple:
    if input.dim() < 3:
        raise ValueError("Input dimension should be at least 3")
    sizes = (output_size,) * 2 if isinstance(output_size, int) or output_size is None else tuple(output_size)
    if len(sizes) != 2:
        raise RuntimeError(f"{name}: output_size must be 2")
    return tuple(n if o is None else int(o) for o, n in zip(sizes, input.shape[-2:], strict=True))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed output size: output i covers input [⌊i·n/o⌋, ⌈(i+1)·n/o⌉) along each
    dim (AdaptiveAvgPool2DBackward0; an output of 1x1 is a mean, MeanBackward1, as in PyTorch).

    >>> F.adaptive_avg_pool2d(gradscope.ones(1, 3, 7, 5), (2, 3)).shape
    torch.Size([1, 3, 2, 3])
    """
    output_size = _adaptive_size("adaptive_avg_pool2d", input, output_size)
    if output_size == (1, 1):
        return input.mean((-1, -2), keepdim=True)
    return apply(P.adaptive_avg_pool2d, (input,), (output_size,))


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """adaptive_avg_pool2d over a (N, C, 1, L) view (SqueezeBackward1)."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for adaptive_avg_pool1d)")
    (size,) = _single(output_size)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed output size, windows as adaptive_avg_pool2d's; ties go to the window's
    first maximum (AdaptiveMaxPool2DBackward0)."""
    output_size = _adaptive_size("adaptive_max_pool2d", input, output_size)
    values, indices = apply(P.adaptive_max_pool2d, (input,), (output_size,))
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """adaptive_max_pool2d over a (N, C, 1, L) view (SqueezeBackward1)."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for adaptive_max_pool1d)")
    (size,) = _single(output_size)
    values, indices = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices=True)
    values = values.squeeze(-2)
    return (values, indices.squeeze(-2)) if return_indices else values
