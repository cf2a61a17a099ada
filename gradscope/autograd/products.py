"""Matrix products: matmul and its 1-D/2-D/batched cases, mm, bmm, dot, mv, outer, addmm, einsum."""

from __future__ import annotations

import math

import numpy as np

from gradscope import _dtypes
from gradscope._dtypes import cpp_type_name, legacy_type_name
from gradscope._shapes import broadcast_shapes
from gradscope.autograd import fused_products
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import _operands, mul
from gradscope.autograd.shape_functions import contiguous, expand, reshape, squeeze, t, transpose, unsqueeze
from gradscope.ops import linalg as L
from gradscope.ops import shape as S


def matmul(input, other):
    a, b = input._data, other._data
    arrays = _operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        _check_matmul(a.shape[0], b.shape[0], "inconsistent tensor size, expected tensor [{0}] and src [{1}] to "
                      "have the same number of elements, but got {0} and {1} elements respectively", a, b)
        if a.dtype != b.dtype:
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_scalar_name(a)} and "
                               f"{_scalar_name(b)}")
        return apply(L.dot, (input, other), (), arrays)
    if a.ndim == 2 and b.ndim == 1:
        _check_matmul(a.shape[1], b.shape[0], "size mismatch, got input ({2}), mat ({2}x{0}), vec ({1})", a, b)
        if a.dtype != b.dtype:  # NOTE: PyTorch's mv is addmv into a result made like the vector, named first
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_scalar_name(b)}, "
                               f"{_scalar_name(a)}, and {_scalar_name(b)}")
        return apply(L.mv, (input, other), (), arrays)
    if b.ndim > 2 and not (a.ndim <= 2 and (input.requires_grad or a.ndim == 1
                                            and _foldable(np.swapaxes(b, -1, -2)))):
        # a batched product (bmm), unfolded: PyTorch checks that the batch dims broadcast, then bmm's sizes
        batch = math.prod(broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        if a.shape[-1] != b.shape[-2]:
            raise RuntimeError(_batch2_error(batch, a.shape[-1], batch, b.shape[-2]))
    _check_matmul(a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0],
                  "mat1 and mat2 shapes cannot be multiplied ({2}x{0} and {1}x{3})", a, b)
    if a.ndim == 1 and b.ndim == 2:  # NOTE: PyTorch ends a vector @ matrix with an in-place squeeze_
        return apply(S.squeeze_, (matmul(unsqueeze(input, 0), other),), ((0,),))
    if a.ndim == 2 and b.ndim == 2:
        if a.dtype != b.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {cpp_type_name(a.dtype)} != "
                               f"{cpp_type_name(b.dtype)}")
        return apply(L.mm, (input, other), (), arrays)
    if a.ndim >= 3 and b.ndim <= 2 and (other.requires_grad or _foldable(a)):
        # NOTE: PyTorch folds a batch @ matrix (or vector) into one mm (mv): the batch reshaped to rows (a view, or
        # a clone and _unsafe_view), the product's rows viewed back (UnsafeViewBackward0); it folds whenever the
        # matrix requires grad, else only when the reshape needs no copy
        product = matmul(reshape(input, (math.prod(a.shape[:-1]), a.shape[-1])), other)  # (-1 can't size 0 × 0)
        return apply(S.unsafe_view, (product,), (a.shape[:-1] + b.shape[1:],))
    broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if a.ndim == 3 == b.ndim and a.shape[0] == 1 != b.shape[0]:
        return matmul(squeeze(input, 0), other)
    if a.ndim <= 2 and b.ndim > 2 and (input.requires_grad or a.ndim == 1 and _foldable(np.swapaxes(b, -1, -2))):
        # NOTE: PyTorch folds the other way round: vector @ batch as other.mT @ vector, matrix @ batch as
        # (other.mT @ input.mT).mT, made contiguous (CloneBackward0)
        if a.ndim == 1:
            return matmul(transpose(other, -2, -1), input)
        return contiguous(transpose(matmul(transpose(other, -2, -1), t(input)), -2, -1))
    return _batched(input, other)


