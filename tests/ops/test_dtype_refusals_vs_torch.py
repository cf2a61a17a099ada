"""Where PyTorch's CPU kernels have no loop for a dtype, gradscope refuses with PyTorch's error class and text
instead of computing NumPy's answer: order-based ops on complex numbers (NumPy orders them lexicographically),
special functions, nansum, histogram, leaky_relu/hardtanh/threshold on complex numbers, argmax/median/relu on bools,
cdist on float16, pow and hardshrink of bools and integers, `torch.cat(tensor)`."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")


def _inputs(T):
    return {"c": T.tensor([1 + 2j, 3 - 1j, -2 + 0.5j]), "cd": T.tensor([1 + 2j, 3 - 1j], dtype=T.complex128),
            "b": T.tensor([True, False, True]), "i": T.tensor([1, 2, 3]), "i8": T.tensor([1, -2], dtype=T.int8),
            "h": T.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=T.float16)}


CASES = {
    "max_all": lambda T, x: T.max(x["c"]), "max_method": lambda T, x: x["cd"].max(),
    "max_dim": lambda T, x: T.max(x["c"], 0), "max_dim_keepdim": lambda T, x: x["c"].max(dim=0, keepdim=True),
    "max_binary": lambda T, x: T.max(x["c"], x["c"]), "min_all": lambda T, x: T.min(x["c"]),
    "min_dim": lambda T, x: x["c"].min(0), "min_binary": lambda T, x: T.min(x["c"], x["c"]),
    "amax": lambda T, x: T.amax(x["c"]), "amin": lambda T, x: x["c"].amin(0), "aminmax": lambda T, x: T.aminmax(x["c"]),
    "argmax_complex": lambda T, x: T.argmax(x["c"]), "argmin_complex": lambda T, x: x["c"].argmin(0),
    "argmax_bool": lambda T, x: T.argmax(x["b"]), "argmax_bool_dim": lambda T, x: x["b"].argmax(0),
    "argmin_bool": lambda T, x: T.argmin(x["b"], 0, keepdim=True),
    "sort": lambda T, x: T.sort(x["c"]), "sort_method": lambda T, x: x["c"].sort(descending=True),
    "argsort": lambda T, x: T.argsort(x["c"]), "msort": lambda T, x: T.msort(x["c"]),
    "topk": lambda T, x: T.topk(x["c"], 2), "topk_bool": lambda T, x: x["b"].topk(1),
    "kthvalue": lambda T, x: T.kthvalue(x["c"], 1), "kthvalue_bool": lambda T, x: T.kthvalue(x["b"], 1),
    "mode": lambda T, x: T.mode(x["c"]),
    "median": lambda T, x: T.median(x["c"]), "median_dim": lambda T, x: x["c"].median(0),
    "median_bool": lambda T, x: T.median(x["b"]), "median_bool_dim": lambda T, x: T.median(x["b"], 0),
    "nanmedian": lambda T, x: T.nanmedian(x["c"]), "nanmedian_bool": lambda T, x: x["b"].nanmedian(),
    "cummax": lambda T, x: T.cummax(x["c"], 0), "cummin": lambda T, x: x["c"].cummin(0),
    "clamp": lambda T, x: T.clamp(x["c"], 0), "clamp_max": lambda T, x: T.clamp(x["c"], max=1),
    "clamp_tensor": lambda T, x: T.clamp(x["c"], x["c"]), "clamp_min": lambda T, x: T.clamp_min(x["c"], 0),
    "clamp_max_fn": lambda T, x: x["c"].clamp_max(1), "clip": lambda T, x: x["c"].clip(0, 1),
    "clamp_in_place": lambda T, x: x["c"].clone().clamp_(0),
    "maximum": lambda T, x: T.maximum(x["c"], x["c"]), "minimum": lambda T, x: x["cd"].minimum(x["cd"]),
    "fmax": lambda T, x: T.fmax(x["c"], x["c"]), "fmin": lambda T, x: T.fmin(x["c"], x["c"]),
    "unique": lambda T, x: T.unique(x["c"]), "unique_method": lambda T, x: x["c"].unique(return_counts=True),
    "unique_consecutive": lambda T, x: T.unique_consecutive(x["c"]),
    "sign": lambda T, x: T.sign(x["c"]), "sign_method": lambda T, x: x["cd"].sign(),
    "round": lambda T, x: T.round(x["c"]), "round_decimals": lambda T, x: x["c"].round(decimals=1),
    "floor": lambda T, x: T.floor(x["c"]), "ceil": lambda T, x: x["c"].ceil(), "trunc": lambda T, x: T.trunc(x["c"]),
    "frac": lambda T, x: T.frac(x["c"]), "heaviside": lambda T, x: T.heaviside(x["c"], x["c"]),
    "relu_complex": lambda T, x: T.relu(x["c"]), "relu_bool": lambda T, x: T.relu(x["b"]),
    "relu_bool_functional": lambda T, x: T.nn.functional.relu(x["b"]), "relu_bool_method": lambda T, x: x["b"].relu(),
    "relu_bool_in_place": lambda T, x: x["b"].clone().relu_(),
    "cdist_half": lambda T, x: T.cdist(x["h"], x["h"]), "cdist_half_p1": lambda T, x: T.cdist(x["h"], x["h"], p=1.0),
    "pdist_half": lambda T, x: T.nn.functional.pdist(x["h"]),
    "cat_tensor": lambda T, x: T.cat(x["i"]), "cat_matrix": lambda T, x: T.cat(T.ones(2, 3)),
    "stack_tensor": lambda T, x: T.stack(x["i"]),
    "cartesian_prod_2d": lambda T, x: T.cartesian_prod(T.ones(2, 2)),
    "dist_int": lambda T, x: T.dist(x["i"], x["i"]), "dist_int8": lambda T, x: x["i8"].dist(x["i8"]),
    "dist_bool": lambda T, x: T.dist(x["b"], x["b"]),
    "pow_bool": lambda T, x: x["b"] ** x["b"], "pow_bool_fn": lambda T, x: T.pow(x["b"], x["b"]),
    "hardshrink_int": lambda T, x: T.nn.functional.hardshrink(x["i"]),
    "hardshrink_method": lambda T, x: x["i8"].hardshrink(),
    "hardshrink_bool": lambda T, x: T.nn.functional.hardshrink(x["b"]),
    "softshrink_int": lambda T, x: T.nn.functional.softshrink(x["i"]),
    "softshrink_complex": lambda T, x: T.nn.functional.softshrink(x["c"]),
    # the errors PyTorch checks first still come first
    "max_empty": lambda T, x: T.max(x["c"][:0]),
    "topk_k_out_of_range": lambda T, x: T.topk(x["c"], 5),
    "kthvalue_k_out_of_range": lambda T, x: T.kthvalue(x["c"], 5),
    "mode_empty": lambda T, x: T.mode(x["c"][:0]),
    "unique_dim": lambda T, x: T.unique(x["c"][None], dim=0),
    "unique_consecutive_dim": lambda T, x: T.unique_consecutive(x["c"][None], dim=1),
    "nanmedian_bool_dim": lambda T, x: T.nanmedian(x["b"], 0),
    "round_decimals_0": lambda T, x: T.round(x["c"], decimals=0),
    "sort_stable": lambda T, x: T.sort(x["c"], stable=True), "argsort_0d": lambda T, x: T.argsort(x["c"][0]),
    "aminmax_dim": lambda T, x: T.aminmax(x["c"], dim=0),
    "cdist_int": lambda T, x: T.cdist(x["i"][None].repeat(2, 1), x["i"][None]),
    "cdist_half_float": lambda T, x: T.cdist(x["h"], x["h"].float()),
    "heaviside_real_complex": lambda T, x: T.heaviside(x["c"].real, x["c"]),
    "fmax_real_complex": lambda T, x: T.fmax(x["c"].real, x["c"]),
    "maximum_real_complex": lambda T, x: T.maximum(x["c"].real, x["c"]),
    "dist_bool_float": lambda T, x: T.dist(x["b"], x["b"].float()),
    "cartesian_prod_0d": lambda T, x: T.cartesian_prod(x["i"][0]),
    "pow_bool_in_place": lambda T, x: x["b"].clone().pow_(x["b"]),
    "pow_bool_0d_exponent": lambda T, x: x["b"] ** x["b"][0],
    "relu_complex_in_place": lambda T, x: x["c"].clone().relu_(),
    "relu_bool_functional_in_place": lambda T, x: T.nn.functional.relu(x["b"].clone(), inplace=True),
    "deg2rad": lambda T, x: T.deg2rad(x["c"]), "rad2deg": lambda T, x: x["c"].rad2deg(),
    "rad2deg_in_place": lambda T, x: x["c"].clone().rad2deg_(), "erf": lambda T, x: T.erf(x["c"]),
    "digamma": lambda T, x: x["c"].digamma(), "digamma_in_place": lambda T, x: x["c"].clone().digamma_(),
    "lgamma": lambda T, x: T.lgamma(x["c"]), "polygamma": lambda T, x: T.polygamma(1, x["c"]),
    "polygamma_0": lambda T, x: T.polygamma(0, x["c"]), "polygamma_3": lambda T, x: x["c"].polygamma(3),
    "mvlgamma": lambda T, x: T.mvlgamma(x["c"], 1), "erfinv": lambda T, x: T.erfinv(x["c"]),
    "erfcx": lambda T, x: T.special.erfcx(x["c"]), "xlogy": lambda T, x: T.xlogy(x["c"], x["c"]),
    "xlogy_number": lambda T, x: T.xlogy(x["c"], 2.0), "logit": lambda T, x: x["c"].logit(),
    "logit_eps": lambda T, x: T.logit(x["cd"], eps=0.1), "signbit": lambda T, x: x["c"].signbit(),
    "nansum": lambda T, x: x["c"].nansum(), "nansum_dim": lambda T, x: T.nansum(x["c"], 0),
    "nanmean": lambda T, x: x["c"].nanmean(),
    "histogram_int": lambda T, x: x["i"].histogram(), "histogram_bool": lambda T, x: T.histogram(x["b"]),
    "histogram_uint8": lambda T, x: T.histogram(x["i"].to(T.uint8)),
    "histogram_complex": lambda T, x: x["c"].histogram(),
    "searchsorted": lambda T, x: T.searchsorted(x["c"], x["c"]), "bucketize": lambda T, x: T.bucketize(x["c"], x["c"]),
    "leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x["c"]),
    "hardtanh": lambda T, x: T.nn.functional.hardtanh(x["c"]),
    "relu6": lambda T, x: T.nn.functional.relu6(x["c"]),
    "threshold": lambda T, x: T.nn.functional.threshold(x["c"], 0.1, 0.0),
    # NumPy's ufuncs raise a TypeError of their own for these; PyTorch's kernels a NotImplementedError
    "erfc": lambda T, x: T.erfc(x["c"]), "i0": lambda T, x: x["c"].i0(),
    "gelu": lambda T, x: T.nn.functional.gelu(x["c"]),
    "copysign": lambda T, x: T.copysign(x["c"], x["c"]), "copysign_number": lambda T, x: x["c"].copysign(-1.0),
    "fmod": lambda T, x: T.fmod(x["c"], x["c"]), "remainder": lambda T, x: x["cd"].remainder(2.0),
    "atan2": lambda T, x: T.atan2(x["c"], x["c"]), "hypot": lambda T, x: T.hypot(x["c"], x["c"]),
    "floor_divide": lambda T, x: T.floor_divide(x["c"], x["c"]), "nextafter": lambda T, x: T.nextafter(x["c"], x["c"]),
    "logaddexp2": lambda T, x: T.logaddexp2(x["c"], x["c"]),
    "clamp_min_in_place": lambda T, x: x["c"].clone().clamp_min_(0),
    "floor_in_place": lambda T, x: x["c"].clone().floor_(),
}


def _raised(lib, call):
    try:
        call(lib, _inputs(lib))
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return type(error), str(error)
    return None


@pytest.mark.parametrize("case", CASES)
def test_raises_as_pytorch(case):
    expected = _raised(torch, CASES[case])
    assert expected is not None
    assert _raised(gradscope, CASES[case]) == expected
