"""layer_norm, rms_norm, batch_norm, group_norm, instance_norm, normalize: PyTorch's arguments, checks
and error texts over the normalisation primitives (ops/normalization.py), or composed where PyTorch
composes (rms_norm ends in a MulBackward0, instance_norm in a ViewBackward0, normalize in a DivBackward0)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from gradscope.autograd.dispatch import apply, apply_holding
from gradscope.autograd.tensor import Tensor
from gradscope.autograd.writes import before_write
from gradscope.nn._functional._args import plus, scalar_type, size_list
from gradscope.nn._functional._reduction import not_differentiable
from gradscope.nn._functional.pooling import avg_pool2d, avg_pool3d
from gradscope.nn._functional.sampling import pad
from gradscope.ops import normalization as N


def _shape_text(shape) -> str:
    return str(list(shape))


def _normalized_shape(name: str, normalized_shape) -> tuple:
    if isinstance(normalized_shape, int):
        raise TypeError(f"{name}(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    return tuple(int(n) for n in normalized_shape)


def _check_floating(kernel: str, input: Tensor) -> None:
    """PyTorch's normalisation kernels take floating inputs only (integers, bools and complex numbers raise)."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_type(input)}'")


_REDUCED = frozenset(("float16", "bfloat16"))


def _check_parameter_dtypes(input: Tensor, *parameters: Tensor | None) -> None:
    """PyTorch's CPU normalisation kernels take parameters of the input's dtype. The first parameter given decides:
    of another dtype, the input may only be float16 with every parameter float32 ("mixed dtype (CPU)" errors);
    of the input's, any other parameter of another dtype fails in the kernel ("expected scalar type Double but found
    Float"). A float32 model fed float64 input (or a .double() model float32 input) is refused, not computed."""
    given = [p for p in parameters if p is not None]
    dtype = input.dtype
    if all(p.dtype == dtype for p in given):
        return
    if given[0].dtype != dtype:
        if any(p.dtype.name != "float32" for p in given):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if dtype.name not in _REDUCED:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    other = next(p for p in given if p.dtype != dtype)
    raise RuntimeError(f"expected scalar type {scalar_type(input)} but found {scalar_type(other)}")


