"""Sample calls of the torch.* / Tensor.* functions beyond the basics: pointwise math, scans, shape and
indexing, sorting and statistics, products. Each is `(name, fn, shapes, options)`, which samples.py
turns into a Sample (`options` are Sample's keyword arguments: domain, eps, atol); this module imports
nothing from it. Shapes are tiny: the second-order check differentiates every element numerically.
"""

from __future__ import annotations

SHAPES = ((), (3,), (2, 3))
PAIRS = (((2, 3), (2, 3)), ((2, 3), (3,)), ((), (2, 1)))
_NON_FINITE = [[0.0, float("nan"), 0.0], [float("inf"), 0.0, float("-inf")]]


def _call(name: str, fn, shapes, **options) -> tuple:
    return name, fn, shapes, options


def _unary(name: str, fn, domain: str = "signed", shapes=SHAPES) -> list[tuple]:
    return [_call(name, fn, (shape,), domain=domain) for shape in shapes]


def _pointwise() -> list[tuple]:
    samples = []
    for name, fn, domain in [
        ("acos", lambda lib, x: lib.acos(x), "unit"),
        ("arccos", lambda lib, x: x.arccos(), "unit"),
        ("asin", lambda lib, x: x.asin(), "unit"),
        ("atan", lambda lib, x: lib.atan(x), "signed"),
        ("cosh", lambda lib, x: x.cosh(), "signed"),
        ("sinh", lambda lib, x: lib.sinh(x), "signed"),
        ("tan", lambda lib, x: x.tan(), "signed"),
        ("expm1", lambda lib, x: lib.expm1(x), "signed"),
        ("log2", lambda lib, x: x.log2(), "positive"),
        ("log10", lambda lib, x: lib.log10(x), "positive"),
        ("lgamma", lambda lib, x: lib.lgamma(x), "positive"),
        ("lgamma_negative", lambda lib, x: (x - 3).lgamma(), "offgrid"),
        ("digamma", lambda lib, x: x.digamma(), "positive"),
        ("polygamma2", lambda lib, x: lib.polygamma(2, x), "positive"),
        ("erfinv", lambda lib, x: x.erfinv(), "unit"),
        ("erfinv_negative", lambda lib, x: lib.erfinv(-x), "unit"),
        ("frac", lambda lib, x: x.frac(), "offgrid"),
        ("fmod_scalar", lambda lib, x: x.fmod(1.5), "offgrid"),
        ("remainder_scalar", lambda lib, x: lib.remainder(x, -1.5), "offgrid"),
        ("div_rounding_floor_scalar", lambda lib, x: lib.div(x, 0.7, rounding_mode="floor") + x, "offgrid"),
        ("div_rounding_none_scalar", lambda lib, x: x.div(0.7, rounding_mode=None), "signed"),
        ("nan_to_num", lambda lib, x: (x.log() * 2).nan_to_num(), "signed"),
        ("xlogy_scalar_other", lambda lib, x: x.xlogy(2.5), "signed"),
        ("xlogy_scalar_self", lambda lib, x: lib.xlogy(3.0, x), "positive"),
        ("lerp_scalar_weight", lambda lib, x: x.lerp(x * x, 0.3), "signed"),
    ]:
        samples += _unary(name, fn, domain)
    samples.append(_call("nan_to_num_values", lambda lib, x: lib.nan_to_num(
        lib.where(lib.tensor([[True, False, True], [False, True, False]]), x, lib.tensor(_NON_FINITE, dtype=x.dtype)),
        0.5, 2.0, -3.0), ((2, 3),)))
    samples += [_call("polygamma1", lambda lib, x: x.polygamma(1), ((2, 3),), domain="positive"),
                _call("polygamma0", lambda lib, x: lib.polygamma(0, x), ((3,),), domain="positive")]
    for name, fn, domains in [
        ("atan2", lambda lib, x, y: lib.atan2(x, y), "signed"),
        ("arctan2", lambda lib, x, y: x.arctan2(y), "signed"),
        ("xlogy", lambda lib, x, y: lib.xlogy(x, y), ("signed", "positive")),
        ("logaddexp", lambda lib, x, y: x.logaddexp(y), "signed"),
        ("fmod", lambda lib, x, y: lib.fmod(x, y), ("signed", "positive")),
        ("remainder", lambda lib, x, y: x.remainder(y), ("signed", "positive")),
        ("lerp", lambda lib, x, y: lib.lerp(x, y, 0.7), "signed"),
        # DivBackward2: any rounding mode given, None too; a rounded quotient's gradients are zero
        ("div_rounding_none", lambda lib, x, y: lib.div(x, y, rounding_mode=None), ("signed", "positive")),
        ("div_rounding_floor", lambda lib, x, y: x.div(y, rounding_mode="floor") + x * y, ("offgrid", "positive")),
        ("div_rounding_trunc", lambda lib, x, y: lib.div(x, y, rounding_mode="trunc") + x * y, ("offgrid", "positive")),
    ]:
        samples += [_call(name, fn, pair, domain=domains) for pair in PAIRS]
    samples += [
        _call("lerp_tensor_weight", lambda lib, x, y, w: x.lerp(y, w), ((2, 3), (3,), (2, 1)), domain="signed"),
        _call("lerp_tensor_weight_far", lambda lib, x, y, w: lib.lerp(x, y, w * 2), ((3,), (3,), (3,)),
              domain=("signed", "signed", "positive")),
    ]
    # in place: the same nodes, on a clone
    for name, fn, domain in [
        ("acos_", lambda lib, x: x.clone().acos_(), "unit"),
        ("asin_", lambda lib, x: x.clone().asin_(), "unit"),
        ("atan_", lambda lib, x: x.clone().atan_(), "signed"),
        ("cosh_", lambda lib, x: x.clone().cosh_(), "signed"),
        ("sinh_", lambda lib, x: x.clone().sinh_(), "signed"),
        ("tan_", lambda lib, x: x.clone().tan_(), "signed"),
        ("expm1_", lambda lib, x: x.clone().expm1_(), "signed"),
        ("log2_", lambda lib, x: x.clone().log2_(), "positive"),
        ("log10_", lambda lib, x: x.clone().log10_(), "positive"),
        ("lgamma_", lambda lib, x: x.clone().lgamma_(), "positive"),
        ("digamma_", lambda lib, x: x.clone().digamma_(), "positive"),
        ("polygamma_", lambda lib, x: x.clone().polygamma_(1), "positive"),
        ("erfinv_", lambda lib, x: x.clone().erfinv_(), "unit"),
        ("frac_", lambda lib, x: x.clone().frac_(), "offgrid"),
        ("nan_to_num_", lambda lib, x: x.clone().nan_to_num_(), "signed"),
        ("fmod_", lambda lib, x: x.clone().fmod_(1.5), "offgrid"),
        ("remainder_", lambda lib, x: x.clone().remainder_(1.5), "offgrid"),
        ("xlogy_", lambda lib, x: x.clone().xlogy_(2.0), "signed"),
    ]:
        samples.append(_call(name, fn, ((2, 3),), domain=domain))
    samples += [
        _call("atan2_", lambda lib, x, y: x.clone().atan2_(y), ((2, 3), (3,))),
        _call("lerp_", lambda lib, x, y: x.clone().lerp_(y, 0.25), ((2, 3), (2, 3))),
        _call("lerp_tensor_", lambda lib, x, y, w: x.clone().lerp_(y, w), ((2, 3), (2, 3), (3,))),
        _call("xlogy_tensor_", lambda lib, x, y: x.clone().xlogy_(y), ((2, 3), (2, 3)), domain=("signed", "positive")),
        _call("fmod_tensor_", lambda lib, x, y: x.clone().fmod_(y), ((2, 3), (3,)), domain=("signed", "positive")),
        _call("remainder_tensor_", lambda lib, x, y: x.clone().remainder_(y), ((2, 3), (3,)),
              domain=("signed", "positive")),
    ]
    return samples


