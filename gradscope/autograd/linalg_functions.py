"""torch.linalg's functions (the public module is gradscope.linalg): inv, det, slogdet, solve, cholesky,
qr, eigh, eigvalsh, svd, svdvals, vector_norm, matrix_norm, norm, with PyTorch's signatures, checks,
error texts and node names.

The factorizations are primitives (ops/linalg_*.py) computed by numpy.linalg on stacks of matrices;
the norms are composed as PyTorch composes them (matrix_norm(A, 2) is the amax of the singular values,
an AmaxBackward0). Real inputs only.
"""

from __future__ import annotations

import math

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import broadcast_shapes, normalize_dim
from gradscope.autograd.dispatch import apply
from gradscope.autograd.grad_mode import is_grad_enabled
from gradscope.autograd.out_arg import _copy_into
from gradscope.autograd.reductions import amax, amin, linalg_vector_norm
from gradscope.autograd.tensor import Tensor
from gradscope.ops import linalg_decomp as D
from gradscope.ops import linalg_det as Det
from gradscope.ops import linalg_solve as S


class _LinAlgError(RuntimeError):
    """A matrix the operation can't handle (singular, not positive-definite): torch.linalg.LinAlgError."""


LinAlgError = _LinAlgError


class _ReturnType(tuple):
    """A named result (torch.return_types.linalg_qr(Q=..., R=...)): a tuple with attribute access."""

    _name = ""
    _fields: tuple[str, ...] = ()

    def __new__(cls, values):
        return super().__new__(cls, values)

    def __getattr__(self, field: str):
        if field in type(self)._fields:
            return self[type(self)._fields.index(field)]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{field}'")

    def __repr__(self) -> str:
        items = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self, strict=True))
        return f"torch.return_types.{self._name}(\n{items})"


def _return_type(name: str, *fields: str) -> type:
    return type(name, (_ReturnType,), {"_name": name, "_fields": fields, "__slots__": ()})


linalg_slogdet = _return_type("linalg_slogdet", "sign", "logabsdet")
linalg_qr = _return_type("linalg_qr", "Q", "R")
linalg_eigh = _return_type("linalg_eigh", "eigenvalues", "eigenvectors")
linalg_svd = _return_type("linalg_svd", "U", "S", "Vh")


# ------------------------------------------------------------------------------- checks
def _type_name(t: Tensor) -> str:
    return t.dtype.legacy_name[: -len("Tensor")]


def _check_floating(A: Tensor, name: str) -> None:
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_type_name(A)}")


def _check_matrix(A: Tensor, name: str, argument: str = "A") -> None:
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor {argument} must have at least 2 dimensions.")


def _check_square(A: Tensor, name: str) -> None:
    _check_matrix(A, name)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")


def _first_failure(A: Tensor, fails) -> tuple[int | None, object]:
    """(flat index of the first matrix of the stack `fails` says something about, or None for an
    unbatched A; what it said)."""
    stack = A._data.reshape(-1, *A.shape[-2:])
    for index, matrix in enumerate(stack):
        found = fails(matrix)
        if found:
            return (index if A.dim() > 2 else None), found
    raise AssertionError("numpy.linalg failed on no matrix of the stack")


def _batch_prefix(index: int | None) -> str:
    return "" if index is None else f"(Batch element {index}): "


def _zero_pivot(matrix: np.ndarray) -> int:
    """LAPACK getrf's info: the 1-based position of the first exactly zero pivot of the LU factorisation
    with partial pivoting, 0 when there is none."""
    u = matrix.astype(np.float64)
    for k in range(u.shape[0]):
        pivot = k + int(np.argmax(np.abs(u[k:, k])))
        if u[pivot, k] == 0:
            return k + 1
        u[[k, pivot]] = u[[pivot, k]]
        u[k + 1:, k:] -= np.outer(u[k + 1:, k] / u[k, k], u[k, k:])
    return 0


def _not_positive_definite(matrix: np.ndarray) -> int:
    """The order of the first leading minor (of the lower triangle) that is not positive-definite, 0 when
    there is none."""
    for order in range(1, matrix.shape[0] + 1):
        try:
            np.linalg.cholesky(matrix[:order, :order])
        except np.linalg.LinAlgError:
            return order
    return 0


