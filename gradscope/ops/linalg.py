"""Matrix products. 1-D cases are separate ops because PyTorch names their nodes apart."""

from __future__ import annotations

import numpy as np

from gradscope.ops.namespace import NUMPY, half_einsum, kernel_scalar
from gradscope.ops.registry import Primitive, primitive, to_input


def _mT(xp, a):
    return xp.transpose(a, -2, -1)


# NOTE: as PyTorch's mm_mat1_backward/mm_mat2_backward, a gradient is computed in its input's layout: for
# a column-major input (the transpose of a C-ordered matrix, as `weight.t()` in a linear layer) as the
# transpose of a row-major product, so that after TBackward0 the weight's gradient is C-ordered, in the
# weight's layout, and needs no copy. Transposed with `xp.t`, as PyTorch's formulas with t(): under
# create_graph the graph then has TBackward0 nodes where PyTorch's has (`.mT` would make TransposeBackward0).
# The engine's first-order path runs the array versions below (`_mm_array_vjps`, `_addmm_array_vjps`)
def _mat1_grad(g, mat2, sizes, strides, t):
    if strides[0] == 1 and strides[1] == sizes[0]:
        return t(mat2 @ t(g))
    return g @ t(mat2)


def _mat2_grad(g, mat1, sizes, strides, t):
    if strides[0] == 1 and strides[1] == sizes[0]:
        return t(t(g) @ mat1)
    return t(mat1) @ g


# NOTE: np.dot's C function, without the Python frame of its __array_function__ dispatcher (the operands here are
# a tensor's arrays, never another library's). Where every operand of a matrix product is dense (C or Fortran
# order) np.dot makes matmul's BLAS call, so it gives matmul's bits (and layout), without matmul's ufunc machinery:
# ~0.4 us of a 16x32 @ 32x32 product, two a narrow linear layer's backward, one its forward (F.linear's fast path).
# Elsewhere (strided or broadcast operands) the two may round differently, and past 2**18 multiply-adds np.dot is
# the slower of the two (3-4% of a 64x256 @ 256x256 or a 512x1024 @ 1024x1024 product): matmul there
_DOT = getattr(np.dot, "_implementation", np.dot)
_DOT_WORK = 1 << 18
# the backward's products (the array joints below) take np.dot only up to 2**15 multiply-adds: there it is clearly
# faster (a narrow step -6%); at mlp_small's last layer (64x256x10) and the RNN cell's input product (32x64x128) an
# A/B on a loaded machine with two OpenBLAS threads read np.dot slower, not understood: matmul there, as before
_DOT_WORK_BACKWARD = 1 << 15
_MATMUL = np.matmul


def _mm_vjps(g, s, wanted) -> list:
    """MmBackward0's rules in one frame (F.linear without a bias, x @ w): a product has its matrix's shape and
    dtype (mm takes two matrices of one dtype)."""
    t = s.xp.t
    return [None if wanted[0] is None else _mat1_grad(g, s.mat2, s.self_sym_sizes, s.self_sym_strides, t),
            None if wanted[1] is None else _mat2_grad(g, s.self, s.mat2_sym_sizes, s.mat2_sym_strides, t)]


def _mm_array_vjps(g, mat2, mat1, attrs, wanted) -> list:
    """_mm_vjps on the saved arrays (`attrs`: the node's sizes and strides), for the engine's first-order path:
    addmm's without a bias (beta = alpha = 1), the same products in the same layouts."""
    sizes2, strides2, sizes, strides = attrs
    return _addmm_array_vjps(g, mat2, mat1, (1, 1, sizes, strides, sizes2, strides2), (None, *wanted))[1:]


mm = primitive("mm", np.matmul, "MmBackward0", inputs=("self", "mat2"), saves=("mat2", "self"),
               attrs=("mat2_sym_sizes", "mat2_sym_strides", "self_sym_sizes", "self_sym_strides"),
               vjp=(lambda g, s: _mat1_grad(g, s.mat2, s.self_sym_sizes, s.self_sym_strides, s.xp.t),
                    lambda g, s: _mat2_grad(g, s.self, s.mat2_sym_sizes, s.mat2_sym_strides, s.xp.t)),
               joint_vjp=_mm_vjps,
               array_joint_vjp=_mm_array_vjps)
