"""scaled_dot_product_attention and multi_head_attention_forward, composed from gradscope's ops as
PyTorch's math path composes them: masks turned additive, a softmax that gives 0 (not nan) to a row
masked out entirely (SafeSoftmaxBackward0), dropout, the matmul with the values (UnsafeViewBackward0 on
top).

NOTE: on 4-D inputs whose value head size equals the query's, PyTorch's CPU dispatch takes a fused
flash-attention kernel (ScaledDotProductFlashAttentionForCpuBackward0); the values and gradients are
the math path's, the node name is not.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import gradscope
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import where
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import times
from gradscope.nn._functional.dropout import dropout
from gradscope.nn._functional.linear import linear
from gradscope.nn._functional.sampling import pad
from gradscope.ops import activations as A

# how PyTorch's C++ names dtypes in these messages (caffe2 TypeMeta)
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _cpp(t: Tensor) -> str:
    return _CPP_NAMES.get(t.dtype.name, t.dtype.name)


def _check_sdpa_inputs(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None) -> None:
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: {_cpp(query)} "
                           f"key.dtype: {_cpp(key)} and value.dtype: {_cpp(value)} instead.")
    if min(query.dim(), key.dim(), value.dim()) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if attn_mask is not None and attn_mask.dtype not in (gradscope.bool, gradscope.float32, query.dtype):
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_cpp(attn_mask)} and  query.dtype: {_cpp(query)} instead.")


def _additive(mask: Tensor, dtype) -> Tensor:
    """A boolean mask (True = attend) as 0 / -inf of `dtype`; a float mask as it is."""
    if mask.dtype != gradscope.bool:
        return mask
    return where(mask, gradscope.zeros((), dtype=dtype), gradscope.full((), -math.inf, dtype=dtype))


def _check_product(query: Tensor, size: int, other: Tensor, inner: int | None = None) -> None:
    """PyTorch's batched-matmul error when the contracted sizes differ (query·keyᵀ, weights·value)."""
    expected = query.shape[-1] if inner is None else inner
    if size != expected:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{math.prod(query.shape[:-2])}, {expected}] but got: [{math.prod(other.shape[:-2])}, "
                           f"{size}].")


def _grouped(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
    """enable_gqa: key and value heads (dim -3) repeated to the query's head count, each head in turn."""
    heads, key_heads, value_heads = query.shape[-3], key.shape[-3], value.shape[-3]
    if heads == key_heads == value_heads:
        return key, value
    if heads % key_heads or heads % value_heads:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")

    def repeated(x: Tensor) -> Tensor:
        times = heads // x.shape[-3]
        shape = tuple(x.shape)
        stretched = x.unsqueeze(-3).expand(*shape[:-2], times, *shape[-2:])
        return stretched.reshape(*shape[:-3], heads, *shape[-2:])
    return repeated(key), repeated(value)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query·keyᵀ·scale + mask)·value over the last two dims, scale 1/√E by default; a boolean
    `attn_mask` says where to attend, a float one is added; `is_causal` masks the upper triangle;
    dropout on the weights whenever dropout_p > 0.

    >>> q = k = v = gradscope.ones(2, 3, 4)
    >>> F.scaled_dot_product_attention(q, k, v).shape
    torch.Size([2, 3, 4])
    """
    _check_sdpa_inputs(query, key, value, attn_mask)
    if query.dtype == gradscope.float16:  # as PyTorch's math path: in float32, the result cast back (ToCopyBackward0s)
        if attn_mask is not None and attn_mask.dtype == gradscope.float16:
            attn_mask = attn_mask.float()
        out = scaled_dot_product_attention(query.float(), key.float(), value.float(), attn_mask, dropout_p, is_causal,
                                           scale, enable_gqa)
        return out.to(gradscope.float16)
    negative = scale is not None and scale < 0
    scale_value = 1.0 / math.sqrt(query.shape[-1]) if scale is None else abs(scale)
    # PyTorch scales q and k by √scale each, before the product, for stability
    factor = math.sqrt(scale_value)
    query = times(query, -factor if negative else factor)  # a C++ Scalar: MulBackward1
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        attn_mask = gradscope.tensor(np.tril(np.ones((query.shape[-2], key.shape[-2]), dtype=bool)))
    if enable_gqa:
        key, value = _grouped(query, key, value)
    _check_product(query, key.shape[-1], key)
    _check_product(query, value.shape[-2], value, inner=key.shape[-2])
    scores = query.matmul(times(key.transpose(-2, -1), factor))
    if attn_mask is not None:
        scores = scores + _additive(attn_mask, query.dtype)
    weights = apply(A.safe_softmax, (scores,), (scores.dim() - 1,))
    if dropout_p > 0.0:
        if dropout_p > 1.0:  # NOTE: ATen's dropout raises a RuntimeError, F.dropout a ValueError
            raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
        weights = dropout(weights, dropout_p, True)
    return weights.matmul(value)


# ------------------------------------------------------------------------------- multi-head attention
def _mha_shape_check(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None,
                     attn_mask: Tensor | None, num_heads: int) -> bool:
    """Whether the input is batched (3-D query), with PyTorch's checks of the others' ranks."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                     f"found {attn_mask.dim()}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _canonical_mask(mask: Tensor | None, name: str, other_type, other_name: str, dtype,
                    check_other: bool = True) -> Tensor | None:
    """A boolean mask (True = masked out) as an additive float one (-inf where masked)."""
    if mask is None:
        return None
    if mask.dtype != gradscope.bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both instead.",
                      UserWarning, stacklevel=3)
    if mask.is_floating_point():
        return mask
    return gradscope.zeros_like(mask, dtype=dtype).masked_fill_(mask, -math.inf)


