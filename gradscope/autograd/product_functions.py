"""torch.* products: tensordot, kron, cross, cdist, dist, baddbmm, addmv, addr, addbmm, chain_matmul, cartesian_prod,
meshgrid."""

from __future__ import annotations

import math

import numpy as np

from gradscope import _dtypes
from gradscope._dtypes import cpp_type_name
from gradscope._shapes import broadcast_shapes, elementwise_strides, normalize_dim, view_strides
from gradscope.autograd.dispatch import apply
from gradscope.autograd.errors import warn_once
from gradscope.autograd.functions import _operands, _refuse_bool_subtraction, clone, mul
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.out_arg import write_out
from gradscope.autograd.products import addmm, dot, mm
from gradscope.autograd.reductions import sum as reduction_sum
from gradscope.autograd.refusals import type_name
from gradscope.autograd.shape_functions import expand, permute, reshape, stack, view
from gradscope.autograd.tensor import Tensor
from gradscope.ops import shape as S
from gradscope.ops import tensor_products as P


def _contracted_dims(a: Tensor, b: Tensor, dims) -> tuple[list[int], list[int]]:
    """The dims to contract, as given (PyTorch's errors name them so; an int n is a's last n, b's first n)."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a._data.ndim, b._data.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims))
    first, second = dims
    first = [first] if isinstance(first, int) else list(first)
    second = [second] if isinstance(second, int) else list(second)
    if len(first) != len(second):
        raise RuntimeError(f"both dimension lists should have same length, got {len(first)} and {len(second)}")
    return first, second


def tensordot(a, b, dims=2, out=None):
    """Sum of products over dims of `a` and `b` (the last `dims` of a with the first of b, or two lists):
    both permuted and flattened to matrices, one mm, reshaped (ViewBackward0), as PyTorch computes it."""
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    given_a, given_b = _contracted_dims(a, b, dims)
    for da, db in zip(given_a, given_b):
        first, second = a._data.shape[da], b._data.shape[db]
        # a contracted dim of size 1 broadcasts, as PyTorch's: the other side is summed over it first (SumBackward1)
        if second == 1:  # NOTE: also when both are 1, as PyTorch's (a SumBackward1 over nothing)
            a = reduction_sum(a, da, True, dtype=a.dtype)
        elif first == 1:
            b = reduction_sum(b, db, True, dtype=b.dtype)
        elif first != second:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {first} in dim {da} and "
                               f"second has size {second} in dim {db}")
    contract_a = [normalize_dim(d, a._data.ndim) for d in given_a]
    contract_b = [normalize_dim(d, b._data.ndim) for d in given_b]
    free_a = [d for d in range(a._data.ndim) if d not in contract_a]
    free_b = [d for d in range(b._data.ndim) if d not in contract_b]
    size = math.prod(a._data.shape[d] for d in contract_a)
    shape = tuple(a._data.shape[d] for d in free_a) + tuple(b._data.shape[d] for d in free_b)
    if math.prod(shape) == 1:  # one number: PyTorch's dot of the two flattened (DotBackward0; a vector as it is)
        left, right = permute(a, free_a + contract_a), permute(b, contract_b + free_b)
        left = left if left._data.ndim == 1 else reshape(left, (size,))
        right = right if right._data.ndim == 1 else reshape(right, (size,))
        return write_out("tensordot", reshape(dot(left, right), shape), out)
    left = reshape(permute(a, free_a + contract_a), (-1, size))
    right = reshape(permute(b, contract_b + free_b), (size, -1))
    return write_out("tensordot", reshape(mm(left, right), shape), out)


def kron(input, other, *, out=None):
    """The Kronecker product: every element of `input` times all of `other`, in blocks. As PyTorch:
    both reshaped with interleaved 1s, multiplied, and viewed back (UnsafeViewBackward0)."""
    ndim = max(input._data.ndim, other._data.ndim)
    a_shape = (1,) * (ndim - input._data.ndim) + input._data.shape
    b_shape = (1,) * (ndim - other._data.ndim) + other._data.shape
    a_view = tuple(n for size in a_shape for n in (size, 1))
    b_view = tuple(n for size in b_shape for n in (1, size))
    shape = tuple(m * n for m, n in zip(a_shape, b_shape))
    # NOTE: the last step is a view in PyTorch, so it fails where the product's layout (which follows the
    # inputs', as every elementwise op's) can't be viewed so: a transposed input, for one
    product_strides = elementwise_strides([(a_view, view_strides(input._data.shape, input.stride(), a_view)),
                                           (b_view, view_strides(other._data.shape, other.stride(), b_view))])
    if view_strides(tuple(map(max, a_view, b_view)), product_strides, shape) is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                           "spans across two contiguous subspaces). Use .reshape(...) instead.")
    product = mul(apply(S.unsafe_view, (input,), (a_view,)), apply(S.unsafe_view, (other,), (b_view,)))
    return write_out("kron", apply(S.unsafe_view, (product,), (shape,)), out)


def cross(input, other, dim=None, *, out=None):
    """The cross product of 3-vectors along `dim` (the first dim of size 3 when None, deprecated as in
    PyTorch); the inputs broadcast (LinalgCrossBackward0)."""
    shape = broadcast_shapes(input._data.shape, other._data.shape)
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if dim is None:
        warn_once("cross", "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                            "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change "
                            "to agree with that of linalg.cross in a future release.")
        dim = next((d for d, n in enumerate(shape) if n == 3), -1)
    d = normalize_dim(dim, len(shape))
    if input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input._data.shape[d]} "
                           f"and {other._data.shape[d]}")
    return write_out("cross", apply(P.cross, (input, other), (d,), _operands(input, other)), out)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 (..., P, M) and each of x2 (..., R, M): (..., P, R).
    Computed from the differences, whatever the compute_mode (PyTorch may use a matmul for p = 2)."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {type_name(x._data.dtype)}")
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} X2: "
                           f"{x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if x1._data.dtype.itemsize == 2 or x2._data.dtype.itemsize == 2:  # float16: PyTorch's kernel has no loop for it
        raise NotImplementedError("\"cdist\" not implemented for 'Half'")
    return apply(P.cdist, (x1, x2), (float(p),), _operands(x1, x2))


def dist(input, other, p=2):
    """The p-norm of input − other (broadcast), over all elements (DistBackward0)."""
    _refuse_bool_subtraction(input, other)
    arrays = _operands(input, other)
    common = np.result_type(*arrays)
    if common.kind not in "fc":
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got {type_name(common)} "
                           "instead.")
    return apply(P.dist, (input, other), (float(p),), arrays)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta · input + alpha · (batch1 @ batch2), matrices batched along dim 0 (BaddbmmBackward0)."""
    if batch1._data.ndim != 3 or batch2._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if batch1._data.ndim != 3 else "batch2 must be a 3D tensor")
    (b, n, k), (b2, k2, m) = batch1._data.shape, batch2._data.shape
    if b != b2 or k != k2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: "
                           f"[{b2}, {k2}].")
    broadcast_shapes(input._data.shape, (b, n, m))
    if input._data.dtype != batch1._data.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {cpp_type_name(input._data.dtype)}, batch1: "
                           f"{cpp_type_name(batch1._data.dtype)}, batch2: {cpp_type_name(batch2._data.dtype)}")
    if batch1._data.dtype != batch2._data.dtype:
        raise RuntimeError(f"expected scalar type {type_name(batch1._data.dtype)} but found "
                           f"{type_name(batch2._data.dtype)}")
    common = _dtypes.result_type([t._data for t in (input, batch1, batch2)])
    arrays = [t._data.astype(common, copy=False) for t in (input, batch1, batch2)]
    return write_out("baddbmm", apply(P.baddbmm, (input, batch1, batch2), (beta, alpha), arrays), out)


