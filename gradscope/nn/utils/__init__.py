"""torch.nn.utils: gradient clipping, parameter/vector conversion and sequence padding."""

from gradscope.nn.utils import rnn
from gradscope.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from gradscope.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "rnn", "vector_to_parameters"]