def _in_projection_packed(query: Tensor, key: Tensor, value: Tensor, weight: Tensor,
                          bias: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v from the packed (3E, E) weight: one linear when query, key and value are one tensor (as
    PyTorch, then split into three contiguous projections), two for encoder-decoder attention."""
    embed = query.shape[-1]
    if key is value:
        if query is key:
            projection = linear(query, weight, bias)
            projection = projection.view(*projection.shape[:-1], 3, embed).unsqueeze(0).transpose(0, -2)
            projection = projection.squeeze(-2).contiguous()
            return projection[0], projection[1], projection[2]
        weight_q, weight_kv = weight.split([embed, 2 * embed])
        bias_q, bias_kv = (None, None) if bias is None else bias.split([embed, 2 * embed])
        projection = linear(key, weight_kv, bias_kv)
        projection = projection.view(*projection.shape[:-1], 2, embed).unsqueeze(0).transpose(0, -2)
        projection = projection.squeeze(-2).contiguous()
        return linear(query, weight_q, bias_q), projection[0], projection[1]
    weights = weight.chunk(3)
    biases = (None, None, None) if bias is None else bias.chunk(3)
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases, strict=True))


def _in_projection(query: Tensor, key: Tensor, value: Tensor, weights, biases) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v from separate projection weights, whose shapes PyTorch checks."""
    embed = query.shape[-1]
    for what, weight, width in zip(("query", "key", "value"), weights, (embed, key.shape[-1], value.shape[-1]),
                                   strict=True):
        if tuple(weight.shape) != (embed, width):
            raise AssertionError(f"expecting {what} weights shape of {(embed, width)}, but got {weight.shape}")
    for what, bias in zip(("query", "key", "value"), biases, strict=True):
        if bias is not None and tuple(bias.shape) != (embed,):
            raise AssertionError(f"expecting {what} bias shape of {(embed,)}, but got {bias.shape}")
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases, strict=True))


def _check_attn_mask(attn_mask: Tensor, batch_heads: int, target_len: int, source_len: int) -> Tensor:
    """A 2-D mask (L, S) made 3-D; a 3-D one must be (N·heads, L, S)."""
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (target_len, source_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                               f"{(target_len, source_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (batch_heads, target_len, source_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                               f"{(batch_heads, target_len, source_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None, bias_v: Tensor | None,
        add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
        training: bool = True, key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
        k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """nn.MultiheadAttention's computation on (L, N, E) inputs (or unbatched (L, E)): project, split into
    heads, attend with masks, key/value biases and a zero attention slot, project out; returns the output
    and the attention weights (averaged over heads) when `need_weights`, else None, as PyTorch does."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    target_len, batch, embed_dim = query.shape
    source_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", None if attn_mask is None
                                       else attn_mask.dtype, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
                           "`generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone tells scaled_dot_product_attention
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # merged with the padding, the mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, use_separate_proj_weight,
                       (q_proj_weight, k_proj_weight, v_proj_weight))
    if attn_mask is not None:
        attn_mask = _check_attn_mask(attn_mask, batch * num_heads, target_len, source_len)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = gradscope.cat([k, bias_k.expand(1, batch, bias_k.shape[-1])])
        v = gradscope.cat([v, bias_v.expand(1, batch, bias_v.shape[-1])])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.view(target_len, batch * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", batch * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", batch * num_heads, head_dim)
    if add_zero_attn:
        k = gradscope.cat([k, gradscope.zeros(batch * num_heads, 1, head_dim, dtype=k.dtype)], 1)
        v = gradscope.cat([v, gradscope.zeros(batch * num_heads, 1, head_dim, dtype=v.dtype)], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    source_len = k.shape[1]
    if key_padding_mask is not None:
        for dim, expected in enumerate((batch, source_len)):
            if key_padding_mask.shape[dim] != expected:
                raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be {expected}, but got "
                                     f"{key_padding_mask.shape[dim]}")
        padding = key_padding_mask.view(batch, 1, 1, source_len).expand(-1, num_heads, -1, -1)
        padding = padding.reshape(batch * num_heads, 1, source_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = gradscope.bmm(q * math.sqrt(1.0 / float(q.shape[-1])), k.transpose(-2, -1))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            scores = attn_mask + scores  # PyTorch's baddbmm(attn_mask, q, kᵀ)
        weights = scores.softmax(-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        output = gradscope.bmm(weights, v).transpose(0, 1).reshape(target_len * batch, embed_dim)
        output = linear(output, out_proj_weight, out_proj_bias)
        output = output.view(target_len, batch, output.shape[1])
        weights = weights.view(batch, num_heads, target_len, source_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            return output.squeeze(1), weights.squeeze(0)
        return output, weights
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 and attn_mask.dim() == 3 else attn_mask.view(
            batch, num_heads, -1, source_len)
    q = q.view(batch, num_heads, target_len, head_dim)
    k = k.view(batch, num_heads, source_len, head_dim)
    v = v.view(batch, num_heads, source_len, head_dim)
    output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    output = output.permute(2, 0, 1, 3).reshape(batch * target_len, embed_dim)
    output = linear(output, out_proj_weight, out_proj_bias)
    output = output.view(target_len, batch, output.shape[1])
    return (output if batched else output.squeeze(1)), None


def _project(query, key, value, in_proj_weight, in_proj_bias, separate: bool, weights):
    if not separate:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        return _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    for name, weight in zip("qkv", weights, strict=True):
        if weight is None:
            raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
    biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    return _in_projection(query, key, value, weights, biases)


def _heads(x: Tensor, static: Tensor | None, name: str, batch_heads: int, head_dim: int) -> Tensor:
    """k or v as (N·heads, S, head_dim), or the given static one after PyTorch's size checks."""
    if static is None:
        return x.view(x.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static
