"""`torch.special`: the special functions under their SciPy-style names. Most are the torch.* functions
themselves (`special.expit` is `sigmoid`, `special.gammaln` is `lgamma`, `special.multigammaln` is `mvlgamma`,
with the same nodes); `ndtr` is PyTorch's composite (1 + erf(x/√2)) / 2."""

from __future__ import annotations

import math

from gradscope.autograd.functions import erf, log1p, sigmoid
from gradscope.autograd.functions import log_softmax as _log_softmax
from gradscope.autograd.functions import round as _round
from gradscope.autograd.functions import softmax as _softmax
from gradscope.autograd.pointwise import _unary, digamma, erfinv, expm1, polygamma, xlogy
from gradscope.autograd.pointwise import lgamma as gammaln
from gradscope.autograd.pointwise_extra import erfc, exp2, i0, logit, sinc
from gradscope.autograd.pointwise_extra import igamma as gammainc
from gradscope.autograd.pointwise_extra import igammac as gammaincc
from gradscope.autograd.pointwise_extra import mvlgamma as multigammaln
from gradscope.autograd.reductions import logsumexp
from gradscope.autograd.tensor import Tensor
from gradscope.ops import pointwise_extra as _extra

expit = sigmoid
psi = digamma
i1 = _unary(_extra.i1)  # no torch.i1: the special namespace alone has it

__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "i0", "i1",
           "log1p", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "polygamma", "psi", "round", "sinc",
           "softmax", "xlogy"]


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    return _log_softmax(input, dim, dtype=dtype)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    return _round(input, decimals=decimals)


def ndtr(input: Tensor) -> Tensor:  # noqa: A002
    """The standard normal CDF, Φ(x) = (1 + erf(x/√2)) / 2."""
    return (1 + erf(input * math.sqrt(0.5))) * 0.5
