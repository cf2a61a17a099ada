"""Reductions. `dims` parameters are normalised, sorted tuples (the functions layer sees to that)."""

from __future__ import annotations

import math

import numpy as np

from gradscope.ops.registry import primitive


def _expand_back(g, s):
    """Broadcast a reduced gradient back over the input's shape."""
    xp = s.xp
    if not s.keepdim:
        g = xp.unsqueeze_dims(g, s.dim)
    return xp.expand(g, s.self_sym_sizes)


def _numel(shape, dims) -> int:
    return math.prod(shape[d] for d in dims)


_SUMMED_IN = {np.dtype(np.float16): np.dtype(np.float32)}  # np.mean sums half precision in single


def mean_of_all(a: np.ndarray):
    """np.mean(a) in NumPy's own steps, to the bit, without its Python wrapper (~40k instructions on a (64, 10)
    array; ~12k so): the sum, over the count as an intp, rounded to the input's type."""
    total = np.add.reduce(a, axis=None, dtype=_SUMMED_IN.get(a.dtype))
    return a.dtype.type(total / np.intp(a.size))


sum_all = primitive("sum", lambda a: np.sum(a), "SumBackward0", inputs=("self",), attrs=("self_sym_sizes",),
                    vjp=(lambda g, s: s.xp.expand(g, s.self_sym_sizes),))
def sum_dims(a: np.ndarray, dim, keepdim: bool = False) -> np.ndarray:
    """np.sum(a, dim), float16 summed in float32 and rounded once, as PyTorch's (its opmath type): NumPy adds a row at
    a time in float16 over a leading dim, so that 5,000 ones sum to 2048. (np.sum's own step, without its frames.)"""
    accumulator = _SUMMED_IN.get(a.dtype)
    total = np.add.reduce(a, dim, accumulator, None, keepdim)
    return total if accumulator is None else total.astype(a.dtype)


sum_dim = primitive("sum_dim", sum_dims, "SumBackward1", inputs=("self",), params=("dim", "keepdim"),
                    attrs=("self_sym_sizes",), vjp=(_expand_back,))
mean_all = primitive("mean", mean_of_all, "MeanBackward0", inputs=("self",),
                     attrs=("self_sym_numel", "self_sym_sizes"),
                     vjp=(lambda g, s: s.xp.expand(g / s.self_sym_numel, s.self_sym_sizes),))
mean_dim = primitive("mean_dim", lambda a, dim, keepdim: np.mean(a, axis=dim, keepdims=keepdim), "MeanBackward1",
                     inputs=("self",), params=("dim", "keepdim"), attrs=("self_sym_numel", "self_sym_sizes"),
                     vjp=(lambda g, s: _expand_back(g / _numel(s.self_sym_sizes, s.dim), s),))


def _evenly_distribute(g, s):
    # NOTE: ties share the gradient evenly (PyTorch's evenly_distribute_backward for max()/min()); a nan result
    # is every nan's, so the gradient goes to the nans (self == result alone matches nothing: 0 / 0 everywhere)
    mask = (s.self == s.result) | ((s.self != s.self) & (s.result != s.result))
    return g * mask / mask.sum()


max_all = primitive("max", lambda a: np.max(a), "MaxBackward1", inputs=("self",), saves=(("self", "result"),),
                    vjp=(_evenly_distribute,))
min_all = primitive("min", lambda a: np.min(a), "MinBackward1", inputs=("self",), saves=(("self", "result"),),
                    vjp=(_evenly_distribute,))


def _select_along(pick):
    def forward(a, dim, keepdim):
        if a.ndim == 0:  # a 0-dim tensor is its own extreme, at index 0
            return a.copy(), np.zeros((), dtype=np.int64)
        indices = pick(a, axis=dim, keepdims=True)
        values = np.take_along_axis(a, indices, axis=dim)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return values, indices
    return forward


def _value_selecting_vjp(g, s):
    # NOTE: only the first extreme element gets the gradient, as with PyTorch's indices.
    g_values = g[0]
    if not s.self_sym_sizes:
        return g_values
    indices = np.asarray(s.indices)  # positions index the gradient: an ndarray even under create_graph
    if not s.keepdim:
        g_values = s.xp.unsqueeze_dims(g_values, (s.dim,))
        indices = np.expand_dims(indices, s.dim)
    grid = list(np.indices(indices.shape, sparse=True))
    grid[s.dim] = indices
    return s.xp.index_scatter(g_values, s.self_sym_sizes, tuple(grid), False)


max_dim = primitive("max_dim", _select_along(np.argmax), "MaxBackward0", inputs=("self",),
                    params=("dim", "keepdim"), attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,),
                    output_names=("values", "indices"), saves=("indices",), vjp=(_value_selecting_vjp,))
