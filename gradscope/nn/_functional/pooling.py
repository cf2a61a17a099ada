"""max/avg/adaptive pooling in 1, 2 and 3 dims: PyTorch's arguments, checks and error texts over the pooling primitives
(ops/pooling.py). The 1-d functions are the 2-d ones on an unsqueezed input, as in PyTorch, so their
grad_fn is a SqueezeBackward1."""

from __future__ import annotations

from gradscope.autograd.dispatch import apply
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import size_list
from gradscope.ops import pooling as P

_COUNT = {2: "two", 3: "three"}
_AXES = {2: "HW", 3: "THW"}


def _sizes(name: str, what: str, value, dims: int, optional: bool = False, either: bool = True) -> tuple:
    """An int or a `dims`-sequence (a 1-sequence repeats) as a tuple, with PyTorch's error text;
    avg_pool3d's texts drop the word "either"."""
    values = (value,) * dims if isinstance(value, int) else tuple(value)
    if len(values) == 1:
        values *= dims
    if len(values) != dims:
        choices = f"a single int, or a tuple of {_COUNT[dims]} ints"
        if optional:
            rule = f"must {'either ' if either else ''}be omitted, {choices}"
        elif what == "dilation":
            rule = f"must be either {choices}"
        else:
            rule = f"must {'either ' if either else ''}be {choices}"
        raise RuntimeError(f"{name}: {what} {rule}")
    return tuple(int(v) for v in values)


def _labelled(prefix: str, values) -> str:
    """'kH: 2 kW: 0' — PyTorch's way of naming per-axis values in pooling errors."""
    return " ".join(f"{prefix}{axis}: {v}" for axis, v in zip(_AXES[len(values)], values, strict=True))


def _check_pool(input: Tensor, kernel_size, stride, padding, dilation, ceil_mode, check_input_size=False) -> None:
    dims = len(kernel_size)
    if input.dim() not in (dims + 1, dims + 2) or input.numel() == 0 and input.dim() == dims + 1:
        raise RuntimeError(f"non-empty {dims + 1}D or {dims + 2}D (batch mode) tensor expected for input")
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(k <= 0 for k in kernel_size):
        raise RuntimeError(f"kernel size should be greater than zero, but got {_labelled('k', kernel_size)}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {_labelled('dilation', dilation)}")
    for p, k, d in zip(padding, kernel_size, dilation, strict=True):
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    sizes = input.shape[-dims:]
    if check_input_size and any(n < k for n, k in zip(sizes, kernel_size, strict=True)):
        # NOTE: avg_pool3d alone compares the unpadded input with the kernel (PyTorch's pool3d_shape_check)
        raise RuntimeError(f"input image ({_labelled('', sizes)}) smaller than kernel size "
                           f"({_labelled('k', kernel_size)})")
    out, _ = P.pool_geometry(sizes, kernel_size, stride, padding, dilation, ceil_mode)
    if any(o < 1 for o in out):
        channels = input.shape[-dims - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (channels, *sizes)))}). Calculated output size: "
                           f"({'x'.join(map(str, (channels, *out)))}). Output size is too small")


def _stride(name: str, stride, kernel_size, dims: int, either: bool = True) -> tuple:
    if stride is None or stride == [] or stride == ():
        return kernel_size
    return _sizes(name, "stride", stride, dims, optional=True, either=either)


def _max_pool(name: str, primitive, input: Tensor, kernel_size, stride, padding, dilation, ceil_mode, dims: int):
    kernel_size = _sizes(name, "kernel_size", kernel_size, dims)
    stride = _stride(name, stride, kernel_size, dims)
    padding, dilation = _sizes(name, "padding", padding, dims), _sizes(name, "dilation", dilation, dims)
    _check_pool(input, kernel_size, stride, padding, dilation, ceil_mode)
    return apply(primitive, (input,), (kernel_size, stride, padding, dilation, bool(ceil_mode)))


