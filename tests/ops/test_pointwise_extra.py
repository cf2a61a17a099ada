"""The pointwise functions, in-place forms and aliases added for unmodified PyTorch scripts, against PyTorch:
which names exist (torch.*, Tensor.*, Tensor.*_), values and dtypes on integer and bool inputs, the errors,
and the nodes that refuse a backward. (Gradients are checked through samples_pointwise.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

NAMES = (
    "asinh acosh atanh arcsinh arccosh arctanh exp2 erfc sinc logit i0 sgn deg2rad rad2deg hypot copysign fmax fmin "
    "logaddexp2 nextafter ldexp frexp float_power floor_divide heaviside positive negative fix addcmul addcdiv rsub "
    "xlogy sin cos erf log1p rsqrt ceil trunc square clamp_min clamp_max exp log abs acos asin atan cosh sinh tan "
    "expm1 log2 log10 sqrt tanh sigmoid relu neg floor round reciprocal clamp clip sign frac nan_to_num arccos arcsin "
    "arctan multiply subtract divide true_divide absolute eq ne lt le gt ge greater less greater_equal less_equal "
    "not_equal logical_and logical_or logical_xor logical_not angle isposinf isneginf isreal prelu hardshrink mvlgamma"
).split()


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("name", NAMES)
def test_names_exist_where_torch_has_them(torch, name):
    for owner, reference, attribute in ((gradscope, torch, name), (gradscope, torch, name + "_"),
                                        (gradscope.Tensor, torch.Tensor, name),
                                        (gradscope.Tensor, torch.Tensor, name + "_")):
        assert hasattr(owner, attribute) == hasattr(reference, attribute), (owner.__name__, attribute)


INTEGERS, FLOATS, BOOLS = [1, -2, 3], [0.5, -1.5, 2.0], [True, False, True]
UNARY = ("asinh acosh atanh exp2 erfc sinc logit i0 sgn deg2rad rad2deg fix positive angle isposinf isneginf "
         "isreal").split()


def _pair(torch, values, dtype=None):
    return gradscope.tensor(values, dtype=dtype and getattr(gradscope, dtype)), torch.tensor(
        values, dtype=dtype and getattr(torch, dtype))


def _same_outcome(call_ours, call_theirs) -> None:
    """Both raise the same type and message, or both give the same values and dtype."""
    try:
        expected = call_theirs()
    except Exception as error:  # noqa: BLE001 - any error: ours must be the same
        with pytest.raises(type(error)) as raised:
            call_ours()
        assert str(raised.value) == str(error)
        return
    ours = call_ours()
    for mine, reference in zip(ours if isinstance(ours, tuple) else (ours,),
                               expected if isinstance(expected, tuple) else (expected,), strict=True):
        assert str(mine.dtype) == str(reference.dtype)
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("values", [INTEGERS, BOOLS, FLOATS], ids=["int", "bool", "float"])
@pytest.mark.parametrize("name", UNARY + ["frexp"])
def test_unary_values_and_dtypes(torch, name, values):
    ours, theirs = _pair(torch, values)
    _same_outcome(lambda: getattr(gradscope, name)(ours), lambda: getattr(torch, name)(theirs))


BINARY = "hypot copysign fmax fmin logaddexp2 nextafter ldexp float_power floor_divide heaviside rsub xlogy".split()
OPERANDS = {
    "int,int": (INTEGERS, [2, 1, 2]), "int,float": (INTEGERS, FLOATS), "float,int": (FLOATS, [2, 0, -1]),
    "bool,bool": (BOOLS, BOOLS), "float,float": (FLOATS, [1.5, 0.5, -1.5]),
}


@pytest.mark.parametrize("operands", OPERANDS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_values_dtypes_and_errors(torch, name, operands):
    (a, b), (c, d) = (_pair(torch, values) for values in OPERANDS[operands])
    _same_outcome(lambda: getattr(gradscope, name)(a, c), lambda: getattr(torch, name)(b, d))


@pytest.mark.parametrize("number", [2, 2.5, -1.0])
@pytest.mark.parametrize("name", BINARY)
def test_binary_with_a_number(torch, name, number):
    """Some take a Python number as `other` (copysign, float_power, floor_divide, rsub, xlogy); the others refuse it
    with the argument parser's TypeError."""
    for values in (INTEGERS, FLOATS):
        ours, theirs = _pair(torch, values)
        _same_outcome(lambda a=ours: getattr(gradscope, name)(a, number),
                      lambda a=theirs: getattr(torch, name)(a, number))


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("dtypes", [("int64",) * 3, ("float32", "int64", "int64"), ("int64", "float32", "float32"),
                                    ("float32", "float64", "float32")])
