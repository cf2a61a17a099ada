"""Products and distances: cross, cdist, dist, baddbmm, addmv, addr, addbmm. (tensordot, kron, chain_matmul and
cartesian_prod are composites, built in the autograd layer from views, mm, mul and stack.)"""

from __future__ import annotations

import math
import types

import numpy as np

from gradscope.ops.distance import at_maximum, count_nonzero, signs
from gradscope.ops.namespace import NUMPY, kernel_scalar
from gradscope.ops.reduction import _norm_vjp, _vector_norm
from gradscope.ops.registry import primitive


def _cross(a, b, dim):
    return np.cross(a, b, axisa=dim, axisb=dim, axisc=dim)


# d(a × b) = da × b + a × db, and u · (da × b) = da · (b × u): each input's gradient is another cross product
cross = primitive("linalg_cross", _cross, "LinalgCrossBackward0", inputs=("self", "other"), params=("dim",),
                  saves=("other", "self"),
                  vjp=(lambda g, s: s.xp.apply(cross, (s.other, g), (s.dim,)),
                       lambda g, s: s.xp.apply(cross, (g, s.self), (s.dim,))))


def _pairwise_difference(xp, x1, x2):
    """x1[..., i, None, :] − x2[..., None, j, :]: (..., P, R, M)."""
    return xp.unsqueeze_dims(x1, (x1.ndim - 1,)) - xp.unsqueeze_dims(x2, (x2.ndim - 2,))


def _cdist(x1, x2, p):
    difference = _pairwise_difference(NUMPY, x1, x2)
    if p == 0:
        return count_nonzero(difference, -1)
    if p == math.inf:  # NOTE: a NaN skipped (PyTorch's running std::max from 0; see ops/distance.py)
        return np.fmax.reduce(np.abs(difference), axis=-1, initial=0)
    return _vector_norm(difference, p, (-1,), False)


def _difference_vjp(g, s):
    """The gradient of ||x1_i − x2_j||_p with respect to the difference, norm's own rule (its masks at 0)."""
    xp = s.xp
    difference = _pairwise_difference(xp, s.x1, s.x2)
    last = (difference.ndim - 1,)
    if s.p == math.inf:  # NOTE: unlike norm's, PyTorch's cdist gives every tied maximum the whole gradient
        return xp.unsqueeze_dims(g, last) * signs(xp, difference) * at_maximum(
            xp, difference, xp.unsqueeze_dims(s.result, last))
    if s.p == 1:  # NaN at a NaN difference (norm's sign is 0 there)
        return xp.unsqueeze_dims(g, last) * signs(xp, difference)
    norm = types.SimpleNamespace(xp=xp, self=difference, result=s.result, ord=s.p, dim=(difference.ndim - 1,),
                                 keepdim=False)
    return _norm_vjp(g, norm)


def _cdist_x1_vjp(g, s):
    grad = _difference_vjp(g, s)  # NOTE: None for p = 0 (a count): PyTorch's cdist gives zeros there
    return s.xp.zeros_like(s.x1) if grad is None else s.xp.sum(grad, (grad.ndim - 2,))


def _cdist_x2_vjp(g, s):
    grad = _difference_vjp(g, s)
    return s.xp.zeros_like(s.x2) if grad is None else -s.xp.sum(grad, (grad.ndim - 3,))


cdist = primitive("cdist", _cdist, "CdistBackward0", inputs=("x1", "x2"), params=("p",),
                  saves=(("x1", "x2", "result"),) * 2, vjp=(_cdist_x1_vjp, _cdist_x2_vjp))


def _dist_vjp(sign):
    def rule(g, s):
        difference = s.self - s.other
        norm = types.SimpleNamespace(xp=s.xp, self=difference, result=s.result, ord=s.p,
                                     dim=tuple(range(difference.ndim)), keepdim=False)
        grad = _norm_vjp(g, norm)
        return None if grad is None else grad * sign
    return rule


dist = primitive("dist", lambda a, b, p: _vector_norm(np.subtract(a, b), p, None, False), "DistBackward0",
                 inputs=("self", "other"), params=("p",), saves=(("self", "other", "result"),) * 2,
                 vjp=(_dist_vjp(1), _dist_vjp(-1)), opmath=True)


def _baddbmm(a, batch1, batch2, beta, alpha):
    return _beta_input(a, np.matmul(batch1, batch2), beta, alpha)


def _mT(xp, a):
    return xp.transpose(a, -2, -1)


baddbmm = primitive("baddbmm", _baddbmm, "BaddbmmBackward0", inputs=("self", "batch1", "batch2"),
                    params=("beta", "alpha"), saves=((), "batch2", "batch1"),
                    vjp=(lambda g, s: g * s.beta,
                         lambda g, s: s.xp.matmul(g, _mT(s.xp, s.batch2)) * s.alpha,
                         lambda g, s: s.xp.matmul(_mT(s.xp, s.batch1), g) * s.alpha), opmath=True)


