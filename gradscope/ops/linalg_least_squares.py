"""linalg.lstsq and linalg.inv_ex (LinalgLstsqBackward0, LinalgInvExBackward0), with PyTorch's backward formulas.

lstsq computes the minimum-norm solution through the SVD, the solution LAPACK's gelsy, gelsd and gelss give (gels
assumes full rank, where every driver agrees); its gradient is PyTorch's: the solution's through the
pseudo-inverse (pinv(A) B), the residuals' |AX - B|² by the envelope rule (at the optimum they don't move with X).
"""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops.linalg_lu import zero_pivot
from gradscope.ops.linalg_pinv import _pinv_vjp, linalg_pinv
from gradscope.ops.linalg_solve import _inv_vjp, mT, value_of
from gradscope.ops.registry import primitive


def is_vector_case(a_shape, b_shape) -> bool:
    """PyTorch's lstsq rule: B is a (batch of) vector(s) when it has one dim less than A."""
    return len(b_shape) == len(a_shape) - 1


def _lstsq(a, b, rcond, driver):
    vector = is_vector_case(a.shape, b.shape)
    if vector:
        b = b[..., None]
    m, n = a.shape[-2:]
    dtype = np.result_type(a, b)
    real = np.finfo(dtype).dtype
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    u, singular, vh = np.linalg.svd(a, full_matrices=False)
    largest = singular.max(axis=-1, keepdims=True, initial=0.0)
    kept = singular > rcond * largest
    inverse = np.divide(1.0, singular, out=np.zeros_like(singular), where=kept)
    projected = np.matmul(np.swapaxes(u, -1, -2).conj(), b) * inverse[..., :, None]
    solution = np.broadcast_to(np.matmul(np.swapaxes(vh, -1, -2).conj(), projected), batch + (n, b.shape[-1]))
    rank = np.broadcast_to(kept.sum(axis=-1), batch).astype(np.int64)
    full_rank = driver == "gels" or (rank == n).all()
    if driver != "gelsy" and m > n and full_rank and solution.size:
        residuals = (np.abs(np.matmul(a, solution) - b) ** 2).sum(axis=-2).astype(real)  # (..., 1) for a vector B
    else:
        residuals = np.empty((0,), dtype=real)
    if driver == "gels":
        rank = np.empty((0,), dtype=np.int64)
    if driver in ("gelsd", "gelss"):
        singular = np.broadcast_to(singular, batch + singular.shape[-1:]).astype(real)
    else:
        singular = np.empty((0,), dtype=real)
    solution = solution.astype(dtype)
    return (solution[..., 0] if vector else solution), residuals, rank, singular


def _as_matrices(xp, s, g_solution):
    """B, X and X's gradient (None: not given) as stacks of matrices (a vector B is one column)."""
    if is_vector_case(s.self.shape, s.b.shape):
        return (xp.unsqueeze_dims(s.b, (s.b.ndim,)), xp.unsqueeze_dims(s.solution, (s.solution.ndim,)),
                None if g_solution is None else xp.unsqueeze_dims(g_solution, (g_solution.ndim,)), True)
    return s.b, s.solution, g_solution, False


def _residual_terms(xp, s, b, solution, g_residuals):
    """(d/dA, d/dB) of Σ g_residuals · |A X - B|² column-wise, X held (it is optimal): 2 R diag(g) Xᵀ, -2 R diag(g);
    None when the residuals (empty unless computed) got no gradient."""
    if g_residuals is None or 0 in tuple(g_residuals.shape):
        return None
    weighted = (xp.matmul(s.self, solution) - b) * xp.unsqueeze_dims(g_residuals, (g_residuals.ndim - 1,)) * 2
    return xp.matmul(weighted, mT(xp, solution)), -weighted


def _pinv(xp, a):
    """pinv(A) inside a rule (recorded under create_graph), at pinv's default tolerance."""
    rtol = float(np.finfo(value_of(xp, a).dtype).eps) * max(a.shape[-2:])
    return xp.apply(linalg_pinv, (a,), (0.0, rtol, False))


class _PinvSaved:
    """What pinv's rule reads, for calling it on lstsq's own values."""

    __slots__ = ("xp", "self", "result")

    def __init__(self, xp, a, pinv) -> None:
        self.xp, self.self, self.result = xp, a, pinv


def _lstsq_self_vjp(g, s):
    xp = s.xp
    b, solution, g_solution, vector = _as_matrices(xp, s, g[0])
    gradient = None
    if g_solution is not None:
        pinv = _pinv(xp, s.self)
        gradient = _pinv_vjp(xp.matmul(g_solution, mT(xp, b)), _PinvSaved(xp, s.self, pinv))
    residual = _residual_terms(xp, s, b, solution, g[1])
    if residual is None:
        return gradient
    return residual[0] if gradient is None else gradient + residual[0]


def _lstsq_b_vjp(g, s):
    xp = s.xp
    b, solution, g_solution, vector = _as_matrices(xp, s, g[0])
    gradient = None if g_solution is None else xp.matmul(mT(xp, _pinv(xp, s.self)), g_solution)
    residual = _residual_terms(xp, s, b, solution, g[1])
    if residual is not None:
        gradient = residual[1] if gradient is None else gradient + residual[1]
    if gradient is None:
        return None
    return xp.sum(gradient, (gradient.ndim - 1,)) if vector else gradient


# the engine sums gradients over batch dims A or B were broadcast along
linalg_lstsq = primitive("linalg_lstsq", _lstsq, "LinalgLstsqBackward0", inputs=("self", "b"),
                         params=("rcond", "driver"), unsaved=("rcond", "driver"), outputs=4,
                         differentiable_outputs=(0, 1),
                         output_names=("solution", "residuals", "rank", "singular_values"),
                         saves=(("self", "b", "solution"), ("self", "b", "solution")),
                         vjp=(_lstsq_self_vjp, _lstsq_b_vjp))


def _inv_ex(a):
    """(inverse, info): info the 1-based position of the first zero pivot of a singular matrix (its inverse then
    nan), 0 for the others."""
    stack = a.reshape((math.prod(a.shape[:-2]),) + a.shape[-2:])  # (-1 can't size a stack of 0 × 0 ones)
    inverse = np.empty_like(stack)
    info = np.zeros(len(stack), dtype=np.int32)
    for index, matrix in enumerate(stack):
        try:
            inverse[index] = np.linalg.inv(matrix)
        except np.linalg.LinAlgError:
            inverse[index], info[index] = np.nan, zero_pivot(matrix)
    return inverse.reshape(a.shape), info.reshape(a.shape[:-2])


def _inv_ex_vjp(g, s):
    return _inv_vjp(g[0], s)


linalg_inv_ex = primitive("linalg_inv_ex", _inv_ex, "LinalgInvExBackward0", inputs=("A",), saves=("inverse",),
                          outputs=2, differentiable_outputs=(0,), output_names=("inverse", "info"), vjp=(_inv_ex_vjp,))
