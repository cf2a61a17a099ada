"""The primitives torch.special alone has (no torch.* function): entr, xlog1py, erfcx, log_ndtr, ndtri, i0e, i1e.
Kernels in ops/special.py; each VJP is PyTorch's formula (derivatives.yaml) and saves what PyTorch's node saves."""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops import special
from gradscope.ops.elementwise import log1p
from gradscope.ops.registry import primitive

_SQRT_TWO_PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

entr = primitive("special_entr", special.entr, "SpecialEntrBackward0", inputs=("self",), saves=("self",),
                 vjp=(lambda g, s: g * -(1 + s.xp.log(s.self)),))


def _xlog1py_self_vjp(g, s):
    # NOTE: log1p y, except where x = 0 and y <= −1 (x log1p y is only defined at x = 0 there): 0, as PyTorch's
    xp, other = s.xp, s.other
    with np.errstate(divide="ignore", invalid="ignore"):
        log1p_other = (float(np.log1p(np.float64(other))) if isinstance(other, (int, float))
                       else xp.apply(log1p, (other,)))
    return xp.where((s.self == 0) & (other <= -1), 0 * g, g * log1p_other)


xlog1py = primitive("special_xlog1py", special.xlog1py, "SpecialXlog1PyBackward0", inputs=("self", "other"),
                    saves=(("self", "other"), ("self", "other")),
                    vjp=(_xlog1py_self_vjp, lambda g, s: g * s.self / (s.other + 1)))
# xlog1py(x, 2.0): the number is a parameter
xlog1py_scalar_other = primitive("special_xlog1py_scalar_other", special.xlog1py, "SpecialXlog1PyBackward2",
                                 inputs=("self",), params=("other",), saves=("self",), vjp=(_xlog1py_self_vjp,))
# xlog1py(2.0, y)
xlog1py_scalar_self = primitive("special_xlog1py_scalar_self", lambda other, x: special.xlog1py(x, other),
                                "SpecialXlog1PyBackward1", inputs=("other",), params=("self",), saves=("other",),
                                vjp=(lambda g, s: g * s.self / (s.other + 1),))
erfcx = primitive("special_erfcx", special.erfcx, "SpecialErfcxBackward0", inputs=("self",),
                  saves=(("self", "result"),),
                  vjp=(lambda g, s: (2 * s.self * s.result - _TWO_OVER_SQRT_PI) * g,))
log_ndtr = primitive("special_log_ndtr", special.log_ndtr, "SpecialLogNdtrBackward0", inputs=("self",),
                     saves=(("self", "result"),),
                     vjp=(lambda g, s: g / _SQRT_TWO_PI * s.xp.exp(-(s.result + s.self * s.self / 2)),))
ndtri = primitive("special_ndtri", special.ndtri, "SpecialNdtriBackward0", inputs=("self",), saves=("result",),
                  vjp=(lambda g, s: g * _SQRT_TWO_PI * s.xp.exp(s.result * s.result / 2),))


def _i1e_vjp(g, s):
    # i1e' = i0e − i1e (sgn x + 1/x); ½ where |x| ≤ the dtype's eps and at nan, as PyTorch's i1e_backward
    xp, x = s.xp, s.self
    not_tiny = xp.abs(x) > float(np.finfo(xp.dtype_of(x)).eps)
    safe = xp.where(not_tiny, x, 1.0)
    return g * xp.where(not_tiny, xp.apply(i0e, (x,)) - s.result * (xp.sign(x) + 1 / safe), 0.5)


i1e = primitive("special_i1e", special.i1e, "SpecialI1EBackward0", inputs=("self",), saves=(("self", "result"),),
                vjp=(_i1e_vjp,))
i0e = primitive("special_i0e", special.i0e, "SpecialI0EBackward0", inputs=("self",), saves=(("self", "result"),),
                vjp=(lambda g, s: g * (s.xp.apply(i1e, (s.self,)) - s.xp.sign(s.self) * s.result),))