# ------------------------------------------------------------------------------- inverses and solves
def inv(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of each square matrix of A (LinalgInvExBackward0).

    >>> gradscope.linalg.inv(gradscope.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    _refuse_out_with_grad(out, "linalg_inv_ex", A)
    _check_square(A, "linalg.inv")
    _check_floating(A, "linalg.inv")
    try:
        return _written(apply(S.linalg_inv, (A,)), out)
    except np.linalg.LinAlgError:
        index, pivot = _first_failure(A, _zero_pivot)
        raise _LinAlgError(f"linalg.inv: {_batch_prefix(index)}The diagonal element {pivot} is zero, the inversion "
                           "could not be completed because the input matrix is singular.") from None


def det(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The determinant of each square matrix of A (LinalgDetBackward0)."""
    _refuse_out_with_grad(out, "_linalg_det", A)
    _check_square(A, "linalg.det")
    _check_floating(A, "linalg.det")
    return _written(apply(Det.linalg_det, (A,)), out)


def slogdet(A: Tensor, *, out=None):
    """(sign, log|det|) of each square matrix of A (LinalgSlogdetBackward0); a singular matrix gives
    (0, -inf)."""
    _refuse_out_with_grad(out, "_linalg_slogdet", A)
    _check_square(A, "linalg.slogdet")
    _check_floating(A, "linalg.slogdet")
    return _written(linalg_slogdet(apply(Det.linalg_slogdet, (A,))), out)


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Tensor | None = None) -> Tensor:
    """X with A X = B (XA = B with left=False), A square, batch dims broadcast; B may be a (batch of)
    vector(s) (LinalgSolveExBackward0).

    >>> gradscope.linalg.solve(gradscope.tensor([[2.0, 0.0], [0.0, 4.0]]), gradscope.tensor([1.0, 1.0]))
    tensor([0.5000, 0.2500])
    """
    _refuse_out_with_grad(out, "_linalg_solve_ex", A, B)
    _check_square(A, "linalg.solve")
    _check_floating(A, "linalg.solve")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_type_name(A)} and B of type {_type_name(B)} instead")
    vector = S.is_vector_rhs(A.shape, B.shape)
    if B.dim() < 1 or (B.dim() < 2 and not vector):
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    rows, columns = (B.shape[-1], 1) if vector else B.shape[-2:]
    if (A.shape[-1] != rows) if left else (A.shape[-2] != columns):
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and {rows}x{columns})")
    broadcast_shapes(tuple(B.shape[:-1] if vector else B.shape[:-2]), tuple(A.shape[:-2]))
    try:
        return _written(apply(S.linalg_solve, (A, B), (bool(left),)), out)
    except np.linalg.LinAlgError:
        index, _ = _first_failure(A, _zero_pivot)
        raise _LinAlgError(f"torch.linalg.solve: {_batch_prefix(index)}The solver failed because the input matrix "
                           "is singular.") from None


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False,
                     out: Tensor | None = None) -> Tensor:
    """X with A X = B (XA = B with left=False) for a triangular A: only its upper or lower triangle is read
    (LinalgSolveTriangularBackward0). A zero on the diagonal gives inf/nan, not an error.

    >>> gradscope.linalg.solve_triangular(gradscope.tensor([[2.0, 0.0], [1.0, 4.0]]), gradscope.ones(2, 1), upper=False)
    tensor([[0.5000],
            [0.1250]])
    """
    _refuse_out_with_grad(out, "linalg_solve_triangular", A, B)
    _check_matrix(B, "linalg.solve_triangular", "B")
    _check_square(A, "linalg.solve_triangular")
    rows, columns = B.shape[-2:]
    if (A.shape[-1] != rows) if left else (A.shape[-2] != columns):
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and {rows}x{columns})")
    dtype = _dtypes.from_numpy_dtype(_dtypes.promote_types(A._data.dtype, B._data.dtype))
    if not (dtype.is_floating_point or dtype.is_complex):
        raise NotImplementedError(f'"triangular_solve_cpu" not implemented for \'{_type_name(A)}\'')
    broadcast_shapes(tuple(B.shape[:-2]), tuple(A.shape[:-2]))
    A, B = A.to(dtype), B.to(dtype)
    return _written(apply(S.linalg_solve_triangular, (A, B), (bool(upper), bool(left), bool(unitriangular))), out)


# ------------------------------------------------------------------------------- factorisations
def cholesky(A: Tensor, *, upper: bool = False, out: Tensor | None = None) -> Tensor:
    """L with A = L Lᵀ from A's lower triangle, or U with A = Uᵀ U from its upper triangle
    (LinalgCholeskyExBackward0)."""
    _refuse_out_with_grad(out, "linalg_cholesky_ex", A)
    _check_square(A, "linalg.cholesky")
    _check_floating(A, "linalg.cholesky")
    try:
        return _written(apply(D.linalg_cholesky, (A,), (bool(upper),)), out)
    except np.linalg.LinAlgError:
        index, order = _first_failure(A.mT if upper else A, _not_positive_definite)
        raise _LinAlgError(f"linalg.cholesky: {_batch_prefix(index)}The factorization could not be completed because "
                           f"the input is not positive-definite (the leading minor of order {order} is not "
                           "positive-definite).") from None


def qr(A: Tensor, mode: str = "reduced", *, out=None):
    """Q with orthonormal columns and upper-triangular R, A = Q R (LinalgQrBackward0); mode 'complete'
    gives a square Q, 'r' only R (and an empty Q)."""
    _refuse_out_with_grad(out, "linalg_qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
                           "'complete'")
    _check_matrix(A, "linalg.qr")
    _check_floating(A, "linalg.qr")
    return _written(linalg_qr(apply(D.linalg_qr, (A,), (mode,))), out)


def _uplo(UPLO: str) -> str:
    if UPLO.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


def _check_symmetric(A: Tensor, name: str) -> None:
    _check_square(A, name)
    if not A.dtype.is_floating_point:
        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{_type_name(A)}'")


def eigh(A: Tensor, UPLO: str = "L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric A, read from its lower (or
    upper) triangle (LinalgEighBackward0)."""
    _refuse_out_with_grad(out, "_linalg_eigh", A)
    uplo = _uplo(UPLO)
    _check_symmetric(A, "linalg.eigh")
    return _written(linalg_eigh(apply(D.linalg_eigh, (A,), (uplo,))), out)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out: Tensor | None = None) -> Tensor:
    """The eigenvalues of eigh (output 0 of its LinalgEighBackward0, as in PyTorch)."""
    _refuse_out_with_grad(out, "_linalg_eigh", A)
    uplo = _uplo(UPLO)
    _check_symmetric(A, "linalg.eigvalsh")
    return _written(apply(D.linalg_eigh, (A,), (uplo,))[0], out)


def _check_driver(driver) -> None:
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")


def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):
    """U, S (descending), Vh with A = U diag(S) Vh (LinalgSvdBackward0)."""
    _refuse_out_with_grad(out, "_linalg_svd", A)
    _check_matrix(A, "linalg.svd")
    _check_floating(A, "linalg.svd")
    _check_driver(driver)
    return _written(linalg_svd(apply(D.linalg_svd, (A,), (bool(full_matrices),))), out)


def svdvals(A: Tensor, *, driver=None, out: Tensor | None = None) -> Tensor:
    """The singular values of svd (output 1 of its LinalgSvdBackward0, as in PyTorch)."""
    _refuse_out_with_grad(out, "_linalg_svd", A)
    _check_matrix(A, "linalg.svd")
    _check_floating(A, "linalg.svd")
    _check_driver(driver)
    return _written(apply(D.linalg_svd, (A,), (False,))[1], out)


# ------------------------------------------------------------------------------- norms
def _cast_for_norm(x: Tensor, dtype, name: str) -> Tensor:
    """`x` in a norm's `dtype`, refused as PyTorch's: one that isn't floating or complex, a complex one for a real
    input (or the reverse), or one that narrows the input's."""
    if dtype is None or dtype == x.dtype:
        return x
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"{name}: dtype should be floating point or complex, but got {dtype.legacy_name[:-6]}")
    if x.dtype.is_complex != dtype.is_complex:
        raise RuntimeError(f"{name}: dtype should be {'complex' if x.dtype.is_complex else 'real'} for "
                           f"{'complex' if x.dtype.is_complex else 'real'} inputs, but got {dtype.legacy_name[:-6]}")
    if _dtypes.promote_types(x.dtype.numpy, dtype.numpy) != dtype.numpy:
        raise RuntimeError(f"{name}: the dtype of the input ({_type_name(x)}) should be convertible without narrowing "
                           f"to the specified dtype ({dtype.legacy_name[: -len('Tensor')]})")
    return x.to(dtype)