def _scans() -> list[tuple]:
    samples = []
    for shape, dims in (((), (0, -1)), ((3,), (0,)), ((2, 3), (0, 1, -1))):
        for dim in dims:
            tag = f"dim{dim}"
            samples += [
                _call(f"cumsum_{tag}", lambda lib, x, d=dim: lib.cumsum(x, d), (shape,)),
                _call(f"cumprod_{tag}", lambda lib, x, d=dim: x.cumprod(d), (shape,)),
                _call(f"cummax_{tag}", lambda lib, x, d=dim: x.cummax(d), (shape,)),
                _call(f"cummin_{tag}", lambda lib, x, d=dim: lib.cummin(x, dim=d), (shape,)),
                _call(f"logcumsumexp_{tag}", lambda lib, x, d=dim: lib.logcumsumexp(x, d), (shape,)),
            ]
    samples += [
        _call("cumsum_dtype", lambda lib, x: x.cumsum(1, dtype=lib.float64), ((2, 3),)),
        _call("cumsum_", lambda lib, x: x.clone().cumsum_(0), ((2, 3),)),
        _call("cumprod_", lambda lib, x: x.clone().cumprod_(-1), ((2, 3),)),
        # ties: the gradient goes to the latest of equal running maxima
        _call("cummax_ties", lambda lib, x: (x * 0 + lib.tensor([1.0, 3.0, 3.0, 2.0], dtype=x.dtype) + x).cummax(0),
              ((4,),), domain="unit"),
        _call("diff", lambda lib, x: x.diff(), ((2, 3),)),
        _call("diff_dim0", lambda lib, x: lib.diff(x, dim=0), ((3, 2),)),
        _call("diff_n2", lambda lib, x: x.diff(2), ((4,),)),
        _call("diff_n0", lambda lib, x: lib.diff(x, 0), ((3,),)),
        _call("diff_prepend_append", lambda lib, x, p, a: lib.diff(x, 1, 0, p, a), ((2, 3), (1, 3), (2, 3))),
        _call("diff_append", lambda lib, x, a: x.diff(append=a), ((2, 3), (2, 1))),
    ]
    return samples