def test_addcmul_addcdiv_promotion(torch, name, dtypes):
    ours, theirs = zip(*(_pair(torch, [1, 2, 3], dtype) for dtype in dtypes), strict=True)
    _same_outcome(lambda: getattr(gradscope, name)(*ours, value=2), lambda: getattr(torch, name)(*theirs, value=2))


@pytest.mark.parametrize("call", [
    lambda lib, x: x.sin_(), lambda lib, x: x.exp2_(), lambda lib, x: x.hypot_(lib.tensor([1.0, 2.0, 3.0])),
    lambda lib, x: x.copysign_(-1.0), lambda lib, x: x.addcdiv_(x, x), lambda lib, x: x.lt_(1.5),
    lambda lib, x: x.logical_and_(x), lambda lib, x: x.sgn_(), lambda lib, x: x.floor_divide_(2.5),
    lambda lib, x: x.floor_divide_(2), lambda lib, x: x.float_power_(2), lambda lib, x: x.ldexp_(x),
    lambda lib, x: x.clamp_min_(2), lambda lib, x: x.square_(), lambda lib, x: x.true_divide_(2),
    lambda lib, x: x.ge_(lib.tensor([0.5, 2.5, 3.5])), lambda lib, x: x.addcmul_(x, x, value=2),
], ids=lambda call: "")
def test_in_place_on_integers(torch, call):
    """An in-place op whose result an integer tensor can't hold raises PyTorch's error; the others write."""
    ours, theirs = _pair(torch, INTEGERS)
    _same_outcome(lambda: call(gradscope, ours), lambda: call(torch, theirs))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_special_values(torch):
    values = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 50.0, -80.0, float("inf"), float("-inf"), float("nan")]
    for name in ("sinc", "logit", "i0", "sgn", "exp2", "erfc", "asinh", "acosh", "atanh", "frexp", "angle", "isposinf",
                 "isneginf", "isreal"):
        ours, theirs = _pair(torch, values, "float64")
        _same_outcome(lambda n=name, a=ours: getattr(gradscope, n)(a), lambda n=name, a=theirs: getattr(torch, n)(a))
    ours, theirs = _pair(torch, [0.0, 0.1, 0.5, 0.95, 1.0, -1.0], "float64")
    _same_outcome(lambda: gradscope.logit(ours, 0.2), lambda: torch.logit(theirs, 0.2))
    for p in (0, 1, 4):
        _same_outcome(lambda p=p: gradscope.mvlgamma(ours + 1, p), lambda p=p: torch.mvlgamma(theirs + 1, p))
    _same_outcome(lambda: gradscope.mvlgamma(gradscope.tensor([2, 3]), 2),
                  lambda: torch.mvlgamma(torch.tensor([2, 3]), 2))


@pytest.mark.parametrize("name", ["floor_divide", "heaviside"])
def test_nodes_that_refuse_backward(torch, name):
    grads = []
    for lib in (gradscope, torch):
        x = lib.tensor([0.0, 1.5, -2.5], dtype=lib.float64, requires_grad=True)
        y = getattr(lib, name)(x, lib.tensor([0.5, 0.5, 2.0], dtype=lib.float64))
        assert y.grad_fn.name() == "torch::autograd::NotImplemented"
        with pytest.raises(RuntimeError, match=f"derivative for aten::{name} is not implemented") as raised:
            y.sum().backward()
        grads.append(str(raised.value))
    assert grads[0] == grads[1]


