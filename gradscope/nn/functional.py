"""torch.nn.functional: layers and losses as functions, composed from gradscope's primitives.

Argument handling, checks and error texts follow PyTorch; the math is one primitive where PyTorch
has a fused kernel (addmm, log_softmax, nll_loss, mse_loss, ...), else a few tensor ops. The larger
families (activations, losses, distances, convolution, pooling, normalisation, sampling, dropout) live
in `nn/_functional/`.
"""

from __future__ import annotations

import warnings

import gradscope
from gradscope._lazy import lazy_exports as _lazy_exports
from gradscope.autograd import functions as _F
from gradscope.autograd.dispatch import apply as _apply
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._reduction import legacy_reduction as _legacy_reduction
from gradscope.nn._functional.activation import (  # noqa: F401 - re-exported
    celu,
    elu,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    rrelu,
    rrelu_,
    selu,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from gradscope.nn._functional.linear import bilinear, linear  # noqa: F401 - re-exported
from gradscope.ops import elementwise as _E


# ------------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else gradscope.relu(input)


# the in-place spellings PyTorch's functional namespace also has
def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold_value: float, value: float) -> Tensor:
    return threshold(input, threshold_value, value, inplace=True)


def tanh(input: Tensor) -> Tensor:
    return _F.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    return _F.sigmoid(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope·x otherwise (LeakyReluBackward0; in place LeakyReluBackward1, which
    differentiates through the result and so refuses a backward for a negative slope, as in PyTorch)."""
    if not inplace:
        return _F.leaky_relu(input, negative_slope)
    return _inplace(input, lambda t: _apply(_E.leaky_relu_result, (t,), (negative_slope,)))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·sigmoid(x) (SiluBackward0, in place too: the node keeps the input as it was)."""
    if not inplace:
        return _F.silu(input)
    return _inplace(input, _F.silu)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x) with the Gaussian CDF (or its tanh approximation with approximate='tanh')."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _F.gelu(input, approximate)


def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim` (SoftmaxBackward0); `dtype` casts the input first."""
    if dim is None:
        dim = _implicit_dim("softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(dim)  # the method, as PyTorch's (its argument errors number dim 1)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably (LogSoftmaxBackward0)."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(dim)  # the method, as PyTorch's (its argument errors number dim 1)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along `dim` (SoftmaxBackward0)."""
    if dim is None:
        dim = _implicit_dim("softmin", input.dim(), _stacklevel)
    negated = -input
    return gradscope.softmax(negated if dtype is None else negated.to(dtype), dim)


def _reduction(size_average, reduce, reduction: str) -> str:
    """The loss modules' reduction from their legacy arguments (nn/loss.py)."""
    return _legacy_reduction(size_average, reduce, reduction, stacklevel=4)


# the families a script does not call load on first use (attention, convolution, pooling, losses, … are 17
# modules); a name read here stays in this module's globals, so `F.conv2d` costs what an eager import does
__getattr__, __dir__ = _lazy_exports(__name__, globals(), names={
    "gradscope.nn._functional.attention": ("multi_head_attention_forward", "scaled_dot_product_attention"),
    "gradscope.nn._functional.convolution": ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                             "conv_transpose3d", "fold", "unfold"),
    "gradscope.nn._functional.cross_entropy": ("cross_entropy", "nll_loss"),
    "gradscope.nn._functional.ctc": ("ctc_loss",),
    "gradscope.nn._functional.distance": ("cosine_similarity", "pairwise_distance", "pdist"),
    "gradscope.nn._functional.dropout": ("alpha_dropout", "dropout", "dropout1d", "dropout2d", "dropout3d",
                                         "feature_alpha_dropout"),
    "gradscope.nn._functional.fractional_pooling": ("fractional_max_pool2d", "fractional_max_pool2d_with_indices",
                                                    "fractional_max_pool3d", "fractional_max_pool3d_with_indices"),
    "gradscope.nn._functional.grid_sampling": ("GRID_SAMPLE_INTERPOLATION_MODES", "GRID_SAMPLE_PADDING_MODES",
                                               "affine_grid", "grid_sample"),
    "gradscope.nn._functional.linear_cross_entropy": ("linear_cross_entropy",),
    "gradscope.nn._functional.loss": ("binary_cross_entropy", "binary_cross_entropy_with_logits",
                                      "gaussian_nll_loss", "huber_loss", "kl_div", "l1_loss", "mse_loss",
                                      "poisson_nll_loss", "smooth_l1_loss"),
    "gradscope.nn._functional.margin": ("cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
                                        "multi_margin_loss", "multilabel_margin_loss",
                                        "multilabel_soft_margin_loss", "soft_margin_loss", "triplet_margin_loss",
                                        "triplet_margin_with_distance_loss"),
    "gradscope.nn._functional.normalization": ("batch_norm", "group_norm", "instance_norm", "layer_norm",
                                               "local_response_norm", "normalize", "rms_norm"),
    "gradscope.nn._functional.pooling": ("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
                                         "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
                                         "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices",
                                         "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices", "avg_pool1d",
                                         "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
                                         "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
                                         "max_pool2d_with_indices", "max_pool3d", "max_pool3d_with_indices"),
    "gradscope.nn._functional.sampling": ("interpolate", "pad", "upsample", "upsample_bilinear",
                                          "upsample_nearest"),
    "gradscope.nn._functional.shuffle": ("channel_shuffle", "native_channel_shuffle", "pixel_shuffle",
                                         "pixel_unshuffle"),
    "gradscope.nn._functional.sparse": ("embedding", "embedding_bag", "one_hot"),
    "gradscope.nn._functional.unpooling": ("max_unpool1d", "max_unpool2d", "max_unpool3d"),
})
# `from gradscope.nn.functional import *` takes (and loads) every name, as it did before they were lazy
__all__ = sorted(name for name in __dir__() if not name.startswith("_"))
