"""The LU family: linalg.lu_factor_ex, linalg.lu, lu_unpack, linalg.lu_solve and the deprecated triangular_solve
(LinalgLuFactorExBackward0, LinalgLuBackward0, LuUnpackBackward0, LinalgLuSolveBackward0, TriangularSolveBackward0),
with PyTorch's backward formulas (FunctionsManual's linalg_lu_backward for square, wide and tall matrices).

The factorisation is LAPACK getrf's: partial pivoting on the largest magnitude (|re| + |im| for complex, as izamax),
the first of equals, pivots 1-based int32, info the first zero pivot. Complex inputs factor; their nodes refuse to
record (no complex rules).
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.linalg_solve import _solve_triangular, constant, linalg_solve_triangular, mT, tril, triu
from gradscope.ops.registry import primitive


def _plain(value) -> np.ndarray:
    """A rule's saved or held integer value (pivots) as an ndarray, whether it reads tensors (create_graph) or not."""
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


def _magnitude(values: np.ndarray) -> np.ndarray:
    return np.abs(values.real) + np.abs(values.imag) if values.dtype.kind == "c" else np.abs(values)


def lu_factor(a: np.ndarray):
    """(LU, pivots, info) of each matrix of a stack, as getrf leaves them."""
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = a.reshape((-1, m, n)).copy()
    count = lu.shape[0]
    pivots = np.empty((count, k), dtype=np.int32)
    info = np.zeros(count, dtype=np.int32)
    rows = np.arange(count)
    for j in range(k):
        chosen = j + np.argmax(_magnitude(lu[:, j:, j]), axis=1) if m > j else np.full(count, j)
        pivots[:, j] = chosen + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, chosen]
        lu[rows, chosen] = top
        pivot = lu[:, j, j]
        zero = pivot == 0
        info[zero & (info == 0)] = j + 1
        lu[:, j + 1:, j] *= (1 / np.where(zero, 1, pivot))[:, None]  # NOTE: getrf scales by the reciprocal
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    batch = a.shape[:-2]
    return lu.reshape(a.shape), pivots.reshape(batch + (k,)), info.reshape(batch)


def zero_pivot(matrix: np.ndarray) -> int:
    """getrf's info for one matrix: the 1-based position of its first zero pivot, 0 when there is none."""
    return int(lu_factor(matrix)[2])


def permutation(pivots: np.ndarray, m: int, dtype) -> np.ndarray:
    """P with A = P L U from getrf's row interchanges (pivots of shape (..., k))."""
    batch, k = pivots.shape[:-1], pivots.shape[-1]
    order = np.broadcast_to(np.arange(m), batch + (m,)).copy().reshape(-1, m)
    swaps = pivots.reshape(-1, k).astype(np.int64) - 1
    rows = np.arange(order.shape[0])
    for j in range(k):
        first = order[rows, j].copy()
        order[rows, j] = order[rows, swaps[:, j]]
        order[rows, swaps[:, j]] = first
    p = np.zeros((order.shape[0], m, m), dtype=dtype)
    p[rows[:, None], order, np.arange(m)] = 1  # row order[i] of A is row i of L U
    return p.reshape(batch + (m, m))


