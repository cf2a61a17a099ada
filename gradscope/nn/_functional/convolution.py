"""conv1d/2d/3d, conv_transpose1d/2d/3d, unfold and fold: PyTorch's arguments, checks and error texts
over the `convolution`, `im2col` and `col2im` primitives (ops/conv.py)."""

from __future__ import annotations

import math
import warnings

from gradscope.autograd.dispatch import apply
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import expand, scalar_type, size_list, type_name
from gradscope.ops import conv as C
from gradscope.ops.padding import constant_pad_nd


def _conv_tuple(name: str, value, dims: int) -> tuple:
    values = expand(value, dims)
    if len(values) != dims:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dims} values to match the "
                           f"convolution dimensions, but got {name}={list(values)}")
    return values


def _check(input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, dilation, groups, transposed) -> None:
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.dim() != input.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
                           f"{size_list(weight)}, but got {input.dim()}-dimensional input of size "
                           f"{size_list(input)} instead")
    # NOTE: PyTorch's convolution checks the bias's type before the weight's (a .double() layer on float input is
    # refused for its bias); a transposed one checks the weight's only here
    if bias is not None and bias.dtype != input.dtype and not transposed:
        raise RuntimeError(f"Input type ({type_name(input)}) and bias type ({type_name(bias)}) should be the same")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {scalar_type(input)} but found {scalar_type(weight)}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({type_name(input)}) and bias type ({type_name(bias)}) should be the same")
    channels = input.shape[1]
    if transposed:
        if channels != weight.shape[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {size_list(weight)}, expected input"
                               f"{size_list(input)} to have {weight.shape[0]} channels, but got {channels} channels "
                               "instead")
        out_channels = weight.shape[1] * groups
    else:
        if weight.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                               f"but got weight of size {size_list(weight)} instead")
        if channels != weight.shape[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {size_list(weight)}, expected input"
                               f"{size_list(input)} to have {weight.shape[1] * groups} channels, but got {channels} "
                               "channels instead")
        out_channels = weight.shape[0]
        padded = [n + 2 * p for n, p in zip(input.shape[2:], padding, strict=True)]
        kernel = [d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation, strict=True)]
        if any(k > n for k, n in zip(kernel, padded, strict=True)):
            raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                               f"size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual "
                               "input size")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"Given weight of size {size_list(weight)}, expected bias to be 1-dimensional with "
                           f"{out_channels} elements, but got bias of size {size_list(bias)} instead")


def _batched(name: str, input: Tensor, dims: int) -> tuple[Tensor, bool]:
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but got "
                           f"input of size: {size_list(input)}")
    return (input.unsqueeze(0), True) if input.dim() == dims + 1 else (input, False)


_warned = {"same padding": False}


