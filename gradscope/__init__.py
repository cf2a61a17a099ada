"""gradscope: a PyTorch-compatible autograd engine on NumPy, and a debugger for gradients.

    import gradscope as torch
    x = torch.ones(2, 2, requires_grad=True)
    ((x + 2) ** 2).mean().backward()
"""

from gradscope import autograd
from gradscope._dtypes import (
    bool, cdouble, cfloat, complex64, complex128, double, dtype, float, float16, float32, float64,
    get_default_dtype, half, int, int8, int16, int32, int64, long, set_default_dtype, short, uint8,
)
from gradscope._printing import set_printoptions
from gradscope.autograd.constructors import get_default_device, set_default_device
from gradscope.autograd.factories import (
    BoolTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor, arange, as_tensor, empty, empty_like, eye,
    from_numpy, full, full_like, initial_seed, linspace, manual_seed, ones, ones_like, rand, rand_like, randint,
    randint_like, randn, randn_like, seed, tensor, zeros, zeros_like,
)
from gradscope.autograd.functions import (
    abs, absolute, add, allclose, ceil, clamp, clamp_max, clamp_min, clip, clone, cos, div, divide, eq, equal, erf,
    exp, floor, ge, gt, isclose, isfinite, isinf, isnan, le, log, log1p, log_softmax, logical_and, logical_not,
    logical_or, logical_xor, lt, maximum, minimum, mul, multiply, ne, neg, negative, nonzero, pow, reciprocal, relu,
    round, rsqrt, sigmoid, sign, sin, softmax, sqrt, square, sub, subtract, tanh, true_divide, trunc, where,
)
from gradscope.autograd.products import (
    addmm, bmm, dot, einsum, ger, matmul, mm, mv, outer,
)
from gradscope.autograd.reductions import (
    all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum, var,
)
from gradscope.autograd.shape_functions import (
    cat, chunk, concat, concatenate, expand, flatten, gather, masked_fill, permute, reshape, split, squeeze, stack,
    swapaxes, swapdims, t, transpose, unbind, unsqueeze, view_as,
)
from gradscope.autograd.generator import Generator
from gradscope.autograd.indexing_functions import (
    index_add, index_fill, index_select, masked_select, put, repeat_interleave, scatter, scatter_add, scatter_reduce,
    take,
)
from gradscope.autograd.linalg_aliases import (
    cholesky, cholesky_inverse, det, inverse, logdet, matrix_power, pinverse, qr, slogdet, svd,
)
from gradscope.autograd.product_functions import (
    baddbmm, cartesian_prod, cdist, chain_matmul, cross, dist, kron, meshgrid, tensordot,
)
from gradscope.autograd.random_functions import bernoulli, multinomial, normal, randperm
from gradscope.autograd.rearrange import (
    atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, broadcast_to, column_stack, diag,
    diag_embed, diagonal, dstack, flip, fliplr, flipud, hstack, moveaxis, movedim, narrow, roll, rot90, row_stack,
    select, tile, trace, tril, triu, vstack,
)
from gradscope.autograd.sorting_functions import (
    argsort, median, msort, nanmean, nansum, searchsorted, sort, std_mean, topk, unique, var_mean,
)
from gradscope.autograd.scans import cummax, cummin, cumprod, cumsum, diff, logcumsumexp
from gradscope.autograd.pointwise import (
    acos, arccos, arcsin, arctan, arctan2, asin, atan, atan2, cosh, digamma, erfinv, expm1, fmod, frac, lerp, lgamma,
    log2, log10, logaddexp, nan_to_num, polygamma, remainder, sinh, tan, xlogy,
)
from gradscope.autograd.grad_mode import (
    enable_grad, inference_mode, is_anomaly_check_nan_enabled, is_anomaly_enabled, is_grad_enabled,
    is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from gradscope.autograd.tensor import Size, Tensor, device
from gradscope.serialization import load, save

__version__ = "0.1.0"

from gradscope import backends, cuda, func, linalg, nn, optim, utils  # noqa: E402 - these build on the names above


def __getattr__(name: str):
    """`gradscope.watch` and `gradscope.WatchStop` (debugging a training loop) live in gradscope.watching,
    a layer above the trace package, which itself imports this one: they load on first use, so
    `import gradscope` stays the engine alone."""
    if name in ("watch", "WatchStop"):
        from gradscope import watching  # see the docstring: a layer above this package

        return getattr(watching, name)
    raise AttributeError(f"module 'gradscope' has no attribute {name!r}")