def _index(lib, values):
    return lib.tensor(values)


def _rearrange() -> list[tuple]:
    m, cube = ((2, 3),), ((2, 3, 4),)
    return [
        _call("flip", lambda lib, x: x.flip(0), m),
        _call("flip_dims", lambda lib, x: lib.flip(x, (0, -1)), cube),
        _call("flip[scalar]", lambda lib, x: x.flip(()), ((),)),
        _call("fliplr", lambda lib, x: lib.fliplr(x), m),
        _call("flipud", lambda lib, x: x.flipud(), ((3,),)),
        _call("movedim", lambda lib, x: x.movedim(0, -1), cube),
        _call("movedim_many", lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), cube),
        _call("moveaxis", lambda lib, x: lib.moveaxis(x, -1, 0), m),
        _call("swapaxes", lambda lib, x: x.swapaxes(0, 2), cube),
        _call("roll_flat", lambda lib, x: x.roll(2), m),
        _call("roll_dims", lambda lib, x: lib.roll(x, (1, -2), (0, 1)), m),
        _call("roll_dim", lambda lib, x: x.roll(-1, 1), cube),
        _call("rot90", lambda lib, x: x.rot90(), m),
        _call("rot90_k2", lambda lib, x: lib.rot90(x, 2, (1, 2)), cube),
        _call("rot90_negative", lambda lib, x: x.rot90(-1, [1, 0]), m),
        _call("tril", lambda lib, x: x.tril(), ((3, 3),)),
        _call("tril_offset", lambda lib, x: lib.tril(x, -1), m),
        _call("triu", lambda lib, x: lib.triu(x), cube),
        _call("triu_offset", lambda lib, x: x.triu(1), m),
        _call("tril_", lambda lib, x: x.clone().tril_(1), m),
        _call("triu_", lambda lib, x: x.clone().triu_(), m),
        _call("diagonal", lambda lib, x: x.diagonal(), m),
        _call("diagonal_offset", lambda lib, x: lib.diagonal(x, 1), m),
        _call("diagonal_negative_offset", lambda lib, x: x.diagonal(-1), ((3, 2),)),
        _call("diagonal_dims", lambda lib, x: lib.diagonal(x, 0, 2, 0), cube),
        _call("diagonal_empty", lambda lib, x: x.diagonal(5), m),
        _call("diag_vector", lambda lib, x: lib.diag(x), ((3,),)),
        _call("diag_vector_offset", lambda lib, x: x.diag(-1), ((2,),)),
        _call("diag_matrix", lambda lib, x: lib.diag(x, 1), m),
        _call("diag_embed", lambda lib, x: x.diag_embed(), m),
        _call("diag_embed_dims", lambda lib, x: lib.diag_embed(x, -1, 0, 2), m),
        _call("trace", lambda lib, x: x.trace(), m),
        # gradscope.trace is also the debugger's package, made callable: both forms must give the matrix trace
        _call("trace_function", lambda lib, x: lib.trace(x), ((3, 3),)),
        _call("swapaxes_", lambda lib, x: (x * 1).swapaxes_(0, 1), m),
        _call("swapdims_", lambda lib, x: (x * 1).swapdims_(-1, 0) * 2, cube),
        _call("transpose_", lambda lib, x: (x * 1).transpose_(2, 0), cube),
        _call("transpose_view", lambda lib, x: (x * 1)[:, 1:].transpose_(0, 1), m),
        _call("t_", lambda lib, x: (x * 1).t_(), m),
        _call("squeeze_all_", lambda lib, x: (x * 1).squeeze_(), ((2, 1, 3),)),
        _call("squeeze_dim_", lambda lib, x: (x * 1).squeeze_(1), ((2, 1, 3),)),
        _call("squeeze_dims_", lambda lib, x: (x * 1).squeeze_((1, 0)), ((2, 1, 3),)),
        _call("unsqueeze_", lambda lib, x: (x * 1).unsqueeze_(-1), m),
        _call("narrow", lambda lib, x: x.narrow(1, 1, 2), m),
        _call("narrow_negative", lambda lib, x: lib.narrow(x, -1, -2, 1), cube),
        _call("select", lambda lib, x: x.select(1, -1), m),
        _call("select_function", lambda lib, x: lib.select(x, 0, 1), cube),
        _call("repeat", lambda lib, x: x.repeat(2, 1), m),
        _call("repeat_new_dims", lambda lib, x: x.repeat(2, 1, 3), m),
        _call("repeat[scalar]", lambda lib, x: x.repeat(3), ((),)),
        _call("tile", lambda lib, x: lib.tile(x, (2,)), m),
        _call("tile_more", lambda lib, x: x.tile((2, 1, 2)), ((3,),)),
        _call("unfold", lambda lib, x: x.unfold(1, 2, 1), m),
        _call("unfold_strided", lambda lib, x: x.unfold(-1, 2, 2), cube),
        _call("unfold_dim0", lambda lib, x: x.unfold(0, 2, 1), ((3, 2),)),
        _call("hstack", lambda lib, a, b: lib.hstack([a, b]), ((2, 3), (2, 1))),
        _call("hstack_vectors", lambda lib, a, b: lib.hstack((a, b)), ((3,), ())),
        _call("vstack", lambda lib, a, b: lib.vstack([a, b]), ((3,), (2, 3))),
        _call("row_stack", lambda lib, a, b: lib.row_stack([a, b]), ((3,), (3,))),
        _call("dstack", lambda lib, a, b: lib.dstack([a, b]), ((1, 3), (3,))),
        _call("column_stack", lambda lib, a, b: lib.column_stack([a, b]), ((3,), (3, 2))),
        _call("atleast_2d", lambda lib, a, b: lib.cat(lib.atleast_2d(a, b), 1), ((), (3,))),
        _call("atleast_3d", lambda lib, a: lib.atleast_3d(a), ((3,),)),
        _call("atleast_1d", lambda lib, a: lib.atleast_1d([a]), ((),)),
        _call("broadcast_tensors", lambda lib, a, b: lib.stack(lib.broadcast_tensors(a, b)), ((2, 1), (3,))),
        _call("broadcast_tensors_same", lambda lib, a, b: lib.stack(lib.broadcast_tensors(a, b)), ((2, 3), (3,))),
        _call("broadcast_to", lambda lib, a: a.broadcast_to((2, 3)), ((3,),)),
        _call("broadcast_to_function", lambda lib, a: lib.broadcast_to(a, (2, 2, 3)), ((1, 3),)),
    ]


