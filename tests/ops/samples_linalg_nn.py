"""Sample calls of torch.linalg and of the activations, losses, distances and attention of
torch.nn.functional. Each is `(name, fn, shapes, options)`; samples.py turns it into a Sample (`fn(lib,
*inputs)` on float64 inputs, `options` its domain, step or tolerance). This module imports nothing from
samples.py. Shapes are tiny: the second-order check differentiates every element numerically.

gumbel_softmax has no sample (its noise can't match torch's random stream): tests/nn/test_functional_activation.py
checks it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

Call = tuple  # (name, fn(lib, *inputs), input shapes, Sample options)

REDUCTIONS = ("mean", "sum", "none")


def const(lib, values, like):
    """A constant tensor (targets, weights) with the dtype of the tensor `like`."""
    return lib.tensor(values, dtype=like.dtype)


def signs(shape) -> np.ndarray:
    """A fixed ±1 pattern with both signs (targets of margin losses)."""
    return np.where(np.indices(shape).sum(axis=0) % 2 == 0, 1.0, -1.0)


def _call(name: str, fn, shapes, **options) -> Call:
    return name, fn, shapes, options


def quietly(fn):
    """`fn` with the warnings PyTorch gives for it on purpose (kl_div's 'mean', a broadcast target) muted."""
    def call(lib, *inputs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(lib, *inputs)
    return call


def _activations() -> list[Call]:
    m = ((2, 3),)
    calls = [
        _call("hardtanh", lambda lib, x: lib.F.hardtanh(x), m),
        _call("hardtanh_bounds", lambda lib, x: lib.F.hardtanh(x, -0.7, 1.2), ((3,),)),
        _call("hardtanh_inplace", lambda lib, x: lib.F.hardtanh(x * 1, inplace=True), m),
        _call("relu6", lambda lib, x: lib.F.relu6(x * 5), m),
        _call("relu6_inplace", lambda lib, x: lib.F.relu6(x * 5, inplace=True), ((),)),
        _call("elu", lambda lib, x: lib.F.elu(x), m),
        _call("elu_alpha", lambda lib, x: lib.F.elu(x, 0.4), ((3,),)),
        _call("elu_inplace", lambda lib, x: lib.F.elu(x * 1, 1.5, inplace=True), m),
        _call("selu", lambda lib, x: lib.F.selu(x), m),
        _call("selu_inplace", lambda lib, x: lib.F.selu(x * 1, inplace=True), ((3,),)),
        _call("celu", lambda lib, x: lib.F.celu(x, 0.7), m),
        _call("celu_inplace", lambda lib, x: lib.F.celu(x * 1, 0.7, inplace=True), m),
        _call("threshold", lambda lib, x: lib.F.threshold(x, 0.2, -3.0), m),
        _call("threshold_inplace", lambda lib, x: lib.F.threshold(x * 1, -0.1, 2.0, inplace=True), m),
        _call("hardsigmoid", lambda lib, x: lib.F.hardsigmoid(x * 4), m),
        _call("hardsigmoid_inplace", lambda lib, x: lib.F.hardsigmoid(x * 4, inplace=True), ((3,),)),
        _call("hardswish", lambda lib, x: lib.F.hardswish(x * 4), m),
        _call("hardswish_inplace", lambda lib, x: lib.F.hardswish(x * 4, inplace=True), ((),)),
        _call("mish", lambda lib, x: lib.F.mish(x * 3), m),
        _call("mish_inplace", lambda lib, x: lib.F.mish(x * 1, inplace=True), ((3,),)),
        _call("leaky_relu_inplace", lambda lib, x: lib.F.leaky_relu(x * 1, 0.2, inplace=True), m),
        _call("leaky_relu_inplace_module", lambda lib, x: lib.nn.LeakyReLU(0.05, inplace=True)(x * 2), ((3,),)),
        _call("silu_inplace", lambda lib, x: lib.F.silu(x * 1, inplace=True), m),
        _call("logsigmoid", lambda lib, x: lib.F.logsigmoid(x * 3), m),
        _call("softplus", lambda lib, x: lib.F.softplus(x), m),
        _call("softplus_beta_threshold", lambda lib, x: lib.F.softplus(x * 2, beta=2, threshold=2.5), m),
        _call("softsign", lambda lib, x: lib.F.softsign(x), m),
        _call("softmin", lambda lib, x: lib.F.softmin(x, 1), m),
        _call("softmin_dtype", lambda lib, x: lib.F.softmin(x, 0, dtype=lib.float64), ((3,),)),
        _call("glu", lambda lib, x: lib.F.glu(x), ((3, 4),)),
        _call("glu_dim0", lambda lib, x: lib.F.glu(x, 0), ((2, 3),)),
        _call("prelu_channels", lambda lib, x, w: lib.F.prelu(x, w), ((2, 3, 2), (3,))),
        _call("prelu_shared", lambda lib, x, w: lib.F.prelu(x, w), ((2, 3), (1,))),
        _call("prelu_vector", lambda lib, x, w: lib.F.prelu(x, w), ((3,), (1,))),
    ]
    return calls


def _distances() -> list[Call]:
    return [
        _call("cosine_similarity", lambda lib, a, b: lib.F.cosine_similarity(a, b), ((2, 3), (2, 3))),
        _call("cosine_similarity_broadcast", lambda lib, a, b: lib.F.cosine_similarity(a, b, dim=-1),
              ((2, 1, 3), (2, 3))),
        _call("cosine_similarity_vectors", lambda lib, a, b: lib.F.cosine_similarity(a, b, 0), ((3,), (3,))),
        _call("pairwise_distance", lambda lib, a, b: lib.F.pairwise_distance(a, b), ((2, 3), (2, 3))),
        _call("pairwise_distance_p1_keepdim", lambda lib, a, b: lib.F.pairwise_distance(a, b, 1, keepdim=True),
              ((2, 3), (3,))),
        _call("pairwise_distance_p3", lambda lib, a, b: lib.F.pairwise_distance(a, b, 3.0, eps=0.0), ((3,), (3,))),
        _call("bilinear", lambda lib, a, b, w, bias: lib.F.bilinear(a, b, w, bias), ((2, 3), (2, 2), (2, 3, 2), (2,))),
        _call("bilinear_batched", lambda lib, a, b, w: lib.F.bilinear(a, b, w), ((2, 1, 2), (2, 1, 3), (1, 2, 3))),
    ]


def _regression_losses() -> list[Call]:
    calls = []
    pair = ((2, 3), (2, 3))
    for r in REDUCTIONS:
        calls += [
            _call(f"l1_loss_{r}", lambda lib, x, t, r=r: lib.F.l1_loss(x, t, reduction=r), pair),
            _call(f"smooth_l1_loss_{r}", lambda lib, x, t, r=r: lib.F.smooth_l1_loss(x, t, reduction=r, beta=0.8),
                  pair),
            _call(f"huber_loss_{r}", lambda lib, x, t, r=r: lib.F.huber_loss(x, t, reduction=r, delta=0.9), pair),
            _call(f"binary_cross_entropy_{r}", lambda lib, x, t, r=r: lib.F.binary_cross_entropy(x, t, reduction=r),
                  pair, domain="unit"),
            _call(f"kl_div_{r}", quietly(lambda lib, x, t, r=r: lib.F.kl_div(x, t, reduction=r)), pair,
                  domain=("signed", "unit")),
            _call(f"poisson_nll_loss_{r}", lambda lib, x, t, r=r: lib.F.poisson_nll_loss(x, t, reduction=r), pair,
                  domain=("signed", "positive")),
            _call(f"gaussian_nll_loss_{r}", lambda lib, x, t, v, r=r: lib.F.gaussian_nll_loss(x, t, v, reduction=r),
                  pair + ((2, 3),), domain=("signed", "signed", "positive")),
            _call(f"soft_margin_loss_{r}", lambda lib, x, r=r: lib.F.soft_margin_loss(
                x, const(lib, signs(x.shape), x), reduction=r), ((2, 3),)),
        ]
    calls += [
        _call("l1_loss_weight", lambda lib, x, t: lib.F.l1_loss(x, t, weight=const(lib, np.full((2, 3), 0.5), x)),
              pair),
        _call("l1_loss_broadcast", quietly(lambda lib, x, t: lib.F.l1_loss(x, t, reduction="sum")), ((2, 3), (3,))),
        _call("smooth_l1_loss_beta0", lambda lib, x, t: lib.F.smooth_l1_loss(x, t, beta=0.0), pair),
        _call("smooth_l1_loss_scalar", lambda lib, x, t: lib.F.smooth_l1_loss(x, t), ((), ())),
        _call("huber_loss_weight", lambda lib, x, t: lib.F.huber_loss(
            x, t, weight=const(lib, [[1.0, 2.0, 0.5], [0.1, 1.0, 3.0]], x)), pair),
        _call("binary_cross_entropy_weight", lambda lib, x, t: lib.F.binary_cross_entropy(
            x, t, weight=const(lib, [0.5, 2.0, 1.0], x)), pair, domain="unit"),
        _call("kl_div_batchmean", lambda lib, x, t: lib.F.kl_div(x, t, reduction="batchmean"), pair,
              domain=("signed", "unit")),
        _call("kl_div_log_target", lambda lib, x, t: lib.F.kl_div(x, t, reduction="sum", log_target=True), pair),
        _call("poisson_nll_loss_probabilities", lambda lib, x, t: lib.F.poisson_nll_loss(x, t, log_input=False), pair,
              domain="positive"),
        _call("poisson_nll_loss_full", lambda lib, x, t: lib.F.poisson_nll_loss(x, 2 * t, full=True), pair,
              domain=("signed", "positive")),
        _call("gaussian_nll_loss_homoscedastic", lambda lib, x, t, v: lib.F.gaussian_nll_loss(x, t, v, full=True),
              ((2, 3), (2, 3), (2,)), domain=("signed", "signed", "positive")),
        _call("gaussian_nll_loss_shared", lambda lib, x, t, v: lib.F.gaussian_nll_loss(x, t, v, reduction="none"),
              ((2, 3), (2, 3), (2, 1)), domain=("signed", "signed", "positive")),
    ]
    return calls


def _margin_losses() -> list[Call]:
    calls = []
    for r in REDUCTIONS:
        calls += [
            _call(f"margin_ranking_loss_{r}", lambda lib, a, b, r=r: lib.F.margin_ranking_loss(
                a, b, const(lib, signs(a.shape), a), margin=0.3, reduction=r), ((2, 3), (2, 3))),
            _call(f"hinge_embedding_loss_{r}", lambda lib, x, r=r: lib.F.hinge_embedding_loss(
                x, const(lib, signs(x.shape), x), margin=1.2, reduction=r), ((2, 3),)),
            _call(f"cosine_embedding_loss_{r}", lambda lib, a, b, r=r: lib.F.cosine_embedding_loss(
                a, b, const(lib, [1.0, -1.0, -1.0], a), margin=-0.5, reduction=r), ((3, 2), (3, 2))),
            _call(f"triplet_margin_loss_{r}", lambda lib, a, p, n, r=r: lib.F.triplet_margin_loss(
                a, p, n, margin=2.0, reduction=r), ((2, 3),) * 3),
            _call(f"multilabel_soft_margin_loss_{r}", lambda lib, x, t, r=r: lib.F.multilabel_soft_margin_loss(
                x, t, reduction=r), ((2, 3), (2, 3)), domain=("signed", "unit")),
        ]
    calls += [
        _call("cosine_embedding_loss_vectors", lambda lib, a, b: lib.F.cosine_embedding_loss(
            a, b, const(lib, 1.0, a)), ((3,), (3,))),
        _call("triplet_margin_loss_swap_p1", lambda lib, a, p, n: lib.F.triplet_margin_loss(
            a, p, n, margin=3.0, p=1, swap=True), ((2, 3),) * 3),
        _call("multilabel_soft_margin_loss_weight", lambda lib, x, t: lib.F.multilabel_soft_margin_loss(
            x, t, weight=const(lib, [0.5, 1.0, 2.0], x)), ((2, 3), (2, 3)), domain=("signed", "unit")),
    ]
    return calls


def _classes(lib, values):
    return lib.tensor(np.asarray(values, dtype=np.int64))


# targets for (N, C, d…) inputs with C = 3 (-100 is the default ignore_index)
_TARGETS_3D = [[2, 0], [1, -100]]
_TARGETS_4D = [[[2, 0], [1, 1]], [[0, -100], [2, 2]]]
_TARGETS_5D = [[[[1, 2]], [[0, 0]]], [[[2, -100]], [[1, 0]]]]


def _class_losses() -> list[Call]:
    calls = []
    weight = (0.3, 1.0, 2.5)
    for r in REDUCTIONS:
        for rank, shape, targets in ((3, (2, 3, 2), _TARGETS_3D), (4, (2, 3, 2, 2), _TARGETS_4D),
                                     (5, (2, 3, 2, 1, 2), _TARGETS_5D)):
            calls += [
                _call(f"nll_loss_{rank}d_{r}", lambda lib, x, r=r, t=targets: lib.F.nll_loss(
                    x, _classes(lib, t), reduction=r), (shape,)),
                _call(f"cross_entropy_{rank}d_{r}", lambda lib, x, r=r, t=targets: lib.F.cross_entropy(
                    x, _classes(lib, t), const(lib, weight, x), reduction=r), (shape,)),
                _call(f"cross_entropy_{rank}d_smoothing_{r}", lambda lib, x, r=r, t=targets: lib.F.cross_entropy(
                    x, _classes(lib, t), const(lib, weight, x), reduction=r, label_smoothing=0.2), (shape,)),
            ]
        calls += [
            _call(f"nll_loss_4d_ignore_{r}", lambda lib, x, r=r: lib.F.nll_loss(
                x, _classes(lib, [[[2, 0], [1, 1]], [[0, 1], [2, 2]]]), ignore_index=2, reduction=r), ((2, 3, 2, 2),)),
            _call(f"cross_entropy_smoothing_{r}", lambda lib, x, r=r: lib.F.cross_entropy(
                x, _classes(lib, [2, 0, 1]), reduction=r, label_smoothing=0.3, ignore_index=0), ((3, 3),)),
            _call(f"cross_entropy_probabilities_{r}", lambda lib, x, t, r=r: lib.F.cross_entropy(
                x, t, const(lib, weight, x), reduction=r, label_smoothing=0.1), ((2, 3, 2), (2, 3, 2)),
                domain=("signed", "unit")),
        ]
    calls += [
        _call("cross_entropy_unbatched_smoothing", lambda lib, x: lib.F.cross_entropy(
            x, _classes(lib, 1), label_smoothing=0.4), ((3,),)),
        _call("cross_entropy_probabilities_unbatched", lambda lib, x, t: lib.F.cross_entropy(
            x, t, const(lib, weight, x)), ((3,), (3,)), domain=("signed", "unit")),
    ]
    return calls


def _shifted(lib, a):
    """a + 3·I: a random signed matrix kept far from singular."""
    return a + 3 * lib.eye(a.shape[-1], dtype=a.dtype)


def _spd(lib, a):
    """a·aᵀ + I: symmetric positive-definite."""
    return a @ a.mT + lib.eye(a.shape[-1], dtype=a.dtype)


def _outer_columns(u, v):
    """u[:, i] ⊗ v[:, i] for each i: unchanged when a column of u and v flip sign together, as eigen- and
    singular vectors may between LAPACKs."""
    return u.mT.unsqueeze(-1) * v.mT.unsqueeze(-2)


def _eigh(lib, a, **options):
    values, vectors = lib.linalg.eigh(a + a.mT, **options)
    return values, _outer_columns(vectors, vectors)


def _svd(lib, a, **options):
    u, singular, vh = lib.linalg.svd(a, **options)
    k = singular.shape[-1]
    return singular, _outer_columns(u[..., :k], vh[..., :k, :].mT)


def _linalg() -> list[Call]:
    calls = [
        _call("linalg_inv", lambda lib, a: lib.linalg.inv(_shifted(lib, a)), ((3, 3),)),
        _call("linalg_inv_batched", lambda lib, a: lib.linalg.inv(_shifted(lib, a)), ((2, 2, 2),)),
        _call("linalg_det", lambda lib, a: lib.linalg.det(a), ((3, 3),)),
        _call("linalg_det_batched", lambda lib, a: lib.linalg.det(_shifted(lib, a)), ((2, 2, 2),)),
        _call("linalg_slogdet", lambda lib, a: lib.linalg.slogdet(a), ((2, 2),)),
        _call("linalg_slogdet_batched", lambda lib, a: lib.linalg.slogdet(_shifted(lib, a) - 6 * a), ((2, 2, 2),)),
        _call("linalg_solve_vector", lambda lib, a, b: lib.linalg.solve(_shifted(lib, a), b), ((3, 3), (3,))),
        _call("linalg_solve_matrix", lambda lib, a, b: lib.linalg.solve(_shifted(lib, a), b), ((3, 3), (3, 2))),
        _call("linalg_solve_right", lambda lib, a, b: lib.linalg.solve(_shifted(lib, a), b, left=False),
              ((2, 2), (3, 2))),
        _call("linalg_solve_broadcast", lambda lib, a, b: lib.linalg.solve(_shifted(lib, a), b), ((2, 2, 2), (2, 1))),
        _call("linalg_solve_batched_vectors", lambda lib, a, b: lib.linalg.solve(_shifted(lib, a), b),
              ((2, 2, 2), (2, 2))),
        _call("linalg_solve_triangular",
              lambda lib, a, b: lib.linalg.solve_triangular(_shifted(lib, a), b, upper=False), ((3, 3), (3, 2))),
        _call("linalg_solve_triangular_upper_right_unit", lambda lib, a, b: lib.linalg.solve_triangular(
            a, b, upper=True, left=False, unitriangular=True), ((2, 2, 2), (3, 2))),
        _call("linalg_cholesky", lambda lib, a: lib.linalg.cholesky(_spd(lib, a)), ((3, 3),)),
        _call("linalg_cholesky_upper", lambda lib, a: lib.linalg.cholesky(_spd(lib, a), upper=True), ((2, 2, 2),)),
        _call("linalg_qr", lambda lib, a: lib.linalg.qr(a), ((3, 2),)),
        _call("linalg_qr_wide", lambda lib, a: lib.linalg.qr(a), ((2, 3),)),
        _call("linalg_qr_complete", lambda lib, a: lib.linalg.qr(a, mode="complete"), ((2, 2, 2),)),
        _call("linalg_qr_r", lambda lib, a: lib.linalg.qr(a)[1], ((3, 3),)),
        _call("linalg_eigh", lambda lib, a: _eigh(lib, a), ((3, 3),)),
        _call("linalg_eigh_upper", lambda lib, a: _eigh(lib, a, UPLO="U"), ((2, 2, 2),)),
        _call("linalg_eigvalsh", lambda lib, a: lib.linalg.eigvalsh(a + a.mT), ((3, 3),)),
        _call("linalg_svd", lambda lib, a: _svd(lib, a, full_matrices=False), ((3, 2),)),
        _call("linalg_svd_wide", lambda lib, a: _svd(lib, a, full_matrices=False), ((2, 3),)),
        _call("linalg_svd_full", lambda lib, a: _svd(lib, a), ((2, 3, 2),)),
        _call("linalg_svd_vectors_only", lambda lib, a: _svd(lib, a, full_matrices=False)[1], ((3, 3),)),
        _call("linalg_svdvals", lambda lib, a: lib.linalg.svdvals(a), ((2, 3, 2),)),
        _call("linalg_vector_norm", lambda lib, x: lib.linalg.vector_norm(x, 3, dim=(0, 2), keepdim=True),
              ((2, 2, 3),)),
        _call("linalg_norm", lambda lib, x: lib.linalg.norm(x), ((2, 3),)),
        _call("linalg_norm_vector_dim", lambda lib, x: lib.linalg.norm(x, 1, dim=1), ((2, 3),)),
        _call("linalg_norm_matrix_order", lambda lib, x: lib.linalg.norm(x, -2), ((3, 2),)),
        _call("linalg_norm_nuc_dims", lambda lib, x: lib.linalg.norm(x, "nuc", dim=(0, 2), keepdim=True),
              ((2, 2, 3),)),
    ]
    calls += _linalg_aliases()
    for order in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf):
        calls += [
            _call(f"linalg_matrix_norm_{order}", lambda lib, a, o=order: lib.linalg.matrix_norm(a, o), ((2, 3),)),
            _call(f"linalg_matrix_norm_{order}_dims_keepdim", lambda lib, a, o=order: lib.linalg.matrix_norm(
                a, o, dim=(2, 0), keepdim=True), ((2, 2, 3),)),
        ]
    return calls


def _svd_legacy(lib, a, **options):
    """torch.svd's (U, S, V), gauge-free as _svd's."""
    u, singular, v = lib.svd(a, **options)
    k = singular.shape[-1]
    return singular, _outer_columns(u[..., :k], v[..., :k])


def _deprecated(function, *args, **kwargs):
    """A deprecated function called without its (once per process) warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return function(*args, **kwargs)


def _linalg_aliases() -> list[Call]:
    """The torch.* and Tensor.* forms (torch.det, x.inverse() …) and linalg.pinv, linalg.matrix_power,
    linalg.matrix_exp, linalg.householder_product."""
    calls = [
        _call("det_function", lambda lib, a: lib.det(a), ((3, 3),)),
        _call("det_method", lambda lib, a: _shifted(lib, a).det(), ((2, 2, 2),)),
        _call("logdet", lambda lib, a: lib.logdet(_spd(lib, a)), ((3, 3),)),
        _call("slogdet_function", lambda lib, a: lib.slogdet(_shifted(lib, a)), ((2, 3, 3),)),
        _call("inverse", lambda lib, a: lib.inverse(_shifted(lib, a)), ((3, 3),)),
        _call("inverse_method", lambda lib, a: _shifted(lib, a).inverse(), ((2, 2, 2),)),
        _call("pinverse", lambda lib, a: lib.pinverse(a), ((3, 2),)),
        _call("pinverse_wide_method", lambda lib, a: a.pinverse(), ((2, 2, 3),)),
        _call("linalg_pinv", lambda lib, a: lib.linalg.pinv(a), ((2, 3),)),
        _call("linalg_pinv_rank_deficient", lambda lib, a: lib.linalg.pinv(a[:, :1] * a[:1, :], atol=1e-3),
              ((3, 3),)),
        _call("linalg_pinv_square", lambda lib, a: lib.linalg.pinv(_shifted(lib, a), rtol=1e-3), ((3, 3),)),
        # through eigh, which reads the lower triangle (a symmetric input: its finite differences are the rule's)
        _call("linalg_pinv_hermitian", lambda lib, a: lib.linalg.pinv(_shifted(lib, a + a.mT), hermitian=True),
              ((2, 3, 3),)),
        _call("cholesky_inverse", lambda lib, a: lib.cholesky_inverse(lib.linalg.cholesky(_spd(lib, a))), ((3, 3),)),
        _call("cholesky_inverse_upper", lambda lib, a: lib.linalg.cholesky(_spd(lib, a), upper=True).cholesky_inverse(
            upper=True), ((2, 2, 2),)),
        _call("cholesky_inverse_factor", lambda lib, a: lib.cholesky_inverse(_shifted(lib, a).tril()), ((3, 3),)),
        _call("cholesky_solve", lambda lib, b, a: lib.cholesky_solve(b, lib.linalg.cholesky(_spd(lib, a))),
              ((3, 2), (3, 3))),
        # batch dims broadcast both ways (PyTorch's gradient of the factor is not zero in the triangle the forward
        # doesn't read: triu() keeps finite differences out of it; test_linalg_cholesky_solve_vs_torch has junk there)
        _call("cholesky_solve_upper_broadcast", lambda lib, b, a: b.cholesky_solve(_shifted(lib, a).triu(), upper=True),
              ((2, 1, 2, 3), (3, 2, 2))),
        _call("cholesky_deprecated", lambda lib, a: _deprecated(lib.cholesky, _spd(lib, a), upper=True), ((3, 3),)),
        _call("qr_deprecated", lambda lib, a: _deprecated(lib.qr, a, some=False), ((2, 3),)),
        _call("svd_function", lambda lib, a: _svd_legacy(lib, a), ((3, 2),)),
        _call("svd_complete", lambda lib, a: _svd_legacy(lib, a, some=False), ((2, 3),)),
        _call("svd_values_only", lambda lib, a: lib.svd(a, compute_uv=False)[1], ((2, 3),)),
        _call("linalg_matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a), ((3, 3),)),
        _call("matrix_exp_method_batched", lambda lib, a: (4 * a).matrix_exp(), ((2, 2, 2),)),  # squarings
        _call("linalg_householder_product", lambda lib, a, tau: lib.linalg.householder_product(a, tau),
              ((4, 3), (3,))),
        _call("orgqr_batched_fewer_reflectors", lambda lib, a, tau: lib.orgqr(a, tau), ((2, 3, 2), (2, 1))),
    ]
    for n in (0, 1, 2, 3, 4, 5, -1, -2, -3):
        calls.append(_call(f"matrix_power_{n}", lambda lib, a, n=n: lib.matrix_power(_shifted(lib, a), n), ((2, 2),)))
    calls.append(_call("matrix_power_method_batched", lambda lib, a: _shifted(lib, a).matrix_power(6), ((2, 2, 2),)))
    calls.append(_call("linalg_matrix_power", lambda lib, a: lib.linalg.matrix_power(a, 7), ((2, 2),)))
    return calls


def _sdpa(lib, *inputs, **options):
    return lib.F.scaled_dot_product_attention(*inputs, **options)


# multi-head attention: embedding 4 over 2 heads, packed in-projection (12, 4) and its bias, out-projection
_MHA = ((12, 4), (12,), (4, 4), (4,))
_KEY_PADDING = [[False, False, True]]
_ATTENTION_MASK = [[False, True, False], [True, False, False]]


def _mha(lib, query, key, value, weight, bias, out_weight, out_bias, **options):
    return lib.F.multi_head_attention_forward(query, key, value, 4, 2, weight, bias, options.pop("bias_k", None),
                                              options.pop("bias_v", None), options.pop("add_zero_attn", False), 0.0,
                                              out_weight, out_bias, **options)


def _attention() -> list[Call]:
    qkv = ((2, 3, 2), (2, 2, 2), (2, 2, 3))
    return [
        _call("scaled_dot_product_attention", lambda lib, q, k, v: _sdpa(lib, q, k, v), qkv),
        _call("scaled_dot_product_attention_bool_mask", lambda lib, q, k, v: _sdpa(
            lib, q, k, v, attn_mask=lib.tensor([[True, False], [True, True], [False, False]])), qkv),
        _call("scaled_dot_product_attention_float_mask", lambda lib, q, k, v, m: _sdpa(lib, q, k, v, attn_mask=m),
              qkv + ((3, 2),)),
        _call("scaled_dot_product_attention_causal_scale", lambda lib, q, k, v: _sdpa(
            lib, q, k, v, is_causal=True, scale=-0.8), qkv),
        _call("scaled_dot_product_attention_unbatched", lambda lib, q, k, v: _sdpa(lib, q, k, v),
              ((2, 2), (3, 2), (3, 1))),
        _call("scaled_dot_product_attention_gqa", lambda lib, q, k, v: _sdpa(lib, q, k, v, enable_gqa=True),
              ((1, 2, 2, 2), (1, 1, 2, 2), (1, 1, 2, 3))),
        # NOTE: PyTorch takes its flash-attention kernel here (4-D, equal head sizes): test_against_torch pins the name
        _call("scaled_dot_product_attention_flash_shapes", lambda lib, q, k, v: _sdpa(lib, q, k, v, is_causal=True),
              ((1, 2, 2, 2), (1, 2, 3, 2), (1, 2, 3, 2))),
        _call("multi_head_attention_forward", lambda lib, x, *w: _mha(lib, x, x, x, *w)[0], ((2, 1, 4),) + _MHA),
        # the weights don't depend on the out-projection: a sample of their own, that one held constant
        _call("multi_head_attention_forward_weights", lambda lib, x, y, w, b: _mha(
            lib, x, y, y, w, b, const(lib, np.eye(4), w), None, key_padding_mask=lib.tensor(_KEY_PADDING),
            attn_mask=lib.tensor(_ATTENTION_MASK), average_attn_weights=False)[1], ((2, 1, 4), (3, 1, 4)) + _MHA[:2]),
        _call("multi_head_attention_forward_masks", lambda lib, x, y, *w: _mha(
            lib, x, y, y, *w, key_padding_mask=lib.tensor(_KEY_PADDING), attn_mask=lib.tensor(_ATTENTION_MASK))[0],
              ((2, 1, 4), (3, 1, 4)) + _MHA),
        _call("multi_head_attention_forward_without_weights", lambda lib, x, k, v, *w: _mha(
            lib, x, k, v, *w, key_padding_mask=lib.tensor(_KEY_PADDING), need_weights=False)[0],
              ((2, 1, 4), (3, 1, 4), (3, 1, 4)) + _MHA),
        _call("multi_head_attention_forward_bias_kv_zero_attn", lambda lib, x, y, w, b, ow, ob, bk, bv: _mha(
            lib, x, y, y, w, b, ow, ob, bias_k=bk, bias_v=bv, add_zero_attn=True)[0], ((2, 4), (2, 4)) + _MHA
              + ((1, 1, 4), (1, 1, 4))),
    ]


def linalg_nn_calls() -> list[Call]:
    return (_activations() + _distances() + _regression_losses() + _margin_losses() + _class_losses() + _linalg()
            + _attention())