def _same_padding(input: Tensor, weight: Tensor, dilation: tuple, dims: int) -> tuple[Tensor, tuple]:
    """padding='same': half the dilated kernel on each side; an odd total puts the extra element at the
    end, which PyTorch pads explicitly first (a ConstantPadNdBackward0 under the convolution)."""
    totals = [d * (k - 1) for k, d in zip(weight.shape[2:], dilation, strict=True)]
    if all(total % 2 == 0 for total in totals):
        return input, tuple(total // 2 for total in totals)
    if not _warned["same padding"]:  # NOTE: PyTorch warns once per process (TORCH_WARN_ONCE)
        _warned["same padding"] = True
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy "
                      "of the input be created", UserWarning, stacklevel=4)
    extra = []
    for total in reversed(totals):  # F.pad order: last dim first
        extra += [0, total % 2]
    return apply(constant_pad_nd, (input,), (tuple(extra), 0)), tuple(total // 2 for total in totals)


def _conv(name: str, input, weight, bias, stride, padding, dilation, groups, dims: int) -> Tensor:
    input, unbatched = _batched(name, input, dims)
    stride, dilation = _conv_tuple("stride", stride, dims), _conv_tuple("dilation", dilation, dims)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * dims
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            input, padding = _same_padding(input, weight, dilation, dims)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _conv_tuple("padding", padding, dims)
    _check(input, weight, bias, stride, padding, dilation, groups, transposed=False)
    out = apply(C.convolution, (input, weight, bias), (stride, padding, dilation, False, (0,) * dims, groups))
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D cross-correlation of (N, C, L) or (C, L) input with weight (O, C/groups, k) (ConvolutionBackward0).

    >>> F.conv1d(gradscope.ones(1, 2, 5), gradscope.ones(3, 2, 3), padding="same").shape
    torch.Size([1, 3, 5])
    """
    return _conv("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation of (N, C, H, W) or (C, H, W) input with weight (O, C/groups, kH, kW);
    padding is an int, a pair, 'valid' or 'same' (ConvolutionBackward0).

    >>> F.conv2d(gradscope.ones(1, 3, 8, 8), gradscope.ones(4, 3, 3, 3), stride=2, padding=1).shape
    torch.Size([1, 4, 4, 4])
    """
    return _conv("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D cross-correlation of (N, C, D, H, W) or (C, D, H, W) input with weight (O, C/groups, kD, kH, kW)
    (ConvolutionBackward0).

    >>> F.conv3d(gradscope.ones(1, 2, 4, 4, 4), gradscope.ones(3, 2, 3, 3, 3), padding=1).shape
    torch.Size([1, 3, 4, 4, 4])
    """
    return _conv("conv3d", input, weight, bias, stride, padding, dilation, groups, 3)


def _conv_transpose(name: str, input, weight, bias, stride, padding, output_padding, groups, dilation, dims):
    input, unbatched = _batched(name, input, dims)
    stride, padding = _conv_tuple("stride", stride, dims), _conv_tuple("padding", padding, dims)
    dilation = _conv_tuple("dilation", dilation, dims)
    output_padding = _conv_tuple("output_padding", output_padding, dims)
    _check(input, weight, bias, stride, padding, dilation, groups, transposed=True)
    if any(extra >= s and extra >= d for extra, s, d in zip(output_padding, stride, dilation, strict=True)):
        axes = {1: ("",), 2: ("height", "width"), 3: ("depth", "height", "width")}[dims]
        parts = [f"{what}{'_' + axis if axis else ''}: {value}"
                 for what, values in (("output_padding", output_padding), ("stride", stride), ("dilation", dilation))
                 for axis, value in zip(axes, values, strict=True)]
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {' '.join(parts)}")
    size = C.transposed_size(input.shape[2:], weight.shape[2:], stride, padding, dilation, output_padding)
    if any(n <= 0 for n in size):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, input.shape[2:]))}). Calculated "
                           f"output size per channel: ({' x '.join(map(str, size))}). Output size is too small")
    out = apply(C.convolution, (input, weight, bias), (stride, padding, dilation, True, output_padding, groups))
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The adjoint of conv1d in its input, weight (C_in, O/groups, k): each input element spreads a
    scaled copy of the kernel over the output (ConvolutionBackward0).

    >>> F.conv_transpose1d(gradscope.ones(1, 2, 4), gradscope.ones(2, 3, 3), stride=2).shape
    torch.Size([1, 3, 9])
    """
    return _conv_transpose("conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The adjoint of conv2d in its input (a "deconvolution"), weight (C_in, O/groups, kH, kW)
    (ConvolutionBackward0).

    >>> F.conv_transpose2d(gradscope.ones(1, 2, 4, 4), gradscope.ones(2, 3, 3, 3), stride=2, padding=1,
    ...                    output_padding=1).shape
    torch.Size([1, 3, 8, 8])
    """
    return _conv_transpose("conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The adjoint of conv3d in its input, weight (C_in, O/groups, kD, kH, kW) (ConvolutionBackward0).

    >>> F.conv_transpose3d(gradscope.ones(1, 2, 2, 2, 2), gradscope.ones(2, 3, 2, 2, 2), stride=2).shape
    torch.Size([1, 3, 4, 4, 4])
    """
    return _conv_transpose("conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3)


# ------------------------------------------------------------------------------- unfold / fold
def _block_args(kernel_size, dilation, padding, stride) -> tuple:
    return expand(kernel_size, 2), expand(dilation, 2), expand(padding, 2), expand(stride, 2)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding local blocks of (N, C, H, W) or (C, H, W) as columns (N, C·kH·kW, L) (Im2ColBackward0).

    >>> F.unfold(gradscope.ones(1, 2, 4, 4), kernel_size=2).shape
    torch.Size([1, 8, 9])
    """
    if input.dim() not in (3, 4):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {size_list(input)}")
    kernel_size, dilation, padding, stride = _block_args(kernel_size, dilation, padding, stride)
    padded = [n + 2 * p for n, p in zip(input.shape[-2:], padding, strict=True)]
    grid = [C.grid_size(n, k, d, s) for n, k, d, s in zip(padded, kernel_size, dilation, stride, strict=True)]
    if any(g < 1 for g in grid):
        raise RuntimeError(f"Given input with spatial size {tuple(input.shape[-2:])}, kernel_size={kernel_size}, "
                           f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding blocks "
                           f"as {tuple(grid)}, but its components must be at least one.")
    return apply(C.im2col, (input,), (kernel_size, dilation, padding, stride))


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of unfold: columns (N, C·kH·kW, L) summed back into (N, C, *output_size), overlapping
    blocks adding up (Col2ImBackward0).

    >>> F.fold(gradscope.ones(1, 4, 4), output_size=(3, 3), kernel_size=2).sum()
    tensor(16.)
    """
    if input.dim() not in (2, 3):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {size_list(input)}")
    output_size = expand(output_size, 2)
    kernel_size, dilation, padding, stride = _block_args(kernel_size, dilation, padding, stride)
    rows, length = input.shape[-2:]
    if rows % math.prod(kernel_size):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={rows} and kernel_size={kernel_size}.")
    grid = [C.grid_size(n + 2 * p, k, d, s)
            for n, p, k, d, s in zip(output_size, padding, kernel_size, dilation, stride, strict=True)]
    if length != math.prod(grid):
        raise RuntimeError(f"Given output_size={output_size}, kernel_size={kernel_size}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension "
                           f"{input.dim() - 1} to match the calculated number of sliding blocks "
                           f"{grid[0]} * {grid[1]} = {math.prod(grid)}, but got input.size({input.dim() - 1})="
                           f"{length}.")
    return apply(C.col2im, (input,), (output_size, kernel_size, dilation, padding, stride))
