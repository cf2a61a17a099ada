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


def torch_calls() -> list[tuple]:
    return _pointwise() + _scans()