def _batched(input, other):
    """PyTorch's batched path: both operands expanded to the broadcast batch and reshaped to 3-D (a vector on
    the right to a column), one bmm, the product (squeezed back for a vector) viewed to the output shape."""
    a, b = input._data, other._data
    n, m = (a.shape[-2] if a.ndim > 1 else 1), a.shape[-1]
    k, p = (b.shape[-2], b.shape[-1]) if b.ndim > 1 else (b.shape[0], 1)
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    rows = math.prod(batch)
    left = reshape(expand(input, *batch, n, m), (rows, n, m))
    if b.ndim == 1:
        right = unsqueeze(reshape(expand(other, *batch, k), (rows, k)), 2)
    else:
        right = reshape(expand(other, *batch, k, p), (rows, k, p))
    product = bmm(left, right)
    if b.ndim == 1:
        product = squeeze(product, -1)
    shape = batch + ((n,) if a.ndim > 1 else ()) + ((p,) if b.ndim > 1 else ())
    return apply(S.unsafe_view, (product,), (shape,))


matmul = fused_products.mm(matmul)


def _foldable(a) -> bool:
    """Whether the batch dims collapse into one without a copy (PyTorch's stride test)."""
    if a.size == 0:
        return True
    strides = [stride // a.itemsize for stride in a.strides]
    return all(strides[i] == strides[i + 1] * a.shape[i + 1] for i in range(a.ndim - 2))


def _check_matmul(n, m, template, a, b):
    if n != m:
        rows = math.prod(a.shape[:-1]) if a.ndim > 1 else 1
        cols = b.shape[-1] if b.ndim > 1 else 1
        raise RuntimeError(template.format(n, m, rows, cols))


def mm(input, mat2):
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError("self must be a matrix" if input._data.ndim != 2 else "mat2 must be a matrix")
    return matmul(input, mat2)


def _batch2_error(batch: int, inner: int, batch2: int, inner2: int) -> str:
    return (f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {inner}] but got: "
            f"[{batch2}, {inner2}].")


def bmm(input, mat2):
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(_batch2_error(a.shape[0], a.shape[2], b.shape[0], b.shape[1]))
    if input._data.dtype != mat2._data.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(input._data)} but found {_scalar_name(mat2._data)}")
    return apply(L.bmm, (input, mat2), (), _operands(input, mat2))


def dot(input, other):
    return matmul(input, other)


def mv(input, vec):
    return matmul(input, vec)


def outer(input, vec2):
    return mul(unsqueeze(input, 1), vec2)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    bias, a, b = input._data, mat1._data, mat2._data
    if not (bias.dtype == a.dtype == b.dtype and a.ndim == 2 == b.ndim and a.shape[1] == b.shape[0]
            and bias.shape in ((b.shape[1],), (a.shape[0], b.shape[1]))):  # a linear layer's bias, or a full one
        _check_addmm(bias, a, b)  # raises PyTorch's error, or passes any other bias that expands
    return apply(L.addmm, (input, mat1, mat2), (beta, alpha), [bias, a, b])


def _check_addmm(bias, a, b) -> None:
    """PyTorch's addmm errors, in its order: dtypes, ranks, the product's shapes, then the bias's expand."""
    for first, name, second in ((bias, "self", b), (a, "mat1", b)):
        if first.dtype != second.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got {_scalar_name(first)} and "
                               f"{_scalar_name(second)}")
    for name, matrix in (("mat1", a), ("mat2", b)):
        if matrix.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {matrix.ndim}-D tensor")
    _check_matmul(a.shape[1], b.shape[0], "mat1 and mat2 shapes cannot be multiplied ({2}x{0} and {1}x{3})", a, b)
    shape = (a.shape[0], b.shape[1])
    if bias.ndim > 2:
        raise RuntimeError(f"expand({legacy_type_name(bias.dtype)}{{{list(bias.shape)}}}, size={list(shape)}): the "
                           f"number of sizes provided (2) must be greater or equal to the number of dimensions in "
                           f"the tensor ({bias.ndim})")
    for dim, (n, m) in reversed(list(enumerate(zip(bias.shape, shape[2 - bias.ndim:]), start=2 - bias.ndim))):
        if n not in (1, m):
            raise RuntimeError(f"The expanded size of the tensor ({m}) must match the existing size ({n}) at "
                               f"non-singleton dimension {dim}.  Target sizes: {list(shape)}.  Tensor sizes: "
                               f"{list(bias.shape)}")