def _indexing() -> list[tuple]:
    m = ((2, 3),)
    rows = [[0, 2], [1, 0]]  # no repeats within a row: plain scatter has no order among writers
    return [
        _call("take", lambda lib, x: x.take(_index(lib, [[0, 5], [-1, 0]])), m),
        _call("take[scalar]", lambda lib, x: lib.take(x, _index(lib, [0, 0])), ((),)),
        _call("index_select", lambda lib, x: x.index_select(1, _index(lib, [2, 0, 2])), m),
        _call("index_select_dim0", lambda lib, x: lib.index_select(x, -2, _index(lib, [1])), m),
        _call("index_add", lambda lib, x, s: x.index_add(1, _index(lib, [0, 2, 0]), s), ((2, 3), (2, 3))),
        _call("index_add_alpha", lambda lib, x, s: lib.index_add(x, 0, _index(lib, [1, 1]), s, alpha=2.5),
              ((2, 3), (2, 3))),
        _call("index_add_", lambda lib, x, s: x.clone().index_add_(0, _index(lib, [1]), s), ((2, 3), (1, 3))),
        _call("index_fill", lambda lib, x: x.index_fill(1, _index(lib, [0, 2]), -1.5), m),
        _call("index_fill_tensor", lambda lib, x, v: lib.index_fill(x, 0, _index(lib, [1]), v), ((2, 3), ())),
        _call("index_fill_", lambda lib, x: x.clone().index_fill_(1, _index(lib, [1]), 2.0), m),
        _call("scatter", lambda lib, x, s: x.scatter(1, _index(lib, rows), s), ((2, 3), (2, 2))),
        _call("scatter_value", lambda lib, x: x.scatter(1, _index(lib, rows), 0.5), m),
        _call("scatter_", lambda lib, x, s: x.clone().scatter_(0, _index(lib, [[1, 0, 1]]), s), ((2, 3), (1, 3))),
        _call("scatter_add", lambda lib, x, s: x.scatter_add(1, _index(lib, [[0, 0], [2, 2]]), s), ((2, 3), (2, 2))),
        _call("scatter_add_", lambda lib, x, s: x.clone().scatter_add_(0, _index(lib, [[1, 1, 0]]), s),
              ((2, 3), (1, 3))),
    ] + [
        _call(f"scatter_reduce_{reduce}{'' if include else '_exclude_self'}",
              lambda lib, x, s, r=reduce, i=include: x.scatter_reduce(1, _index(lib, [[0, 0, 2], [1, 1, 1]]), s, r,
                                                                      include_self=i), ((2, 3), (2, 3)))
        for reduce in ("sum", "prod", "mean", "amax", "amin") for include in (True, False)
    ] + [
        _call("scatter_reduce_", lambda lib, x, s: x.clone().scatter_reduce_(0, _index(lib, [[1, 0, 1]]), s, "amin"),
              ((2, 3), (1, 3))),
        _call("put", lambda lib, x, s: x.put(_index(lib, [0, 5]), s), ((2, 3), (2,))),
        _call("put_accumulate", lambda lib, x, s: x.put(_index(lib, [[1, 1]]), s, accumulate=True), ((2, 3), (1, 2))),
        _call("put_", lambda lib, x, s: x.clone().put_(_index(lib, [4, -1]), s), ((2, 3), (2,))),
        _call("masked_select", lambda lib, x: x.masked_select(lib.tensor([[True, False, True], [False, False, True]])),
              m),
        _call("masked_select_broadcast", lambda lib, x: lib.masked_select(x, lib.tensor([[True], [False]])), ((3,),)),
        _call("repeat_interleave", lambda lib, x: x.repeat_interleave(2), m),
        _call("repeat_interleave_dim", lambda lib, x: lib.repeat_interleave(x, 3, dim=0), m),
        _call("repeat_interleave_tensor", lambda lib, x: x.repeat_interleave(_index(lib, [1, 0, 2]), dim=1), m),
    ]


