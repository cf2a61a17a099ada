"""Sample calls of the pointwise functions of autograd/pointwise_extra.py (asinh … addcdiv), of the in-place
forms and aliases of the older ones, and of addmv/addr/addbmm: `(name, fn, shapes, options)`, as samples_torch.py."""

from __future__ import annotations

SHAPES = ((), (3,), (2, 3))
PAIRS = (((2, 3), (2, 3)), ((2, 3), (3,)), ((), (2, 1)))


def _call(name: str, fn, shapes, **options) -> tuple:
    return name, fn, shapes, options


def _unary() -> list[tuple]:
    samples = []
    for name, fn, domain in [
        ("asinh", lambda lib, x: lib.asinh(x), "signed"),
        ("arcsinh", lambda lib, x: x.arcsinh(), "signed"),
        ("acosh", lambda lib, x: lib.acosh(x + 1), "positive"),
        ("arccosh", lambda lib, x: (x + 1).arccosh(), "positive"),
        ("atanh", lambda lib, x: lib.atanh(x * 0.5), "signed"),
        ("arctanh", lambda lib, x: x.arctanh(), "unit"),
        ("exp2", lambda lib, x: lib.exp2(x), "signed"),
        ("erfc", lambda lib, x: x.erfc(), "signed"),
        ("sinc", lambda lib, x: lib.sinc(x), "signed"),
        ("logit", lambda lib, x: lib.logit(x), "unit"),
        ("logit_eps", lambda lib, x: x.logit(0.3), "unit"),
        ("i0", lambda lib, x: lib.i0(x), "signed"),
        ("i0_large", lambda lib, x: (x * 40).i0() * lib.exp(-(x * 40).abs()), "signed"),  # |x| > 30 too
        # the torch.special-only functions
        ("special_entr", lambda lib, x: lib.special.entr(x), "positive"),
        ("special_erfcx", lambda lib, x: lib.special.erfcx(x * 2), "signed"),
        # x > 12: the asymptotic series
        ("special_erfcx_large", lambda lib, x: lib.special.erfcx(x * 2 + 11), "signed"),
        ("special_log_ndtr", lambda lib, x: lib.special.log_ndtr(x * 4), "signed"),
        ("special_ndtri", lambda lib, x: lib.special.ndtri(x), "unit"),
        ("special_i0e", lambda lib, x: lib.special.i0e(x * 40), "signed"),  # both sides of |x| = 30
        ("special_i1e", lambda lib, x: lib.special.i1e(x * 40), "signed"),
        ("special_xlog1py_number_other", lambda lib, x: lib.special.xlog1py(x, 2.5), "signed"),
        ("special_xlog1py_number_self", lambda lib, x: lib.special.xlog1py(-1.5, x), "positive"),
        # sgn's gradient is zero (a ZeroTensor in PyTorch, which has no values to compare): one added
        ("sgn", lambda lib, x: x.sgn() + x, "offgrid"),
        ("angle", lambda lib, x: lib.angle(x) + x, "signed"),  # + x: PyTorch's zero gradient is a ZeroTensor
        ("mvlgamma", lambda lib, x: lib.mvlgamma(x + 1.5, 3), "positive"),
        ("mvlgamma_method", lambda lib, x: (x + 1).mvlgamma(1), "positive"),
        # only x is differentiable (PyTorch has no derivative in a): a constant a
        ("igamma", lambda lib, x: lib.igamma(lib.full_like(x, 1.7), x), "positive"),
        ("igammac", lambda lib, x: lib.special.gammaincc(lib.full_like(x, 4.5), x * 3), "positive"),
        ("deg2rad", lambda lib, x: lib.deg2rad(x), "signed"),
        ("rad2deg", lambda lib, x: x.rad2deg(), "signed"),
        ("fix", lambda lib, x: lib.fix(x), "offgrid"),
        ("positive", lambda lib, x: lib.positive(x * 2), "signed"),
        ("frexp", lambda lib, x: lib.frexp(x * 3), "signed"),
        ("float_power_scalar", lambda lib, x: lib.float_power(x, 3), "signed"),
        ("float_power_scalar_base", lambda lib, x: lib.float_power(2.5, x), "signed"),
        ("copysign_scalar", lambda lib, x: x.copysign(-1.0), "signed"),
        ("rsub_scalar", lambda lib, x: lib.rsub(x, 2.0, alpha=3), "signed"),
    ]:
        samples += [_call(name, fn, (shape,), domain=domain) for shape in SHAPES]
    samples += [
        _call("ldexp", lambda lib, x: lib.ldexp(x, lib.tensor([1, 0, 3])), ((2, 3),)),
        _call("ldexp_method", lambda lib, x: x.ldexp(lib.tensor(2)), ((3,),)),
    ]
    return samples


