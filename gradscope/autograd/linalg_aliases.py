"""torch.det, torch.inverse, torch.pinverse, … : the torch.* and Tensor.* forms of torch.linalg functions,
and the linalg functions they need besides (linalg.pinv, linalg.matrix_power, linalg.matrix_exp,
linalg.householder_product).

Each is what PyTorch 2.13 computes under the same name: `torch.det` is linalg.det (LinalgDetBackward0),
`torch.logdet` is slogdet's log|det| with nan where the determinant is negative (WhereBackward0),
`torch.matrix_power` multiplies by binary powers (MmBackward0 nodes), and the deprecated torch.cholesky
and torch.qr warn once, as PyTorch does.

    >>> A = gradscope.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> A.inverse()
    tensor([[ 0.6000, -0.2000],
            [-0.2000,  0.4000]], grad_fn=<LinalgInvExBackward0>)
"""

from __future__ import annotations

import numpy as np

from gradscope._shapes import broadcast_error
from gradscope.autograd import linalg_functions as L
from gradscope.autograd import reductions
from gradscope.autograd.complex_functions import conj
from gradscope.autograd.dispatch import apply
from gradscope.autograd.errors import warn_once
from gradscope.autograd.factories import eye, zeros
from gradscope.autograd.functions import clone, where
from gradscope.autograd.products import matmul
from gradscope.autograd.shape_functions import transpose
from gradscope.autograd.tensor import Tensor
from gradscope.ops import linalg_decomp as D
from gradscope.ops import linalg_matrix_functions as M
from gradscope.ops import linalg_pinv as P
from gradscope.ops import linalg_solve as S

slogdet_result = L._return_type("slogdet", "sign", "logabsdet")
qr_result = L._return_type("qr", "Q", "R")
svd_result = L._return_type("svd", "U", "S", "V")
geqrf_result = L._return_type("geqrf", "a", "tau")