def _with_nans(lib, x):
    """x with nans where a fixed pattern says (x is 2x3)."""
    return lib.where(lib.tensor([[True, False, True], [True, True, False]]), x, lib.tensor(float("nan"), dtype=x.dtype))


def _statistics() -> list[tuple]:
    m, cube = ((2, 3),), ((2, 3, 4),)
    samples = [
        _call("sort", lambda lib, x: x.sort(), m),
        _call("sort_dim0_descending", lambda lib, x: lib.sort(x, 0, True), m),
        _call("sort_stable", lambda lib, x: x.sort(dim=1, stable=True), cube),
        _call("sort[scalar]", lambda lib, x: lib.sort(x), ((),)),
        _call("msort", lambda lib, x: lib.msort(x), m),
        _call("topk", lambda lib, x: x.topk(2), m),
        _call("topk_smallest_dim0", lambda lib, x: lib.topk(x, 1, 0, largest=False), m),
        _call("topk_unsorted", lambda lib, x: x.topk(3, dim=1, sorted=False)[0].sort()[0], cube),
        _call("topk[scalar]", lambda lib, x: x.topk(1), ((),)),
        _call("median", lambda lib, x: x.median(), m),
        _call("median_even", lambda lib, x: lib.median(x), ((4,),)),
        _call("median[scalar]", lambda lib, x: x.median(), ((),)),
        _call("median_dim", lambda lib, x: x.median(1), m),
        _call("median_dim_keepdim", lambda lib, x: lib.median(x, 0, keepdim=True), cube),
        _call("median_dim[scalar]", lambda lib, x: x.median(0), ((),)),
        _call("nansum", lambda lib, x: x.nansum(), m),
        _call("nansum_nans", lambda lib, x: _with_nans(lib, x).nansum(1), m),
        _call("nansum_keepdim", lambda lib, x: lib.nansum(_with_nans(lib, x), (0, 1), keepdim=True), m),
        _call("nanmean", lambda lib, x: _with_nans(lib, x).nanmean(), m),
        _call("nanmean_dim", lambda lib, x: lib.nanmean(_with_nans(lib, x), 0), m),
    ]
    for name, dim, options in (("", None, {}), ("_dim1", 1, {}), ("_dims_keepdim", (0, 2), {"keepdim": True}),
                               ("_unbiased_false", 0, {"unbiased": False}), ("_correction0", -1, {"correction": 0})):
        shape = cube if isinstance(dim, tuple) else m
        samples += [
            _call(f"var_mean{name}", lambda lib, x, d=dim, o=options: lib.var_mean(x, d, **o), shape),
            _call(f"std_mean{name}", lambda lib, x, d=dim, o=options: lib.std_mean(x, d, **o), shape),
        ]
    return samples


