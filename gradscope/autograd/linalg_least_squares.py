"""torch.linalg.lstsq, matrix_rank, cond, eig and eigvals, with PyTorch's signatures, checks, error texts, named
results and graphs (cond is composed as PyTorch composes it: svdvals' ratio, or a norm times the norm of the inverse).

    >>> A = gradscope.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> gradscope.linalg.lstsq(A, gradscope.tensor([[1.0], [2.0], [3.0]])).solution
    tensor([[1.0000],
            [2.0000]])
"""

from __future__ import annotations

import math

import numpy as np

from gradscope._shapes import broadcast_shapes
from gradscope.autograd.dispatch import apply
from gradscope.autograd.grad_mode import is_grad_enabled
from gradscope.autograd.inplace import masked_fill_
from gradscope.autograd.linalg_functions import (
    _check_floating,
    _check_matrix,
    _check_square,
    _refuse_out_with_grad,
    _return_type,
    _type_name,
    _written,
    eigvalsh,
    matrix_norm,
    svdvals,
)
from gradscope.autograd.pointwise import nan_to_num
from gradscope.autograd.shape_functions import squeeze
from gradscope.autograd.tensor import Tensor
from gradscope.ops import linalg_eig as E
from gradscope.ops import linalg_least_squares as Q

linalg_lstsq = _return_type("linalg_lstsq", "solution", "residuals", "rank", "singular_values")
linalg_eig = _return_type("linalg_eig", "eigenvalues", "eigenvectors")

DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None):
    """The least-squares solution X of A X ≈ B (minimum-norm where A is rank-deficient), as the named
    (solution, residuals, rank, singular_values) of LAPACK's `driver` (gelsy by default on the CPU): residuals
    |A X - B|² per column only where A is tall and of full rank and the driver isn't gelsy, the rank but with gels,
    the singular values with gelsd and gelss; empty tensors otherwise. rcond (eps · max(m, n) by default) sets the
    singular values that count as zero (LinalgLstsqBackward0 on solution and residuals)."""
    if B.dim() < 1 or A.dim() < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if not (A.dim() >= B.dim() and A.dim() - B.dim() <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and (input.dim() - "
                           "other.dim()) <= 1")
    if driver is not None and driver not in DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A.dtype != B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_type_name(A)} and other's dtype {_type_name(B)}")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError("This function doesn't handle types other than float and double")
    vector = Q.is_vector_case(A.shape, B.shape)
    broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-1] if vector else B.shape[:-2]))
    if A.shape[-2] != (B.shape[-1] if vector else B.shape[-2]):
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    if rcond is None:
        rcond = float(np.finfo(A._data.dtype).eps) * max(m, n)
    return linalg_lstsq(apply(Q.linalg_lstsq, (A, B), (float(rcond), driver or "gelsy")))


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None, rtol=None, out=None) -> Tensor:
    """The number of singular values (|eigenvalues| with hermitian=True) above max(atol, rtol · σ_max), int64;
    rtol defaults to eps · max(m, n), or to 0 when only a positive atol is given. `tol` is the old name of atol.

    >>> gradscope.linalg.matrix_rank(gradscope.ones(3, 3))
    tensor(1)
    """
    if tol is not None:
        atol, rtol = tol, 0.0 if rtol is None else rtol
    _check_matrix(A, "torch.linalg.matrix_rank", "input")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError("This function doesn't handle types other than float and double")
    values = eigvalsh(A).abs() if hermitian else svdvals(A)
    array = values._data
    largest = array.max(axis=-1, initial=0.0)
    atol_value = 0.0 if atol is None else (atol._data if isinstance(atol, Tensor) else atol)
    if rtol is None:
        positive_atol = atol is not None and np.all(np.asarray(atol_value) > 0)
        rtol_value = 0.0 if positive_atol else np.finfo(array.dtype).eps * max(A.shape[-2:])
    else:
        rtol_value = rtol._data if isinstance(rtol, Tensor) else rtol
    threshold = np.maximum(atol_value, np.asarray(rtol_value) * largest)
    rank = (array > np.asarray(threshold)[..., None]).sum(axis=-1).astype(np.int64)
    return _written(Tensor._make(np.asarray(rank)), out)


def cond(A: Tensor, p=None, *, out: Tensor | None = None) -> Tensor:
    """The condition number of each matrix of A in the norm `p`: σ_max/σ_min (None, 2; -2 its inverse) for any shape,
    or for square A ‖A‖·‖A⁻¹‖ in 'fro', 'nuc', ±1, ±inf (inf for a singular matrix).

    >>> gradscope.linalg.cond(gradscope.tensor([[2.0, 0.0], [0.0, 1.0]]))
    tensor(2.)
    """
    if p is not None and p not in ("fro", "nuc") and (isinstance(p, str) or p not in (1, -1, 2, -2, math.inf,
                                                                                      -math.inf)):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p:g}" if not isinstance(p, str)
                           else f"linalg.cond got an invalid norm type: {p}")
    if A.dim() < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p is None or p in (2, -2):
        singular = svdvals(A)
        first, last = singular[..., :1], singular[..., -1:]
        return _written(squeeze(first / last if p != -2 else last / first, -1), out)
    _check_square(A, f"linalg.cond(ord={p if isinstance(p, str) else format(p, 'g')})")
    _check_floating(A, "linalg.cond")
    if p == "nuc":
        singular = svdvals(A)
        return _written(singular.sum(-1) * singular.reciprocal().sum(-1), out)
    inverse, info = apply(Q.linalg_inv_ex, (A,))
    masked_fill_(inverse, (info > 0).unsqueeze(-1).unsqueeze(-1), math.inf)
    return _written(nan_to_num(matrix_norm(A, p) * matrix_norm(inverse, p), math.inf, math.inf), out)


# ------------------------------------------------------------------------------- eigen-decomposition
def _check_eig(A: Tensor, name: str) -> None:
    _check_matrix(A, "linalg.eig")
    _check_square(A, name)
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"Unknown Complex ScalarType for {_type_name(A)}")
    if not np.isfinite(A._data).all():
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")


def eig(A: Tensor, *, out=None):
    """Eigenvalues and eigenvectors of a general square matrix, complex (complex64 for float32), each eigenvector of
    unit norm with its largest component real (LinalgEigBackward0).

    >>> gradscope.linalg.eig(gradscope.tensor([[0.0, -1.0], [1.0, 0.0]])).eigenvalues
    tensor([0.+1.j, 0.-1.j])
    """
    _refuse_out_with_grad(out, "linalg_eig", A)
    _check_eig(A, "linalg.eig")
    return _written(linalg_eig(apply(E.linalg_eig, (A,))), out)


def eigvals(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """eig's eigenvalues (output 0 of its LinalgEigBackward0, as PyTorch's)."""
    _refuse_out_with_grad(out, "linalg_eig", A)
    # NOTE: PyTorch's eigvals is linalg.eig itself, in its words, when A needs a gradient
    _check_eig(A, "linalg.eig" if A.requires_grad and is_grad_enabled() else "linalg.eigvals")
    return _written(apply(E.linalg_eig, (A,))[0], out)