bmm = primitive("bmm", np.matmul, "BmmBackward0", inputs=("self", "mat2"), saves=("mat2", "self"),
                vjp=(lambda g, s: s.xp.matmul(g, _mT(s.xp, s.mat2)),
                     lambda g, s: s.xp.matmul(_mT(s.xp, s.self), g)))
dot = primitive("dot", np.dot, "DotBackward0", inputs=("self", "tensor"), saves=("tensor", "self"),
                vjp=(lambda g, s: g * s.tensor, lambda g, s: g * s.self))
mv = primitive("mv", np.matmul, "MvBackward0", inputs=("self", "vec"), saves=("vec", "self"),
               vjp=(lambda g, s: s.xp.matmul(s.xp.reshape(g, (-1, 1)), s.xp.reshape(s.vec, (1, -1))),
                    lambda g, s: s.xp.matmul(_mT(s.xp, s.self), g)))


_HALF, _SINGLE = np.dtype(np.float16), np.dtype(np.float32)


def _addmm(bias, mat1, mat2, beta, alpha):
    if mat1.dtype is _HALF:  # (F.linear's and mm's short paths, float32 and float64 alone, never come here)
        return _addmm_in_single(bias, mat1, mat2, beta, alpha)
    product = np.matmul(mat1, mat2)
    if alpha != 1:
        product = product * kernel_scalar(product, alpha)
    scaled = bias if beta == 1 else kernel_scalar(bias, beta) * bias
    if scaled.dtype != product.dtype:  # promotes: a new array of the wider dtype
        return product + scaled
    # NOTE: added into the product, a fresh array, as PyTorch's addmm has one output buffer: a linear
    # layer's output is written once, not a second time into another array of its size
    product += scaled
    return product


def _addmm_in_single(bias, mat1, mat2, beta, alpha):
    """float16 addmm as PyTorch's: the product, its scale and the bias added in float32, rounded once (in float16 a
    product past 65504 was inf before alpha scaled it down or a bias cancelled it)."""
    return _addmm(bias.astype(_SINGLE), mat1.astype(_SINGLE), mat2.astype(_SINGLE), beta, alpha).astype(_HALF)


def _addmm_mat1_grad(g, s):
    grad = _mat1_grad(g, s.mat2, s.mat1_sym_sizes, s.mat1_sym_strides, s.xp.t)
    return grad if s.alpha == 1 else s.xp.mul_scalar(grad, s.alpha)


def _addmm_mat2_grad(g, s):
    grad = _mat2_grad(g, s.mat1, s.mat2_sym_sizes, s.mat2_sym_strides, s.xp.t)
    return grad if s.alpha == 1 else s.xp.mul_scalar(grad, s.alpha)


_sum_rows = np.add.reduce


def _addmm_vjps(g, s, wanted) -> list:
    """AddmmBackward0's rules in one frame (a linear layer's backward, on every step), each gradient then summed
    and cast to its input's shape and dtype here, as the engine would, in input order after every product (under
    create_graph the nodes are made in the rules' order, so a second backward adds in the same order). A row
    bias, the broadcast of every linear layer, takes g summed over rows."""
    bias, mat1, mat2 = wanted
    grads = [None, None, None]
    if bias is not None:
        grads[0] = g if s.beta == 1 else s.xp.mul_scalar(g, s.beta)
    if mat1 is not None:
        grad = _mat1_grad(g, s.mat2, s.mat1_sym_sizes, s.mat1_sym_strides, s.xp.t)
        grads[1] = grad if s.alpha == 1 else s.xp.mul_scalar(grad, s.alpha)
    if mat2 is not None:
        grad = _mat2_grad(g, s.mat1, s.mat2_sym_sizes, s.mat2_sym_strides, s.xp.t)
        grads[2] = grad if s.alpha == 1 else s.xp.mul_scalar(grad, s.alpha)
    if bias is not None:
        grad = grads[0]
        # NOTE: `is` is false for a Tensor's dtype (create_graph), which takes to_input's sum_to, as the rule's would;
        # an array takes add.reduce, what its sum(0) runs after a Python frame of NumPy's (_methods._sum)
        grads[0] = _sum_rows(grad, 0) if grad.dtype is bias[1] and grad.shape[1:] == bias[0] else (
            to_input(grad, bias, s.xp))
    if s.alpha != 1:  # a product's shape and dtype are its matrix's, unless a NumPy or complex alpha promoted it
        for index in (1, 2):
            if wanted[index] is not None:
                grads[index] = to_input(grads[index], wanted[index], s.xp)
    return grads