min_dim = primitive("min_dim", _select_along(np.argmin), "MinBackward0", inputs=("self",),
                    params=("dim", "keepdim"), attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,),
                    output_names=("values", "indices"), saves=("indices",), vjp=(_value_selecting_vjp,))


def _amax_vjp(g, s):
    xp = s.xp
    result = s.result if s.keepdim else xp.unsqueeze_dims(s.result, s.dim)
    g = g if s.keepdim else xp.unsqueeze_dims(g, s.dim)
    mask = s.self == result
    return g * mask / xp.sum(mask, s.dim, True)


amax = primitive("amax", lambda a, dim, keepdim: np.amax(a, axis=dim, keepdims=keepdim), "AmaxBackward0",
                 inputs=("self",), params=("dim", "keepdim"), saves=(("self", "result"),), vjp=(_amax_vjp,))
amin = primitive("amin", lambda a, dim, keepdim: np.amin(a, axis=dim, keepdims=keepdim), "AminBackward0",
                 inputs=("self",), params=("dim", "keepdim"), saves=(("self", "result"),), vjp=(_amax_vjp,))


def _vector_norm(a, ord, dim, keepdim):
    a = np.abs(a)
    if ord == 2:
        return np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
    if ord == math.inf:
        return np.amax(a, axis=dim, keepdims=keepdim)
    if ord == -math.inf:
        return np.amin(a, axis=dim, keepdims=keepdim)
    if ord == 0:
        return np.sum(a != 0, axis=dim, keepdims=keepdim).astype(a.dtype)
    if ord == 1:
        return np.sum(a, axis=dim, keepdims=keepdim)
    return np.sum(a ** ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)


def _norm_vjp(g, s):
    return norm_gradient(g, s, s.ord)


def norm_gradient(g, s, p):
    """The gradient of the p-norm of s.self over s.dim (p is `ord` to linalg's node, `p` to at::norm's)."""
    # NOTE: PyTorch's norm_backward, case by case: its masks decide the gradient where x or the norm is 0
    xp = s.xp
    result, g = (s.result, g) if s.keepdim else (xp.unsqueeze_dims(s.result, s.dim), xp.unsqueeze_dims(g, s.dim))
    x = s.self
    if p == 0:
        return None  # the count of nonzeros: PyTorch leaves the gradient undefined, so .grad stays None
    if p == 1:
        return g * xp.sign(x)
    if p == 2:  # NOTE: g · (x / norm), masked before g: a zero norm's second derivative in g is 0, not nan
        return g * xp.where(result == 0, 0 * x, x / result)
    if math.isinf(p):  # a nan is an extreme too (PyTorch's mask), which sign(nan) = 0 then gives nothing
        magnitude = xp.abs(x)
        mask = (magnitude == result) | (magnitude != magnitude)
        return xp.sign(x) * mask * (g / xp.sum(mask, s.dim, True))
    if p < 1:  # |x|**(p-1) is infinite at x = 0: masked to 0 there
        scaled = xp.sign(x) * xp.where(x == 0, 0 * x, xp.abs(x) ** (p - 1))
        return scaled * g * result ** (1 - p)
    # sgn(x) |x|**(p-1) below p = 2 (x |x|**(p-2) would be 0 * inf at 0); the scale is 0 where the norm is
    scaled = xp.sign(x) * xp.abs(x) ** (p - 1) if p < 2 else x * xp.abs(x) ** (p - 2)
    return scaled * xp.where(result == 0, 0 * result, g / result ** (p - 1))


vector_norm = primitive("linalg_vector_norm", _vector_norm, "LinalgVectorNormBackward0", inputs=("self",),
                        params=("ord", "dim", "keepdim"), saves=(("self", "result"),), vjp=(_norm_vjp,),
                        opmath=True)


def _logsumexp(a, dim, keepdim):
    # the ndarray methods: np.amax/np.sum are Python wrappers around them (log_softmax runs this per loss)
    peak = a.max(axis=dim, keepdims=True, initial=-np.inf)  # initial: over an empty dim the sum is -inf
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.exp(a - peak).sum(axis=dim, keepdims=True)) + peak
    return out if keepdim else np.squeeze(out, axis=dim)


def _logsumexp_vjp(g, s):
    xp = s.xp
    result, g = (s.result, g) if s.keepdim else (xp.unsqueeze_dims(s.result, s.dim), xp.unsqueeze_dims(g, s.dim))
    return g * xp.exp(s.self - result)


logsumexp = primitive("logsumexp", _logsumexp, "LogsumexpBackward0", inputs=("self",), params=("dim", "keepdim"),
                      saves=(("self", "result"),), vjp=(_logsumexp_vjp,))