def _broadcast_letters(equation: str, operands: tuple, batch: set) -> tuple:
    """Operands expanded where a letter has size 1 in them and n in another (an ellipsis's dims, the `batch` letters,
    broadcast), with PyTorch's errors for sizes that don't."""
    subscripts = equation.partition("->")[0].split(",")
    width = max(len([c for c in sub if c in batch]) for sub in subscripts)
    sizes: dict = {}
    for i, (sub, operand) in enumerate(zip(subscripts, operands)):
        span = len([c for c in sub if c in batch])
        for letter, size in zip(sub, operand._data.shape):
            seen = sizes.get(letter, 1)
            if size == 1 or seen == 1 or size == seen:
                if size != 1:
                    sizes[letter] = size
            elif letter in batch:  # NOTE: PyTorch's message lacks a space after the operand
                dim = width - span + [c for c in sub if c in batch].index(letter)
                raise RuntimeError(f"einsum(): dimension {dim} covered by ellipsis in operand {i}has size {size} which "
                                   f"does not broadcast with previously seen ellipsis with size {seen} for the "
                                   "respective dimension")
            else:
                raise RuntimeError(f"einsum(): subscript {letter} has size {size} for operand {i} which does not "
                                   f"broadcast with previously seen size {seen}")
    expanded = []
    for sub, operand in zip(subscripts, operands):
        shape = tuple(sizes.get(letter, 1) if size == 1 else size for letter, size in zip(sub, operand._data.shape))
        expanded.append(operand if shape == operand._data.shape or len(sub) != operand._data.ndim else
                        expand(operand, shape))
    return tuple(expanded)


def _scalar_name(array) -> str:
    """'Float' for float32, as PyTorch names scalar types in its dtype errors."""
    return legacy_type_name(array.dtype)[len("torch."):-len("Tensor")]


def einsum(equation: str, *operands):
    """Einstein summation, e.g. `einsum('ij,jk->ik', a, b)`; '...' stands for the dims no letter names, broadcast
    across operands (`einsum('...ij,...jk->...ik', a, b)` is a batched matmul)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if "." in equation:
        spelled = L.spell_out_ellipsis(equation, [o._data.ndim for o in operands])
        operands = _broadcast_letters(spelled, operands, set(spelled) - set(equation))
        equation = spelled
    if any(o._data.dtype.kind in "biu" for o in operands):
        # PyTorch first sums away, with sum(), the letters an operand alone has (not the result): integers and bools
        # so summed come out int64, and may then meet another operand's int32 in a contraction (refused below)
        operands = tuple(o.to(_dtypes.int64) if o._data.dtype.kind in "biu" and alone else o
                         for o, alone in zip(operands, _sums_a_letter_alone(equation)))
    if len(operands) > 1 and any(o._data.dtype.kind == "b" for o in operands) and _contracts_across(equation):
        raise NotImplementedError('"bmm" not implemented for \'Bool\'')  # PyTorch contracts a pair with bmm
    if len(operands) > 1 and len({o._data.dtype for o in operands}) > 1 and _contracts_across(equation):
        # NOTE: PyTorch contracts operand pairs with bmm, which refuses two dtypes; products alone promote
        first = operands[0]._data
        other = next(o._data for o in operands if o._data.dtype != first.dtype)
        raise RuntimeError(f"expected scalar type {_scalar_name(first)} but found {_scalar_name(other)}")
    op = L.einsum_primitive(equation, len(operands))
    arrays = [o._data for o in operands]
    return apply(op, operands, (equation, tuple(a.shape for a in arrays)), arrays)


def _contracts_across(equation: str) -> bool:
    """Whether some letter the result lacks appears in two operands or more (a contraction, not a product)."""
    given, arrow, result = equation.partition("->")
    subscripts = given.split(",")
    letters = "".join(subscripts)
    kept = set(result) if arrow else {c for c in letters if letters.count(c) == 1}
    return any(c not in kept and sum(c in sub for sub in subscripts) > 1 for c in set(letters) if c.isalpha())


def _sums_a_letter_alone(equation: str) -> list[bool]:
    """Per operand, whether it has a letter that neither another operand nor the result has (implicitly, the
    result has the letters that appear once)."""
    given, arrow, result = equation.partition("->")
    subscripts = given.split(",")
    letters = "".join(subscripts)
    kept = {c for c in result if c.isalpha()} if arrow else {c for c in letters if letters.count(c) == 1}
    return [any(c.isalpha() and c not in kept and not any(c in other for other in subscripts[:i] + subscripts[i + 1:])
                for c in subscript) for i, subscript in enumerate(subscripts)]