def _addmm_array_vjps(g, mat2, mat1, attrs, wanted) -> list:
    """_addmm_vjps on the saved arrays (`attrs`: the node's beta, alpha, sizes and strides), for the engine's
    first-order path: the same products in the same layouts, without a Saved built for them
    (Primitive.array_joint_vjp). A linear layer's backward, on every step."""
    beta, alpha, sizes, strides, sizes2, strides2 = attrs
    bias, left, right = wanted
    # _mat1_grad's and _mat2_grad's products. Past _DOT_WORK_BACKWARD multiply-adds (g is (n, out), mat1 (n, in))
    # np.dot gains nothing: matmul's operator, as the rules, without asking which product gives matmul's bits
    if g.size * sizes[1] > _DOT_WORK_BACKWARD:
        grad1 = None if left is None else (mat2 @ g.T).T if strides[0] == 1 and strides[1] == sizes[0] else (
            g @ mat2.T)
        grad2 = None if right is None else (g.T @ mat1).T if strides2[0] == 1 and strides2[1] == sizes2[0] else (
            mat1.T @ g)
    else:  # np.dot where it gives matmul's bits (see _DOT): the gradient in C order, the other operand dense
        left_product = right_product = _MATMUL
        if g.flags.c_contiguous:
            if left is not None and ((flags := mat2.flags).f_contiguous or flags.c_contiguous):
                left_product = _DOT
            if right is not None and ((flags := mat1.flags).c_contiguous or flags.f_contiguous):
                right_product = _DOT
        grad1 = None if left is None else left_product(mat2, g.T).T if strides[0] == 1 and strides[1] == sizes[0] else (
            left_product(g, mat2.T))
        grad2 = None if right is None else right_product(g.T, mat1).T if (
            strides2[0] == 1 and strides2[1] == sizes2[0]) else right_product(mat1.T, g)
    if alpha == 1 == beta:  # a linear layer's: no scale, no promotion
        return [None if bias is None else _sum_rows(g, 0) if g.dtype is bias[1] and g.shape[1:] == bias[0] else (
                    to_input(g, bias, NUMPY)), grad1, grad2]
    if alpha != 1:  # a NumPy or complex alpha may promote the products
        if grad1 is not None:
            grad1 = to_input(grad1 * alpha, left, NUMPY)
        if grad2 is not None:
            grad2 = to_input(grad2 * alpha, right, NUMPY)
    grad = None
    if bias is not None:
        if beta != 1:
            g = g * beta
        grad = _sum_rows(g, 0) if g.dtype is bias[1] and g.shape[1:] == bias[0] else to_input(g, bias, NUMPY)
    return [grad, grad1, grad2]


addmm = primitive("addmm", _addmm, "AddmmBackward0", inputs=("self", "mat1", "mat2"), params=("beta", "alpha"),
                  saves=((), "mat2", "mat1"),
                  attrs=("mat1_sym_sizes", "mat1_sym_strides", "mat2_sym_sizes", "mat2_sym_strides"),
                  vjp=(lambda g, s: g if s.beta == 1 else s.xp.mul_scalar(g, s.beta),
                       _addmm_mat1_grad, _addmm_mat2_grad), joint_vjp=_addmm_vjps, array_joint_vjp=_addmm_array_vjps)


def spell_out_ellipsis(equation: str, ndims: list[int]) -> str:
    """`equation` with each '...' written as letters of its own, one per dim it covers (aligned from the right
    across operands, as broadcasting aligns them), for operands of `ndims` dims: '...ij,jk' of a 3-D and a 2-D
    operand is 'Aij,jk->Aik' (an implicit output puts the ellipsis's dims first, as PyTorch's)."""
    equation = equation.replace(" ", "")
    if "." not in equation:
        return equation
    inputs, arrow, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != len(ndims):
        return equation  # parse_einsum's error
    spans = []
    for i, (sub, ndim) in enumerate(zip(subscripts, ndims)):
        _check_dots(sub, f"operand {i}")
        letters = len(sub.replace("...", ""))
        if letters > ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({letters}) is more than the "
                               f"number of dimensions ({ndim}) for operand {i}")
        spans.append(ndim - letters if "..." in sub else 0)
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in equation]
    batch = "".join(free[:max(spans)])
    subscripts = [sub.replace("...", batch[len(batch) - span:]) for sub, span in zip(subscripts, spans)]
    if not arrow:
        letters = "".join(subscripts)
        output = batch + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in batch))
    return ",".join(subscripts) + "->" + output.replace("...", batch)


