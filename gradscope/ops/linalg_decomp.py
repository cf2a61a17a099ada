"""Matrix decompositions: cholesky, qr, eigh, svd, with PyTorch's backward formulas (FunctionsManual's
cholesky_backward, linalg_qr_backward, linalg_eig_backward for Hermitian input, svd_backward), real
inputs only.

eigh and svd are differentiable where the eigen/singular values are distinct: the formulas divide by
their differences. Eigen- and singular vectors are defined up to sign; a loss that depends on the sign
has no derivative (and NumPy's LAPACK may pick other signs than PyTorch's). An output that got no
gradient reaches a rule as None (PyTorch's undefined gradient): the formulas skip its terms, as PyTorch's
do, so that eigvalsh/svdvals of repeated values stay finite.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.linalg_solve import constant, diag_embed, diagonal, mT, solve, tril, triu
from gradscope.ops.registry import primitive


def _cholesky(a, upper):
    return np.linalg.cholesky(a, upper=upper)


def _cholesky_vjp(g, s):
    # Murray (2016): gA = L⁻ᴴ Φ(Lᴴ gL) L⁻¹ with Φ the lower triangle, its diagonal halved, mirrored up
    xp = s.xp
    lower, g = (mT(xp, s.L), mT(xp, g)) if s.upper else (s.L, g)
    gradient = tril(xp, xp.matmul(mT(xp, lower), g))
    gradient = 0.5 * (gradient + mT(xp, tril(xp, gradient, -1)))
    gradient = solve(xp, mT(xp, lower), gradient)
    return solve(xp, lower, gradient, False)


linalg_cholesky = primitive("linalg_cholesky", _cholesky, "LinalgCholeskyExBackward0", inputs=("A",),
                            params=("upper",), saves=("L",), output_names=("L",), vjp=(_cholesky_vjp,))
# the deprecated torch.cholesky: the same op under its old node name
cholesky = primitive("cholesky", _cholesky, "CholeskyBackward0", inputs=("A",), params=("upper",), saves=("L",),
                     output_names=("L",), vjp=(_cholesky_vjp,))


def _qr(a, mode):
    if mode == "r":
        return np.empty((0,), a.dtype), np.linalg.qr(a, mode="r")
    return tuple(np.linalg.qr(a, mode=mode))


def _qr_vjp(g, s):
    xp, (gradient_q, gradient_r), q, r = s.xp, g, s.Q, s.R
    if s.mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                           "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    m, n = q.shape[-2], r.shape[-1]
    if s.mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    has_q = gradient_q is not None
    # R's gradient (if any) times Rᵀ, less Qᵀ times Q's (if any): one of them is given
    product = xp.matmul(gradient_r, mT(xp, r)) if gradient_r is not None else None
    if has_q:
        q_part = xp.matmul(mT(xp, q), gradient_q)
        product = -q_part if product is None else product - q_part
    if m >= n:
        upper = triu(xp, product)
        symmetric = upper + mT(xp, upper) - diag_embed(xp, diagonal(xp, upper))
        gradient = xp.matmul(q, symmetric)
        if has_q:
            gradient = gradient + gradient_q
        return solve(xp, mT(xp, r), gradient, False)
    # a wide A = Q [R1 | R2]: the square part as above, the rest through Q
    skew = tril(xp, mT(xp, product) - product)
    leading = xp.getitem(r, (Ellipsis, slice(0, m)))
    gradient = solve(xp, mT(xp, leading), xp.matmul(q, skew), False)
    gradient = xp.concat([gradient, constant(xp, np.zeros(tuple(gradient.shape[:-1]) + (n - m,)), gradient)], -1)
    return gradient if gradient_r is None else gradient + xp.matmul(q, gradient_r)


linalg_qr = primitive("linalg_qr", _qr, "LinalgQrBackward0", inputs=("A",), params=("mode",), outputs=2,
                      output_names=("Q", "R"), saves=(("Q", "R"),), vjp=(_qr_vjp,))


def _spectral_gaps(xp, values, squared: bool = False):
    """E[i, j] = λ_j - λ_i (of the squares with `squared`), 1 on the diagonal: what the off-diagonal
    parts of eigh's and svd's gradients are divided by."""
    if squared:
        values = values * values
    gaps = xp.unsqueeze_dims(values, (values.ndim - 1,)) - xp.unsqueeze_dims(values, (values.ndim,))
    return gaps + diag_embed(xp, values * 0 + 1)


def _eigh_vjp(g, s):
    xp, (gradient_values, gradient_vectors), vectors = s.xp, g, s.eigenvectors
    if gradient_vectors is None:
        return xp.matmul(vectors * xp.unsqueeze_dims(gradient_values, (gradient_values.ndim - 1,)), mT(xp, vectors))
    projected = xp.matmul(mT(xp, vectors), gradient_vectors)
    projected = 0.5 * (projected - mT(xp, projected))  # onto the skew-symmetric matrices (V stays orthogonal)
    inner = projected / _spectral_gaps(xp, s.eigenvalues)
    if gradient_values is not None:
        inner = inner + diag_embed(xp, gradient_values)
    return xp.matmul(vectors, xp.matmul(inner, mT(xp, vectors)))


linalg_eigh = primitive("linalg_eigh", lambda a, uplo: tuple(np.linalg.eigh(a, UPLO=uplo)), "LinalgEighBackward0",
                        inputs=("A",), params=("UPLO",), unsaved=("UPLO",), outputs=2,
                        output_names=("eigenvalues", "eigenvectors"),
                        saves=(("eigenvalues", "eigenvectors"),), vjp=(_eigh_vjp,))


def _svd_vjp(g, s):
    xp, (gradient_u, gradient_s, gradient_vh) = s.xp, g
    u, singular, vh = s.U, s.S, s.Vh
    k = singular.shape[-1]
    has_u, has_vh = gradient_u is not None, gradient_vh is not None
    if s.full_matrices:  # the extra columns of U and rows of Vh carry nothing about A
        u, vh = xp.getitem(u, (Ellipsis, slice(0, k))), xp.getitem(vh, (Ellipsis, slice(0, k), slice(None)))
        gradient_u = xp.getitem(gradient_u, (Ellipsis, slice(0, k))) if has_u else None
        gradient_vh = xp.getitem(gradient_vh, (Ellipsis, slice(0, k), slice(None))) if has_vh else None
    m, n = u.shape[-2], vh.shape[-1]
    rows = xp.unsqueeze_dims(singular, (singular.ndim - 1,))  # S_j along each row
    columns = xp.unsqueeze_dims(singular, (singular.ndim,))  # S_i down each column
    if not has_u and not has_vh:
        if m >= n:
            return xp.matmul(u, xp.unsqueeze_dims(gradient_s, (gradient_s.ndim,)) * vh)
        return xp.matmul(u * xp.unsqueeze_dims(gradient_s, (gradient_s.ndim - 1,)), vh)
    gaps = _spectral_gaps(xp, singular, squared=True)
    u_part = _skew(xp, xp.matmul(mT(xp, u), gradient_u)) if has_u else None
    vh_part = _skew(xp, xp.matmul(vh, mT(xp, gradient_vh))) if has_vh else None
    if has_u and has_vh:
        inner = (u_part * rows + columns * vh_part) / gaps
    elif has_u:
        inner = (u_part / gaps) * rows
    else:
        inner = columns * (vh_part / gaps)
    if gradient_s is not None:
        inner = inner + diag_embed(xp, gradient_s)
    if m > n and has_u:
        outer = xp.matmul(u, inner)
        scaled = gradient_u / rows
        outer = outer + scaled - xp.matmul(u, xp.matmul(mT(xp, u), scaled))
        return xp.matmul(outer, vh)
    if m < n and has_vh:
        outer = xp.matmul(inner, vh)
        scaled = gradient_vh / columns
        outer = outer + scaled - xp.matmul(xp.matmul(scaled, mT(xp, vh)), vh)
        return xp.matmul(u, outer)
    return xp.matmul(u, xp.matmul(inner, vh))


def _skew(xp, a):
    return a - mT(xp, a)


linalg_svd = primitive("linalg_svd", lambda a, full_matrices: tuple(np.linalg.svd(a, full_matrices=full_matrices)),
                       "LinalgSvdBackward0", inputs=("A",), params=("full_matrices",), outputs=3,
                       output_names=("U", "S", "Vh"), saves=(("U", "S", "Vh"),), vjp=(_svd_vjp,))