# ------------------------------------------------------------------------------- torch.linalg additions
def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, out: Tensor | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse (LinalgPinvBackward0), through the SVD: singular values at or below
    max(atol, rtol · σ_max) count as zero. rtol defaults to eps · max(m, n), or to 0 when only atol is given.
    hermitian=True goes through eigh, as PyTorch's: only A's lower triangle is read."""
    L._refuse_out_with_grad(out, "linalg_pinv", A)
    if A.dim() < 2 or not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"linalg.pinv({L._type_name(A)}{{{list(A.shape)}}}): expected a tensor with 2 or more "
                           "dimensions of float, double, cfloat or cdouble types")
    if rtol is None:  # (a complex dtype's eps is its real part's)
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(A._data.dtype).eps * max(A.shape[-2:])
    return L._written(apply(P.linalg_pinv, (A,), (0.0 if atol is None else float(atol), float(rtol),
                                                 bool(hermitian))), out)


def matrix_power(A: Tensor, n: int, *, out: Tensor | None = None) -> Tensor:
    """A multiplied by itself n times; n = 0 gives the identity (CopyBackwards, in the graph), a negative n
    powers of the inverse. The products follow n's binary digits, as PyTorch's, so the nodes match."""
    L._check_square(A, "linalg.matrix_power")
    if n == 0:
        return L._written(clone(A).copy_(eye(A.shape[-1], dtype=A.dtype)), out)
    if n == 1:
        return L._written(clone(A), out)
    if n == -1:
        return L.inv(A, out=out)
    base = L.inv(A) if n < 0 else A
    n = abs(n)
    if n in (2, 3):
        square = matmul(base, base)
        return L._written(square if n == 2 else matmul(square, base), out)
    power = result = None
    while n:
        bit, n = n % 2, n // 2
        power = base if power is None else matmul(power, power)
        if bit:
            result = power if result is None else matmul(result, power)
    return L._written(result, out)


def matrix_exp(A: Tensor) -> Tensor:
    """The exponential of each square matrix of A (LinalgMatrixExpBackward0)."""
    L._check_square(A, "linalg.matrix_exp")
    L._check_floating(A, "linalg.matrix_exp")
    return apply(M.linalg_matrix_exp, (A,))


def householder_product(A: Tensor, tau: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The first n columns of H₁ ⋯ H_k, H_i = I - τ_i v_i v_iᵀ with v_i column i of A (m × n, m ≥ n) below the
    diagonal and 1 on it, k = len(τ) ≤ n (LinalgHouseholderProductBackward0): Q from geqrf's (A, τ)."""
    name = "torch.linalg.householder_product"
    L._refuse_out_with_grad(out, "linalg_householder_product", A, tau)
    if A.dim() < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if A.shape[-1] < tau.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if A.dim() - tau.dim() != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau.dim()} and input.ndim is equal to {A.dim()}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{list(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{name}: tau dtype {L._type_name(tau)} does not match input dtype {L._type_name(A)}")
    if not A.dtype.is_floating_point:
        raise NotImplementedError(f"\"orgqr_cpu\" not implemented for '{L._type_name(A)}'")
    return L._written(apply(M.linalg_householder_product, (A, tau)), out)


# ------------------------------------------------------------------------------- torch.* forms
def orgqr(input: Tensor, input2: Tensor) -> Tensor:
    """linalg.householder_product."""
    return householder_product(input, input2)


def geqrf(input: Tensor, *, out=None):
    """LAPACK's QR factorisation as it stores it (torch.return_types.geqrf): `a` holds R on and above the diagonal
    and the Householder vectors below it, `tau` their scales (GeqrfBackward0, which has no derivative)."""
    if input.dim() < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for '{L._type_name(input)}'")
    return L._written(geqrf_result(apply(M.geqrf, (input,))), out)


def det(input: Tensor) -> Tensor:
    """linalg.det (LinalgDetBackward0)."""
    return L.det(input)


def slogdet(input: Tensor, *, out=None):
    """linalg.slogdet, named torch.return_types.slogdet."""
    return slogdet_result(L.slogdet(input, out=out))


def logdet(input: Tensor) -> Tensor:
    """log det(A): log|det| where the determinant is positive, nan where negative, -inf where zero."""
    sign, logabsdet = L.slogdet(input)
    if input._data.dtype.kind == "c":  # log det = log|det| + i·arg(det), the sign being e^{i·arg}
        return logabsdet + sign.log()
    return where(sign == -1, float("nan"), logabsdet)


def inverse(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """linalg.inv (LinalgInvExBackward0)."""
    return L.inv(input, out=out)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """linalg.pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


def cholesky_inverse(input: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """The inverse of A from its Cholesky factor: (L Lᵀ)⁻¹, or (Uᵀ U)⁻¹ with upper=True
    (CholeskyInverseBackward0)."""
    L._refuse_out_with_grad(out, "cholesky_inverse", input)
    L._check_matrix(input, "cholesky_inverse")
    L._check_square(input, "cholesky_inverse")
    return L._written(apply(P.cholesky_inverse, (input,), (bool(upper),)), out)


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """X with A X = B for B = `input` and A = L Lᴴ given its Cholesky factor L = `input2` (Uᴴ U with upper=True);
    only the factor's triangle is read, batch dims broadcast (CholeskySolveBackward0).

    >>> gradscope.cholesky_solve(gradscope.ones(2, 1), gradscope.tensor([[2.0, 0.0], [1.0, 1.0]]))
    tensor([[0.0000],
            [0.5000]])
    """
    L._refuse_out_with_grad(out, "cholesky_solve", input, input2)
    for tensor, name in ((input, "b"), (input2, "u")):
        if tensor.dim() < 2:
            raise RuntimeError(f"{name} should have at least 2 dimensions, but has {tensor.dim()} dimensions instead")
    if input.dtype != input2.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {L._type_name(input)} and A "
                           f"of type {L._type_name(input2)} instead.")
    size = input2.shape[-1]
    if input2.shape[-2] != size:
        raise RuntimeError(f"A must be batches of square matrices, but they are {input2.shape[-2]} by {size} matrices")
    if input.shape[-2] != size:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {size} by {size} but each "
                           f"b matrix is {input.shape[-2]} by {input.shape[-1]}")
    batches = (tuple(input.shape[:-2]), tuple(input2.shape[:-2]))
    try:
        np.broadcast_shapes(*batches)
    except ValueError:
        raise RuntimeError(broadcast_error(batches)) from None
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f"\"cholesky_solve_cpu\" not implemented for '{L._type_name(input)}'")
    return L._written(apply(S.cholesky_solve, (input, input2), (bool(upper),)), out)


def cholesky(input: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """Deprecated torch.cholesky: linalg.cholesky under its old node name (CholeskyBackward0)."""
    warn_once("cholesky", "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a "
              "future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)"
              "\nand\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
              "This transform will produce equivalent results for all valid (symmetric positive definite) inputs.")
    L._refuse_out_with_grad(out, "cholesky", input)
    L._check_square(input, "cholesky")
    try:
        return L._written(apply(D.cholesky, (input,), (bool(upper),)), out)
    except np.linalg.LinAlgError:
        index, order = L._first_failure(input.mT if upper else input, L._not_positive_definite)
        raise L.LinAlgError(f"cholesky: {L._batch_prefix(index)}The factorization could not be completed because "
                            f"the input is not positive-definite (the leading minor of order {order} is not "
                            "positive-definite).") from None


def qr(input: Tensor, some: bool = True, *, out=None):
    """Deprecated torch.qr: linalg.qr, 'reduced' (some=True) or 'complete'."""
    warn_once("qr", "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
              "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = "
              "torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else "
              "'complete')")
    return qr_result(L.qr(input, "reduced" if some else "complete", out=out))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None):
    """(U, S, V) with input = U diag(S) Vᵀ: linalg.svd's V, not Vh (a TransposeBackward0 of it). Without
    compute_uv, U and V are zero-filled square matrices."""
    if not compute_uv:
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        values = L.svdvals(input)
        result = (zeros(batch + (m, m), dtype=input.dtype), values, zeros(batch + (n, n), dtype=input.dtype))
    else:
        u, s, vh = L.svd(input, full_matrices=not some)
        result = (u, s, conj(transpose(vh, -2, -1)))  # V = Vhᴴ (conj: none for a real input)
    return L._written(svd_result(result), out)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """torch.norm: a vector norm (reductions.norm), except a string order beyond 'fro' over at most two dims
    ('nuc', or 'fro' over three), which is linalg.matrix_norm over `dim` (every dim when None), as PyTorch's."""
    if isinstance(p, str) and not (p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2)):
        dims = list(range(input.dim())) if dim is None else [dim] if isinstance(dim, int) else dim
        return L.matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return reductions.norm(L._cast_for_norm(input, dtype, "linalg.vector_norm"), p, dim, keepdim)


FUNCTIONS = ("det", "slogdet", "logdet", "inverse", "pinverse", "matrix_power", "cholesky_inverse", "cholesky_solve",
             "cholesky", "qr", "svd", "matrix_exp", "orgqr", "geqrf", "norm")
METHODS = {name: globals()[name] for name in FUNCTIONS}