def _products() -> list[tuple]:
    samples = [
        _call("tensordot", lambda lib, a, b: lib.tensordot(a, b), ((2, 3, 2), (3, 2, 2))),
        _call("tensordot_1", lambda lib, a, b: lib.tensordot(a, b, 1), ((2, 3), (3, 2))),
        _call("tensordot_lists", lambda lib, a, b: lib.tensordot(a, b, ([0, 2], [2, 0])), ((2, 3, 2), (2, 1, 2))),
        _call("tensordot_all", lambda lib, a, b: lib.tensordot(a, b, 2), ((2, 3), (2, 3))),
        _call("tensordot_outer", lambda lib, a, b: lib.tensordot(a, b, 0), ((2,), (3,))),
        _call("kron", lambda lib, a, b: lib.kron(a, b), ((2, 2), (2, 3))),
        _call("kron_ranks", lambda lib, a, b: a.kron(b), ((3,), (2, 2))),
        _call("kron[scalar]", lambda lib, a, b: lib.kron(a, b), ((), (2,))),
        _call("cross", lambda lib, a, b: lib.cross(a, b, dim=1), ((2, 3), (2, 3))),
        _call("cross_broadcast", lambda lib, a, b: a.cross(b, -1), ((2, 3), (1, 3))),
        _call("cross_dim0", lambda lib, a, b: lib.cross(a, b, 0), ((3, 2), (3, 2))),
        _call("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b), ((2, 2, 3), (2, 2, 4), (2, 4, 3))),
        _call("baddbmm_scaled", lambda lib, c, a, b: c.baddbmm(a, b, beta=0.5, alpha=-2), ((3,), (2, 2, 4), (2, 4, 3))),
        _call("baddbmm_beta0", lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=0), ((2, 1, 3), (2, 2, 1), (2, 1, 3))),
        _call("baddbmm_", lambda lib, c, a, b: c.clone().baddbmm_(a, b, alpha=2), ((1, 2, 2), (1, 2, 3), (1, 3, 2))),
        _call("chain_matmul", lambda lib, a, b, c: lib.chain_matmul(a, b, c), ((2, 3), (3, 4), (4, 2))),
        _call("chain_matmul_two", lambda lib, a, b: lib.chain_matmul(a, b), ((2, 3), (3, 2))),
        _call("cartesian_prod", lambda lib, a, b: lib.cartesian_prod(a, b), ((2,), (3,))),
        _call("cartesian_prod_three", lambda lib, a, b, c: lib.cartesian_prod(a, b, c), ((2,), (1,), (2,))),
        _call("meshgrid", lambda lib, a, b: lib.stack(lib.meshgrid(a, b, indexing="ij")), ((2,), (3,))),
        _call("meshgrid_xy", lambda lib, a, b: lib.stack(lib.meshgrid([a, b], indexing="xy")), ((2,), (3,))),
    ]
    for p in (2.0, 1.0, 3.0, 0.5, float("inf"), 0.0):
        samples.append(_call(f"cdist_p{p}", lambda lib, a, b, p=p: lib.cdist(a, b, p), ((2, 3), (3, 3))))
        if p:  # NOTE: PyTorch's dist with p = 0 fails in backward when `other` requires grad
            samples.append(_call(f"dist_p{p}", lambda lib, a, b, p=p: lib.dist(a, b, p), ((2, 3), (3,))))
    samples.append(_call("cdist_batched", lambda lib, a, b: lib.cdist(a, b), ((2, 1, 2, 3), (3, 2, 3))))
    return samples


