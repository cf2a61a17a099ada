"""linalg.pinv and cholesky_inverse (LinalgPinvBackward0, CholeskyInverseBackward0), with PyTorch's
backward formulas written once through `xp`."""

from __future__ import annotations

import numpy as np

from gradscope.ops.linalg_solve import mT
from gradscope.ops.registry import primitive


def mH(xp, a):
    """The conjugate transpose of each matrix of a stack."""
    return xp.conj(mT(xp, a))


def _pinv(a, atol, rtol, hermitian):
    """Through the SVD: singular values at or below max(atol, rtol · σ_max) count as zero."""
    if hermitian:
        return _pinv_hermitian(a, atol, rtol)
    u, singular, vh = np.linalg.svd(a, full_matrices=False)
    largest = singular.max(axis=-1, keepdims=True, initial=0.0)
    threshold = np.maximum(atol, rtol * largest)
    kept = singular > threshold
    inverse = np.divide(1.0, singular, out=np.zeros_like(singular), where=kept)
    return np.matmul(np.swapaxes(vh, -1, -2).conj() * inverse[..., None, :], np.swapaxes(u, -1, -2).conj()).astype(
        a.dtype)  # V S⁺ Uᴴ


def _pinv_hermitian(a, atol, rtol):
    """As PyTorch's hermitian=True: through eigh, which reads the lower triangle only (a non-Hermitian `a` gives the
    pseudo-inverse of the Hermitian matrix that triangle makes), the singular values being the |eigenvalues|."""
    eigenvalues, vectors = np.linalg.eigh(a)
    magnitudes = np.abs(eigenvalues)
    threshold = np.maximum(atol, rtol * magnitudes.max(axis=-1, keepdims=True, initial=0.0))
    inverse = np.divide(1.0, eigenvalues, out=np.zeros_like(eigenvalues), where=magnitudes > threshold)
    return np.matmul(vectors * inverse[..., None, :], np.swapaxes(vectors, -1, -2).conj()).astype(a.dtype)


def _pinv_vjp(g, s, transpose=mT):
    # PyTorch's pinv_backward, hermitian or not (it reads all of `a`, not the triangle eigh read); the product order
    # keeps every intermediate matrix as small as possible. `transpose`: the conjugate one (mH) for complex tensors
    xp, a, pinv = s.xp, s.self, s.result
    pinv_t, g_t = transpose(xp, pinv), transpose(xp, g)
    if a.shape[-2] <= a.shape[-1]:
        k = xp.matmul(g_t, pinv)
        k_pinv_t = xp.matmul(k, pinv_t)
        return (-transpose(xp, xp.matmul(pinv, k)) + k_pinv_t - xp.matmul(xp.matmul(a, pinv), k_pinv_t)
                + xp.matmul(xp.matmul(pinv_t, pinv), g_t - xp.matmul(k, a)))
    k = xp.matmul(pinv, g_t)
    pinv_t_k = xp.matmul(pinv_t, k)
    return (-transpose(xp, xp.matmul(k, pinv)) + pinv_t_k - xp.matmul(xp.matmul(pinv_t_k, pinv), a)
            + xp.matmul(xp.matmul(g_t - xp.matmul(a, k), pinv), pinv_t))


linalg_pinv = primitive("linalg_pinv", _pinv, "LinalgPinvBackward0", inputs=("self",),
                        params=("atol", "rtol", "hermitian"), unsaved=("atol", "rtol", "hermitian"),
                        saves=(("self", "result"),), vjp=(_pinv_vjp,), complex_vjp=(lambda g, s: _pinv_vjp(g, s, mH),))


def _cholesky_inverse(factor, upper):
    # NOTE: as LAPACK's potri, only the factor's triangle is read (the backward formula, PyTorch's, uses it all)
    factor = np.triu(factor) if upper else np.tril(factor)
    transposed = np.swapaxes(factor, -1, -2).conj()  # the conjugate transpose: (L Lᴴ)⁻¹ for complex factors
    product = np.matmul(transposed, factor) if upper else np.matmul(factor, transposed)
    return np.linalg.inv(product)


def _cholesky_inverse_vjp(g, s):
    xp, factor, inverse = s.xp, s.self, s.result
    common = xp.matmul(inverse, xp.matmul(g + mT(xp, g), inverse))
    return -xp.matmul(factor, common) if s.upper else -xp.matmul(common, factor)


cholesky_inverse = primitive("cholesky_inverse", _cholesky_inverse, "CholeskyInverseBackward0", inputs=("self",),
                             params=("upper",), saves=(("self", "result"),), vjp=(_cholesky_inverse_vjp,))
