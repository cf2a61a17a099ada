"""torch.linalg's LU family (lu_factor, lu_factor_ex, lu, lu_solve), torch.lu_unpack, the deprecated torch.lu,
torch.lu_solve and torch.triangular_solve, and linalg.inv_ex, cholesky_ex and solve_ex, with PyTorch's signatures,
checks, error texts, named results and node names (the primitives are in ops/linalg_lu.py and linalg_ex.py).

    >>> LU, pivots = gradscope.linalg.lu_factor(gradscope.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> gradscope.linalg.lu_solve(LU, pivots, gradscope.tensor([[1.0], [1.0]]))
    tensor([[-1.0000],
            [ 1.0000]])
"""

from __future__ import annotations

import numpy as np

from gradscope._shapes import broadcast_shapes
from gradscope.autograd.dispatch import apply, apply_holding
from gradscope.autograd.errors import warn_once
from gradscope.autograd.linalg_functions import (
    _batch_prefix,
    _check_floating,
    _check_square,
    _LinAlgError,
    _refuse_out_with_grad,
    _return_type,
    _type_name,
    _written,
)
from gradscope.autograd.tensor import Tensor
from gradscope.ops import linalg_ex as EX
from gradscope.ops import linalg_least_squares as Q
from gradscope.ops import linalg_lu as LU_OPS
from gradscope.ops.linalg_solve import is_vector_rhs

linalg_lu_factor = _return_type("linalg_lu_factor", "LU", "pivots")
linalg_lu_factor_ex = _return_type("linalg_lu_factor_ex", "LU", "pivots", "info")
linalg_lu = _return_type("linalg_lu", "P", "L", "U")
lu_unpack_result = _return_type("lu_unpack", "P", "L", "U")
triangular_solve_result = _return_type("triangular_solve", "solution", "cloned_coefficient")
linalg_inv_ex = _return_type("linalg_inv_ex", "inverse", "info")
lu_with_info = _return_type("_lu_with_info", "LU", "pivots", "infos")
linalg_cholesky_ex = _return_type("linalg_cholesky_ex", "L", "info")
linalg_solve_ex = _return_type("linalg_solve_ex", "result", "info")


def _check_factorable(A: Tensor, name: str, pivot: bool) -> None:
    if A.dim() < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} "
                           "instead")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_type_name(A)}'")
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None):
    """LAPACK's packed LU factorisation with partial pivoting, (LU, pivots, info): L below the diagonal (its unit
    diagonal implied), U on and above it, the 1-based int32 row interchanges, and per matrix the 1-based position of
    the first zero pivot (0 if none) (LinalgLuFactorExBackward0 on LU)."""
    _refuse_out_with_grad(out, "linalg_lu_factor_ex", A)
    _check_factorable(A, "linalg.lu_factor_ex", pivot)
    result = apply(LU_OPS.linalg_lu_factor_ex, (A,), (True,))
    if check_errors:
        _raise_for_zero_pivot(result[2], "torch.linalg.lu_factor_ex")
    return _written(linalg_lu_factor_ex(result), out)


