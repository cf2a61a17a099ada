"""torch.nn.utils: gradient clipping, parameter/vector conversion, sequence padding, parametrizations and the
older hook-based weight_norm and spectral_norm."""

from gradscope.nn.utils import parametrizations, parametrize, rnn
from gradscope.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from gradscope.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from gradscope.nn.utils.hooked_norms import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "parametrizations", "parametrize",
           "remove_spectral_norm", "remove_weight_norm", "rnn", "spectral_norm", "vector_to_parameters", "weight_norm"]