def _random() -> list[tuple]:
    """Draws made certain (probabilities 0 and 1, standard deviations 0), so both libraries agree; every
    gradient is zero."""
    m = ((2, 3),)
    return [
        _call("bernoulli_zeros", lambda lib, x: lib.bernoulli(x * 0), m),
        _call("bernoulli_ones", lambda lib, x: (x * 0 + 1).bernoulli(), m),
        _call("bernoulli_scalar_", lambda lib, x: x.clone().bernoulli_(1.0), m),
        _call("bernoulli_tensor_", lambda lib, x, p: x.clone().bernoulli_(p * 0 + 1), ((2, 3), (3,))),
        _call("exponential_", lambda lib, x: x.clone().exponential_() * 0, m),
        _call("geometric_", lambda lib, x: x.clone().geometric_(0.5) * 0, m),
        _call("cauchy_", lambda lib, x: x.clone().cauchy_() * 0, m),
        _call("log_normal_", lambda lib, x: x.clone().log_normal_() * 0, m),
        _call("random_from_to", lambda lib, x: x.clone().random_(3, 4), m),
        _call("random_to", lambda lib, x: x.clone().random_(1), m),
        _call("random_full", lambda lib, x: x.clone().random_() * 0, m),
        # NOTE: the mean too is constant: its gradient is zero by PyTorch's choice, not the derivative
        _call("normal_tensors", lambda lib, mean, std: lib.normal(mean * 0 + 0.5, std * 0), ((2, 3), (3,))),
        _call("normal_tensor_mean", lambda lib, mean: lib.normal(mean * 0 - 1, 0.0), m),
        _call("normal_tensor_std", lambda lib, std: lib.normal(1.5, std * 0), m),
        # a random sample times zero: its reparameterisation gradient (test_distribution_gamma_vs_torch.py) times 0
        _call("standard_gamma", lambda lib, x: lib._standard_gamma(x.abs() + 1) * 0, m),
        _call("poisson", lambda lib, x: lib.poisson(x.abs()) * 0, m),
    ]


