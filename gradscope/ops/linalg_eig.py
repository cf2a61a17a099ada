"""linalg.eig of a general square matrix (LinalgEigBackward0): complex eigenvalues and eigenvectors, each vector of
unit norm with its largest component real (LAPACK geev's normalisation, which NumPy's eig shares), with PyTorch's
backward formula (FunctionsManual's linalg_eig_backward) written for complex tensors.

Eigenvectors are defined up to a phase e^{iφ}: a loss that depends on it has no derivative, and the rule refuses it
as PyTorch's does. The formula divides by the eigenvalues' differences: repeated eigenvalues give inf/nan.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.linalg_solve import diag_embed, diagonal, mT, solve, value_of
from gradscope.ops.registry import primitive


def _eig(a):
    values, vectors = np.linalg.eig(a)
    dtype = np.result_type(a.dtype, np.complex64)  # NumPy gives real arrays when every eigenvalue is real
    return values.astype(dtype), vectors.astype(dtype)


def _eig_vjp(g, s):
    xp, (g_values, g_vectors) = s.xp, g
    values, vectors = s.eigenvalues, s.eigenvectors
    vectors_h = xp.conj(mT(xp, vectors))
    if g_vectors is None:
        inner = diag_embed(xp, g_values)
    else:
        projected = xp.matmul(vectors_h, g_vectors)
        phases = diagonal(xp, projected)
        # NOTE: not when the gradient is itself being differentiated (forward AD derives J·t from this rule with
        # an arbitrary gradient, as PyTorch skips the check for its forward-AD and functorch tensors)
        variable = xp.is_tensor and g_vectors.requires_grad
        if not variable and not np.allclose(value_of(xp, xp.imag(phases)), 0, rtol=1e-2, atol=1e-2):
            raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                               "multiplication by e^{i phi}. The specified loss function depends on this quantity, so "
                               "it is ill-defined.")
        # onto the tangent space of the unit-norm vectors, then divided by conj(λ_j - λ_i) off the diagonal
        inner = projected - xp.matmul(vectors_h, vectors * xp.unsqueeze_dims(xp.real(phases), (phases.ndim - 1,)))
        conjugate = xp.conj(values)
        gaps = xp.unsqueeze_dims(conjugate, (values.ndim - 1,)) - xp.unsqueeze_dims(conjugate, (values.ndim,))
        inner = inner / (gaps + diag_embed(xp, values * 0 + 1))
        if g_values is not None:
            inner = inner - diag_embed(xp, diagonal(xp, inner)) + diag_embed(xp, g_values)
    return solve(xp, vectors_h, xp.matmul(inner, vectors_h))  # V⁻ᴴ · inner · Vᴴ


# the outputs are complex whatever A's dtype: the node is always a complex one, running the complex rule (a real A's
# gradient is its real part, as PyTorch's)
linalg_eig = primitive("linalg_eig", _eig, "LinalgEigBackward0", inputs=("self",), outputs=2,
                       output_names=("eigenvalues", "eigenvectors"), saves=(("eigenvalues", "eigenvectors"),),
                       vjp=(None,), complex_vjp=(_eig_vjp,))
