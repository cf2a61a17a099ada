"""dropout, dropout1d, dropout2d, dropout3d, built as PyTorch builds them on the CPU: `input * noise`,
where noise is a Bernoulli(1 - p) draw divided by 1 - p (MulBackward0); and the alpha dropouts of SELU
networks. Feature dropout draws one value per (sample, channel), shared over the spatial dims. The noise is
drawn as PyTorch's `bernoulli_(1 - p)` draws it on the CPU, so after the same `manual_seed` the masks are
PyTorch's.
"""

from __future__ import annotations

import warnings

import numpy as np

import gradscope
from gradscope._dtypes import legacy_type_name
from gradscope.autograd import factories
from gradscope.autograd.tensor import Tensor


def _check_probability(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _refuse_integers(input: Tensor, bool_as: str | None = None) -> None:
    """PyTorch's dropout scales an integer or bool input by a float noise written back into it: refused, naming the
    input's type (the alpha dropouts compute a bool input as Long first)."""
    if input._data.dtype.kind != "f" and input._data.dtype.kind != "c":
        name = bool_as if bool_as and input._data.dtype.kind == "b" else legacy_type_name(input._data.dtype)[6:-6]
        raise RuntimeError(f"result type Float can't be cast to the desired output type {name}")


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool,
             channels_only: bool = False) -> Tensor:
    """`input * noise`; feature dropout draws per (sample, channel), or per channel of an unbatched
    input (`channels_only`)."""
    if p == 0 or not training or input.numel() == 0:
        return input  # NOTE: PyTorch returns the input itself, not a copy
    if p == 1:
        noise = gradscope.zeros((), dtype=input.dtype)
    else:
        _refuse_integers(input)
        if feature and input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        kept = 1 if channels_only else 2
        shape = tuple(input.shape[:kept]) + (1,) * (input.dim() - kept) if feature else tuple(input.shape)
        keep = _bernoulli_noise(shape, input, 1 - p)
        noise = Tensor._make(keep / keep.dtype.type(1 - p))
    return input.mul_(noise) if inplace else input * noise


def _bernoulli_noise(shape: tuple, input: Tensor, keep: float) -> np.ndarray:
    """PyTorch's noise, `empty(shape, dtype=input.dtype).bernoulli_(keep)`: its values after the same seed."""
    return factories.default_generator.bernoulli_fill(shape, input._data.dtype, keep)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool) -> Tensor:
    """Channel dropout of a batched input, or of an unbatched one seen as a batch of one."""
    if batched:
        return _dropout(input, p, training, inplace, feature=True)
    if inplace:
        # NOTE: no in-place unsqueeze_/squeeze_ here: a (C, 1, …) noise multiplied in place drops the same
        # channels; the node is MulBackward0 where PyTorch's last step is a SqueezeBackward4
        return _dropout(input, p, training, inplace, feature=True, channels_only=True)
    return _dropout(input.unsqueeze(0), p, training, inplace, feature=True).squeeze(0)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) in training; the input
    itself otherwise (and for p = 0).

    >>> F.dropout(gradscope.ones(4), p=0.5, training=False)
    tensor([1., 1., 1., 1.])
    """
    _check_probability(p)
    return _dropout(input, p, training, inplace, feature=False)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability p, scaling the rest."""
    _check_probability(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, batched=input.dim() == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input with probability p, scaling the rest; a 3-D input is
    taken as (N, C, L), with PyTorch's warning."""
    _check_probability(p)
    ndim = input.dim()
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will result in an error in a "
            "future release. To retain the behavior and silence this warning, please use dropout instead. Note that "
            "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change "
            "in a future release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To "
            "maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _dropout(input, p, training, inplace, feature=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p, scaling the rest;
    other ranks are taken as unbatched, with PyTorch's warning."""
    _check_probability(p)
    ndim = input.dim()
    if ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated and will result in an error in a "
            "future release. To retain the behavior and silence this warning, please use dropout instead. Note that "
            "dropout3d exists to provide channel-wise dropout on inputs with 3 spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    return _feature_dropout(input, p, training, inplace, batched=ndim == 5)


_SELU_ALPHA_PRIME = 1.7580993408473766  # -SELU's scale · alpha: the value SELU saturates to


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:
    """Dropped elements take SELU's saturation value, then an affine map restores zero mean and unit
    variance: `input * a·mask + b`, as PyTorch composes it (AddBackward0)."""
    _check_probability(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        noise = gradscope.zeros((), dtype=input.dtype)
        return input.mul_(noise) if inplace else input * noise
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    _refuse_integers(input, bool_as="Long")
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2) if feature else tuple(input.shape)
    keep = Tensor._make(_bernoulli_noise(shape, input, 1 - p))
    a = 1.0 / ((_SELU_ALPHA_PRIME ** 2 * p + 1) * (1 - p)) ** 0.5
    b = (keep - 1) * (_SELU_ALPHA_PRIME * a) + _SELU_ALPHA_PRIME * a * p
    scaled = input.mul_(keep * a) if inplace else input * (keep * a)
    return scaled.add_(b)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps the activations' mean and variance (AddBackward0)."""
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels (one draw per sample and channel)."""
    return _alpha_dropout(input, p, training, inplace, feature=True)