def _complex() -> list[tuple]:
    """Complex numbers built from real inputs, and real results read back: every real input's gradient goes through
    PyTorch's complex convention (tests/ops/test_complex_vs_torch.py runs every sample on complex inputs)."""
    pairs = (((3,), (3,)), ((2, 3), (2, 3)), ((), (2, 1)))
    samples = []
    for shapes in pairs:
        label = "x".join(map(str, shapes[0])) or "scalar"
        samples += [
            _call(f"complex_parts_{label}",
                  lambda lib, x, y: (lib.complex(x, y).exp().real, lib.complex(x, y).sin().imag), shapes),
            # polar's magnitude is documented non-negative (PyTorch's gradient takes sgn(result) as its direction)
            _call(f"polar_{label}", lambda lib, x, y: lib.view_as_real(lib.polar(x, y) * lib.complex(y, x)), shapes,
                  domain=("positive", "signed")),
            _call(f"complex_abs_angle_sgn_{label}", lambda lib, x, y: (
                lib.complex(x, y).abs(), lib.complex(x, y).angle(), lib.view_as_real(lib.complex(x, y * y).sgn())),
                shapes),
        ]
    for name, fn in [
        ("view_as_complex", lambda lib, x, y: lib.view_as_real(lib.view_as_complex(x) * lib.view_as_complex(y))),
        ("conj", lambda lib, x, y: lib.view_as_real(lib.view_as_complex(x).conj() * lib.view_as_complex(y))),
        ("conj_physical", lambda lib, x, y: lib.view_as_real(lib.conj_physical(lib.view_as_complex(x)).exp()
                                                             + lib.view_as_complex(y))),
        ("vdot_complex", lambda lib, x, y: lib.view_as_real(lib.vdot(lib.view_as_complex(x), lib.view_as_complex(y)))),
    ]:
        samples += [_call(name, fn, shapes) for shapes in (((3, 2), (3, 2)), ((2, 2, 2), (2, 2, 2)))
                    if name != "vdot_complex" or len(shapes[0]) == 2]
    for name, fn, cases in [  # cases: the shapes of each call's inputs
        ("fft_real", lambda lib, x: lib.view_as_real(lib.fft.fft(x)), [((5,),), ((2, 3),)]),
        ("fft_complex", lambda lib, x, y: lib.view_as_real(lib.fft.ifft(lib.complex(x, y), norm="ortho")),
         [((4,), (4,))]),
        ("fftn_padded", lambda lib, x, y: lib.view_as_real(lib.fft.fftn(lib.complex(x, y), s=(3, 4))),
         [((2, 3), (2, 3))]),
        ("rfft_irfft", lambda lib, x: lib.fft.irfft(lib.fft.rfft(x) * lib.fft.rfft(x * x), n=5), [((5,),), ((2, 4),)]),
        ("irfftn_odd", lambda lib, x, y: lib.fft.irfftn(lib.complex(x, y), s=(2, 5), norm="forward"),
         [((2, 3), (2, 3))]),
        ("hfft_ihfft", lambda lib, x: lib.fft.hfft(lib.fft.ihfft(x.exp())), [((6,),)]),
    ]:
        samples += [_call(name, fn, shapes) for shapes in cases]
    return samples


def torch_calls() -> list[tuple]:
    return (_pointwise() + _scans() + _rearrange() + _indexing() + _statistics() + _products() + _random()
            + _complex())
