"""linalg.matrix_exp, linalg.householder_product and geqrf (LinalgMatrixExpBackward0,
LinalgHouseholderProductBackward0, GeqrfBackward0), on stacks of real matrices.

The exponential is Higham's scaling and squaring with a degree-13 Padé approximant (PyTorch uses Taylor
polynomials of varying degree: both are exact to rounding). Its VJP is PyTorch's: the exponential of the block
matrix [[Aᵀ, G], [0, Aᵀ]], whose upper-right block is the gradient, so the second derivative is the rule again.

A Householder product Q = H₁ ⋯ H_k, H_i = I - τ_i v_i v_iᵀ, v_i column i of A below the diagonal with a 1 on it,
keeps A's shape (the first n columns of Q). Its VJP walks the reflectors, each step a few products through `xp`,
so it is differentiable again. geqrf is LAPACK's, as numpy.linalg.qr(mode="raw") returns it (transposed); as in
PyTorch it has no derivative.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.linalg_solve import constant, mT
from gradscope.ops.rearrange import tril
from gradscope.ops.registry import Primitive, primitive

# Higham (2005), "The scaling and squaring method for the matrix exponential revisited", Table 2.3 and (2.3)
_PADE_13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
            10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA_13 = 5.371920351148152


def _matrix_exp(a):
    if a.size == 0:
        return a.copy()
    x = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)  # a complex matrix keeps its imaginary part
    norm = np.abs(x).sum(axis=-2).max(axis=-1)  # each matrix's 1-norm
    squarings = np.maximum(0, np.ceil(np.log2(np.maximum(norm, 1e-300) / _THETA_13))).astype(np.int64)
    x = x / np.exp2(squarings)[..., None, None]
    b = _PADE_13
    identity = np.eye(a.shape[-1])
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * identity)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * identity
    result = np.linalg.solve(v - u, v + u)
    for step in range(int(squarings.max(initial=0))):
        result = np.where((step < squarings)[..., None, None], result @ result, result)
    return result.astype(a.dtype, copy=False)


def _matrix_exp_vjp(g, s):
    xp, a = s.xp, s.self
    at = mT(xp, a)
    block = xp.concat([xp.concat([at, g], -1), xp.concat([xp.zeros_like(at), at], -1)], -2)
    n = a.shape[-1]
    return xp.getitem(xp.apply(linalg_matrix_exp, (block,)), (Ellipsis, slice(0, n), slice(n, 2 * n)))


linalg_matrix_exp = primitive("linalg_matrix_exp", _matrix_exp, "LinalgMatrixExpBackward0", inputs=("self",),
                              saves=("self",), vjp=(_matrix_exp_vjp,))


def _reflector(a, i: int):
    """v_i of a stack (…, m, n): column i below the diagonal, 1 on it, 0 above, as (…, m, 1)."""
    m = a.shape[-2]
    column = a[..., :, i:i + 1] * (np.arange(m) > i)[:, None]
    column[..., i, 0] = 1
    return column


def _householder_product(a, tau):
    m, n = a.shape[-2:]
    result = np.broadcast_to(np.eye(m, n, dtype=a.dtype), a.shape).copy()
    for i in range(tau.shape[-1] - 1, -1, -1):  # Q = H₁ (H₂ (⋯ (H_k I)))
        v = _reflector(a, i)
        result = result - tau[..., i, None, None] * v * (np.swapaxes(v, -1, -2) @ result)
    return result


def _householder_product_vjps(g, s):
    """(A's gradient, τ's gradient): for Y_i = H_i Y_{i+1} (Y_k = I, Y_0 = Q) with w = vᵀ Y_{i+1},
    ∂τ_i = -vᵀ G wᵀ, ∂v = -τ_i (G wᵀ + Y_{i+1} Gᵀ v), and G passes on as H_i G (H_i is symmetric)."""
    xp, a, tau = s.xp, s.input, s.tau
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    if k == 0:
        return xp.zeros_like(a), xp.zeros_like(tau)
    below = np.arange(m)[:, None]
    masks = [constant(xp, (below > i).astype(float), a) for i in range(k)]
    vs = [xp.getitem(a, (Ellipsis, slice(None), slice(i, i + 1))) * masks[i]
          + constant(xp, (below == i).astype(float), a) for i in range(k)]
    taus = [xp.unsqueeze_dims(xp.getitem(tau, (Ellipsis, slice(i, i + 1))), (tau.ndim,)) for i in range(k)]
    ys = [constant(xp, np.broadcast_to(np.eye(m, n), a.shape), a)]  # Y_k, then Y_{k-1} … Y_1
    for i in range(k - 1, 0, -1):
        ys.append(ys[-1] - taus[i] * xp.matmul(vs[i], xp.matmul(mT(xp, vs[i]), ys[-1])))
    ys.reverse()  # ys[i] is Y_{i+1}
    grad_columns, grad_tau = [], []
    for i in range(k):
        v, t, y = vs[i], taus[i], ys[i]
        gw = xp.matmul(g, mT(xp, xp.matmul(mT(xp, v), y)))
        grad_tau.append(-xp.sum(v * gw, (a.ndim - 2,)))
        grad_columns.append(-t * (gw + xp.matmul(y, xp.matmul(mT(xp, g), v))) * masks[i])
        g = g - t * xp.matmul(v, xp.matmul(mT(xp, v), g))
    rest = xp.zeros_like(xp.getitem(a, (Ellipsis, slice(None), slice(k, n))))
    # the columns are zero on and above the diagonal already: the tril is PyTorch's last step (TrilBackward0)
    return xp.apply(tril, (xp.concat(grad_columns + [rest], -1),), (-1,)), xp.concat(grad_tau, -1)


linalg_householder_product = primitive(
    "linalg_householder_product", _householder_product, "LinalgHouseholderProductBackward0", inputs=("input", "tau"),
    saves=(("input", "tau", "result"), ("input", "tau", "result")),
    vjp=(lambda g, s: _householder_product_vjps(g, s)[0], lambda g, s: _householder_product_vjps(g, s)[1]))


def _geqrf(a):
    rows, columns = a.shape[-2:]
    if a.size == 0:
        return a.copy(), np.zeros(a.shape[:-2] + (min(rows, columns),), a.dtype)
    stack = a.reshape((-1, rows, columns))
    factors, taus = [], []
    for matrix in stack:
        reflectors, tau = np.linalg.qr(matrix, mode="raw")
        factors.append(reflectors.T)
        taus.append(tau)
    shape = a.shape[:-2]
    return (np.asarray(factors, dtype=a.dtype).reshape(shape + (rows, columns)),
            np.asarray(taus, dtype=a.dtype).reshape(shape + (min(rows, columns),)))


def _no_geqrf_derivative(g, s):
    raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


# NOTE: outside the op table on purpose: PyTorch records geqrf only to refuse a backward through it
geqrf = Primitive("geqrf", _geqrf, "GeqrfBackward0", inputs=("self",), outputs=2, output_names=("a", "tau"),
                  vjp=(_no_geqrf_derivative,))