def _raise_for_zero_pivot(info: Tensor, name: str) -> None:
    flat = info._data.reshape(-1)
    bad = np.flatnonzero(flat)
    if bad.size:
        index = int(bad[0]) if info.dim() else None
        position = int(flat[bad[0]])
        raise RuntimeError(f"{name}: {_batch_prefix(index)}U[{position},{position}] is zero and using it on lu_solve "
                           "would result in a division by zero. If you still want to perform the factorization, "
                           "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):
    """lu_factor_ex's (LU, pivots), raising for a matrix with a zero pivot (U singular) as PyTorch's.

    >>> gradscope.linalg.lu_factor(gradscope.tensor([[1.0, 2.0], [3.0, 4.0]])).pivots
    tensor([2, 2], dtype=torch.int32)
    """
    _refuse_out_with_grad(out, "linalg_lu_factor_ex", A)
    _check_factorable(A, "linalg.lu_factor", pivot)
    result = apply(LU_OPS.linalg_lu_factor_ex, (A,), (True,))
    _raise_for_zero_pivot(result[2], "torch.linalg.lu_factor")
    return _written(linalg_lu_factor(result[:2]), out)


def lu(A: Tensor, *, pivot: bool = True, out=None):
    """(P, L, U) with A = P L U: P a permutation matrix in A's dtype, L unit lower-trapezoidal, U upper-trapezoidal
    (LinalgLuBackward0 on L and U)."""
    _refuse_out_with_grad(out, "linalg_lu", A)
    if A.dim() < 2:
        raise RuntimeError(f"linalg.lu: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead")
    _check_factorable(A, "linalg.lu", pivot)
    return _written(linalg_lu(apply(LU_OPS.linalg_lu, (A,), (True,))), out)


def _check_pivots(LU: Tensor, pivots: Tensor, name: str, message: str) -> None:
    if pivots.dtype.numpy != np.int32:
        raise RuntimeError(message)
    if tuple(pivots.shape[:-1]) != tuple(LU.shape[:-2]) and name == "lu_unpack":
        raise RuntimeError("torch.lu_unpack: Expected LU_pivots.shape[:-1] to be the same as LU_data.shape[:-2], "
                           f"but got LU_pivots.shape[:-1]={list(pivots.shape[:-1])} and "
                           f"LU_data.shape[:-2]={list(LU.shape[:-2])}")


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True, *,
              out=None):
    """(P, L, U) from lu_factor's packed (LU, pivots); empty tensors for the parts not asked for
    (LuUnpackBackward0 on L and U)."""
    _refuse_out_with_grad(out, "lu_unpack", LU_data)
    _check_pivots(LU_data, LU_pivots, "lu_unpack", "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor "
                  "of torch.int32 dtype.\nNote: this function is intended to be used with the output produced by "
                  "torch.linalg.lu_factor")
    pivots = LU_pivots._data
    if pivots.size and (pivots.min() < 1 or pivots.max() > LU_data.shape[-2]):
        raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you properly "
                           "pass the result of lu_factor?")
    result = apply(LU_OPS.lu_unpack, (LU_data,), (pivots, bool(unpack_data), bool(unpack_pivots)))
    return _written(lu_unpack_result(result), out)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False,
             out: Tensor | None = None) -> Tensor:
    """X with A X = B (X A = B with left=False; Aᴴ with adjoint=True) for A given by lu_factor's (LU, pivots), batch
    dims broadcast (LinalgLuSolveBackward0)."""
    _refuse_out_with_grad(out, "linalg_lu_solve", LU, B)
    _check_pivots(LU, pivots, "lu_solve", "linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    _check_square(LU, "torch.linalg.lu_solve")
    if pivots.shape[-1] != LU.shape[-1]:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the dimension of the matrix")
    if B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        rows, columns = B.shape[-2:]
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{columns})")
    if LU.dtype != B.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{_type_name(LU)} and B of type {_type_name(B)} instead")
    broadcast_shapes(tuple(B.shape[:-2]), tuple(LU.shape[:-2]))
    result = apply_holding(LU_OPS.linalg_lu_solve, (LU, B), (pivots._data, bool(left), bool(adjoint)), (pivots,))
    return _written(result, out)


# ------------------------------------------------------------------------------- deprecated torch.* forms
def torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out=None):
    """Deprecated torch.lu: (LU, pivots), with infos when get_infos=True (then no error for a singular matrix)."""
    warn_once("lu", "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will "
              "be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced "
              "with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
              "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex("
              "A, compute_pivots)")
    result = tuple(lu_factor_ex(A, pivot=pivot, check_errors=not get_infos))
    result = lu_with_info(result) if get_infos else result[:2]
    return result if out is None else _written(result, out)


