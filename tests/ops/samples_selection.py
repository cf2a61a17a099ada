"""Sample calls of the order statistics, counts and the indexing, splitting and placing functions PyTorch
scripts use beside the basics (kthvalue … quantile, cov; index_copy … slice_scatter; tensor_split … vander).
Each is `(name, fn, shapes, options)`, as in samples_torch.py, which samples.py turns into a Sample.
"""

from __future__ import annotations

M, CUBE = ((2, 3),), ((2, 3, 4),)


def _call(name: str, fn, shapes, **options) -> tuple:
    return name, fn, shapes, options


def _index(lib, values):
    return lib.tensor(values, dtype=lib.int64)


def _with_nans(lib, x):
    """x (2x3) with nans where a fixed pattern says; the second row keeps one value."""
    return lib.where(lib.tensor([[True, False, True], [False, True, False]]), x, lib.tensor(float("nan"),
                                                                                          dtype=x.dtype))


def _order_statistics() -> list[tuple]:
    samples = [
        _call("kthvalue", lambda lib, x: x.kthvalue(2), M),
        _call("kthvalue_dim0_keepdim", lambda lib, x: lib.kthvalue(x, 1, 0, keepdim=True), CUBE),
        _call("kthvalue[scalar]", lambda lib, x: x.kthvalue(1), ((),)),
        _call("mode_distinct", lambda lib, x: x.mode(), M),
        # a value that occurs twice is the mode; either copy carries the gradient back to the same input
        _call("mode_repeated", lambda lib, x: lib.cat([x, x[:, 1:2]], 1).mode(1), M),
        _call("mode_keepdim", lambda lib, x: lib.mode(x, -3, True), CUBE),
        _call("nanmedian", lambda lib, x: _with_nans(lib, x).nanmedian(), M),
        _call("nanmedian_plain", lambda lib, x: lib.nanmedian(x), ((4,),)),
        _call("nanmedian_dim", lambda lib, x: _with_nans(lib, x).nanmedian(1), M),
        _call("nanmedian_dim_keepdim", lambda lib, x: lib.nanmedian(x, 0, keepdim=True), CUBE),
        _call("aminmax", lambda lib, x: lib.aminmax(x), M),
        _call("aminmax_dim", lambda lib, x: x.aminmax(dim=1), M),
        _call("aminmax_keepdim", lambda lib, x: lib.aminmax(x, dim=-1, keepdim=True), CUBE),
        _call("aminmax_min_only", lambda lib, x: lib.aminmax(x, dim=0).min, M),
        _call("aminmax_ties", lambda lib, x: lib.aminmax(lib.cat([x, x], 0), dim=0).max, M),
    ]
    for interpolation in ("linear", "lower", "higher", "midpoint", "nearest"):
        samples += [
            _call(f"quantile_{interpolation}", lambda lib, x, i=interpolation: x.quantile(0.3, interpolation=i), M),
            _call(f"quantile_dim_{interpolation}", lambda lib, x, i=interpolation: lib.quantile(
                x, lib.tensor([0.25, 0.5, 1.0], dtype=x.dtype), dim=1, keepdim=True, interpolation=i), CUBE),
        ]
    samples += [
        _call("quantile_dim0", lambda lib, x: x.quantile(0.6, dim=0), M),
        _call("quantile_vector_q", lambda lib, x: lib.quantile(x, lib.tensor([0.1, 0.9], dtype=x.dtype)), M),
        _call("quantile[scalar]", lambda lib, x: x.quantile(0.5), ((),)),
        _call("nanquantile", lambda lib, x: _with_nans(lib, x).nanquantile(0.4), M),
        _call("nanquantile_dim", lambda lib, x: lib.nanquantile(_with_nans(lib, x), 0.7, dim=1), M),
        _call("cov", lambda lib, x: x.cov(), M),
        _call("cov_vector", lambda lib, x: lib.cov(x), ((4,),)),
        _call("cov_correction0", lambda lib, x: lib.cov(x, correction=0), ((3, 4),)),
        _call("cov_fweights", lambda lib, x: lib.cov(x, fweights=_index(lib, [1, 2, 1])), M),
        _call("cov_weights", lambda lib, x, w: lib.cov(x, fweights=_index(lib, [2, 1, 3]), aweights=w.abs()),
              ((2, 3), (3,))),
        _call("corrcoef", lambda lib, x: x.corrcoef(), ((3, 4),)),
        _call("corrcoef_vector", lambda lib, x: lib.corrcoef(x), ((4,),)),
    ]
    return samples


