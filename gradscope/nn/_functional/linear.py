"""linear and bilinear: the affine layers of torch.nn.functional, with PyTorch's nodes and errors."""

from __future__ import annotations

import numpy as np

import gradscope
from gradscope.autograd import fused_products
from gradscope.autograd.dispatch import apply
from gradscope.autograd.products import addmm  # not the namespace's out= taking form: no frame a layer
from gradscope.autograd.shape_functions import t
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import type_name
from gradscope.ops import linalg as L
from gradscope.ops import tensor_products as P


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`input @ weight.T + bias`, with PyTorch's nodes: AddmmBackward0 for a 2-D input, MmBackward0
    without bias, and a ViewBackward0 on top of the addmm for other ranks.

    >>> F.linear(gradscope.ones(2, 4), gradscope.ones(3, 4), gradscope.zeros(3)).shape
    torch.Size([2, 3])
    """
    data, weights = input._data, weight._data
    if (bias is not None and data.ndim == 2 and weights.ndim == 2 and data.shape[1] == weights.shape[1]
            and bias._data.shape == weights.shape[:1] and data.dtype == weights.dtype == bias._data.dtype):
        # the common case, checked here on the arrays: addmm's checks would pass, so its op is applied directly
        transposed = t(weight)
        return apply(L.addmm, (bias, input, transposed), (1, 1), [bias._data, data, transposed._data])
    in_features = weight.shape[-1]
    if input.dim() == 0 or input.shape[-1] != in_features:
        rows = int(np.prod(input.shape[:-1])) if input.dim() else 1
        columns = input.shape[-1] if input.dim() else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{columns} and "
                           f"{in_features}x{weight.shape[0]})")
    if bias is None:
        return input.matmul(weight.t())
    if input.dim() == 2:
        return addmm(bias, input, gradscope.t(weight))
    if not input.is_contiguous():  # ATen flattens only a contiguous input: else a matmul, the bias added in place
        output = input.matmul(gradscope.t(weight))
        return output.add_(bias)
    flat = addmm(bias, input.reshape(-1, in_features), gradscope.t(weight))
    return flat.view(*input.shape[:-1], weight.shape[0])


linear = fused_products.linear(linear)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = input1ᵀ weight_k input2 + bias_k over the last dims, batch dims kept: PyTorch's trilinear
    product on the flattened inputs (TrilinearBackward0), reshaped (ViewBackward0), plus bias (AddBackward0).

    >>> F.bilinear(gradscope.ones(2, 3), gradscope.ones(2, 4), gradscope.ones(5, 3, 4)).shape
    torch.Size([2, 5])
    """
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    tensors = {"input1": input1, "input2": input2, "weight": weight} | ({} if bias is None else {"bias": bias})
    if len({t.dtype for t in tensors.values()}) > 1:
        raise RuntimeError("All tensors must have the same dtype, got " +
                           ", ".join(f"{name}: {type_name(t)}" for name, t in tensors.items()))
    for dim, (size1, size2) in enumerate(zip(input1.shape[:-1], input2.shape[:-1], strict=True)):
        if size1 != size2:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {dim}: got {size1} and {size2}")
    for name, input, dim in (("input1", input1, 1), ("input2", input2, 2)):
        if input.shape[-1] != weight.shape[dim]:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got {input.shape[-1]} but "
                               f"expected {weight.shape[dim]}")
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but expected "
                           f"{weight.shape[0]}")
    flat1, flat2 = input1.reshape(-1, input1.shape[-1]), input2.reshape(-1, input2.shape[-1])
    # at::_trilinear(flat1, weight, flat2) as PyTorch calls it: (b, 1, i, 1)·(1, o, i, j)·(b, 1, 1, j) summed over i, j
    output = apply(P.trilinear, (flat1, weight, flat2), ((1, 3), (0,), (1, 2), (2, 3)))
    output = output.reshape(*input1.shape[:-1], weight.shape[0])
    return output if bias is None else output + bias