def torch_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Deprecated torch.lu_solve: linalg.lu_solve(LU_data, LU_pivots, b)."""
    warn_once("lu_solve", "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a "
              "future PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = "
              "torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)")
    return lu_solve(LU_data, LU_pivots, b, out=out)


def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False, *, out=None):
    """Deprecated torch.triangular_solve: (X with op(A) X = input, a copy of A), A's upper (or lower) triangle read,
    op the transpose with transpose=True, batch dims broadcast (TriangularSolveBackward0 on both)."""
    warn_once("triangular_solve", "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand "
              "will be removed in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed "
              "and does not return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be "
              "replaced with\nX = torch.linalg.solve_triangular(A, B).")
    _refuse_out_with_grad(out, "triangular_solve", input, A)
    for tensor, name in ((input, "b"), (A, "A")):
        if tensor.dim() < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 dimensions, but it has "
                               f"{tensor.dim()} dimensions instead")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} "
                           "matrices")
    if A.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{A.shape[-1]} by {A.shape[-1]} but each b matrix is {input.shape[-2]} by "
                           f"{input.shape[-1]}")
    if input.dtype != A.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_type_name(input)} and A of "
                           f"type {_type_name(A)} instead.")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for '{_type_name(A)}'")
    broadcast_shapes(tuple(input.shape[:-2]), tuple(A.shape[:-2]))
    result = apply(LU_OPS.triangular_solve, (input, A), (bool(upper), bool(transpose), bool(unitriangular)))
    return _written(triangular_solve_result(result), out)


def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """(inverse, info): linalg.inv without the error for a singular matrix, whose info is then the position of its
    first zero pivot (and its inverse not defined: nan here) (LinalgInvExBackward0)."""
    _refuse_out_with_grad(out, "linalg_inv_ex", A)
    _check_square(A, "linalg.inv_ex")
    _check_floating(A, "linalg.inv_ex")
    result = apply(Q.linalg_inv_ex, (A,))
    if check_errors:
        flat = result[1]._data.reshape(-1)
        bad = np.flatnonzero(flat)
        if bad.size:
            index = int(bad[0]) if A.dim() > 2 else None
            raise _LinAlgError(f"linalg.inv_ex: {_batch_prefix(index)}The diagonal element {int(flat[bad[0]])} is "
                               "zero, the inversion could not be completed because the input matrix is singular.")
    return _written(linalg_inv_ex(result), out)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):
    """(L, info): linalg.cholesky without the error for a matrix that is not positive-definite, whose info is then
    the order of its first leading minor that is not (and its L undefined) (LinalgCholeskyExBackward0).

    >>> gradscope.linalg.cholesky_ex(-gradscope.eye(2)).info
    tensor(1, dtype=torch.int32)
    """
    _refuse_out_with_grad(out, "linalg_cholesky_ex", A)
    _check_square(A, "linalg.cholesky")  # NOTE: PyTorch's _ex functions check in the plain ones' words
    _check_floating(A, "linalg.cholesky")
    result = apply(EX.linalg_cholesky_ex, (A,), (bool(upper),))
    if check_errors:
        flat = result[1]._data.reshape(-1)
        bad = np.flatnonzero(flat)
        if bad.size:
            index = int(bad[0]) if A.dim() > 2 else None
            raise _LinAlgError(f"linalg.cholesky_ex: {_batch_prefix(index)}The factorization could not be completed "
                               f"because the input is not positive-definite (the leading minor of order "
                               f"{int(flat[bad[0]])} is not positive-definite).")
    return _written(linalg_cholesky_ex(result), out)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out=None):
    """(result, info): linalg.solve without the error for a singular A, whose info is then the position of its first
    zero pivot (and its result inf/nan) (LinalgSolveExBackward0)."""
    _refuse_out_with_grad(out, "_linalg_solve_ex", A, B)
    _check_square(A, "linalg.solve")
    _check_floating(A, "linalg.solve")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_type_name(A)} and B of type {_type_name(B)} instead")
    vector = is_vector_rhs(A.shape, B.shape)
    rows, columns = (B.shape[-1], 1) if vector else B.shape[-2:]
    if (A.shape[-1] != rows) if left else (A.shape[-2] != columns):
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and {rows}x{columns})")
    broadcast_shapes(tuple(B.shape[:-1] if vector else B.shape[:-2]), tuple(A.shape[:-2]))
    result = apply(EX.linalg_solve_ex, (A, B), (bool(left),))
    if check_errors and result[1]._data.any():
        index = int(np.flatnonzero(result[1]._data.reshape(-1))[0]) if A.dim() > 2 else None
        raise _LinAlgError(f"torch.linalg.solve_ex: {_batch_prefix(index)}The solver failed because the input matrix "
                           "is singular.")
    return _written(linalg_solve_ex(result), out)