def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    return _inplace(self, lambda t, b1, b2: baddbmm(t, b1, b2, beta=beta, alpha=alpha), batch1, batch2)


def _chain_order(shapes: list[tuple]) -> list:
    """The cheapest parenthesisation of a matrix chain (the classic dynamic programme, as PyTorch's
    multi_dot): a nested [left, right] tree of matrix indices."""
    sizes = [shapes[0][0]] + [shape[1] for shape in shapes]
    n = len(shapes)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                candidate = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if candidate < cost[i][j]:
                    cost[i][j], split[i][j] = candidate, k

    def tree(i, j):
        return i if i == j else [tree(i, split[i][j]), tree(split[i][j] + 1, j)]
    return tree(0, n - 1)


def chain_matmul(*matrices, out=None):
    """The product of the matrices, multiplied in the cheapest order (deprecated in PyTorch, which warns)."""
    warn_once("chain_matmul", "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                               "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather "
                               "than multiple parameters.")
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if len(matrices) == 1:
        return write_out("chain_matmul", clone(matrices[0]), out)

    def multiply(node):
        return matrices[node] if isinstance(node, int) else mm(multiply(node[0]), multiply(node[1]))
    product = multiply(_chain_order([m._data.shape for m in matrices]))
    return write_out("chain_matmul", view(product, product._data.shape), out)