def _var_vjp(g, s):
    xp = s.xp
    g = g if s.keepdim else xp.unsqueeze_dims(g, s.dim)
    n = _numel(s.self_sym_sizes, s.dim)
    centred = s.self - xp.sum(s.self, s.dim, True) / n
    # NOTE: in PyTorch's order, (2 / dof) · g first: in float16 g · centred alone can pass 65504
    return (2.0 / max(n - s.correction, 0)) * g * centred


var = primitive("var", lambda a, dim, correction, keepdim: np.var(a, axis=dim, ddof=correction, keepdims=keepdim),
                "VarBackward0", inputs=("self",), params=("dim", "correction", "keepdim"),
                attrs=("self_sym_sizes",), unsaved=("self_sym_sizes",), saves=("self",), vjp=(_var_vjp,), opmath=True)


def _std_vjp(g, s):
    xp = s.xp
    result, g = (s.result, g) if s.keepdim else (xp.unsqueeze_dims(s.result, s.dim), xp.unsqueeze_dims(g, s.dim))
    n = _numel(s.self_sym_sizes, s.dim)
    centred = s.self - xp.sum(s.self, s.dim, True) / n
    # NOTE: where std is 0 (a constant slice) the gradient is taken as 0, as PyTorch masks it. PyTorch's order, var's
    # rule of g / (2 std): the same roundings in float16 (a small gradient there is subnormal)
    zero = result == 0
    scaled = (2.0 / max(n - s.correction, 0)) * (g / (xp.where(zero, 1.0, result) * 2))
    return xp.where(zero, 0 * centred, scaled * centred)


std = primitive("std", lambda a, dim, correction, keepdim: np.std(a, axis=dim, ddof=correction, keepdims=keepdim),
                "StdBackward0", inputs=("self",), params=("dim", "correction", "keepdim"),
                attrs=("self_sym_sizes",), unsaved=("self_sym_sizes",), saves=(("self", "result"),), vjp=(_std_vjp,),
            opmath=True)


def _others_product(x: np.ndarray, axis: int) -> np.ndarray:
    """The product of all the other elements along `axis`, for each element: exact where x holds zeros
    (exclusive products from the left times those from the right, no division)."""
    x = np.moveaxis(x, axis, -1)
    ones = np.ones_like(x[..., :1])
    left = np.cumprod(np.concatenate((ones, x[..., :-1]), axis=-1), axis=-1)
    right = np.cumprod(np.concatenate((ones, x[..., :0:-1]), axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis(left * right, -1, axis)


def _others_product_graph(xp, x, axis: int):
    """`_others_product` built from differentiable pieces, for create_graph: running products of the
    slices along `axis` from the left and from the right (PyTorch's prod_safe_zeros_backward)."""
    n = x.shape[axis]
    lead = (slice(None),) * axis
    slices = [xp.getitem(x, lead + (slice(i, i + 1),)) for i in range(n)]
    left = [xp.ones_like(slices[0])]
    right = [left[0]]
    for i in range(1, n):
        left.append(left[-1] * slices[i - 1])
        right.append(right[-1] * slices[n - i])
    return xp.concat(left, axis) * xp.concat(right[::-1], axis)


def _prod_vjp(g, s):
    x = s.self
    if s.xp.is_tensor:
        # NOTE: as PyTorch, result / x unless x holds a zero; then exact products, so that 0 gets a gradient
        if not bool((x == 0).any()):
            return g * s.result / x
        return g * s.xp.reshape(_others_product_graph(s.xp, s.xp.reshape(x, (-1,)), 0), tuple(x.shape))
    return g * _others_product(x.reshape(-1), 0).reshape(x.shape)


def _prod_dim(a, dim, keepdim):
    return np.prod(a, axis=dim if a.ndim else None, keepdims=keepdim)


def _prod_dim_vjp(g, s):
    xp, x = s.xp, s.self
    if not x.ndim:  # a 0-dim tensor is its own product
        return g
    g = g if s.keepdim else xp.unsqueeze_dims(g, (s.dim,))
    if xp.is_tensor:
        if not bool((x == 0).any()):
            result = s.result if s.keepdim else xp.unsqueeze_dims(s.result, (s.dim,))
            return g * result / x
        return g * _others_product_graph(xp, x, s.dim)
    return g * _others_product(x, s.dim)


prod_all = primitive("prod", lambda a: np.prod(a), "ProdBackward0", inputs=("self",), saves=(("self", "result"),),
                     vjp=(_prod_vjp,))
prod_dim = primitive("prod_dim", _prod_dim, "ProdBackward1", inputs=("self",), params=("dim", "keepdim"),
                     saves=(("self", "result"),), vjp=(_prod_dim_vjp,))