@pytest.mark.parametrize("name", ["asinh_", "arcsinh_", "acosh_", "atanh_", "arctanh_"])
def test_inverse_hyperbolic_in_place_has_no_derivative(torch, name):
    """PyTorch records AsinhBackward1 … for the in-place forms, whose backward raises."""
    outcomes = []
    for lib in (gradscope, torch):
        x = lib.tensor([0.2, 0.4], dtype=lib.float64, requires_grad=True)
        y = getattr((x + 1 if "cosh" in name else x * 1), name)()
        with pytest.raises(NotImplementedError) as raised:
            y.sum().backward()
        outcomes.append((y.grad_fn.name(), str(raised.value)))
    assert outcomes[0] == outcomes[1]


def test_ldexp_self_gradient_with_negative_integer_exponent_as_torch(torch):
    """NOTE: PyTorch's gradient for self is g · pow(2, other) in other's integer dtype: 0 where other < 0."""
    grads = []
    for lib in (gradscope, torch):
        x = lib.ones(4, dtype=lib.float64, requires_grad=True)
        lib.ldexp(x, lib.tensor([-2, -1, 0, 3])).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("name", ["logical_and_", "logical_or_", "logical_xor_"])
def test_logical_in_place_records_no_node(torch, name):
    for lib in (gradscope, torch):
        x = lib.tensor([0.0, 1.5], requires_grad=True).clone()
        getattr(x, name)(lib.tensor([1.0, 0.0]))
        assert x.grad_fn.name() == "CloneBackward0"


def test_frexp_result_and_out(torch):
    x = gradscope.tensor([3.0, -0.25])
    result = gradscope.frexp(x)
    assert repr(result).startswith("torch.return_types.frexp(\nmantissa=tensor([ 0.7500, -0.5000]),")
    assert result.exponent.dtype == gradscope.int32 and result.mantissa is result[0]
    mantissa, exponent = gradscope.empty(2), gradscope.empty(2, dtype=gradscope.int32)
    assert gradscope.frexp(x, out=(mantissa, exponent)) == (mantissa, exponent)
    assert exponent.tolist() == [2, -1]


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([[-2.0, 1.0]], requires_grad=True).prelu(lib.tensor([0.25])),
    lambda lib: lib.tensor([[-2.0, 1.0], [3.0, -4.0]]).prelu(lib.tensor([0.25, 0.5])),
    lambda lib: lib.tensor([[-2.0, 1.0]]).prelu(lib.tensor([0.25, 0.5, 1.0])),
    lambda lib: lib.tensor([[-2.0, 1.0]]).prelu(lib.tensor([0.25], dtype=lib.float64)),
    lambda lib: lib.tensor([-1.0, 0.2, 0.7], requires_grad=True).hardshrink(0.5),
], ids=lambda call: "")
def test_prelu_and_hardshrink_methods(torch, call):
    _same_outcome(lambda: call(gradscope), lambda: call(torch))


def test_positive_returns_its_input():
    x = gradscope.tensor([1.0])
    assert gradscope.positive(x) is x
    with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor is not supported."):
        gradscope.positive(gradscope.tensor([True]))


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign", "abs", "neg", "frac", "sub", "rsub"])
def test_older_ops_on_bool_and_nan_as_torch(torch, name):
    """Found on the way: NumPy has bool kernels PyTorch lacks (floor, abs …) and lacks one it has (sign); bool − bool
    and −bool raise PyTorch's errors; sign(nan) is 0."""
    function = getattr(gradscope, name)

    def arguments(lib):
        return (lib.tensor([True, False]),) * (2 if name in ("sub", "rsub") else 1)
    _same_outcome(lambda: function(*arguments(gradscope)), lambda: getattr(torch, name)(*arguments(torch)))
    if name not in ("sub", "rsub"):
        ours, theirs = _pair(torch, [float("nan"), -0.0, 2.5, -1.5])
        _same_outcome(lambda: function(ours), lambda: getattr(torch, name)(theirs))