def _placement() -> list[tuple]:
    mask = [[True, False, True], [False, True, True]]
    reduced = [
        _call(f"index_reduce_{reduce}{'' if include else '_exclude_self'}",
              lambda lib, x, s, r=reduce, i=include: x.index_reduce(1, _index(lib, [0, 2, 0]), s, r, include_self=i),
              ((2, 3), (2, 3)))
        for reduce in ("prod", "mean", "amax", "amin") for include in (True, False)
    ] + [_call("index_reduce_", lambda lib, x, s: x.clone().index_reduce_(0, _index(lib, [1]), s, "amin"),
               ((2, 3), (1, 3)))]
    return reduced + [
        _call("index_copy", lambda lib, x, s: x.index_copy(1, _index(lib, [2, 0]), s), ((2, 3), (2, 2))),
        _call("index_copy_", lambda lib, x, s: x.clone().index_copy_(0, _index(lib, [1]), s), ((2, 3), (1, 3))),
        _call("index_copy[scalar]", lambda lib, x, s: x.index_copy(0, _index(lib, [0]), s), ((), ())),
        _call("index_put", lambda lib, x, v: lib.index_put(x, (_index(lib, [1, 0]),), v), ((2, 3), (3,))),
        _call("index_put_pairs", lambda lib, x, v: x.index_put((_index(lib, [1, 0]), _index(lib, [2, 2])), v),
              ((2, 3), (2,))),
        _call("index_put_accumulate", lambda lib, x, v: x.index_put((_index(lib, [1, 1, 0]),), v, accumulate=True),
              ((2, 3), (3, 3))),
        _call("index_put_", lambda lib, x, v: x.clone().index_put_((lib.tensor(mask),), v), ((2, 3), (4,))),
        _call("index_put_accumulate_", lambda lib, x, v: lib.index_put_(x.clone(), (_index(lib, [0, 0]),), v, True),
              ((2, 3), (1, 3))),
        _call("masked_scatter", lambda lib, x, s: x.masked_scatter(lib.tensor(mask), s), ((2, 3), (6,))),
        _call("masked_scatter_broadcast", lambda lib, x, s: lib.masked_scatter(x, lib.tensor([True, False, True]), s),
              ((2, 3), (2, 3))),
        _call("masked_scatter_", lambda lib, x, s: x.clone().masked_scatter_(lib.tensor(mask), s), ((2, 3), (2, 2))),
        _call("select_scatter", lambda lib, x, s: lib.select_scatter(x, s, 0, -1), ((2, 3), (3,))),
        _call("select_scatter_dim1", lambda lib, x, s: x.select_scatter(s, 1, 1), ((2, 3), (2,))),
        _call("slice_scatter", lambda lib, x, s: lib.slice_scatter(x, s, 1, 0, 3, 2), ((2, 3), (2, 2))),
        _call("slice_scatter_start", lambda lib, x, s: x.slice_scatter(s, start=1), ((3, 2), (2, 2))),
        _call("diagonal_scatter", lambda lib, x, s: lib.diagonal_scatter(x, s), ((2, 3), (2,))),
        _call("diagonal_scatter_offset", lambda lib, x, s: x.diagonal_scatter(s, -1, 1, 0), ((3, 3), (2,))),
        _call("diagonal_scatter_batched", lambda lib, x, s: lib.diagonal_scatter(x, s, 0, 1, 2), ((2, 3, 3), (2, 3))),
        _call("fill_diagonal_", lambda lib, x: (x * 1).fill_diagonal_(0.5), ((3, 2),)),
        _call("fill_diagonal_wrap", lambda lib, x: (x * 1).fill_diagonal_(-2.0, wrap=True), ((5, 2),)),
        _call("fill_diagonal_cube", lambda lib, x: (x * 1).fill_diagonal_(1.0), ((2, 2, 2),)),
        _call("narrow_copy", lambda lib, x: x.narrow_copy(1, 1, 2), M),
        _call("take_along_dim", lambda lib, x: lib.take_along_dim(x, _index(lib, [[2], [0]]), 1), M),
        _call("take_along_dim_broadcast", lambda lib, x: x.take_along_dim(_index(lib, [[1, 0, 1, 1]]), dim=0),
              ((2, 1),)),
        _call("take_along_dim_flat", lambda lib, x: lib.take_along_dim(x, _index(lib, [5, 0, 5])), M),
        _call("as_strided", lambda lib, x: x.as_strided((2, 2), (1, 2), 1), M),
        _call("as_strided_overlapping", lambda lib, x: lib.as_strided(x, (3, 2), (1, 1)), ((4,),)),
        _call("as_strided_of_view", lambda lib, x: x[1:].as_strided((2,), (2,)), M),
        # self's gradient is PyTorch's, not the derivative (test_placement_functions.py): a constant self here
        _call("as_strided_scatter", lambda lib, s: lib.as_strided_scatter(lib.ones(2, 3, dtype=s.dtype), s, (2, 2),
                                                                          (1, 2), 1), ((2, 2),)),
        _call("as_strided_scatter_method", lambda lib, s: lib.ones(2, 3, dtype=s.dtype).as_strided_scatter(
            s, (3,), (2,)), ((3,),)),
        _call("as_strided_", lambda lib, x: (x * 1).as_strided_((3,), (2,), 1) * 2, M),
        _call("as_strided_of_expanded", lambda lib, x: x.expand(2, 3).as_strided((2, 2), (0, 1), 1), ((3,),)),
    ]


