"""gradscope: a PyTorch-compatible autograd engine on NumPy, and a debugger for gradients.

    import gradscope as torch
    x = torch.ones(2, 2, requires_grad=True)
    ((x + 2) ** 2).mean().backward()
"""

from math import e, inf, nan, pi  # torch.e, torch.pi, torch.inf, torch.nan

from gradscope import autograd
from gradscope._lazy import lazy_exports as _lazy_exports
from gradscope._dtypes import (
    bfloat16, bool, cdouble, cfloat, channels_last, channels_last_3d, complex64, complex128, contiguous_format, double,
    dtype, float, float16, float32, float64, get_default_dtype, half, int, int8, int16, int32, int64, layout, long,
    memory_format, preserve_format, set_default_dtype, short, sparse_coo, strided, uint8,
)
from gradscope._printing import set_printoptions
from gradscope._runtime import (
    are_deterministic_algorithms_enabled, can_cast, finfo, get_deterministic_debug_mode,
    get_float32_matmul_precision, get_num_interop_threads, get_num_threads, iinfo, is_complex,
    is_deterministic_algorithms_warn_only_enabled, is_floating_point, is_inference, is_nonzero, is_same_size, is_signed,
    is_storage, is_tensor, is_warn_always_enabled, numel, promote_types, result_type, set_deterministic_debug_mode,
    set_float32_matmul_precision, set_flush_denormal, set_num_interop_threads, set_num_threads, set_warn_always,
    typename, use_deterministic_algorithms,
)
from gradscope.autograd.constructors import get_default_device, set_default_device
from gradscope.autograd.factories import (
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor,
    arange, as_tensor, default_generator, empty,
    empty_like, eye, from_numpy, full, full_like, get_rng_state, initial_seed, linspace, manual_seed, ones,
    ones_like, rand, rand_like, randint, randint_like, randn, randn_like, seed, set_rng_state, tensor, zeros,
    zeros_like,
)
from gradscope.autograd.functions import (
    abs, absolute, add, allclose, ceil, clamp, clamp_max, clamp_min, clip, clone, cos, div, divide, eq, equal, erf,
    exp, floor, ge, greater, greater_equal, gt, isclose, isfinite, isinf, isnan, le, less, less_equal, log, log1p,
    log_softmax, logical_and, logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, multiply, ne, neg,
    negative, nonzero, not_equal, pow, reciprocal, relu, round, rsqrt, rsub, sigmoid, sign, sin, softmax, sqrt,
    square, sub, subtract, tanh, true_divide, trunc, where,
)
from gradscope.autograd.products import (
    addmm, bmm, dot, einsum, ger, matmul, mm, mv, outer,
)
from gradscope.autograd.reductions import (
    all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, prod, std, sum, var,
)
from gradscope.autograd.shape_functions import (
    cat, chunk, concat, concatenate, expand, fill, flatten, gather, masked_fill, permute, reshape, split, squeeze,
    stack, swapaxes, swapdims, t, transpose, unbind, unsqueeze, view_as,
)
from gradscope.autograd.generator import Generator
from gradscope.autograd.indexing_functions import (
    index_add, index_fill, index_select, masked_select, put, repeat_interleave, scatter, scatter_add, scatter_reduce,
    take,
)
from gradscope.autograd.linalg_aliases import (
    cholesky, cholesky_inverse, cholesky_solve, det, geqrf, inverse, logdet, matrix_exp, matrix_power, norm, orgqr,
    pinverse, qr, slogdet, svd,
)
from gradscope.autograd.product_functions import (
    addbmm, addmv, addmv_, addr, baddbmm, cartesian_prod, cdist, chain_matmul, cross, dist, kron, meshgrid, tensordot,
)
from gradscope.autograd.random_functions import (
    _dirichlet_grad,
    _sample_dirichlet,
    _standard_gamma,
    _standard_gamma_grad,
    bernoulli,
    binomial,
    multinomial,
    normal,
    poisson,
    randperm,
)
from gradscope.autograd.rearrange import (
    atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, broadcast_to, column_stack, diag,
    diag_embed, diagonal, dstack, flip, fliplr, flipud, hstack, moveaxis, movedim, narrow, roll, rot90, row_stack,
    select, tile, trace, tril, triu, vstack,
)
from gradscope.autograd.sorting_functions import (
    argsort, median, msort, nanmean, nansum, searchsorted, sort, std_mean, topk, unique, var_mean,
)
from gradscope.autograd.statistics_functions import (
    aminmax, argwhere, bincount, bucketize, corrcoef, count_nonzero, cov, histc, histogram, isin, kthvalue, mode,
    nanmedian, nanquantile, nonzero_static, quantile, unique_consecutive,
)
from gradscope.autograd.composites import (
    block_diag, combinations, cumulative_trapezoid, diagflat, dsplit, hsplit, inner, logspace, ravel, renorm,
    split_with_sizes, tensor_split, trapezoid, trapz, tril_indices, triu_indices, unflatten, unravel_index,
    unsafe_chunk, unsafe_split, unsafe_split_with_sizes, vander, vdot, vsplit,
)
from gradscope.autograd.composites import deprecated_range as range  # noqa: A004 - torch.range
from gradscope.autograd.numerical_gradient import gradient
from gradscope.autograd.view_copies import (
    alias_copy, as_strided_copy, diagonal_copy, expand_copy, permute_copy, select_copy, slice_copy, split_copy,
    split_with_sizes_copy, squeeze_copy, t_copy, transpose_copy, unbind_copy, unfold_copy, unsqueeze_copy, view_copy,
)
from gradscope.autograd.placement_functions import (
    as_strided, as_strided_, as_strided_scatter, diagonal_scatter, index_copy, index_put, index_put_, index_reduce,
    masked_scatter, narrow_copy, select_scatter, slice_scatter, take_along_dim,
)
from gradscope.autograd.scans import cummax, cummin, cumprod, cumsum, diff, logcumsumexp
from gradscope.autograd.pointwise import (
    acos, arccos, arcsin, arctan, arctan2, asin, atan, atan2, cosh, digamma, erfinv, expm1, fmod, frac, lerp, lgamma,
    log2, log10, logaddexp, nan_to_num, nan_to_num_, polygamma, remainder, sinh, tan, xlogy,
)
from gradscope.autograd.pointwise_extra import (
    acosh, acosh_, addcdiv, addcmul, arccosh, arccosh_, arcsinh, arcsinh_, arctanh, arctanh_, asinh, asinh_, atanh,
    atanh_, copysign, deg2rad, deg2rad_, erfc, erfc_, exp2, exp2_, fix, fix_, float_power, floor_divide, fmax, fmin,
    frexp, heaviside, hypot, i0, i0_, ldexp, ldexp_, logaddexp2, logit, logit_, nextafter, positive, rad2deg, rad2deg_,
    sgn, sinc, sinc_, angle, isneginf, isposinf, isreal, mvlgamma, igamma, igammac,
)
from gradscope.autograd.inplace_forms import (
    abs_, acos_, arccos_, arcsin_, arctan_, asin_, atan_, ceil_, clamp_, clamp_max_, clamp_min_, clip_, cos_, cosh_,
    erf_, exp_, expm1_, floor_, frac_, log1p_, log2_, log10_, log_, neg_, negative_, reciprocal_, relu_,
    round_, rsqrt_, sigmoid_, sin_, sinh_, sqrt_, square_, tan_, tanh_, trunc_, xlogy_,
)
from gradscope.autograd.complex_functions import (
    complex, conj, conj_physical, imag, is_conj, is_neg, polar, real, resolve_conj, resolve_neg, view_as_complex,
    view_as_real,
)
from gradscope.autograd.short_time import (
    bartlett_window, blackman_window, hamming_window, hann_window, istft, kaiser_window, stft,
)
from gradscope.autograd.bitwise import (
    bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor, gcd, gcd_, lcm, lcm_,
    signbit,
)
from gradscope.autograd.grad_mode import (
    enable_grad, inference_mode, is_anomaly_check_nan_enabled, is_anomaly_enabled, is_grad_enabled,
    is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from gradscope.autograd import numpy_names as _numpy_names
from gradscope.autograd.out_forms import OUT_FORMS as _OUT_FORMS
from gradscope.autograd.tensor import Size, Tensor, device

from gradscope.version import __version__

newaxis = None

# NumPy's argument names (torch.sum(x, axis=0, keepdims=True)), as PyTorch's parser takes them for its native
# functions; these four PyTorch writes in Python, and they take only their own names. The same wrapper gives the
# functions of out_forms' table their out= (torch.matmul(a, b, out=c)).
_PYTHON_WRITTEN = ("norm", "split", "unique", "unique_consecutive")
_numpy_names.bind_numpy_names(globals(), _PYTHON_WRITTEN, out_forms=_OUT_FORMS)

# Everything above the engine loads on first use: a script that never touches torch.distributions (52 modules)
# or torch.fft does not pay for them, nor does `gradscope inspect` or a trace child before the script asks.
__getattr__, __dir__ = _lazy_exports(
    __name__, globals(),
    submodules=("accelerator", "amp", "backends", "compiler", "cpu", "cuda", "distributed", "distributions", "fft",
                "func", "hub", "jit", "linalg", "mps", "multiprocessing", "nn", "optim", "profiler", "random",
                "serialization", "signal", "special", "testing", "types", "utils", "xpu"),
    names={
        "gradscope.autograd.conversions": ("asarray", "empty_permuted", "empty_strided", "from_dlpack", "frombuffer",
                                           "scalar_tensor", "set_default_tensor_type"),
        "gradscope.autograd.linalg_products": ("adjoint",),
        "gradscope.autograd.linalg_torch_forms": ("eig", "lstsq", "lu", "lu_solve", "lu_unpack", "matrix_rank", "solve",
                                                  "symeig", "triangular_solve"),
        "gradscope.amp": ("GradScaler", "autocast", "get_autocast_dtype", "is_autocast_available",
                          "is_autocast_enabled"),
        "gradscope.func": ("vmap",),  # torch.vmap is torch.func.vmap
        "gradscope.nn.compiled": ("compile",),
        "gradscope.nn._functional.torch_forms": (  # nn.functional's ops under their torch.* signatures
            "_weight_norm", "adaptive_avg_pool1d", "adaptive_max_pool1d", "affine_grid_generator", "alpha_dropout",
            "alpha_dropout_", "avg_pool1d", "batch_norm", "bilinear", "binary_cross_entropy_with_logits", "celu",
            "celu_", "channel_shuffle", "constant_pad_nd", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
            "conv_transpose2d", "conv_transpose3d", "cosine_embedding_loss", "cosine_similarity", "dropout",
            "dropout_", "embedding", "feature_alpha_dropout", "feature_alpha_dropout_", "feature_dropout",
            "feature_dropout_", "grid_sampler", "group_norm", "hardshrink", "hinge_embedding_loss", "instance_norm",
            "kl_div", "layer_norm", "margin_ranking_loss", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
            "max_pool3d", "native_channel_shuffle", "norm_except_dim", "pairwise_distance", "pdist",
            "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu", "rms_norm", "rrelu", "rrelu_", "selu",
            "selu_", "threshold", "threshold_", "triplet_margin_loss"),
        "gradscope.autograd.lowrank": ("pca_lowrank", "svd_lowrank"),
        "gradscope.serialization": ("load", "save"),
        # debugging a training loop: a layer above this package, which itself imports this one
        "gradscope.watching": ("watch", "WatchStop"),
    },
    bind=_numpy_names.binding_in(__name__),
)
# `from gradscope import *` takes (and loads) what it took before these loaded lazily: not the debugger's layers
__all__ = sorted(name for name in __dir__() if not name.startswith("_")
                 and name not in ("WatchStop", "hub", "multiprocessing", "profiler", "watch"))