def _check_dots(subscript: str, name: str) -> None:
    """PyTorch's errors for a '.' that is not one of a single '...'."""
    found, position = False, subscript.find(".")
    while position >= 0:
        if found:
            raise RuntimeError(f"einsum(): found '.' for {name} for which an ellipsis was already found")
        if subscript[position:position + 3] != "...":
            raise RuntimeError(f"einsum(): found '.' for {name} that is not part of any ellipsis")
        found, position = True, subscript.find(".", position + 3)


def parse_einsum(equation: str, n_operands: int) -> tuple[list[str], str]:
    """Split 'ij,jk->ik' into operand subscripts and output subscripts (implicit output: letters used once)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != n_operands:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(subscripts) < n_operands else
                           "einsum(): fewer operands were provided than specified in the equation")
    if not arrow:
        letters = "".join(subscripts)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return subscripts, output


def _einsum_vjp(g, s):
    """The gradient of operand i is the einsum of g with the other operands, written to i's subscripts;
    letters only operand i has (summed away) come back by broadcasting."""
    subscripts, output = parse_einsum(s.equation, len(s.shapes))
    grads = []
    for i, sub in enumerate(subscripts):
        others = [(other_sub, s.operands[j]) for j, other_sub in enumerate(subscripts) if j != i]
        available = set(output).union(*(set(o) for o, _ in others))
        kept = "".join(c for c in dict.fromkeys(sub) if c in available)
        spec = ",".join([output] + [o for o, _ in others]) + "->" + kept
        partial = s.xp.einsum(spec, g, *[value for _, value in others])
        unique = "".join(dict.fromkeys(sub))
        sizes = dict(zip(sub, s.shapes[i], strict=True))
        order = [kept.index(c) for c in unique if c in kept]
        partial = s.xp.permute(partial, tuple(order)) if order != sorted(order) else partial
        full = tuple(sizes[c] for c in unique)
        partial = s.xp.expand(s.xp.reshape(partial, tuple(sizes[c] if c in kept else 1 for c in unique)), full)
        if len(unique) < len(sub):  # a repeated letter ('ii->i') reads a diagonal: its gradient goes back there
            grid = np.indices(full, sparse=True)
            partial = s.xp.index_scatter(partial, s.shapes[i], tuple(grid[unique.index(c)] for c in sub), False)
        grads.append(partial)
    return grads


def _einsum_primitive(name: str, node: str, saves: tuple = ("operands",)) -> Primitive:
    return primitive(name, lambda arrays, equation, shapes: half_einsum(equation, *arrays), node,
                     inputs=("operands",), params=("equation", "shapes"), variadic=True, saves=saves,
                     vjp=(_einsum_vjp,))


# NOTE: PyTorch's einsum is a decomposition named after its last op: a view of a bmm when letters are
# contracted, a mul when none are; with one operand a sum, or a permute when nothing is summed. One
# operand's gradient reads no values (PyTorch's sum/permute/diagonal save none): nothing is saved,
# so, as there, backward may run through it twice.
einsum = _einsum_primitive("einsum", "ViewBackward0")
einsum_mul = _einsum_primitive("einsum_mul", "MulBackward0")
einsum_sum = _einsum_primitive("einsum_sum", "SumBackward1", saves=())
einsum_permute = _einsum_primitive("einsum_permute", "PermuteBackward0", saves=())


def einsum_primitive(equation: str, n_operands: int) -> Primitive:
    """The einsum primitive whose node is the one PyTorch's decomposition of `equation` ends in."""
    subscripts, output = parse_einsum(equation, n_operands)
    contracted = set("".join(subscripts)) - set(output)
    if n_operands == 1:
        return einsum_sum if contracted else einsum_permute
    return einsum if contracted else einsum_mul
