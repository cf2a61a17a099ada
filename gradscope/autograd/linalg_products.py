"""torch.linalg's products and views composed of other ops, as PyTorch composes them (so the graph has PyTorch's
nodes): multi_dot (MmBackward0s in the cheapest order, under a ViewBackward0), vecdot (SumBackward1 of a
MulBackward0), vander (CatBackward0 of a CumprodBackward0), tensorinv and tensorsolve (an inverse or solve between
reshapes), cross, diagonal and matmul.

    >>> a, b, c = gradscope.ones(10, 2), gradscope.ones(2, 10), gradscope.ones(10, 1)
    >>> gradscope.linalg.multi_dot([a, b, c]).shape   # a(bc): 40 multiplications, not (ab)c's 300
    torch.Size([10, 1])
"""

from __future__ import annotations

import math

from gradscope.autograd.complex_functions import conj
from gradscope.autograd.composites import vdot
from gradscope.autograd.conversions import c_type_name
from gradscope.autograd.linalg_factorizations import solve_ex
from gradscope.autograd.linalg_functions import _check_floating, _type_name, _written, inv
from gradscope.autograd.product_functions import cross as _cross
from gradscope.autograd.products import matmul, mm
from gradscope.autograd.rearrange import diagonal as _diagonal
from gradscope.autograd.rearrange import movedim
from gradscope.autograd.reductions import sum as _sum
from gradscope.autograd.scans import cumprod
from gradscope.autograd.shape_functions import cat, expand, reshape, unsqueeze, view
from gradscope.autograd.tensor import Tensor

__all__ = ["adjoint", "cross", "diagonal", "matmul", "multi_dot", "tensorinv", "tensorsolve", "vander", "vecdot"]


def _dtype_name(t: Tensor) -> str:
    """How PyTorch's TypeMeta names a dtype in multi_dot's message: C type names, int64 as 'long int'."""
    return "long int" if t._data.dtype == "int64" else c_type_name(t._data.dtype)


