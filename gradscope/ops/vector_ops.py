"""vdot and renorm; and a tensor plus, minus or times a Python number as PyTorch's C++ composites record it
(AddBackward1, SubBackward1, MulBackward1: the number is a Scalar there, not a wrapped tensor; losses.div_scalar
is its DivBackward1)."""

from __future__ import annotations

import math
import types

import numpy as np

from gradscope.ops.namespace import NUMPY
from gradscope.ops.reduction import _norm_vjp
from gradscope.ops.registry import primitive
from gradscope.ops.shape import split_vjp

# a tensor plus or minus a Python number as the C++ composites record it (AddBackward1, SubBackward1)
add_scalar = primitive("add_scalar", lambda a, other: (a + other).astype(a.dtype, copy=False), "AddBackward1",
                       inputs=("self",), params=("other",), unsaved=("other",), vjp=(lambda g, s: g,))
sub_scalar = primitive("sub_scalar", lambda a, other: (a - other).astype(a.dtype, copy=False), "SubBackward1",
                       inputs=("self",), params=("other",), unsaved=("other",), vjp=(lambda g, s: g,))
mul_scalar = primitive("mul_scalar", lambda a, other: a * other, "MulBackward1", inputs=("self",), params=("other",),
                       vjp=(lambda g, s: g * s.other,))

vdot = primitive("vdot", lambda a, b: np.asarray(np.vdot(a, b)), "VdotBackward0", inputs=("self", "other"),
                 saves=("other", "self"), vjp=(lambda g, s: g * s.other, lambda g, s: g * s.self),
                 complex_vjp=(lambda g, s: s.xp.conj(g) * s.other, lambda g, s: g * s.self))  # conj(a) · b


def _reduced_dims(ndim: int, dim: int) -> tuple:
    return tuple(d for d in range(ndim) if d != dim)


def _slice_norms(xp, x, p, dims):
    """The p-norm of each slice (keepdim). The max of |x| as the mean of its equal elements, so that under
    create_graph its gradient is PyTorch's (shared evenly)."""
    magnitude = xp.abs(x)
    if math.isinf(p):
        values = np.abs(np.asarray(x._data if xp.is_tensor else x))
        extreme = values.max(axis=dims, keepdims=True) if p > 0 else values.min(axis=dims, keepdims=True)
        mask = values == extreme
        return xp.sum(magnitude * xp.cast(mask / mask.sum(axis=dims, keepdims=True), magnitude.dtype), dims, True)
    if p == 1:
        return xp.sum(magnitude, dims, True)
    return xp.sum(magnitude ** p, dims, True) ** (1.0 / p)


def _renorm(a, p, dim, maxnorm):
    # NOTE: as PyTorch's kernel, float16 norms are summed in float32; the factor is rounded to float16 before it scales
    norms = _slice_norms(NUMPY, a.astype(np.float32) if a.dtype == np.float16 else a, p, _reduced_dims(a.ndim, dim))
    factor = np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0).astype(a.dtype, copy=False)
    return a * factor


def _renorm_vjp(g, s):
    """PyTorch's renorm_backward: slices over maxnorm were scaled by maxnorm / (norm + 1e-7), which depends on x."""
    xp, x = s.xp, s.self
    dims = _reduced_dims(x.ndim, s.dim)
    norms = _slice_norms(xp, x, s.p, dims)
    norm_grad = _norm_vjp(xp.sum(x * g, dims, True),
                          types.SimpleNamespace(xp=xp, result=norms, keepdim=True, dim=dims, self=x, ord=s.p))
    inverse = 1.0 / (norms + 1e-7)
    return xp.where(norms > s.maxnorm, inverse * s.maxnorm * (g - inverse * norm_grad), g)


renorm = primitive("renorm", _renorm, "RenormBackward0", inputs=("self",), params=("p", "dim", "maxnorm"),
                   saves=("self",), vjp=(_renorm_vjp,))


def _split_copies(a, dim, split_sizes):
    bounds = np.cumsum((0,) + tuple(split_sizes))
    return tuple(np.take(a, np.arange(start, end), axis=dim)
                 for start, end in zip(bounds[:-1], bounds[1:], strict=True))


# split and split_with_sizes whose outputs are copies (torch.unsafe_split …): nodes of their own, not views
unsafe_split = primitive("unsafe_split", _split_copies, "UnsafeSplitBackward0", inputs=("self",),
                         params=("dim", "split_sizes"), outputs=None, vjp=(split_vjp,))
unsafe_split_with_sizes = primitive("unsafe_split_with_sizes", _split_copies, "UnsafeSplitWithSizesBackward0",
                                    inputs=("self",), params=("dim", "split_sizes"), outputs=None, vjp=(split_vjp,))