def vector_norm(input: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None,  # noqa: A002
                out: Tensor | None = None) -> Tensor:
    """(Σ|x|^ord)^(1/ord) over `dim` (every dim by default), ord = inf/-inf the max/min of |x|, 0 the
    count of nonzeros (LinalgVectorNormBackward0).

    >>> gradscope.linalg.vector_norm(gradscope.tensor([3.0, -4.0]))
    tensor(5.)
    """
    x = input  # PyTorch's parser calls it `input` (and takes `x`, NumPy's name); its docs call it x
    _refuse_out_with_grad(out, "linalg_vector_norm", x)
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not {type(ord).__name__}")
    _check_floating(x, "linalg.vector_norm")
    if math.isinf(ord) and not x.numel():
        raise RuntimeError(f"linalg.vector_norm cannot compute the {'inf' if ord > 0 else '-inf'} norm on an empty "
                           "tensor because the operation does not have an identity")
    x = _cast_for_norm(x, dtype, "linalg.vector_norm")
    return _written(linalg_vector_norm(x, ord, dim, keepdim), out)


def _order_text(ord) -> str:
    return ord if isinstance(ord, str) else f"{float(ord):g}"


def matrix_norm(input: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None,  # noqa: A002
                out: Tensor | None = None) -> Tensor:
    """'fro' (the 2-norm of the entries), 'nuc' (Σ singular values), 2/-2 (largest/smallest singular
    value), 1/-1 (max/min column sum of |A|), inf/-inf (max/min row sum) over the two dims `dim`."""
    A = input  # PyTorch's parser calls it `input` (its docs: A)
    if ord not in ("fro", "nuc") and (isinstance(ord, str) or abs(ord) not in (1, 2, math.inf)):
        raise RuntimeError(f"linalg.matrix_norm: Order {_order_text(ord)} not supported.")
    _check_matrix(A, "linalg.matrix_norm")
    _check_floating(A, "linalg.matrix_norm")
    dims = [dim] if isinstance(dim, int) else list(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    dims = [normalize_dim(d, A.dim()) for d in dims]
    if dims[0] == dims[1]:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, {dims[1]})")
    A = _cast_for_norm(A, dtype, "linalg.matrix_norm")
    if ord == "fro":
        return _written(linalg_vector_norm(A, 2, dims, keepdim), out)
    if ord == "nuc" or abs(ord) == 2:
        return _written(_singular_value_norm(A, ord, dims, keepdim), out)
    first, second = dims if abs(ord) == 1 else dims[::-1]  # the inf-norm is the 1-norm of the transpose
    if not keepdim and first < second:
        second -= 1
    sums = linalg_vector_norm(A, 1, first, keepdim)
    return _written(amax(sums, second, keepdim) if ord > 0 else amin(sums, second, keepdim), out)