def _composites() -> list[tuple]:
    samples = [
        _call("tensor_split_sections", lambda lib, x: x.tensor_split(3, dim=-1), CUBE),
        _call("tensor_split_indices", lambda lib, x: lib.tensor_split(x, [1, 3, 2], 1), CUBE),
        _call("tensor_split_tensor", lambda lib, x: lib.tensor_split(x, _index(lib, [1]), 0), M),
        _call("hsplit", lambda lib, x: x.hsplit(3), M),
        _call("hsplit_vector", lambda lib, x: lib.hsplit(x, [2]), ((3,),)),
        _call("vsplit", lambda lib, x: lib.vsplit(x, 2), M),
        _call("dsplit", lambda lib, x: x.dsplit([1, 3]), CUBE),
        _call("split_with_sizes", lambda lib, x: lib.split_with_sizes(x, [2, 1], 1), M),
        _call("unflatten", lambda lib, x: x.unflatten(2, (2, -1)), CUBE),
        _call("unflatten_first", lambda lib, x: lib.unflatten(x, 0, (1, 2)), M),
        _call("ravel", lambda lib, x: x.ravel(), M),
        _call("ravel_transposed", lambda lib, x: lib.ravel(x.t()), M),
        _call("reshape_as", lambda lib, x: x.reshape_as(lib.zeros(3, 2)), M),
        _call("diagflat", lambda lib, x: lib.diagflat(x), M),
        _call("diagflat_offset", lambda lib, x: x.diagflat(-1), ((3,),)),
        _call("block_diag", lambda lib, a, b, c: lib.block_diag(a, b, c), ((2, 3), (2,), ())),
        _call("combinations", lambda lib, x: lib.combinations(x), ((4,),)),
        _call("combinations_three", lambda lib, x: lib.combinations(x, 3), ((4,),)),
        _call("combinations_with_replacement", lambda lib, x: lib.combinations(x, with_replacement=True), ((3,),)),
        _call("trapezoid", lambda lib, y: lib.trapezoid(y), M),
        _call("trapezoid_dx", lambda lib, y: lib.trapezoid(y, dx=0.5, dim=0), M),
        _call("trapezoid_x", lambda lib, y, x: lib.trapezoid(y, x), ((2, 3), (3,))),
        _call("trapezoid_x_dim0", lambda lib, y, x: lib.trapezoid(y, x, dim=0), ((2, 3), (2, 3))),
        _call("trapz", lambda lib, y, x: lib.trapz(y, x), ((2, 3), (3,))),
        _call("trapz_dx", lambda lib, y: lib.trapz(y, dx=2.0), ((3,),)),
        _call("cumulative_trapezoid", lambda lib, y: lib.cumulative_trapezoid(y), M),
        _call("cumulative_trapezoid_dx", lambda lib, y: lib.cumulative_trapezoid(y, dx=3.0, dim=0), M),
        _call("cumulative_trapezoid_x", lambda lib, y, x: lib.cumulative_trapezoid(y, x), ((2, 3), (3,))),
        _call("inner", lambda lib, a, b: lib.inner(a, b), ((2, 3), (4, 3))),
        _call("inner_vectors", lambda lib, a, b: a.inner(b), ((3,), (3,))),
        _call("inner_scalar", lambda lib, a, b: lib.inner(a, b), ((3,), ())),
        _call("vdot", lambda lib, a, b: lib.vdot(a, b), ((3,), (3,))),
        _call("vdot_method", lambda lib, a, b: a.vdot(b), ((4,), (4,))),
        _call("renorm_", lambda lib, x: x.clone().renorm_(2, 1, 0.5), M),
        _call("unsafe_split", lambda lib, x: x.unsafe_split(2, 1), M),
        _call("unsafe_chunk", lambda lib, x: lib.unsafe_chunk(x, 2, 0), CUBE),
        _call("unsafe_split_with_sizes", lambda lib, x: lib.unsafe_split_with_sizes(x, [1, 2], -1), M),
        _call("gradient", lambda lib, x: lib.gradient(x), ((3, 4),)),
        _call("gradient_edge_order2", lambda lib, x: lib.gradient(x, spacing=0.5, dim=1, edge_order=2), ((2, 4),)),
        _call("gradient_spacings", lambda lib, x: lib.gradient(x, spacing=[2.0, 3.0]), ((3, 3),)),
        _call("gradient_coordinates", lambda lib, x, c: lib.gradient(x, spacing=(c.cumsum(0),), dim=0),
              ((4, 2), (4,)), domain=("signed", "positive")),
        _call("gradient_coordinates_order2", lambda lib, x, c: lib.gradient(x, spacing=[c.cumsum(0)], dim=-1,
                                                                             edge_order=2),
              ((2, 4), (4,)), domain=("signed", "positive")),
    ]
    for p in (2, 1, 3, float("inf"), 0.5):
        samples += [
            _call(f"renorm_p{p}", lambda lib, x, p=p: x.renorm(p, 0, 1.0), M),
            _call(f"renorm_mixed_p{p}", lambda lib, x, p=p: lib.renorm(x * lib.tensor([[[1.0]], [[0.1]]],
                                                                                   dtype=x.dtype), p, 0, 1.0), CUBE),
        ]
    return samples