def meshgrid(*tensors, indexing=None):
    """Grids from 1-D tensors: each expanded along the others' dims ("ij"; "xy" swaps the first two)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warn_once("meshgrid", "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                               "argument.")
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    swap = indexing == "xy" and len(tensors) >= 2
    order = [1, 0] + list(range(2, len(tensors))) if swap else list(range(len(tensors)))
    shape = tuple(tensors[i]._data.size for i in order)
    grids = []
    for t in tensors:
        position = order.index(len(grids))
        grids.append(expand(view(t, tuple(-1 if d == position else 1 for d in range(len(shape)))), shape))
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, one per row (a meshgrid, flattened and stacked)."""
    for tensor in tensors:
        if tensor._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(tensor._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(grid, (-1,)) for grid in grids], 1)


def _check_expands(input: Tensor, shape: tuple) -> None:
    """PyTorch's error when the added input doesn't expand to the product's shape."""
    expand(input.detach(), shape)


def _same_dtype(name: str, *tensors: Tensor) -> None:
    if len({t._data.dtype for t in tensors}) > 1:
        names = [_dtypes.from_numpy_dtype(t._data.dtype).legacy_name[:-len("Tensor")] for t in tensors]
        raise RuntimeError(f"{name} input tensors must have the same dtype, but got {', '.join(names[:-1])}, and "
                           f"{names[-1]}")


def _integral_scalars(tensors, beta, alpha) -> None:
    """addr's refusal of a float beta or alpha for integer tensors (addmm, addmv, baddbmm and addbmm truncate it)."""
    if tensors[0]._data.dtype.kind in "biu":
        for name, value in (("beta", beta), ("alpha", alpha)):
            if isinstance(value, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta · input + alpha · (mat @ vec) (AddmvBackward0)."""
    if input._data.ndim > 1 or mat._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, {mat._data.ndim}, "
                           f"{vec._data.ndim}")
    (n, k), size = mat._data.shape, input._data.shape
    if vec._data.shape[0] != k or size and size[0] not in (1, n):
        raise RuntimeError(f"size mismatch, got input ({'x'.join(map(str, size))}), mat ({n}x{k}), vec "
                           f"({vec._data.shape[0]})")
    _same_dtype("addmv", input, mat, vec)
    return write_out("addmv", apply(P.addmv, (input, mat, vec), (beta, alpha)), out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta · input + alpha · outer(vec1, vec2) (AddrBackward0)."""
    for name, vector in (("vec1", vec1), ("vec2", vec2)):
        if vector._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {vector._data.ndim}-D")
    _check_expands(input, (vec1._data.shape[0], vec2._data.shape[0]))
    common = _dtypes.result_type([t._data for t in (input, vec1, vec2)])
    tensors = (input, vec1, vec2)
    _integral_scalars(tensors, beta, alpha)
    arrays = [t._data.astype(common, copy=False) for t in tensors]
    return write_out("addr", apply(P.addr, tensors, (beta, alpha), arrays), out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta · input + alpha · Σᵢ batch1[i] @ batch2[i] (AddbmmBackward0)."""
    for name, batch in (("batch1", batch1), ("batch2", batch2)):
        if batch._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    (b, n, k), (b2, k2, m) = batch1._data.shape, batch2._data.shape
    if b != b2:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b} and {b2}")
    if k != k2:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{k} and {k2}x{m})")
    _check_expands(input, (n, m))
    for first, name in ((input, "self"), (batch1, "mat1")):
        if first._data.dtype != batch2._data.dtype:
            names = [_dtypes.from_numpy_dtype(t._data.dtype).legacy_name[:-len("Tensor")] for t in (first, batch2)]
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got {names[0]} and {names[1]}")
    return write_out("addbmm", apply(P.addbmm, (input, batch1, batch2), (beta, alpha)), out)


def addmv_(self, mat, vec, *, beta=1, alpha=1):
    return _inplace(self, lambda t, a, b: addmv(t, a, b, beta=beta, alpha=alpha), mat, vec)


def addr_(self, vec1, vec2, *, beta=1, alpha=1):
    return _inplace(self, lambda t, a, b: addr(t, a, b, beta=beta, alpha=alpha), vec1, vec2)


def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    return _inplace(self, lambda t, a, b: addbmm(t, a, b, beta=beta, alpha=alpha), batch1, batch2)


def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    return _inplace(self, lambda t, a, b: addmm(t, a, b, beta=beta, alpha=alpha), mat1, mat2)


FUNCTIONS = ("tensordot", "kron", "cross", "cdist", "dist", "baddbmm", "chain_matmul", "meshgrid", "cartesian_prod",
             "addmv", "addr", "addbmm")
METHODS = {name: globals()[name] for name in ("kron", "cross", "dist", "baddbmm", "baddbmm_", "addmv", "addmv_",
                                              "addr", "addr_", "addbmm", "addbmm_", "addmm_")}
