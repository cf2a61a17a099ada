"""max_unpool1d, max_unpool2d and max_unpool3d: max pooling's partial inverse (every value back at the index its
max came from, zeros elsewhere), over the max_unpool2d/3d primitives (MaxUnpool2DBackward0, MaxUnpool3DBackward0;
the 1-d form through an unsqueezed input, SqueezeBackward1, as PyTorch). An invalid index is reported as the last
one met; PyTorch's threads report one of them, whichever wrote last."""

from __future__ import annotations

from gradscope.autograd.dispatch import apply_holding
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import expand, scalar_type, size_list
from gradscope.ops import pooling as P


def _output_size(input: Tensor, kernel_size: tuple, stride: tuple, padding: tuple, output_size) -> tuple:
    """(n − 1) · stride + kernel − 2 · padding per spatial dim, or the caller's size within a stride of it."""
    dims = len(kernel_size)
    default = [(input.shape[-dims + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d] for d in range(dims)]
    if output_size is None:
        return tuple(default)
    if len(output_size) == dims + 2:
        output_size = output_size[2:]
    if len(output_size) != dims:
        raise ValueError(f"output_size should be a sequence containing {dims} or {dims + 2} elements, but it has a "
                         f"length of '{len(output_size)}'")
    for d in range(dims):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {low} and {high})')
    return tuple(output_size)


def _unpool(input: Tensor, indices: Tensor, output_size: tuple) -> Tensor:
    dims = len(output_size)
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(f"Input to max_unpooling{dims}d should be a {dims + 1}d or {dims + 2}d Tensor, but got a "
                           f"tensor with {input.dim()} dimensions.")
    if indices.dtype.name != "int64":
        # NOTE: the 3-d kernel's text stops before the dtype
        raise RuntimeError("elements in indices should be type int64" +
                           (f" but got: {scalar_type(indices)}" if dims == 2 else ""))
    if indices.shape != input.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({size_list(input)}) "
                           f"but got indices tensor with shape: {size_list(indices)}")
    op = P.max_unpool2d if dims == 2 else P.max_unpool3d
    return apply_holding(op, (input,), (indices._data, tuple(int(n) for n in output_size)), (indices,))


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Undo max_pool2d: input's values at `indices` (as max_pool2d returned them) in an (H, W) plane of zeros.

    >>> out, idx = F.max_pool2d(x, 2, return_indices=True); F.max_unpool2d(out, idx, 2)
    """
    kernel_size = expand(kernel_size, 2)
    stride = kernel_size if stride is None else expand(stride, 2)
    size = _output_size(input, kernel_size, stride, expand(padding, 2), output_size)
    return _unpool(input, indices, size)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Undo max_pool1d: max_unpool2d on a trailing unit dim."""
    kernel_size = expand(kernel_size, 1)
    stride = kernel_size if stride is None else expand(stride, 1)
    size = _output_size(input, kernel_size, stride, expand(padding, 1), output_size)
    return _unpool(input.unsqueeze(-1), indices.unsqueeze(-1), tuple(size) + (1,)).squeeze(-1)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Undo max_pool3d: input's values at `indices` in a (D, H, W) volume of zeros (MaxUnpool3DBackward0)."""
    kernel_size = expand(kernel_size, 3)
    stride = kernel_size if stride is None else expand(stride, 3)
    size = _output_size(input, kernel_size, stride, expand(padding, 3), output_size)
    return _unpool(input, indices, size)
