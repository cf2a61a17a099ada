"""parametrizations.orthogonal: a matrix (or a stack of them) kept orthogonal by a map from unconstrained
parameters, PyTorch's three of them: the exponential or the Cayley map of a skew-symmetric matrix built from
the lower triangle, or a product of Householder reflectors (the default for non-square matrices). A wide matrix
is handled transposed.

With the trivialization (the default) a buffer `base` holds an orthogonal matrix the map's result multiplies,
and assigning a matrix stores it there (made orthogonal by a QR factorisation first, completed with random
columns when it is not square, from the same generator stream as PyTorch's) and sets the parameter to -I, which
every map sends to I (the Householder map reads the sign of the diagonal). Real matrices only, as gradscope's
tensors are.
"""

from __future__ import annotations

from enum import Enum, auto

from gradscope._runtime import finfo
from gradscope.autograd.factories import eye, randn, zeros_like
from gradscope.autograd.grad_mode import no_grad
from gradscope.autograd.linalg_aliases import geqrf, householder_product, matrix_exp
from gradscope.autograd.linalg_functions import solve
from gradscope.autograd.shape_functions import cat
from gradscope.autograd.tensor import Tensor
from gradscope.nn.module import Module
from gradscope.nn.utils import parametrize


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    base: Tensor

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()  # n·k - k(k-1)/2 parameters
            if n != k:  # completed to a square matrix by zero columns
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH  # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)⁻¹
                identity = eye(n, dtype=A.dtype)
                Q = solve(identity.add(A, alpha=-0.5), identity.add(A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            # the diagonal's signs (1 or -1) flip Q's columns; not a parameter of the map (an integer cast)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    @no_grad()
    def right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape "
                             f"{Q.shape}.")
        given = Q
        n, k = Q.size(-2), Q.size(-1)
        transposed = n < k
        if transposed:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                          "parametrizations when use_trivialization=False.")
            # the reflectors of Q's QR factorisation, with R's diagonal made positive through their signs
            A, tau = geqrf(Q)
            A.diagonal(dim1=-2, dim2=-1).sign_()
            A.diagonal(dim1=-2, dim2=-1)[tau == 0.0] *= -1  # LAPACK's tau is exactly 0 for a reflection it skips
            return A.mT if transposed else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # completed to an n × n orthogonal matrix by random columns
            completion = randn(*(Q.size()[:-2] + (n, n - k)), dtype=Q.dtype)
            Q = _make_orthogonal(cat([Q, completion], dim=-1))
        self.base = Q
        identity = zeros_like(given)
        identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)  # -I: every map sends it to I
        return identity


def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.size(-2), Q.size(-1)
    return bool((Q.mH @ Q).allclose(eye(k, dtype=Q.dtype), atol=10.0 * n * finfo(Q.dtype).eps))


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A = QR (A tall) with R's diagonal non-negative."""
    X, tau = geqrf(A)
    Q = householder_product(X, tau)
    Q *= X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)
    return Q


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Keep `module.<name>` (a matrix or a stack of them) orthogonal: orthonormal columns when it is tall,
    orthonormal rows when it is wide. `orthogonal_map` is "matrix_exp" (the default for square matrices),
    "cayley" or "householder" (the default otherwise).

    >>> m = orthogonal(nn.Linear(3, 5))
    >>> torch.allclose(m.weight.T @ m.weight, torch.eye(3), atol=1e-6)
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.size(-2) == weight.size(-1) else "householder"
    map_kind = getattr(_OrthMaps, orthogonal_map, None)
    if map_kind is None:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
                         f"{orthogonal_map}")
    parametrize.register_parametrization(
        module, name, _Orthogonal(weight, map_kind, use_trivialization=use_trivialization), unsafe=True)
    return module