def _singular_value_norm(A: Tensor, ord, dims, keepdim: bool) -> Tensor:
    """'nuc', 2 and -2: the singular values of A with `dims` moved last, summed or their max/min."""
    order = [d for d in range(A.dim()) if d not in dims] + dims
    singular = svdvals(A.permute(order))
    if ord == "nuc":
        result = singular.sum(-1, keepdim)
    else:
        result = amax(singular, -1, keepdim) if ord > 0 else amin(singular, -1, keepdim)
    if not keepdim:
        return result
    return result.unsqueeze(-1).permute([order.index(d) for d in range(A.dim())])


def norm(input: Tensor, ord=None, dim=None, keepdim: bool = False, *, out: Tensor | None = None,  # noqa: A002
         dtype=None) -> Tensor:
    """A vector norm (vector_norm) or, for a 2-D input or two dims, a matrix norm (matrix_norm); the
    2-norm of every entry when neither `ord` nor `dim` is given."""
    A = input  # PyTorch's parser calls it `input` (its docs: A)
    dims = None if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dims}")
    if dims is None and ord is not None and A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A.dim()}D.")
    if isinstance(ord, str) or (ord is not None and (len(dims) == 2 if dims is not None else A.dim() == 2)):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype, out=out)
    return _written(vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype), out)


def _refuse_out_with_grad(out, function: str, *inputs: Tensor) -> None:
    if out is not None and is_grad_enabled() and any(t.requires_grad for t in inputs):
        raise RuntimeError(f"{function}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")


def _written(result, out):
    """`result`, or copied into `out` (a tensor, or a tuple of them for a named result), resized as PyTorch
    resizes it."""
    if out is None:
        return result
    if isinstance(result, tuple):
        for target, value in zip(out, result, strict=True):
            _copy_into(value, target)
        return out
    _copy_into(result, out)
    return out
