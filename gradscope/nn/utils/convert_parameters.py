"""parameters_to_vector and vector_to_parameters: all parameters as one flat vector and back."""

from __future__ import annotations

from collections.abc import Iterable

import gradscope
from gradscope.autograd.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated, in order (differentiable).

    >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
    torch.Size([8])
    """
    return gradscope.cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of `vec` into the parameters' data, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for param in parameters:
        count = param.numel()
        param.data = vec[pointer:pointer + count].view_as(param).data
        pointer += count