def _view_copies() -> list[tuple]:
    square = ((1, 3, 1),)
    return [
        _call("view_copy", lambda lib, x: lib.view_copy(x, (3, 2)), M),
        _call("alias_copy", lambda lib, x: lib.alias_copy(x), M),
        _call("t_copy", lambda lib, x: lib.t_copy(x), M),
        _call("transpose_copy", lambda lib, x: lib.transpose_copy(x, 0, -1), CUBE),
        _call("permute_copy", lambda lib, x: lib.permute_copy(x, (2, 0, 1)), CUBE),
        _call("unsqueeze_copy", lambda lib, x: lib.unsqueeze_copy(x, 1), M),
        _call("squeeze_copy", lambda lib, x: lib.squeeze_copy(x), square),
        _call("squeeze_copy_dim", lambda lib, x: lib.squeeze_copy(x, -1), square),
        _call("squeeze_copy_dims", lambda lib, x: lib.squeeze_copy(x, (0, 2)), square),
        _call("expand_copy", lambda lib, x: lib.expand_copy(x, (2, 2, 3)), M),
        _call("select_copy", lambda lib, x: lib.select_copy(x, 1, -1), M),
        _call("slice_copy", lambda lib, x: lib.slice_copy(x, 1, 0, 3, 2), M),
        _call("unbind_copy", lambda lib, x: lib.unbind_copy(x, 1), M),
        _call("split_copy", lambda lib, x: lib.split_copy(x, 2, 1), M),
        _call("split_with_sizes_copy", lambda lib, x: lib.split_with_sizes_copy(x, [1, 2], 1), M),
        _call("diagonal_copy", lambda lib, x: lib.diagonal_copy(x, 1), M),
        _call("unfold_copy", lambda lib, x: lib.unfold_copy(x, 1, 2, 1), M),
        _call("as_strided_copy", lambda lib, x: lib.as_strided_copy(x, (2, 2), (1, 2), 1), M),
    ]


def _unsampled() -> list[tuple]:
    """Primitives others declared without a sample (the completeness test in test_gradients.py needs one)."""
    return [_call("round_decimals", lambda lib, x: x.round(decimals=1) * x, M, domain="offgrid")]


def selection_calls() -> list[tuple]:
    return _order_statistics() + _placement() + _composites() + _view_copies() + _unsampled()
