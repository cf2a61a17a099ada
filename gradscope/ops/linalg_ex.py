"""linalg.cholesky_ex and linalg.solve_ex (LinalgCholeskyExBackward0, LinalgSolveExBackward0): the factorisation and
the solve with their LAPACK `info` per matrix instead of an error, as PyTorch's; their rules are cholesky's and
solve's (ops/linalg_decomp.py, linalg_solve.py), on the first output.

Where a matrix fails, its result is undefined in PyTorch's words: cholesky_ex's is potf2's partial factor (the
columns before the failing one, the failing diagonal entry as computed, the rest of the lower triangle as given),
solve_ex's the substitution's inf/nan.
"""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops.linalg_decomp import _cholesky_vjp
from gradscope.ops.linalg_lu import _solve_factored, lu_factor
from gradscope.ops.linalg_solve import _solve, _solve_A_vjp, _solve_B_vjp, is_vector_rhs
from gradscope.ops.registry import primitive


def _partial_cholesky(matrix: np.ndarray) -> tuple[np.ndarray, int]:
    """potf2 (lower): the factor column by column, stopping at the first non-positive pivot (its 1-based order)."""
    factor = np.tril(matrix).astype(matrix.dtype, copy=True)
    for j in range(matrix.shape[0]):
        pivot = factor[j, j] - np.vdot(factor[j, :j], factor[j, :j]).real
        if not pivot > 0:
            factor[j, j] = pivot
            return factor, j + 1
        factor[j, j] = np.sqrt(pivot)
        factor[j + 1:, j] = (factor[j + 1:, j] - factor[j + 1:, :j] @ factor[j, :j].conj()) / factor[j, j]
    return factor, 0


def _cholesky_ex(a, upper):
    source = np.swapaxes(a, -1, -2).conj() if upper else a  # U = Lᴴ of Aᴴ's lower triangle: A's upper one
    stack = source.reshape((math.prod(a.shape[:-2]),) + a.shape[-2:])  # (-1 can't size a stack of 0 × 0 ones)
    factors = np.empty_like(stack)
    info = np.zeros(len(stack), dtype=np.int32)
    for index, matrix in enumerate(stack):
        try:
            factors[index] = np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            factors[index], info[index] = _partial_cholesky(matrix)
    factors = factors.reshape(a.shape)
    return (np.swapaxes(factors, -1, -2).conj() if upper else factors), info.reshape(a.shape[:-2])


linalg_cholesky_ex = primitive("linalg_cholesky_ex", _cholesky_ex, "LinalgCholeskyExBackward0", inputs=("A",),
                               params=("upper",), outputs=2, differentiable_outputs=(0,), output_names=("L", "info"),
                               saves=("L",), vjp=(lambda g, s: _cholesky_vjp(g[0], s),))


def _solve_ex(a, b, left):
    lu, pivots, info = lu_factor(a)
    if not info.any():
        return _solve(a, b, left), info
    vector = is_vector_rhs(a.shape, b.shape)
    rhs = b[..., None] if vector else b
    with np.errstate(divide="ignore", invalid="ignore"):
        result = _solve_factored(lu, rhs, pivots, left, False)
    return (result[..., 0] if vector else result), info


# the engine sums gradients over batch dims A or B were broadcast along
linalg_solve_ex = primitive("linalg_solve_ex", _solve_ex, "LinalgSolveExBackward0", inputs=("A", "B"),
                            params=("left",), attrs=("B_sym_sizes",), unsaved=("B_sym_sizes",), outputs=2,
                            differentiable_outputs=(0,),
                            output_names=("result", "info"), saves=(("A", "result"), "A"),
                            vjp=(lambda g, s: _solve_A_vjp(g[0], s), lambda g, s: _solve_B_vjp(g[0], s)))
