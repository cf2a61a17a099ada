"""linalg.det and linalg.slogdet (LinalgDetBackward0, LinalgSlogdetBackward0).

d det(A) = det(A) tr(A⁻¹ dA): the gradient is g·det(A)·A⁻ᵀ, a solve with Aᵀ. At an exactly singular
matrix PyTorch's first-order gradient is that solve with a zero right-hand side, which its LU kernels
return as zeros; under create_graph it takes the cofactors through the SVD instead (det A = det U ·
det Vh · ∏ S, whose product rule needs no inverse), so the gradient is differentiable there. Both
are reproduced.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.linalg_decomp import linalg_svd
from gradscope.ops.linalg_solve import constant, diag_embed, eye, mT, solve, value_of
from gradscope.ops.reduction import _others_product_graph
from gradscope.ops.registry import primitive


def _scaled_inverse_transpose(xp, a, scale):
    """scale · A⁻ᵀ for each matrix of the stack (scale has the batch shape)."""
    n = a.shape[-1]
    diagonal = xp.unsqueeze_dims(scale, (scale.ndim,)) * constant(xp, np.ones(n), scale)
    return solve(xp, mT(xp, a), diag_embed(xp, diagonal))


def _batch_mask(xp, mask, like):
    """A (...,) boolean batch mask shaped to select whole matrices of `like`."""
    return constant(xp, np.broadcast_to(mask[..., None, None], like.shape), like) != 0


def _cofactors_by_svd(xp, a, g):
    """g · cof(A) through A = U diag(S) Vh, for singular A: cof(A) = det(U) det(Vh) U diag(∏_{j≠i} S_j) Vh."""
    u, singular, vh = xp.apply(linalg_svd, (a,), (True,))
    alpha = xp.apply(linalg_det, (u,)) * xp.apply(linalg_det, (vh,)) * g
    others = _others_product_graph(xp, singular, singular.ndim - 1)
    weights = others * xp.unsqueeze_dims(alpha, (alpha.ndim,))
    return xp.matmul(u * xp.unsqueeze_dims(weights, (weights.ndim - 1,)), vh)


def _det_vjp(g, s):
    xp, a, det = s.xp, s.A, s.result
    if not a.shape[-1] or not np.prod(a.shape):
        return a * 0
    singular = value_of(xp, det) == 0
    identity = eye(xp, a.shape[-1], a)
    if not xp.is_tensor:
        # NOTE: PyTorch's LU solve of a zero right-hand side gives zeros at a singular matrix
        safe = np.where(singular[..., None, None], identity, a)
        return np.where(singular[..., None, None], 0.0, _scaled_inverse_transpose(xp, safe, g * det))
    if not singular.any():
        return _scaled_inverse_transpose(xp, a, g * det)
    if singular.all():
        return _cofactors_by_svd(xp, a, g)
    # a batch of both: each path gets a harmless stand-in for the matrices it does not own
    mask = _batch_mask(xp, singular, a)
    distinct = diag_embed(xp, constant(xp, np.broadcast_to(np.arange(1.0, a.shape[-1] + 1), a.shape[:-1]), a))
    return xp.where(mask, _cofactors_by_svd(xp, xp.where(mask, a, distinct), g),
                    _scaled_inverse_transpose(xp, xp.where(mask, identity, a), g * det))


linalg_det = primitive("linalg_det", np.linalg.det, "LinalgDetBackward0", inputs=("A",), saves=(("A", "result"),),
                       vjp=(_det_vjp,))


def _slogdet_vjp(g, s):
    # only log|det| moves for real A: its gradient is A⁻ᵀ; the sign is locally constant (PyTorch ignores its gradient)
    xp, a, gradient = s.xp, s.A, g[1]
    if gradient is None:
        return None
    singular = value_of(xp, s.sign) == 0
    if not singular.any():
        return _scaled_inverse_transpose(xp, a, gradient)
    # NOTE: PyTorch's LU solve divides by the zero pivot (±inf); NumPy refuses, so these are nan
    mask = _batch_mask(xp, singular, a)
    stand_in = xp.where(mask, eye(xp, a.shape[-1], a), a)
    return xp.where(mask, np.nan, _scaled_inverse_transpose(xp, stand_in, gradient))


linalg_slogdet = primitive("linalg_slogdet", lambda a: tuple(np.linalg.slogdet(a)), "LinalgSlogdetBackward0",
                           inputs=("A",), outputs=2, output_names=("sign", "logabsdet"), saves=(("A", "sign"),),
                           vjp=(_slogdet_vjp,))