def unpack(lu: np.ndarray, pivots: np.ndarray, unpack_data: bool = True, unpack_pivots: bool = True):
    """(P, L, U) of getrf's packed (LU, pivots); empty tensors for what isn't unpacked."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    empty = np.empty((0,), dtype=lu.dtype)
    p = permutation(pivots, m, lu.dtype) if unpack_pivots else empty
    if not unpack_data:
        return p, empty, empty
    lower = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    return p, lower, np.triu(lu[..., :k, :])


def _lu_backward(xp, g_lower, g_upper, p, lower, upper):
    """PyTorch's linalg_lu_backward: A's gradient from L's and U's (either None: not given), A = P L U."""
    m, n = lower.shape[-2], upper.shape[-1]
    k = min(m, n)

    def solve(a, b, upper_triangle, left, unit=False):
        return xp.apply(linalg_solve_triangular, (a, b), (upper_triangle, left, unit))

    if m == n:
        inner = tril(xp, xp.matmul(mT(xp, lower), g_lower), -1) if g_lower is not None else None
        if g_upper is not None:
            term = triu(xp, xp.matmul(g_upper, mT(xp, upper)))
            inner = term if inner is None else inner + term
        gradient = solve(mT(xp, lower), solve(mT(xp, upper), inner, False, False), True, True, True)
    elif m < n:  # wide: U = [U1 | U2]
        inner = xp.matmul(mT(xp, lower), g_lower) if g_lower is not None else None
        if g_upper is not None:
            term = xp.matmul(triu(xp, g_upper), mT(xp, upper))
            inner = -term if inner is None else inner - term
        gradient = solve(mT(xp, xp.getitem(upper, (Ellipsis, slice(0, k)))), tril(xp, inner, -1), False, False)
        if g_upper is not None:
            gradient = xp.concat([gradient + triu(xp, xp.getitem(g_upper, (Ellipsis, slice(0, k)))),
                                  xp.getitem(g_upper, (Ellipsis, slice(k, None)))], -1)
        gradient = solve(mT(xp, lower), gradient, True, True, True)
        if g_upper is None:
            gradient = xp.concat([gradient, constant(xp, np.zeros(tuple(gradient.shape[:-1]) + (n - k,)), gradient)],
                                 -1)
    else:  # tall: L = [L1; L2]
        inner = xp.matmul(g_upper, mT(xp, upper)) if g_upper is not None else None
        if g_lower is not None:
            term = xp.matmul(mT(xp, lower), tril(xp, g_lower, -1))
            inner = -term if inner is None else inner - term
        leading = xp.getitem(lower, (Ellipsis, slice(0, k), slice(None)))
        gradient = solve(mT(xp, leading), triu(xp, inner), True, True, True)
        if g_lower is not None:
            gradient = xp.concat([gradient + tril(xp, xp.getitem(g_lower, (Ellipsis, slice(0, k), slice(None))), -1),
                                  xp.getitem(g_lower, (Ellipsis, slice(k, None), slice(None)))], -2)
        gradient = solve(mT(xp, upper), gradient, False, False)
        if g_lower is None:
            rest = np.zeros(tuple(gradient.shape[:-2]) + (m - k, n))
            gradient = xp.concat([gradient, constant(xp, rest, gradient)], -2)
    return xp.matmul(p, gradient)


def _factor_ex_vjp(g, s):
    xp, lu = s.xp, s.LU
    m, n = lu.shape[-2:]
    k = min(m, n)
    p, _, _ = unpack(_plain(lu), _plain(s.pivots), True, s.pivot)
    eye = constant(xp, np.eye(m, k), lu)
    lower = tril(xp, xp.getitem(lu, (Ellipsis, slice(None), slice(0, k))), -1) + eye
    upper = triu(xp, xp.getitem(lu, (Ellipsis, slice(0, k), slice(None))))
    gradient = g[0]
    return _lu_backward(xp, xp.getitem(gradient, (Ellipsis, slice(None), slice(0, k))),
                        xp.getitem(gradient, (Ellipsis, slice(0, k), slice(None))), constant(xp, p, lu), lower, upper)


linalg_lu_factor_ex = primitive(
    "linalg_lu_factor_ex", lambda a, pivot: lu_factor(a), "LinalgLuFactorExBackward0", inputs=("A",), params=("pivot",),
    outputs=3, differentiable_outputs=(0,), output_names=("LU", "pivots", "info"), saves=(("LU", "pivots"),),
    vjp=(_factor_ex_vjp,))


def _lu(a, pivot):
    lu, pivots, _ = lu_factor(a)
    return unpack(lu, pivots)


def _lu_vjp(g, s):
    xp, (g_lower, g_upper) = s.xp, g  # the node's outputs: L and U (P is not differentiable)
    return _lu_backward(xp, g_lower, g_upper, s.P, s.L, s.U)


linalg_lu = primitive("linalg_lu", _lu, "LinalgLuBackward0", inputs=("A",), params=("pivot",), outputs=3,
                      differentiable_outputs=(1, 2), output_names=("P", "L", "U"), saves=(("P", "L", "U"),),
                      vjp=(_lu_vjp,))


def _unpack_vjp(g, s):
    xp, (g_lower, g_upper) = s.xp, g  # the node's outputs: L and U (P is not differentiable)
    m, n = s.LU_data_sym_argsize_minus_2, s.LU_data_sym_argsize_minus_1
    if (g_lower if g_lower is not None else g_upper).ndim < 2:
        # NOTE: unpack_data=False leaves L and U empty (1-D): PyTorch's rule refuses them so
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    # each part where given (not None), as LU's packed layout: L below the diagonal (m × k), U on and above (k × n)
    lower = None if g_lower is None else tril(xp, g_lower, -1)
    upper = None if g_upper is None else triu(xp, g_upper)
    if m > n and upper is not None:  # U's rows below L's square part are zeros
        rest = np.zeros(tuple(upper.shape[:-2]) + (m - n, n))
        upper = xp.concat([upper, constant(xp, rest, upper)], -2)
    elif m < n and lower is not None:
        lower = xp.concat([lower, constant(xp, np.zeros(tuple(lower.shape[:-1]) + (n - m,)), lower)], -1)
    if lower is None or upper is None:
        return upper if lower is None else lower
    return lower + upper


lu_unpack = primitive(
    "lu_unpack", unpack, "LuUnpackBackward0", inputs=("LU_data",), params=("LU_pivots", "unpack_data", "unpack_pivots"),
    unsaved=("LU_pivots", "unpack_data", "unpack_pivots"), attrs=("LU_data_sym_argsize_minus_1",
                                                                  "LU_data_sym_argsize_minus_2"),
    outputs=3, differentiable_outputs=(1, 2), output_names=("P", "L", "U"), vjp=(_unpack_vjp,))


def _solve_factored(lu, b, pivots, left, adjoint):
    """X with op(A) X = B (X op(A) = B with left=False), A = P L U given as getrf's (LU, pivots), op the conjugate
    transpose with adjoint."""
    if not left:  # X op(A) = B  ⇔  op(A)ᴴ Xᴴ = Bᴴ
        b_h = np.swapaxes(b, -1, -2).conj()
        return np.swapaxes(_solve_factored(lu, b_h, pivots, True, not adjoint), -1, -2).conj()
    p = permutation(pivots, lu.shape[-1], lu.dtype)
    if adjoint:  # Uᴴ Lᴴ Pᵀ X = B
        lu_h = np.swapaxes(lu, -1, -2).conj()
        inner = _solve_triangular(lu_h, _solve_triangular(lu_h, b, False, True, False), True, True, True)
        return np.matmul(p, inner)
    inner = np.matmul(np.swapaxes(p, -1, -2), b)
    return _solve_triangular(lu, _solve_triangular(lu, inner, False, True, True), True, True, False)


def _lu_solve_b_vjp(g, s):
    return s.xp.apply(linalg_lu_solve, (s.LU, g), (s.pivots, s.left, not s.adjoint))


def _lu_solve_lu_vjp(g, s):
    xp = s.xp
    gradient_b = _lu_solve_b_vjp(g, s)
    gradient = -xp.matmul(gradient_b, mT(xp, s.result)) if s.left else -xp.matmul(mT(xp, s.result), gradient_b)
    if s.adjoint:
        gradient = mT(xp, gradient)
    # from A's gradient to the packed factors': A = P L U
    p = constant(xp, permutation(_plain(s.pivots), s.LU.shape[-1], np.float64), s.LU)
    n = s.LU.shape[-1]
    lower = tril(xp, s.LU, -1) + constant(xp, np.eye(n), s.LU)
    gradient = xp.matmul(mT(xp, p), gradient)
    return tril(xp, xp.matmul(gradient, mT(xp, triu(xp, s.LU))), -1) + triu(xp, xp.matmul(mT(xp, lower), gradient))


# the engine sums gradients over batch dims LU or B were broadcast along
linalg_lu_solve = primitive(
    "linalg_lu_solve", _solve_factored, "LinalgLuSolveBackward0", inputs=("LU", "B"),
    params=("pivots", "left", "adjoint"), held=("pivots",), saves=(("LU", "result"), "LU"),
    vjp=(_lu_solve_lu_vjp, _lu_solve_b_vjp))


def _triangular_solve(b, a, upper, transpose, unitriangular):
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if transpose:  # Aᵀ X = B: the transposed triangle, the other way up
        solution = _solve_triangular(np.swapaxes(a, -1, -2), b, not upper, True, unitriangular)
    else:
        solution = _solve_triangular(a, b, upper, True, unitriangular)
    return solution, np.broadcast_to(a, batch + a.shape[-2:]).copy()


def _triangular_solve_self_vjp(g, s):
    gradient = g[0]
    if gradient is None:  # the coefficient's alone: B gets zeros, as PyTorch's triangular_solve_backward gives
        return s.xp.zeros(s.self_sym_sizes, s.xp.dtype_of(g[1]))
    return s.xp.apply(triangular_solve, (gradient, s.A), (s.upper, not s.transpose, s.unitriangular))[0]


def _triangular_solve_A_vjp(g, s):
    xp, (g_solution, g_coefficient) = s.xp, g
    gradient = None
    if g_solution is not None:
        gradient_b = _triangular_solve_self_vjp(g, s)
        gradient = (-xp.matmul(s.solution, mT(xp, gradient_b)) if s.transpose
                    else -xp.matmul(gradient_b, mT(xp, s.solution)))
        gradient = triu(xp, gradient, int(s.unitriangular)) if s.upper else tril(xp, gradient, -int(s.unitriangular))
    if g_coefficient is not None:
        gradient = g_coefficient if gradient is None else gradient + g_coefficient
    return gradient if gradient is not None else g_coefficient


# the engine sums gradients over batch dims B or A were broadcast along
triangular_solve = primitive(
    "triangular_solve", _triangular_solve, "TriangularSolveBackward0", inputs=("self", "A"),
    params=("upper", "transpose", "unitriangular"), attrs=("self_sym_sizes",), unsaved=("self_sym_sizes",), outputs=2,
    output_names=("solution", "cloned_coefficient"), saves=("A", ("self", "A", "solution")),
    vjp=(_triangular_solve_self_vjp, _triangular_solve_A_vjp))