def _binary() -> list[tuple]:
    samples = []
    for name, fn, domains in [
        ("hypot", lambda lib, x, y: lib.hypot(x, y), "signed"),
        ("logaddexp2", lambda lib, x, y: x.logaddexp2(y), "signed"),
        ("copysign", lambda lib, x, y: lib.copysign(x, y), "signed"),
        ("fmax", lambda lib, x, y: lib.fmax(x, y), "signed"),
        ("fmin", lambda lib, x, y: x.fmin(y), "signed"),
        ("nextafter", lambda lib, x, y: lib.nextafter(x, y), "signed"),
        ("ldexp_float", lambda lib, x, y: lib.ldexp(x, y), "signed"),
        ("float_power", lambda lib, x, y: lib.float_power(x, y), ("positive", "signed")),
        ("rsub", lambda lib, x, y: lib.rsub(x, y, alpha=2), "signed"),
        ("special_xlog1py", lambda lib, x, y: lib.special.xlog1py(x, y), ("signed", "positive")),
    ]:
        samples += [_call(name, fn, pair, domain=domains) for pair in PAIRS]
    for name, fn, domains in [
        ("addcmul", lambda lib, x, a, b: lib.addcmul(x, a, b), "signed"),
        ("addcmul_value", lambda lib, x, a, b: x.addcmul(a, b, value=0.5), "signed"),
        ("addcdiv", lambda lib, x, a, b: lib.addcdiv(x, a, b, value=-2), ("signed", "signed", "positive")),
    ]:
        for shapes in (((2, 3), (3,), (2, 1)), ((), (2, 3), ()), ((3,), (3,), (3,))):
            samples.append(_call(name, fn, shapes, domain=domains))
    return samples


def _in_place() -> list[tuple]:
    """New in-place variants and aliases, on a clone: the same nodes as their functions."""
    samples = []
    for name, fn, domain in [
        ("exp2_", lambda lib, x: lib.exp2_(x.clone()), "signed"),
        ("erfc_", lambda lib, x: x.clone().erfc_(), "signed"),
        ("sinc_", lambda lib, x: x.clone().sinc_(), "signed"),
        ("i0_", lambda lib, x: x.clone().i0_(), "signed"),
        ("deg2rad_", lambda lib, x: x.clone().deg2rad_(), "signed"),
        ("rad2deg_", lambda lib, x: lib.rad2deg_(x.clone()), "signed"),
        ("logit_", lambda lib, x: x.clone().logit_(0.2), "unit"),
        ("sgn_", lambda lib, x: x.clone().sgn_() + x, "offgrid"),
        ("fix_", lambda lib, x: lib.fix_(x.clone()), "offgrid"),
        ("copysign_scalar_", lambda lib, x: x.clone().copysign_(-2.0), "signed"),
        ("float_power_", lambda lib, x: x.clone().double().float_power_(2), "signed"),
        ("ldexp_", lambda lib, x: x.clone().ldexp_(lib.tensor([2, 0, 1])), "signed"),
    ]:
        samples.append(_call(name, fn, ((2, 3),), domain=domain))
    for name, fn, domain in [
        ("mvlgamma_", lambda lib, x: (x + 2).mvlgamma_(2), "positive"),
        ("sin_", lambda lib, x: x.clone().sin_(), "signed"),
        ("cos_", lambda lib, x: lib.cos_(x.clone()), "signed"),
        ("erf_", lambda lib, x: x.clone().erf_(), "signed"),
        ("log1p_", lambda lib, x: lib.log1p_(x.clone()), "positive"),
        ("rsqrt_", lambda lib, x: x.clone().rsqrt_(), "positive"),
        ("ceil_", lambda lib, x: x.clone().ceil_(), "offgrid"),
        ("trunc_", lambda lib, x: lib.trunc_(x.clone()), "offgrid"),
        ("square_", lambda lib, x: x.clone().square_(), "signed"),
        ("clamp_min_", lambda lib, x: x.clone().clamp_min_(0.7), "signed"),
        ("clamp_max_", lambda lib, x: lib.clamp_max_(x.clone(), -0.7), "signed"),
        ("clamp_min_tensor_", lambda lib, x: x.clone().clamp_min_(x * x - 1), "signed"),
        ("multiply_scalar_", lambda lib, x: x.clone().multiply_(3.0), "signed"),
        ("divide_floor_", lambda lib, x: x.clone().divide_(2.0) * x, "signed"),
        ("negative_", lambda lib, x: x.clone().negative_(), "signed"),
        ("absolute_", lambda lib, x: x.clone().absolute_(), "signed"),
        ("exp_top_level", lambda lib, x: lib.exp_(x.clone()), "signed"),
        ("sigmoid_top_level", lambda lib, x: lib.sigmoid_(x.clone()), "signed"),
        ("xlogy_top_level", lambda lib, x: lib.xlogy_(x.clone(), 3.0), "signed"),
    ]:
        samples.append(_call(name, fn, ((2, 3),), domain=domain))
    # comparisons in place: 0/1 in the tensor's dtype through a node with zero gradients; x added so that the
    # gradient is not PyTorch's ZeroTensor
    for name in ("eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge", "greater_equal"):
        samples += [
            _call(f"{name}_scalar_", lambda lib, x, n=name: getattr(x.clone(), n + "_")(0.0) + x, ((2, 3),)),
            _call(f"{name}_tensor_", lambda lib, x, y, n=name: getattr(x.clone(), n + "_")(y) + x + y, ((2, 3), (3,))),
        ]
    samples.append(_call("eq_equal_", lambda lib, x: x.clone().eq_(x) + x, ((2, 3),)))
    for name, fn, domains in [
        ("multiply_", lambda lib, x, y: x.clone().multiply_(y), "signed"),
        ("subtract_", lambda lib, x, y: x.clone().subtract_(y, alpha=2), "signed"),
        ("divide_", lambda lib, x, y: x.clone().divide_(y), "signed"),
        ("true_divide_", lambda lib, x, y: x.clone().true_divide_(y), "signed"),
        ("hypot_", lambda lib, x, y: x.clone().hypot_(y), "signed"),
        ("copysign_", lambda lib, x, y: x.clone().copysign_(y), "signed"),
        ("nextafter_", lambda lib, x, y: x.clone().nextafter_(y), "signed"),
    ]:
        samples.append(_call(name, fn, ((2, 3), (3,)), domain=domains))
    samples += [
        _call("addcmul_", lambda lib, x, a, b: x.clone().addcmul_(a, b, value=3), ((2, 3), (3,), (2, 1))),
        _call("addcdiv_", lambda lib, x, a, b: x.clone().addcdiv_(a, b), ((2, 3), (2, 3), (3,)),
              domain=("signed", "signed", "positive")),
    ]
    return samples