def _chain_order(sizes: list[int]) -> list[list[int]]:
    """The classic matrix-chain table: split[i][j] is where the cheapest product of matrices i..j splits, matrix
    k being sizes[k] × sizes[k + 1] (the first split of least cost wins a tie, as PyTorch's)."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                total = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if cost[i][j] is None or total < cost[i][j]:
                    cost[i][j], split[i][j] = total, k
    return split


def _chain_product(matrices: list[Tensor], split, i: int, j: int) -> Tensor:
    if i == j:
        return matrices[i]
    k = split[i][j]
    return mm(_chain_product(matrices, split, i, k), _chain_product(matrices, split, k + 1, j))


def multi_dot(tensors, *, out: Tensor | None = None) -> Tensor:
    """The product of a chain of matrices, multiplied in the order that costs the fewest multiplications; the first
    may be a row vector and the last a column vector given as 1-D tensors (their dim is then dropped).

    >>> gradscope.linalg.multi_dot([gradscope.ones(3), gradscope.eye(3), gradscope.ones(3)])
    tensor(3.)
    """
    tensors = list(tensors)
    count = len(tensors)
    if count < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {count}")
    first, last = tensors[0], tensors[-1]
    shape = []
    if first.dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.dim()}D")
    matrices = list(tensors)
    if first.dim() == 1:
        matrices[0] = unsqueeze(first, 0)
    else:
        shape.append(first.shape[0])
    if last.dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.dim()}D")
    if last.dim() == 1:
        matrices[-1] = unsqueeze(last, -1)
    else:
        shape.append(last.shape[1])
    for index in range(1, count - 1):
        if tensors[index].dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {index} must be 2D but got {tensors[index].dim()}D")
    for index in range(1, count):
        if matrices[index].dtype != matrices[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_dtype_name(matrices[0])} and tensor {index} {_dtype_name(matrices[index])}")
        if matrices[index - 1].shape[-1] != matrices[index].shape[0]:
            pair = f"tensors {index - 1} and {index} with shapes {list(tensors[index - 1].shape)} and"
            raise RuntimeError(f"multi_dot(): {pair} {list(tensors[index].shape)} cannot be multiplied")
    if count == 2:
        product = mm(matrices[0], matrices[1])
    elif count == 3:  # (AB)C unless A(BC) is cheaper
        a, b, c, d = matrices[0].shape[0], matrices[1].shape[0], matrices[2].shape[0], matrices[2].shape[1]
        if a * c * (b + d) > b * d * (a + c):
            product = mm(matrices[0], mm(matrices[1], matrices[2]))
        else:
            product = mm(mm(matrices[0], matrices[1]), matrices[2])
    else:
        sizes = [matrix.shape[0] for matrix in matrices] + [matrices[-1].shape[1]]
        product = _chain_product(matrices, _chain_order(sizes), 0, count - 1)
    return _written(view(product, shape), out)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """Σ conj(x) · y along `dim`, x and y broadcast (SumBackward1 of a MulBackward0, a ConjBackward0 on a complex x).

    >>> gradscope.linalg.vecdot(gradscope.tensor([[1.0, 2.0], [3.0, 4.0]]), gradscope.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_type_name(x)} and y of type {_type_name(y)} instead")
    _check_floating(x, "linalg.vecdot")
    if x.dim() == 1 and y.dim() == 1:  # PyTorch's vecdot of two vectors is vdot: VdotBackward0, no broadcasting
        return _written(vdot(x, y), out)
    return _written(_sum(conj(x) * y, dim), out)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of each vector in x's last dim, columns x⁰, x¹, … x^(N-1) (increasing powers, unlike
    torch.vander): a column of ones before the cumulative products of x (CatBackward0).

    >>> gradscope.linalg.vander(gradscope.tensor([1.0, 2.0, 3.0]))
    tensor([[1., 1., 1.],
            [1., 2., 4.],
            [1., 3., 9.]])
    """
    kind = x._data.dtype.kind
    if kind not in "fciu":
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{_type_name(x)}")
    vectors = unsqueeze(x, -1) if x.dim() == 0 else x
    shape = list(vectors.shape)
    n = shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = cumprod(expand(unsqueeze(vectors, -1), shape + [n - 1]), -1)
    return cat([powers.new_ones(shape + [1]), powers], -1)


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """torch.cross along `dim` (the last by default) of inputs of one dtype (LinalgCrossBackward0)."""
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found {_type_name(other)}")
    return _cross(input, other, dim, out=out)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """torch.diagonal with the last two dims by default (DiagonalBackward0)."""
    return _diagonal(A, offset, dim1, dim2)


def tensorinv(A: Tensor, ind: int = 2, *, out: Tensor | None = None) -> Tensor:
    """The inverse of A for tensordot over its first `ind` dims: A reshaped to a square matrix, inverted, reshaped
    to A.shape[ind:] + A.shape[:ind] (LinalgInvExBackward0 between views; PyTorch's last view is a
    ReshapeAliasBackward0, an artefact of its column-major inverse)."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, columns = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != columns:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {columns} != {rows}")
    return _written(reshape(inv(reshape(A, (rows, columns))), tuple(A.shape[ind:]) + tuple(A.shape[:ind])), out)


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out: Tensor | None = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B: `dims` of A moved last, A reshaped to a square matrix, B to a vector,
    solved (LinalgSolveExBackward0), reshaped to A.shape[B.ndim:]."""
    if dims is not None:
        A = movedim(A, list(dims), list(range(A.dim() - len(dims), A.dim())))
    rows, columns = math.prod(A.shape[:B.dim()]), math.prod(A.shape[B.dim():])
    if rows != columns:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {columns} != {rows}")
    solution = solve_ex(reshape(A, (rows, columns)), reshape(B, (columns,)))[0]
    return _written(view(solution, tuple(A.shape[B.dim():])), out)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of each matrix: a view (TransposeBackward0), as Tensor.adjoint()."""
    return input.adjoint()
