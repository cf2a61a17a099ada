"""`torch.special`: the special functions under their SciPy-style names. Most are the torch.* functions
themselves (`special.expit` is `sigmoid`, `special.gammaln` is `lgamma`, `special.multigammaln` is `mvlgamma`,
with the same nodes); `ndtr` is PyTorch's composite (1 + erf(x/√2)) / 2."""

from __future__ import annotations

import math

from gradscope.autograd import numpy_names
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import _floating_operands, erf, log1p, sigmoid
from gradscope.autograd.functions import log_softmax as _log_softmax
from gradscope.autograd.functions import round as _round
from gradscope.autograd.functions import softmax as _softmax
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.out_forms import SPECIAL_OUT_FORMS
from gradscope.autograd.pointwise import _unary, digamma, erfinv, expm1, polygamma, xlogy
from gradscope.autograd.pointwise import lgamma as gammaln
from gradscope.autograd.pointwise_extra import erfc, exp2, i0, logit, sinc
from gradscope.autograd.pointwise_extra import igamma as gammainc
from gradscope.autograd.pointwise_extra import igammac as gammaincc
from gradscope.autograd.pointwise_extra import mvlgamma as multigammaln
from gradscope.autograd.reductions import logsumexp
from gradscope.autograd.tensor import Tensor
from gradscope.ops import pointwise_extra as _extra
from gradscope.ops import special_primitives as _special

expit = sigmoid
psi = digamma
# no torch.* function for these: the special namespace alone has them
i1 = _unary(_extra.i1)
entr = _unary(_special.entr, "entr")
erfcx = _unary(_special.erfcx, "erfcx", complex_kernel="erfcx_cpu")
log_ndtr = _unary(_special.log_ndtr, "log_ndtr")
ndtri = _unary(_special.ndtri, "ndtri")
i0e = _unary(_special.i0e, "i0e")
i1e = _unary(_special.i1e, "i1e")

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy"]


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    return _log_softmax(input, dim, dtype=dtype)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    return _round(input, decimals=decimals)


def ndtr(input: Tensor) -> Tensor:  # noqa: A002
    """The standard normal CDF, Φ(x) = (1 + erf(x/√2)) / 2."""
    return (1 + erf(input * math.sqrt(0.5))) * 0.5


def xlog1py(input, other, *, out=None):  # noqa: A002
    """input · log1p(other), 0 where input is 0 (unless other is nan). Either may be a Python number."""
    arrays = _floating_operands(input, other)
    if not isinstance(other, Tensor):
        result = apply(_special.xlog1py_scalar_other, (input,), (arrays[1],), arrays[:1])
    elif not isinstance(input, Tensor):
        result = apply(_special.xlog1py_scalar_self, (other,), (arrays[0],), arrays[1:])
    else:
        result = apply(_special.xlog1py, (input, other), (), arrays)
    return write_out("xlog1py", result, out)

# NumPy's argument names (special.logsumexp(t, axis=0)), as PyTorch's parser takes them for its native functions,
# and out= for those that have none of their own
numpy_names.bind_numpy_names(globals(), prefix="special_", out_forms=SPECIAL_OUT_FORMS)
