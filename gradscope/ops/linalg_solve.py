"""linalg.inv and linalg.solve (LinalgInvExBackward0, LinalgSolveExBackward0), and the small matrix
helpers the linear-algebra rules share. Every helper works through `xp`, so a rule that uses them runs
on ndarrays and, under create_graph, on Tensors; the solves inside rules are this module's primitives,
applied through `xp.apply`, so second derivatives come from their own rules.

Batched inputs are stacks of matrices in the last two dims, as NumPy's and PyTorch's linalg take them.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import primitive


def mT(xp, a):
    """The transpose of each matrix of a stack."""
    return xp.transpose(a, -2, -1)


def constant(xp, array, like):
    """An ndarray as a constant of `like`'s dtype (a tensor under create_graph)."""
    return xp.cast(np.asarray(array), like.dtype)


def eye(xp, n: int, like):
    return constant(xp, np.eye(n), like)


def diag_embed(xp, v):
    """(..., n) → (..., n, n) with v on the diagonal."""
    return xp.unsqueeze_dims(v, (v.ndim,)) * eye(xp, v.shape[-1], v)


def diagonal(xp, a):
    """(..., n, n) → (..., n), the diagonal of each matrix."""
    return xp.sum(a * eye(xp, a.shape[-1], a), (a.ndim - 1,))


def tril(xp, a, k: int = 0):
    return a * constant(xp, np.tril(np.ones(a.shape[-2:]), k), a)


def triu(xp, a, k: int = 0):
    return a * constant(xp, np.triu(np.ones(a.shape[-2:]), k), a)


def value_of(xp, x) -> np.ndarray:
    """The values of a rule's operand as an ndarray, to decide a branch on (never differentiated)."""
    return x.detach().numpy() if xp.is_tensor else x


def solve(xp, a, b, left: bool = True):
    """`linalg_solve` inside a rule (recorded under create_graph)."""
    return xp.apply(linalg_solve, (a, b), (left,))


def _inv_vjp(g, s):
    xp = s.xp
    inverse_t = mT(xp, s.inverse)
    return -xp.matmul(inverse_t, xp.matmul(g, inverse_t))


linalg_inv = primitive("linalg_inv", np.linalg.inv, "LinalgInvExBackward0", inputs=("A",), saves=("inverse",),
                       output_names=("inverse",), vjp=(_inv_vjp,))


def is_vector_rhs(a_shape, b_shape) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if it is 1-D, or has A's shape without its last dim."""
    return len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and tuple(b_shape) == tuple(a_shape[:-1]))


def _solve(a, b, left):
    vector = is_vector_rhs(a.shape, b.shape)
    if vector:
        b = b[..., None]
    if left:
        x = np.linalg.solve(a, b)
    else:  # X A = B  ⇔  Aᵀ Xᵀ = Bᵀ
        x = np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    return x[..., 0] if vector else x


def _solve_B_vjp(g, s):
    # Aᵀ gB = gX (left), gB Aᵀ = gX (right): the same solve with the transpose
    return solve(s.xp, mT(s.xp, s.A), g, s.left)


def _solve_A_vjp(g, s):
    xp = s.xp
    gradient_b = _solve_B_vjp(g, s)
    if is_vector_rhs(s.A.shape, s.B_sym_sizes):
        return -xp.unsqueeze_dims(gradient_b, (gradient_b.ndim,)) * xp.unsqueeze_dims(s.result, (s.result.ndim - 1,))
    if s.left:
        return -xp.matmul(gradient_b, mT(xp, s.result))
    return -xp.matmul(mT(xp, s.result), gradient_b)


# the engine sums gradients over batch dims A or B were broadcast along
linalg_solve = primitive("linalg_solve", _solve, "LinalgSolveExBackward0", inputs=("A", "B"), params=("left",),
                         attrs=("B_sym_sizes",), unsaved=("B_sym_sizes",), saves=(("A", "result"), "A"),
                         vjp=(_solve_A_vjp, _solve_B_vjp))


def _triangle(a: np.ndarray, upper: bool, unitriangular: bool) -> np.ndarray:
    """The triangle of `a` a triangular solve reads (ones on the diagonal when unitriangular)."""
    part = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        part = part.copy()
        np.einsum("...ii->...i", part)[...] = 1
    return part


def _solve_triangular(a, b, upper, left, unitriangular):
    a = _triangle(a, upper, unitriangular)
    if not left:  # X A = B  ⇔  Aᵀ Xᵀ = Bᵀ
        return np.swapaxes(_solve_triangular(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), not upper, True,
                                             False), -1, -2)
    # NOTE: substitution, not np.linalg.solve: a zero on the diagonal gives inf/nan as PyTorch's trsm does, no error
    n = a.shape[-1]
    x = np.zeros(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=np.result_type(a, b))
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in rows:
            known = slice(i + 1, n) if upper else slice(0, i)
            residual = b[..., i, :] - np.einsum("...j,...jk->...k", a[..., i, known], x[..., known, :])
            x[..., i, :] = residual / a[..., i, i, None]
    return x


def _solve_triangular_B_vjp(g, s):
    # Aᵀ gB = gX (left), gB Aᵀ = gX (right): a triangular solve with the transposed triangle
    return s.xp.apply(linalg_solve_triangular, (mT(s.xp, s.self), g), (not s.upper, s.left, s.unitriangular))


def _solve_triangular_A_vjp(g, s):
    xp = s.xp
    gradient_b = _solve_triangular_B_vjp(g, s)
    gradient = -xp.matmul(gradient_b, mT(xp, s.result)) if s.left else -xp.matmul(mT(xp, s.result), gradient_b)
    # only the triangle was read (not its diagonal when unitriangular)
    return triu(xp, gradient, int(s.unitriangular)) if s.upper else tril(xp, gradient, -int(s.unitriangular))


linalg_solve_triangular = primitive(
    "linalg_solve_triangular", _solve_triangular, "LinalgSolveTriangularBackward0", inputs=("self", "B"),
    params=("upper", "left", "unitriangular"), saves=(("self", "result"), "self"),
    vjp=(_solve_triangular_A_vjp, _solve_triangular_B_vjp))


def _cholesky_solve(b, factor, upper):
    """X with A X = B for A = L Lᴴ (or Uᴴ U with upper=True) given its factor: two triangular solves, reading only
    the factor's triangle, as LAPACK's potrs."""
    factor_h = np.swapaxes(factor, -1, -2).conj()
    lower, lower_h = (factor_h, factor) if upper else (factor, factor_h)
    return _solve_triangular(lower_h, _solve_triangular(lower, b, False, True, False), True, True, False)


def _cholesky_solve_self_vjp(g, s):
    return s.xp.apply(cholesky_solve, (g, s.input2), (s.upper,))


def _cholesky_solve_input2_vjp(g, s):
    # PyTorch's cholesky_solve_backward: the whole matrix, not its triangle
    xp = s.xp
    common = xp.matmul(_cholesky_solve_self_vjp(g, s), xp.conj(mT(xp, s.result)))
    common = common + xp.conj(mT(xp, common))
    return -xp.matmul(s.input2, common) if s.upper else -xp.matmul(common, s.input2)


# the engine sums gradients over batch dims b or the factor were broadcast along
cholesky_solve = primitive("cholesky_solve", _cholesky_solve, "CholeskySolveBackward0", inputs=("self", "input2"),
                           params=("upper",), saves=("input2", ("self", "input2", "result")),
                           vjp=(_cholesky_solve_self_vjp, _cholesky_solve_input2_vjp))