def _beta_input(a, product, beta, alpha):
    """beta · a + alpha · product; beta = 0 ignores a, nan and inf included, as PyTorch's. (baddbmm, addmv, addr and
    addbmm are opmath primitives: float16 operands come here as float32, rounded once at the end, as PyTorch's.)"""
    beta, alpha = kernel_scalar(product, beta), kernel_scalar(product, alpha)
    product = product if alpha == 1 else alpha * product
    return product if beta == 0 else (a + product if beta == 1 else beta * a + product)


addmv = primitive("addmv", lambda a, mat, vec, beta, alpha: _beta_input(a, np.matmul(mat, vec), beta, alpha),
                  "AddmvBackward0", inputs=("self", "mat", "vec"), params=("beta", "alpha"),
                  saves=((), "vec", "mat"),
                  vjp=(lambda g, s: g * s.beta,
                       lambda g, s: s.xp.reshape(g, (-1, 1)) * s.vec * s.alpha,
                       lambda g, s: s.xp.matmul(s.xp.transpose(s.mat, 0, 1), g) * s.alpha), opmath=True)
def _addr(a, vec1, vec2, beta, alpha):
    outer = np.multiply.outer(vec1, vec2)
    if outer.dtype == np.bool_:  # PyTorch's bool kernel: (beta and a) or (alpha and vec1 ⊗ vec2), a bool result
        return np.logical_or(np.logical_and(bool(beta), a), np.logical_and(bool(alpha), outer))
    return _beta_input(a, outer, beta, alpha)


addr = primitive("addr", _addr,
                 "AddrBackward0", inputs=("self", "vec1", "vec2"), params=("beta", "alpha"),
                 saves=((), "vec2", "vec1"),
                 vjp=(lambda g, s: g * s.beta,
                      lambda g, s: s.xp.matmul(g, s.vec2) * s.alpha,
                      lambda g, s: s.xp.matmul(s.xp.transpose(g, 0, 1), s.vec1) * s.alpha), opmath=True)


def _expanded_over_batches(xp, g, batch):
    return xp.expand(xp.unsqueeze_dims(g, (0,)), (batch.shape[0],) + tuple(g.shape))


def _addbmm(a, batch1, batch2, beta, alpha):
    products = np.matmul(batch1, batch2)
    return _beta_input(a, products.sum(0, dtype=products.dtype), beta, alpha)  # NumPy sums int32 into int64


addbmm = primitive("addbmm", _addbmm,
                   "AddbmmBackward0", inputs=("self", "batch1", "batch2"), params=("beta", "alpha"),
                   saves=((), "batch2", "batch1"),
                   vjp=(lambda g, s: g * s.beta,
                        lambda g, s: s.xp.matmul(_expanded_over_batches(s.xp, g, s.batch2), _mT(s.xp, s.batch2))
                        * s.alpha,
                        lambda g, s: s.xp.matmul(_mT(s.xp, s.batch1), _expanded_over_batches(s.xp, g, s.batch1))
                        * s.alpha), opmath=True)


# ------------------------------------------------------------------------------- _trilinear
def _trilinear(i1, i2, i3, expand1, expand2, expand3, sumdim):
    """at::_trilinear: the inputs, each unsqueezed at its `expand` dims to a common rank, multiplied and summed
    over `sumdim`."""
    rank = i1.ndim + len(expand1)
    letters = "abcdefghijklmnopqrstuvwxyz"[:rank]
    inputs = ["".join(c for d, c in enumerate(letters) if d not in expand) for expand in (expand1, expand2, expand3)]
    output = "".join(c for d, c in enumerate(letters) if d not in sumdim)
    return np.einsum(f"{','.join(inputs)}->{output}", i1, i2, i3)


def _trilinear_vjp(index: int):
    """As PyTorch's _trilinear_backward: the gradient is itself a _trilinear, of the output's gradient (expanded
    where the output lacks dims) and the other two inputs, summed where this input lacks dims."""
    def rule(g, s):
        operands, expands = [s.i1, s.i2, s.i3], [s.expand1, s.expand2, s.expand3]
        operands[index], expands[index] = g, s.sumdim
        return s.xp.apply(trilinear, tuple(operands), (*expands, (s.expand1, s.expand2, s.expand3)[index]))
    return rule


trilinear = primitive("trilinear", _trilinear, "TrilinearBackward0", inputs=("i1", "i2", "i3"),
                      params=("expand1", "expand2", "expand3", "sumdim"),
                      saves=(("i2", "i3"), ("i1", "i3"), ("i1", "i2")),
                      vjp=(_trilinear_vjp(0), _trilinear_vjp(1), _trilinear_vjp(2)))