def _products() -> list[tuple]:
    """addmv, addr, addbmm (the other add* products are in samples_torch.py and samples.py)."""
    return [
        _call("addmv", lambda lib, x, m, v: lib.addmv(x, m, v), ((2,), (2, 3), (3,))),
        _call("addmv_broadcast", lambda lib, x, m, v: x.addmv(m, v, beta=0.5, alpha=-2), ((1,), (2, 3), (3,))),
        _call("addmv_scalar_input", lambda lib, x, m, v: lib.addmv(x, m, v, alpha=3), ((), (2, 3), (3,))),
        _call("addmv_beta0", lambda lib, x, m, v: lib.addmv(x, m, v, beta=0), ((2,), (2, 3), (3,))),
        _call("addmv_", lambda lib, x, m, v: x.clone().addmv_(m, v, beta=2), ((2,), (2, 3), (3,))),
        _call("addr", lambda lib, x, a, b: lib.addr(x, a, b), ((2, 3), (2,), (3,))),
        _call("addr_broadcast", lambda lib, x, a, b: x.addr(a, b, beta=-1, alpha=0.5), ((3,), (2,), (3,))),
        _call("addr_", lambda lib, x, a, b: x.clone().addr_(a, b, alpha=2), ((2, 3), (2,), (3,))),
        _call("addbmm", lambda lib, x, a, b: lib.addbmm(x, a, b), ((2, 4), (3, 2, 3), (3, 3, 4))),
        _call("addbmm_broadcast", lambda lib, x, a, b: x.addbmm(a, b, beta=2, alpha=0.5), ((4,), (3, 2, 3), (3, 3, 4))),
        _call("addbmm_", lambda lib, x, a, b: x.clone().addbmm_(a, b), ((2, 4), (2, 2, 3), (2, 3, 4))),
        _call("addmm_", lambda lib, x, a, b: x.clone().addmm_(a, b, beta=0.5), ((2, 4), (2, 3), (3, 4))),
    ]


def _rrelu() -> list[tuple]:
    """Deterministic rrelu calls: eval (the mean slope), or training with lower = upper."""
    return [
        _call("rrelu_eval", lambda lib, x: lib.F.rrelu(x, 0.1, 0.3), ((2, 3),)),
        _call("rrelu_training_fixed", lambda lib, x: lib.F.rrelu(x, 0.25, 0.25, training=True), ((2, 3),)),
        _call("rrelu_", lambda lib, x: lib.F.rrelu_(x.clone(), 0.2, 0.4), ((2, 3),)),
        _call("rrelu_training_", lambda lib, x: lib.rrelu_(x.clone(), 0.3, 0.3, True), ((2, 3),)),
    ]


def pointwise_calls() -> list[tuple]:
    return _unary() + _binary() + _in_place() + _products() + _rrelu()
