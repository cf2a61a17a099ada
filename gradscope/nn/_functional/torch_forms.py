"""The torch.* forms of nn.functional ops (torch.dropout, torch.layer_norm, torch.embedding …), with the signatures
PyTorch gives them at that level: ATen's, where arguments have no defaults (`torch.dropout(input, p, train)`), a
reduction is an int (0 none, 1 mean, 2 sum), `torch.embedding` takes the weight first and `torch.batch_norm` the
affine parameters before the running statistics. They build the same graphs as their nn.functional forms."""

from __future__ import annotations

from gradscope.autograd.pointwise_extra import hardshrink, prelu  # noqa: F401 - torch.* forms too
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional import activation as _activation
from gradscope.nn._functional import convolution as _convolution
from gradscope.nn._functional import distance as _distance
from gradscope.nn._functional import dropout as _dropout
from gradscope.nn._functional import grid_sampling as _grid_sampling
from gradscope.nn._functional import linear as _linear
from gradscope.nn._functional import loss as _loss
from gradscope.nn._functional import margin as _margin
from gradscope.nn._functional import normalization as _normalization
from gradscope.nn._functional import pooling as _pooling
from gradscope.nn._functional import sampling as _sampling
from gradscope.nn._functional import shuffle as _shuffle
from gradscope.nn._functional import sparse as _sparse

_REDUCTIONS = ("none", "mean", "sum")  # PyTorch's at::Reduction enum, by value
# NOTE: ATen's schemas give `reduction=Mean`, but PyTorch's Python binding reads that default as 0: torch.kl_div(x, t)
# and the other losses here reduce nothing unless told (nn.functional's reduce by the mean)
_BINDING_DEFAULT = 0

# the same signature at both levels
conv1d, conv2d, conv3d = _convolution.conv1d, _convolution.conv2d, _convolution.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = (
    _convolution.conv_transpose1d, _convolution.conv_transpose2d, _convolution.conv_transpose3d)
cosine_similarity, pairwise_distance, pdist = _distance.cosine_similarity, _distance.pairwise_distance, _distance.pdist
pixel_shuffle, pixel_unshuffle, channel_shuffle, native_channel_shuffle = (
    _shuffle.pixel_shuffle, _shuffle.pixel_unshuffle, _shuffle.channel_shuffle, _shuffle.native_channel_shuffle)
bilinear = _linear.bilinear
grid_sampler, affine_grid_generator = _grid_sampling.grid_sampler, _grid_sampling.affine_grid_generator
_weight_norm, norm_except_dim = _normalization._weight_norm, _normalization.norm_except_dim
avg_pool1d, adaptive_avg_pool1d = _pooling.avg_pool1d, _pooling.adaptive_avg_pool1d


def _reduction(reduction: int) -> str:
    return _REDUCTIONS[reduction]


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-05,
               cudnn_enable: bool = True) -> Tensor:
    return _normalization.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-05,
               cudnn_enabled: bool = True) -> Tensor:
    return _normalization.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input: Tensor, weight, bias, running_mean, running_var, training: bool, momentum: float, eps: float,
               cudnn_enabled: bool) -> Tensor:
    return _normalization.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight, bias, running_mean, running_var, use_input_stats: bool, momentum: float,
                  eps: float, cudnn_enabled: bool) -> Tensor:
    return _normalization.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def rms_norm(input: Tensor, normalized_shape, weight=None, eps: float | None = None) -> Tensor:
    return _normalization.rms_norm(input, normalized_shape, weight, eps)


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """The rows of `weight` at `indices`; a negative padding_idx means none (nn.functional's counts from the end)."""
    return _sparse.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                             scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def _check_probability(p: float) -> None:
    if p < 0 or p > 1:  # a RuntimeError here: nn.functional's Python check raises ValueError
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_form(feature: bool, alpha: bool, inplace: bool):
    def function(input: Tensor, p: float, train: bool) -> Tensor:
        _check_probability(p)
        if alpha:
            return _dropout._alpha_dropout(input, p, train, inplace, feature)
        return _dropout._dropout(input, p, train, inplace, feature)
    name = ("feature_" if feature else "") + ("alpha_" if alpha else "") + "dropout" + ("_" if inplace else "")
    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"torch.{name}(input, p, train): {'channel ' if feature else ''}{'alpha ' if alpha else ''}"
                        f"dropout{' in place' if inplace else ''} when `train`, the input itself otherwise.")
    return function


dropout_, alpha_dropout_, feature_dropout_, feature_alpha_dropout_ = (
    _dropout_form(feature, alpha, True) for feature, alpha in ((False, False), (False, True), (True, False),
                                                              (True, True)))
dropout, alpha_dropout, feature_dropout, feature_alpha_dropout = (
    _dropout_form(feature, alpha, False) for feature, alpha in ((False, False), (False, True), (True, False),
                                                               (True, True)))


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return _activation.threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _activation.threshold(input, threshold, value, inplace=True)


def selu(input: Tensor) -> Tensor:
    return _activation.selu(input)


def selu_(input: Tensor) -> Tensor:
    return _activation.selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return _activation.celu(input, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return _activation.celu(input, alpha, inplace=True)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator=None) -> Tensor:
    return _activation.rrelu_drawn_by(generator, input, lower, upper, training, inplace=False)


rrelu_ = _activation.rrelu_


def _stride(stride):
    return None if stride in ((), []) else stride


def max_pool1d(input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False) -> Tensor:
    return _pooling.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False) -> Tensor:
    return _pooling.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False) -> Tensor:
    return _pooling.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False):
    return _pooling.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d(input: Tensor, output_size):
    """(values, indices): at this level the indices always come too."""
    return _pooling.adaptive_max_pool1d(input, output_size, return_indices=True)


def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    return _sampling.pad(input, pad, "constant", value)


def kl_div(input: Tensor, target: Tensor, reduction: int = _BINDING_DEFAULT, *,
           log_target: bool = False) -> Tensor:
    return _loss.pointwise_kl_div(input, target, _reduction(reduction), log_target)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float, reduction: int) -> Tensor:
    return _loss.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None, pos_weight=None,
                                     reduction: int = _BINDING_DEFAULT) -> Tensor:
    return _loss.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                                 pos_weight=pos_weight)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: int = _BINDING_DEFAULT) -> Tensor:
    return _margin.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = _BINDING_DEFAULT) -> Tensor:
    return _margin.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = _BINDING_DEFAULT) -> Tensor:
    return _margin.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-06, swap: bool = False, reduction: int = _BINDING_DEFAULT) -> Tensor:
    return _margin.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                       reduction=_reduction(reduction))