def _check_affine(what: str, tensor: Tensor | None, normalized_shape: tuple) -> None:
    if tensor is not None and tuple(tensor.shape) != normalized_shape:
        raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but got {what} of shape "
                           f"{size_list(tensor)} and normalized_shape = {_shape_text(normalized_shape)}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing `normalized_shape` dims, then scale and shift elementwise
    (NativeLayerNormBackward0).

    >>> F.layer_norm(gradscope.tensor([[1., 3.]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    normalized_shape = _normalized_shape("layer_norm", normalized_shape)
    if not normalized_shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    _check_affine("weight", weight, normalized_shape)
    _check_affine("bias", bias, normalized_shape)
    if tuple(input.shape[input.dim() - len(normalized_shape):]) != normalized_shape or input.dim() < len(
            normalized_shape):
        raise RuntimeError(f"Given normalized_shape={_shape_text(normalized_shape)}, expected input with shape "
                           f"[*, {str(list(normalized_shape))[1:-1]}], but got input of size{size_list(input)}")
    _check_parameter_dtypes(input, weight, bias)
    _check_floating("LayerNormKernelImpl", input)
    return apply(N.native_layer_norm, (input, weight, bias), (normalized_shape, eps))[0]


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """x / √(mean(x²) + eps) over the trailing dims, times `weight`; eps defaults to the dtype's machine
    epsilon. Composed as PyTorch composes it (MulBackward0).

    >>> F.rms_norm(gradscope.tensor([[3., 4.]]), (2,))
    tensor([[0.8485, 1.1314]])
    """
    normalized_shape = _normalized_shape("rms_norm", normalized_shape)
    _check_affine("weight", weight, normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={_shape_text(normalized_shape)}, expected input with shape "
                           f"[*{str(list(normalized_shape))[1:-1]}], but got input of size{size_list(input)}")
    # NOTE: as PyTorch's composite, float16 is computed in float32 (its opmath type), eps defaulting to float32's
    # epsilon, and the result is cast back to the input's dtype (a float64 weight doesn't make it float64)
    x = input.float() if input.dtype.name in _REDUCED else input
    if eps is None:
        eps = float(np.finfo(x.dtype.numpy).eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    result = x * plus((x ** 2).mean(dims, keepdim=True), eps).rsqrt()
    if weight is not None:
        result = result * weight
    return result if result.dtype == input.dtype else result.to(input.dtype)


def _check_channels(what: str, tensor: Tensor | None, channels: int) -> None:
    if tensor is not None and tensor.numel() != channels:
        raise RuntimeError(f"{what} should contain {channels} elements not {tensor.numel()}")


def _verify_batch_size(size) -> None:
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims (NativeBatchNormBackward0).

    Training uses the batch's statistics and, when given, updates the running ones in place:
    running = (1 - momentum) · running + momentum · batch statistic, the variance unbiased. Eval
    uses the running statistics. (A module's momentum=None, a cumulative average, passes
    momentum = 1 / batches seen.)

    >>> mean, var = gradscope.zeros(2), gradscope.ones(2)
    >>> F.batch_norm(gradscope.tensor([[0., 2.], [2., 6.]]), mean, var, training=True).shape
    torch.Size([2, 2])
    >>> mean
    tensor([0.1000, 0.4000])
    """
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps, True)


def _batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None,
                bias: Tensor | None, training: bool, momentum: float, eps: float, check_parameters: bool) -> Tensor:
    if training:
        _verify_batch_size(input.shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if not isinstance(momentum, numbers.Real) or isinstance(momentum, bool):
        raise TypeError(f"batch_norm(): argument 'momentum' (position 7) must be float, not "
                        f"{type(momentum).__name__}")
    channels = input.shape[1] if input.dim() > 1 else 0  # (a 1-D input has none, as PyTorch reads it)
    for what, tensor in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                         ("bias", bias)):
        _check_channels(what, tensor, channels)
    if input.dim() < 2 and input.numel():
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"{'running_mean' if running_mean is None else 'running_var'} must be defined in "
                           "evaluation mode")
    _refuse_grad_of_running(running_mean, running_var)
    _check_floating("batch_norm", input)
    if check_parameters:
        _check_parameter_dtypes(input, weight, bias, running_mean, running_var)
    if not input.numel():
        return _empty_batch_norm(input, weight, bias)
    statistics = [None if t is None else t._data for t in (running_mean, running_var)]
    out, mean, rstd = apply_holding(N.native_batch_norm, (input, weight, bias), (*statistics, bool(training), eps),
                                    (running_mean, running_var))
    if training:
        _update_running(running_mean, running_var, mean._data, rstd._data, eps, input.numel() // channels, momentum)
    return out


def _empty_batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """PyTorch's batch norm of an empty input: a clone (not a view, not a new empty tensor: the graph goes on),
    times weight[0] and plus bias[0] when given; the running statistics stay as they are (a mean over no
    values, nan, was written into them)."""
    out = input.clone()
    if weight is not None:
        out = out * weight.select(0, 0)
    if bias is not None:
        out = out + bias.select(0, 0)
    return out


def _update_running(running_mean, running_var, mean, rstd, eps, count, momentum) -> None:
    """In place and without a version bump, as PyTorch's kernel updates them."""
    if running_mean is not None:
        data = running_mean._data
        before_write(data)  # a recording may hold the running statistics' memory
        data *= 1 - momentum
        data += momentum * mean.astype(data.dtype)
    if running_var is not None:
        data = running_var._data
        before_write(data)
        # NOTE: the kernel returns rstd; the biased variance comes back as 1/rstd² - eps
        variance = (1 / (rstd.astype(np.float64) ** 2) - eps) * count / max(count - 1, 1)
        data *= 1 - momentum
        data += (momentum * variance).astype(data.dtype)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) over its spatial dims: batch_norm on a (1, N·C, ...) view, as
    PyTorch computes it (ViewBackward0); running statistics are averaged over the batch.

    >>> F.instance_norm(gradscope.tensor([[[0., 2.], [1., 1.]]])).shape
    torch.Size([1, 2, 2])
    """
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    _refuse_grad_of_running(running_mean, running_var)  # PyTorch's instance_norm runs native_batch_norm on them
    batch, channels = input.shape[:2]
    if input._data.dtype.kind == "f":
        # NOTE: PyTorch refuses weight and bias of another dtype, and takes running statistics of any
        _check_parameter_dtypes(input, weight, bias)

    def repeated(t: Tensor | None) -> Tensor | None:
        return None if t is None else t.repeat(batch)  # RepeatBackward0, as PyTorch repeats them

    stats = [None if t is None else Tensor._make(np.tile(t._data, batch)) for t in (running_mean, running_var)]
    flat = input.reshape(1, batch * channels, *input.shape[2:])
    out = _batch_norm(flat, stats[0], stats[1], repeated(weight), repeated(bias), use_input_stats, momentum, eps,
                      False)
    for running, per_sample in zip((running_mean, running_var), stats, strict=True):
        if running is not None:
            before_write(running._data)  # a recording may hold the running statistics' memory
            running._data[...] = per_sample._data.reshape(batch, channels).mean(0)
    return out.view(input.shape)


def _refuse_grad_of_running(running_mean: Tensor | None, running_var: Tensor | None) -> None:
    """Running statistics have no derivative formula: PyTorch refuses them requiring grad, in either mode."""
    not_differentiable("native_batch_norm", "running_mean", running_mean)
    not_differentiable("native_batch_norm", "running_var", running_var)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample's channels in `num_groups` groups (with their spatial dims), then scale
    and shift per channel (NativeGroupNormBackward0).

    >>> F.group_norm(gradscope.ones(2, 4, 3), 2).shape
    torch.Size([2, 4, 3])
    """
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    batch, channels = input.shape[:2]
    _verify_batch_size([batch * channels // num_groups, num_groups] + list(input.shape[2:]))
    if channels % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {size_list(input)} and num_groups={num_groups}")
    for what, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and (tensor.dim() != 1 or tensor.numel() != channels):
            raise RuntimeError(f"Expected {what} to be a vector of size equal to the number of channels in input, "
                               f"but got {what} of shape {size_list(tensor)} and input of shape {size_list(input)}")
    _check_parameter_dtypes(input, weight, bias)
    _check_floating("GroupNormKernelImpl", input)
    spatial = math.prod(input.shape[2:])
    return apply(N.native_group_norm, (input, weight, bias), (batch, channels, spatial, int(num_groups), eps))[0]


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """input / max(‖input‖_p along dim, eps), as PyTorch composes it (DivBackward0).

    >>> F.normalize(gradscope.tensor([[3., 4.]]))
    tensor([[0.6000, 0.8000]])
    """
    denominator = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denominator if out is None else out.copy_(input / denominator)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Each element divided by (k + alpha · mean of the squares of `size` neighbouring channels)^beta
    (AlexNet's normalisation), composed as PyTorch composes it: an average pool over channels of x²
    (DivBackward0)."""
    dim = input.dim()
    if dim < 3:
        # NOTE: PyTorch's message carries a run of spaces from a line continuation inside its f-string
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input.mul(input)
    if dim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).view(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """torch.norm_except_dim: the `pow`-norm of v over every dim but `dim`, shaped to broadcast against v
    (dim -1: over all of v)."""
    if dim == -1:
        return v.norm(pow)
    shape = [1] * v.dim()
    shape[dim] = v.shape[dim]
    if dim == 0:
        return v.contiguous().view(v.shape[0], -1).norm(pow, 1).view(shape)
    if dim == v.dim() - 1:
        return v.contiguous().view(-1, v.shape[-1]).norm(pow, 0).view(shape)
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """torch._weight_norm: v · (g / ‖v‖), the norm over every dim but `dim`; PyTorch's fused kernel
    (WeightNormInterfaceBackward0) for the first or last dim, composed otherwise."""
    if dim in (0, v.dim() - 1) and v.dim() > 0:
        return apply(N.weight_norm_interface, (v, g), (dim,))[0]
    return v * (g / norm_except_dim(v, 2, dim))