@pytest.mark.parametrize("call", [
    lambda lib: lib.addmv(lib.zeros(3), lib.zeros(3, 4), lib.zeros(5)),
    lambda lib: lib.addmv(lib.zeros(2), lib.zeros(3, 4), lib.zeros(4)),
    lambda lib: lib.addmv(lib.zeros(3, dtype=lib.float64), lib.zeros(3, 4), lib.zeros(4)),
    lambda lib: lib.addmv(lib.zeros(3), lib.zeros(4), lib.zeros(4)),
    lambda lib: lib.addmv(lib.zeros(1), lib.ones(3, 4), lib.ones(4), beta=2),
    lambda lib: lib.addr(lib.zeros(3, 4), lib.zeros(3), lib.zeros(5)),
    lambda lib: lib.addr(lib.zeros(3, 4), lib.zeros(3, 1), lib.zeros(4)),
    lambda lib: lib.addr(lib.ones(4), lib.ones(3), lib.ones(4)),
    lambda lib: lib.addr(lib.ones(3, 4, dtype=lib.float64), lib.ones(3), lib.ones(4)),
    lambda lib: lib.addr(*(lib.ones(n, dtype=lib.int64) for n in ((3, 4), 3, 4)), beta=0.5),
    lambda lib: lib.addr(*(lib.ones(n, dtype=lib.int64) for n in ((3, 4), 3, 4)), beta=2),
    lambda lib: lib.addbmm(lib.zeros(3, 4), lib.zeros(2, 3, 5), lib.zeros(2, 6, 4)),
    lambda lib: lib.addbmm(lib.zeros(3, 4), lib.zeros(2, 3, 5), lib.zeros(3, 5, 4)),
    lambda lib: lib.addbmm(lib.zeros(2, 4), lib.zeros(2, 3, 5), lib.zeros(2, 5, 4)),
    lambda lib: lib.addbmm(lib.ones(4), lib.ones(2, 3, 5), lib.ones(2, 5, 4)),
    lambda lib: lib.addbmm(lib.zeros(3, 4, dtype=lib.float64), lib.zeros(2, 3, 5), lib.zeros(2, 5, 4)),
    lambda lib: lib.addbmm(lib.zeros(3, 4), lib.zeros(2, 3, 5, dtype=lib.float64), lib.zeros(2, 5, 4)),
    lambda lib: lib.ones(2, 4).addmm_(lib.ones(2, 3), lib.ones(3, 4), alpha=2),
], ids=lambda call: "")
def test_add_products_values_and_errors_as_torch(torch, call):
    _same_outcome(lambda: call(gradscope), lambda: call(torch))


SHRINK_INPUTS = [-0.0, 0.0, -0.2, 0.2, -0.5, 0.5, -1.0, 1.0, float("nan"), float("inf"), float("-inf")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lambd", [0.5, 0.0])
@pytest.mark.parametrize("name", ["hardshrink", "softshrink"])
def test_shrinkage_passes_nan_on_and_its_gradient_back_as_torch(torch, name, lambd, dtype):
    """PyTorch's kernels test "inside [-lambd, lambd]", which a NaN is not: the NaN goes on, and so does its
    gradient. (Testing "outside" instead gave 0 for both: a NaN a debugger must report was hidden.)"""
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor(SHRINK_INPUTS, dtype=getattr(lib, dtype), requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, lambd)
        y.backward(lib.arange(1.0, len(SHRINK_INPUTS) + 1, dtype=getattr(lib, dtype)))
        results.append((y.detach().numpy(), x.grad.numpy()))
    (values, grads), (torch_values, torch_grads) = results
    np.testing.assert_array_equal(values, torch_values)  # NaN equals NaN here; the sign of a zero is not compared
    np.testing.assert_array_equal(grads, torch_grads)
    assert np.isnan(values).sum() == 1
