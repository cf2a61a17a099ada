"""torch.nn.utils: gradient clipping, parameter/vector conversion, sequence padding, parametrizations, the older
hook-based weight_norm and spectral_norm, conv/linear + batch-norm fusion and skip_init."""

from gradscope.nn.utils import parametrizations, parametrize, rnn, stateless
from gradscope.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from gradscope.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from gradscope.nn.utils.fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from gradscope.nn.utils.hooked_norms import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm
from gradscope.nn.utils.init import skip_init
from gradscope.nn.utils.memory_format import convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "get_total_norm",
           "parameters_to_vector", "parametrizations", "parametrize", "remove_spectral_norm", "remove_weight_norm",
           "rnn", "skip_init", "spectral_norm", "stateless", "vector_to_parameters", "weight_norm"]