def _max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False):
    return _max_pool("max_pool2d", P.max_pool2d_with_indices, input, kernel_size, stride, padding, dilation,
                     ceil_mode, 2)


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


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each (dilated) window of (N, C, D, H, W) or (C, D, H, W), with its flat index in the
    D·H·W volume when return_indices (MaxPool3DWithIndicesBackward0).

    >>> F.max_pool3d(gradscope.ones(1, 2, 4, 4, 4), 2).shape
    torch.Size([1, 2, 2, 2, 2])
    """
    values, indices = _max_pool("max_pool3d", P.max_pool3d_with_indices, input, kernel_size, stride, padding,
                                dilation, ceil_mode, 3)
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


def _avg_pool(name: str, primitive, input: Tensor, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, dims: int) -> Tensor:
    either = dims == 2  # NOTE: avg_pool3d's argument errors say "must be", the others "must either be"
    kernel_size = _sizes(name, "kernel_size", kernel_size, dims, either=either)
    stride = _stride(name, stride, kernel_size, dims, either=either)
    padding = _sizes(name, "padding", padding, dims, either=either)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool(input, kernel_size, stride, padding, (1,) * dims, ceil_mode, check_input_size=dims == 3)
    return apply(primitive, (input,), (kernel_size, stride, padding, bool(ceil_mode), bool(count_include_pad),
                                       divisor_override))


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window of (N, C, H, W) or (C, H, W): padding counts in the divisor unless
    count_include_pad=False; divisor_override replaces it (AvgPool2DBackward0).

    >>> F.avg_pool2d(gradscope.ones(1, 1, 3, 3), 2, padding=1, count_include_pad=False)
    tensor([[[[1., 1.],
              [1., 1.]]]])
    """
    return _avg_pool("avg_pool2d", P.avg_pool2d, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window of (N, C, D, H, W) or (C, D, H, W), divisors as avg_pool2d's
    (AvgPool3DBackward0).

    >>> F.avg_pool3d(gradscope.ones(1, 1, 2, 2, 2), 2)
    tensor([[[[[1.]]]]])
    """
    return _avg_pool("avg_pool3d", P.avg_pool3d, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3)


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


def _adaptive_size(name: str, input: Tensor, output_size, dims: int, size_error: str, colon: str = "") -> tuple:
    """output_size as a `dims`-tuple, None keeping the input's size, with PyTorch's Python-side check
    (a sequence needs more input dims than it has entries) and its native ones."""
    sizes = (output_size,) * dims if isinstance(output_size, int) or output_size is None else tuple(output_size)
    if not isinstance(output_size, int) and input.dim() <= len(sizes):
        raise ValueError(f"Input dimension should be at least {len(sizes) + 1}")
    if len(sizes) != dims:
        raise RuntimeError(size_error)
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(f"{name}(): Expected {dims + 1}D or {dims + 2}D tensor, but got{colon} {size_list(input)}")
    return tuple(n if o is None else int(o) for o, n in zip(sizes, input.shape[-dims:], strict=True))


def _adaptive_avg_pool(name: str, primitive, input: Tensor, output_size, dims: int) -> Tensor:
    output_size = _adaptive_size(name, input, output_size, dims, f"{name}: output_size must be {dims}")
    if output_size == (1,) * dims:
        return input.mean(tuple(range(-dims, 0)), keepdim=True)
    return apply(primitive, (input,), (output_size,))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed output size: output i covers input [⌊i·n/o⌋, ⌈(i+1)·n/o⌉) along each
    dim (AdaptiveAvgPool2DBackward0; an output of 1x1 is a mean, MeanBackward1, as in PyTorch).

    >>> F.adaptive_avg_pool2d(gradscope.ones(1, 3, 7, 5), (2, 3)).shape
    torch.Size([1, 3, 2, 3])
    """
    return _adaptive_avg_pool("adaptive_avg_pool2d", P.adaptive_avg_pool2d, input, output_size, 2)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """adaptive_avg_pool2d's windows over (N, C, D, H, W) or (C, D, H, W) (AdaptiveAvgPool3DBackward0).

    >>> F.adaptive_avg_pool3d(gradscope.ones(1, 3, 5, 7, 5), (1, 2, 3)).shape
    torch.Size([1, 3, 1, 2, 3])
    """
    return _adaptive_avg_pool("adaptive_avg_pool3d", P.adaptive_avg_pool3d, input, output_size, 3)


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
    output_size = _adaptive_size("adaptive_max_pool2d", input, output_size, 2,
                                 "adaptive_max_pool2d: output_size must be 2", colon=":")
    values, indices = apply(P.adaptive_max_pool2d, (input,), (output_size,))
    return (values, indices) if return_indices else values


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """adaptive_max_pool2d over (N, C, D, H, W) or (C, D, H, W) (AdaptiveMaxPool3DBackward0)."""
    output_size = _adaptive_size("adaptive_max_pool3d", input, output_size, 3,
                                 "adaptive_max_pool3d(): internal error: output_size.size() must be 3", colon=":")
    values, indices = apply(P.adaptive_max_pool3d, (input,), (output_size,))
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


def _lp_pool(input: Tensor, norm_type, kernel_size, stride, ceil_mode: bool, dims: int) -> Tensor:
    """(Σ x^p over each window)^(1/p), composed as PyTorch composes it: an average pool of x^p times the
    window size, and a max pool of |x| for p = ±inf."""
    max_pool, avg_pool = {1: (max_pool1d, avg_pool1d), 2: (max_pool2d, avg_pool2d), 3: (max_pool3d, avg_pool3d)}[dims]
    if norm_type == float("inf"):
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    window = 1
    for k in (kernel_size,) * dims if isinstance(kernel_size, int) else kernel_size:
        window *= k
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of (N, C, L) input (PowBackward0).

    >>> F.lp_pool1d(gradscope.tensor([[[3.0, 4.0]]]), 2, 2)
    tensor([[[5.]]])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of (N, C, H, W) input (PowBackward0)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of (N, C, D, H, W) input (PowBackward0)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


def max_pool1d_with_indices(*args, **kwargs):
    return max_pool1d(*args, **{**kwargs, "return_indices": True})


def max_pool2d_with_indices(*args, **kwargs):
    return max_pool2d(*args, **{**kwargs, "return_indices": True})


def max_pool3d_with_indices(*args, **kwargs):
    return max_pool3d(*args, **{**kwargs, "return_indices": True})


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    return adaptive_max_pool3d(input, output_size, return_indices=True)
