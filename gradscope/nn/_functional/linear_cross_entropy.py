"""F.linear_cross_entropy (new in PyTorch 2.13): cross_entropy(linear(input, linear_weight, linear_bias), target)
with the logits shaped (*batch, C, *out_features) for a K-dimensional loss, and PyTorch's checks.

With `options` (a LinearCrossEntropyOptions) PyTorch runs a chunked custom op that never holds all the logits; its
values are the reference's to rounding. gradscope computes the reference inside one node named as that op's
(GeneratedBackwardFor_…Backward, edges to input, linear_weight and linear_bias), so graphs read the same; the
memory saving is not reproduced. Configurations the chunked op doesn't take warn and take the reference, as in
PyTorch.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

from gradscope.autograd import engine
from gradscope.autograd.function import Function
from gradscope.autograd.grad_mode import enable_grad
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional.cross_entropy import cross_entropy
from gradscope.nn._functional.linear import linear


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """How PyTorch's chunked linear_cross_entropy splits its work (accepted; the reference computes here)."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None


def _reference(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, label_smoothing,
               logits_shape, out_features):
    if out_features:
        linear_weight = linear_weight.reshape((math.prod(out_features, start=linear_weight.shape[0]),
                                               input.shape[-1]))
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(math.prod(out_features, start=linear_bias.shape[0]))
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)


def _chunked_forward(ctx, input, linear_weight, target, linear_bias, weight, rest):
    """The reference on detached copies, its graph kept for backward (the node stands for PyTorch's op, whose
    edges are its tensor arguments: input, linear_weight, target, and linear_bias and weight when given)."""
    ctx.copies = tuple(None if t is None else t.detach().requires_grad_(t.requires_grad)
                       for t in (input, linear_weight, linear_bias))
    with enable_grad():
        ctx.loss = _reference(ctx.copies[0], ctx.copies[1], target, ctx.copies[2], weight=weight, **rest)
    return ctx.loss.detach()


def _chunked_backward(ctx, grad_output):
    wanted = [t for t in ctx.copies if t is not None and t.requires_grad]
    grads = iter(engine.grad((ctx.loss,), wanted, (grad_output,), allow_unused=True) if wanted else ())
    input_grad, weight_grad, bias_grad = (next(grads) if t is not None and t.requires_grad else None
                                          for t in ctx.copies)
    return input_grad, weight_grad, None, bias_grad, None, None


def _chunked_op(name: str):
    return type(f"GeneratedBackwardFor_torch_nn__linear_cross_entropy_batch_chunked{name}_default", (Function,),
                {"forward": staticmethod(_chunked_forward), "backward": staticmethod(_chunked_backward)})


_CHUNKED = _chunked_op("")
_CHUNKED_NO_REDUCTION = _chunked_op("_no_reduction")


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *, linear_bias: Tensor | None = None,
                         weight: Tensor | None = None, reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options: LinearCrossEntropyOptions | None = None) -> Tensor:
    """cross_entropy(linear(input, linear_weight, linear_bias), target, …), input (N, in) or (in,), linear_weight
    (C, *out_features, in).

    >>> F.linear_cross_entropy(torch.ones(2, 3), torch.zeros(4, 3), torch.tensor([0, 3]))
    tensor(1.3863)
    """
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    batch, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), got "
                           f"{input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires"
                           f" batched input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    logits_shape = (*batch, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    chunked = (options is not None and not out_features and reduction in ("mean", "sum", "none")
               and label_smoothing == 0.0 and str(target.dtype) == "torch.int64")
    if options is not None and not chunked:
        warnings.warn("linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                      "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features == (). Got "
                      f"reduction={reduction!r}, label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
                      f"out_features={out_features}, tracing=False, linear_bias.shape="
                      f"{tuple(linear_bias.shape) if linear_bias is not None else None}.", stacklevel=2)
    rest = {"weight": weight, "reduction": reduction, "ignore_index": ignore_index,
            "label_smoothing": label_smoothing}
    if not chunked:
        return _reference(input, linear_weight, target, linear_bias, logits_shape=logits_shape,
                          out_features=out_features, **rest)
    batched = input.dim() == 2
    if not batched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    rest.update(logits_shape=(input.shape[0], classes), out_features=())
    op = _CHUNKED_NO_REDUCTION if reduction == "none" else _CHUNKED
    result = op.apply(input, linear_weight, target, linear_bias, rest.pop("weight"), rest)
    return result if batched else result.squeeze(0)
