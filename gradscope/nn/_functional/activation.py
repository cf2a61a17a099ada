"""The activations of torch.nn.functional beyond relu/gelu/silu: PyTorch's arguments, dtype checks and
in-place variants over the activation primitives (ops/activations.py), or composed where PyTorch
composes (softsign ends in a DivBackward0)."""

from __future__ import annotations

import warnings

import numpy as np

import gradscope
from gradscope._shapes import normalize_dim
from gradscope.autograd.dispatch import apply
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.pointwise_extra import hardshrink, prelu  # noqa: F401 - re-exported (also Tensor methods)
from gradscope.autograd.refusals import refuse_complex_clamp, refuse_kinds
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import scalar_type
from gradscope.ops import activations as A
from gradscope.ops import nn as N

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _require_floating(input: Tensor, kernel: str) -> None:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_type(input)}'")


def _activate(input: Tensor, op, params: tuple, inplace: bool, inplace_op=None) -> Tensor:
    """`op` on `input`, or written into it (under `inplace_op`, PyTorch's node for the in-place kernel
    when it differs)."""
    if inplace:
        return _inplace(input, lambda t: apply(inplace_op or op, (t,), params))
    return apply(op, (input,), params)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamp to [min_val, max_val]; the gradient is 0 at both edges (HardtanhBackward0).

    >>> F.hardtanh(gradscope.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    refuse_complex_clamp(input)
    return _activate(input, A.hardtanh, (min_val, max_val), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): hardtanh(x, 0, 6), as in PyTorch (HardtanhBackward0)."""
    refuse_complex_clamp(input)
    return _activate(input, A.hardtanh, (0.0, 6.0), inplace)


def _elu_family(input: Tensor, params: tuple, inplace: bool, op, inplace_op) -> Tensor:
    _require_floating(input, "elu_cpu")
    return _activate(input, op, params, inplace, inplace_op)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha·(exp(x) - 1) otherwise (EluBackward0; EluBackward1 in place).

    >>> F.elu(gradscope.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    return _elu_family(input, (alpha, 1.0, 1.0), inplace, A.elu, A.elu_result)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale·elu(x, alpha) with the self-normalising constants (EluBackward0, as in PyTorch)."""
    return _elu_family(input, (_SELU_ALPHA, _SELU_SCALE, 1.0), inplace, A.elu, A.elu_result)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha·(exp(x/alpha) - 1) otherwise (CeluBackward0)."""
    return _elu_family(input, (alpha, 1.0, 1.0 / alpha), inplace, A.celu, A.celu_result)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: in training each element at or below 0 is scaled by its own slope from
    U(lower, upper) (gradscope's generator; the draws are not PyTorch's), else by (lower + upper) / 2
    (RreluWithNoiseBackward0; RreluWithNoiseBackward1 in place).

    >>> F.rrelu(gradscope.tensor([-3.0, 2.0]), 0.25, 0.75)
    tensor([-1.5000,  2.0000])
    """
    return rrelu_drawn_by(None, input, lower, upper, training, inplace)


def rrelu_drawn_by(generator, input: Tensor, lower: float, upper: float, training: bool, inplace: bool) -> Tensor:
    """rrelu with its slopes drawn by `generator` (torch.rrelu's; None: the default generator)."""
    _require_floating(input, "rrelu_with_noise_cpu")
    data = input._data
    if training:
        slopes = gradscope.empty(data.shape, dtype=input.dtype).uniform_(lower, upper, generator=generator)._data
        noise = np.where(data > 0, 1, slopes).astype(data.dtype)
    else:
        noise = np.zeros_like(data)
    params = (noise, lower, upper, training)
    return _activate(input, A.rrelu_with_noise, params, inplace, A.rrelu_with_noise_result)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           generator=None) -> Tensor:
    """rrelu in place; PyTorch's is torch.rrelu_ itself, which takes a generator."""
    return rrelu_drawn_by(generator, input, lower, upper, training, inplace=True)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value (ThresholdBackward0; ThresholdBackward1 in place).

    >>> F.threshold(gradscope.tensor([0.5, 2.0]), 1.0, -1.0)
    tensor([-1.,  2.])
    """
    refuse_kinds(input, "c", "threshold_cpu")
    return _activate(input, A.threshold, (threshold, value), inplace, A.threshold_inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6 (HardsigmoidBackward0); the gradient is 0 at ±3."""
    _require_floating(input, "hardsigmoid_cpu")
    return _activate(input, A.hardsigmoid, (), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · relu6(x + 3) / 6 (HardswishBackward0)."""
    _require_floating(input, "hardswish_cpu")
    return _activate(input, A.hardswish, (), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · tanh(softplus(x)) (MishBackward0)."""
    _require_floating(input, "mish_cpu")
    return _activate(input, A.mish, (), inplace)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed without overflow (LogSigmoidBackward0)."""
    _require_floating(input, "log_sigmoid_cpu")
    return apply(A.log_sigmoid, (input,))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold (SoftplusBackward0).

    >>> F.softplus(gradscope.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.0000])
    """
    _require_floating(input, "softplus_cpu")
    return apply(A.softplus, (input,), (beta, threshold))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|), composed as PyTorch composes it (DivBackward0)."""
    return input / (input.abs() + 1)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a · sigmoid(b), a and b the two halves of `input` along `dim` (GluBackward0).

    >>> F.glu(gradscope.tensor([1.0, 0.0]))
    tensor([0.5000])
    """
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    _require_floating(input, "glu_cpu")
    dim = normalize_dim(dim, input.dim())
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    return apply(A.glu, (input,), (dim,))


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) with Gumbel(0, 1) noise g from gradscope's generator; `hard` returns
    the one-hot argmax with the soft sample's gradient (straight-through: y_hard - y_soft.detach() + y_soft)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning, stacklevel=2)
    uniform = gradscope.rand(tuple(logits.shape), dtype=logits.dtype)
    gumbels = -(-(1 - uniform).log()).log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    soft = y_soft._data
    one_hot = np.zeros_like(soft)
    if soft.ndim:
        axis = normalize_dim(dim, soft.ndim)
        np.put_along_axis(one_hot, np.expand_dims(np.argmax(soft, axis=axis), axis), 1.0, axis=axis)
    else:
        one_hot[...] = 1.0
    return Tensor._make(one_hot) - y_soft.detach() + y_soft


_DTYPE_MAX = {"Float": "3.40282e+38", "Double": "1.79769e+308", "Half": "65504", "BFloat16": "3.38953e+38"}


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x ∓ lambd outside [-lambd, lambd], 0 inside (SoftshrinkBackward0).

    >>> F.softshrink(gradscope.tensor([-1.0, 0.2, 0.7]))
    tensor([-0.5000,  0.0000,  0.2000])
    """
    _require_floating(input, "softshrink_check")
    if lambd < 0:
        kind = scalar_type(input)
        raise RuntimeError(f"lambda must be in range [0, {_DTYPE_MAX.get(kind, 'inf')}] for input dtype {kind}, but "
                           f"found {lambd:g}")
    return apply(N.softshrink, (input,), (lambd,))


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x), composed as PyTorch composes it (SubBackward0)."""
    return input - input.tanh()
