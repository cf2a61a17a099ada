"""`out=` of the binary arithmetic and comparison ops (`torch.div(x, 0, out=x)`), against PyTorch 2.13: the
result written into `out` (and returned as it), with a number or a tensor as the other operand, a rounding
mode, alpha, an `out` of another dtype or shape, the input itself as `out`; PyTorch's errors where it refuses
(a result it can't cast, an operand that requires grad). Tensor methods take no `out` (a TypeError in both)."""

from __future__ import annotations

import warnings

import pytest

import gradscope

torch = pytest.importorskip("torch")

ARITHMETIC = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow"]
COMPARISONS = ["eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge", "greater_equal"]
TENSOR_ONLY = ["maximum", "minimum"]
OTHERS = {"0": 0, "2": 2, "2.5": 2.5, "-inf": float("-inf"), "tensor": "t", "int tensor": "i", "bool": True}
OUTS = {"float32": ("float32", (3,)), "float64": ("float64", (3,)), "int64": ("int64", (3,)),
        "bool": ("bool", (3,)), "resized": ("float32", (2,)), "empty": ("float32", (0,)), "input": None,
        "broadcast": ("float32", (2, 3))}


def _outcome(lib, name, other, out, **options):
    x = lib.tensor([1.5, -2.0, 0.0])
    operands = {"t": lib.tensor([2.0, 0.5, -1.0]), "i": lib.tensor([2, -1, 3])}
    other = operands.get(other, other) if isinstance(other, str) else other
    target = x if out is None else lib.zeros(out[1], dtype=getattr(lib, out[0]))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = getattr(lib, name)(x, other, out=target, **options)
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return type(error).__name__, str(error).split("\n")[0]
    return (result is target, str(target.dtype).rsplit(".", 1)[-1], tuple(target.shape), str(target.tolist()),
            [str(w.message)[:60] for w in caught])


def _same(name, other, out, **options):
    mine, theirs = _outcome(gradscope, name, other, out, **options), _outcome(torch, name, other, out, **options)
    assert mine == theirs


@pytest.mark.parametrize("out", list(OUTS))
@pytest.mark.parametrize("other", list(OTHERS))
@pytest.mark.parametrize("name", ARITHMETIC + COMPARISONS + TENSOR_ONLY)
def test_out_matches_torch(name, other, out):
    _same(name, OTHERS[other], OUTS[out])


@pytest.mark.parametrize("mode", [None, "trunc", "floor", "round"])
@pytest.mark.parametrize("out", ["float32", "int64", "input"])
@pytest.mark.parametrize("other", ["0", "2", "2.5", "tensor", "int tensor"])
def test_div_rounding_mode_with_out(mode, out, other):
    _same("div", OTHERS[other], OUTS[out], rounding_mode=mode)


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("alpha", [2, 0.5])
@pytest.mark.parametrize("out", ["float32", "int64", "input"])
def test_alpha_with_out(name, alpha, out):
    _same(name, OTHERS["tensor"], OUTS[out], alpha=alpha)


def test_div_by_zero_into_its_input():
    x = gradscope.tensor([1.0, -2.0, 0.0])
    assert gradscope.div(x, 0, out=x) is x
    expected = torch.div(torch.tensor([1.0, -2.0, 0.0]), 0)
    assert str(x.tolist()) == str(expected.tolist())


@pytest.mark.parametrize("lib", [torch, gradscope])
def test_an_operand_that_requires_grad_is_refused(lib):
    x = lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^div\(\): functions with out=\.\.\. arguments don't support automatic"):
        lib.div(x, 2, out=lib.zeros(2))
    with lib.no_grad():
        target = lib.zeros(2)
        assert lib.mul(x, 3, out=target) is target and target.tolist() == [3.0, 3.0] and not target.requires_grad


@pytest.mark.parametrize("lib", [torch, gradscope])
def test_methods_take_no_out(lib):
    x = lib.ones(2)
    with pytest.raises(TypeError):
        x.div(2, out=x)


OPERANDS = {
    "sub(x, True)": lambda T, x, b: T.sub(x, True),
    "x - True": lambda T, x, b: x - True,
    "True - x": lambda T, x, b: True - x,
    "rsub(x, True)": lambda T, x, b: T.rsub(x, True),
    "x - bool tensor": lambda T, x, b: x - b,
    "bool tensor - 1": lambda T, x, b: b - 1,
    "bool tensor - True": lambda T, x, b: b - True,
    "x.sub(bool tensor, alpha=2)": lambda T, x, b: x.sub(b, alpha=2),
    "maximum(x, 2)": lambda T, x, b: T.maximum(x, 2),
    "minimum(x, 2.5)": lambda T, x, b: T.minimum(x, 2.5),
    "maximum(2, x)": lambda T, x, b: T.maximum(2, x),
    "minimum(x, True)": lambda T, x, b: T.minimum(x, True),
    "maximum(x, bool tensor)": lambda T, x, b: T.maximum(x, b),
    "isclose(x, 0.0)": lambda T, x, b: T.isclose(x, 0.0),
    "isclose(float64, float32)": lambda T, x, b: T.isclose(x.double(), T.tensor(0.0)),
    "isclose(float32, int64)": lambda T, x, b: x.isclose(T.tensor([1, 2])),
    "isclose(int64, int64)": lambda T, x, b: T.isclose(T.tensor([1, 2]), T.tensor(1)),
    "allclose(x, 1)": lambda T, x, b: T.allclose(x, 1),
    "allclose(float16, float32)": lambda T, x, b: T.tensor(T.allclose(x.half(), x)),
    "allclose(x, x)": lambda T, x, b: T.tensor(T.allclose(x, x + 1e-9)),
}


@pytest.mark.parametrize("case", list(OPERANDS))
def test_operands_pytorch_refuses(case):
    """Operands PyTorch refuses: subtraction a bool, maximum and minimum a number, isclose and allclose a number or
    another dtype (GeneralizedPareto's log_prob compares a float64 concentration with `tensor(0.0)`: it raises)."""
    seen = {}
    for name, lib in (("torch", torch), ("gradscope", gradscope)):
        try:
            result = OPERANDS[case](lib, lib.tensor([1.5, -2.0]), lib.tensor([True, False]))
            seen[name] = (str(result.dtype).rsplit(".", 1)[-1], result.tolist())
        except Exception as error:  # noqa: BLE001 - the error is the outcome compared
            seen[name] = (type(error).__name__, str(error))
    assert seen["gradscope"] == seen["torch"]
