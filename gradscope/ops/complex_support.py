"""Which primitives differentiate through complex tensors, and how (see registry.AS_WRITTEN and ANALYTIC).

One table, reviewed as a whole: an op missing here refuses to record a node with a complex input or output
(PyTorch's "does not support automatic differentiation for outputs with complex dtype"), never giving a wrong
number. Ops whose complex rules differ from their real ones (abs, sgn, angle, vdot, conj …) declare them beside
their forward (`complex_vjp=`). tests/ops/test_complex_vs_torch.py runs every sample on complex inputs against
PyTorch.
"""

from __future__ import annotations

# the modules declaring the ops named below, and the *_copy ops (declared on import)
from gradscope.ops import (  # noqa: F401
    conv,
    cumulative,
    distance,
    elementwise,
    embedding,
    indexing_ops,
    linalg,
    linalg_det,
    linalg_matrix_functions,
    linalg_solve,
    losses,
    math,
    nn,
    padding,
    placement,
    pointwise_extra,
    rearrange,
    reduction,
    shape,
    sorting,
    tensor_products,
    vector_ops,
    view_copies,
)
from gradscope.ops.registry import ANALYTIC, AS_WRITTEN, REGISTRY

# real-linear in the gradient with real coefficients: moving, selecting, summing, padding, copying values
_MOVING = (
    "view", "reshape_alias", "reshape_copy", "alias", "t", "transpose", "permute", "unsqueeze", "squeeze",
    "squeeze_dim", "squeeze_", "transpose_", "t_", "squeeze_all_", "squeeze_dims_", "unsqueeze_", "squeeze_dims",
    "expand", "select", "slice", "index", "cat", "stack", "gather", "masked_fill", "masked_fill_tensor",
    "index_scatter", "copy_backwards", "contiguous", "unbind", "split", "split_with_sizes",
    "flip", "roll", "rot90", "tril", "triu", "diagonal", "diag_embed", "trace", "repeat", "unfold",
    "constant_pad_nd", "reflect_pad1d", "reflect_pad2d", "reflect_pad3d", "replicate_pad1d", "replicate_pad2d",
    "replicate_pad3d",
    "take", "index_select", "index_add", "index_fill", "index_fill_tensor", "scatter", "scatter_value", "scatter_add",
    "put", "masked_select",
    "index_copy", "index_put_accumulate", "masked_scatter", "select_scatter", "slice_scatter", "diagonal_scatter",
    "narrow_copy", "block_diag", "as_strided", "as_strided_", "as_strided_scatter",
    "unsafe_split", "unsafe_split_with_sizes", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    "im2col", "col2im", "sum", "sum_dim", "mean", "mean_dim", "nansum", "cumsum",
    "clone", "to_copy", "copy", "fill", "fill_tensor", "zero", "where", "index_put", "embedding",
    "eq_scalar_inplace", "eq_tensor_inplace", "ne_scalar_inplace", "ne_tensor_inplace", "nan_to_num",
)
# written in |z|² (x · conj(x) summed): PyTorch's formulas for complex inputs as they stand
_SQUARED = ("var", "std", "var_mean", "std_mean", "linalg_vector_norm", "norm", "dist")
# not holomorphic (A = L Lᴴ), PyTorch's complex formula written with conjugate transposes
_AS_WRITTEN = ("cholesky_solve",)
# holomorphic, with real Taylor coefficients: f(conj z) = conj f(z)
_ANALYTIC = (
    "add", "sub", "rsub", "rsub_tensor", "mul", "div", "neg", "pow", "exp", "log", "log1p", "sqrt", "rsqrt",
    "reciprocal", "sin", "cos", "tanh", "sigmoid", "acos", "asin", "atan", "cosh", "sinh", "tan", "expm1", "log2",
    "log10", "lerp", "lerp_tensor", "asinh", "acosh", "atanh", "exp2", "addcmul", "addcdiv",
    "add_scalar", "sub_scalar", "mul_scalar", "prod", "prod_dim", "cumprod",
    "mm", "bmm", "dot", "mv", "addmm", "einsum", "einsum_mul", "einsum_sum", "einsum_permute",
    "baddbmm", "addmv", "addr", "addbmm", "linalg_cross", "trilinear", "convolution",
    "linalg_inv", "linalg_solve", "linalg_det", "logsumexp", "div_scalar", "sinc", "pow_tensor",
    "pow_base_scalar", "div_rounded", "ldexp", "ldexp_integer", "linalg_solve_triangular", "linalg_matrix_exp",
)


def _declare(how: str, names) -> None:
    for name in dict.fromkeys(names):
        op = REGISTRY[name]
        if op.complex_vjp is not None:
            raise ValueError(f"{name}: complex support declared twice")
        op.complex_vjp = how
        copy = REGISTRY.get(f"{name}_copy")  # a view's *_copy differentiates by the view's rules
        if copy is not None and copy.vjp == op.vjp and copy.complex_vjp is None:
            copy.complex_vjp = how


_declare(AS_WRITTEN, _MOVING + _SQUARED + _AS_WRITTEN)
_declare(ANALYTIC, _ANALYTIC)
