"""torch.svd_lowrank and torch.pca_lowrank: Halko, Martinsson and Tropp's randomized SVD, composed of torch.*
operations as PyTorch composes it (its graph, and its values after the same seed: the same randn draws, then QR and
SVD, whose vectors may differ from PyTorch's LAPACK by sign)."""

from __future__ import annotations

from gradscope import _dtypes
from gradscope.autograd.factories import randn
from gradscope.autograd.linalg_functions import qr, svd
from gradscope.autograd.products import matmul
from gradscope.autograd.tensor import Tensor


def _floating_dtype(A: Tensor):
    """A's dtype when floating or complex, else float32."""
    return A.dtype if A.dtype.is_floating_point or A.dtype.is_complex else _dtypes.float32


def _approximate_basis(A: Tensor, q: int, niter: int | None, M: Tensor | None) -> Tensor:
    """Q with q orthonormal columns whose span approximates A's range (of A - M when M is given): a Gaussian sketch of
    A, then `niter` subspace iterations (2 by default), each re-orthonormalised by QR."""
    niter = 2 if niter is None else niter
    sketch = randn(A.shape[-1], q, dtype=_floating_dtype(A))

    def times(left: Tensor, right: Tensor, minus: Tensor | None) -> Tensor:
        product = matmul(left, right)
        return product if minus is None else product - matmul(minus, right)

    Q = qr(times(A, sketch, M)).Q
    for _ in range(niter):
        Q = qr(times(A.mH, Q, None if M is None else M.mH)).Q
        Q = qr(times(A, Q, M)).Q
    return Q


def _svd_lowrank(A: Tensor, q: int | None, niter: int | None, M: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:  # the sketch is taken of the taller side
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = matmul(Q.mH, A)
    if M is not None:
        B = B - matmul(Q.mH, M)
    U, S, Vh = svd(B, full_matrices=False)
    U, V = matmul(Q, U), Vh.mH
    return (V, S, U) if m < n else (U, S, V)


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,
                M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(U, S, V) with A ≈ U diag(S) Vᴴ, of rank q (A - M's when M is given), by a randomized SVD.

    >>> U, S, V = gradscope.svd_lowrank(gradscope.randn(20, 10), q=3)
    >>> U.shape, S.shape, V.shape
    (torch.Size([20, 3]), torch.Size([3]), torch.Size([10, 3]))
    """
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True,
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """svd_lowrank of A with each column's mean taken out first (center=True): V's columns are the principal
    directions, S² / (m - 1) the variances along them. q defaults to min(6, m, n)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)
