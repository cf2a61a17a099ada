"""`torch.testing.assert_close` (and `assert_allclose`, `make_tensor`) as PyTorch 2.13 has them: each case runs
in both libraries and must pass in both or fail in both with the same exception type and message (counts,
greatest differences and their indices, tolerances, the failing item of a nested input)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")

CASES = {
    "close float32": lambda T: (T.tensor([1.0, 2.0, 3.0]), T.tensor([1.0, 2.0 + 1e-6, 3.0]), {}),
    "far float32": lambda T: (T.tensor([1.0, 2.0, 3.0]), T.tensor([1.0, 2.1, 3.0]), {}),
    "far float64 2-d": lambda T: (T.zeros(2, 3, dtype=T.float64), T.ones(2, 3, dtype=T.float64), {}),
    "dtype mismatch": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0], dtype=T.float64), {}),
    "dtype unchecked": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.5], dtype=T.float64),
                                  dict(check_dtype=False)),
    "shape mismatch": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0, 3.0]), {}),
    "nan": lambda T: (T.tensor([[1.0, NAN]]), T.tensor([[1.0, NAN]]), {}),
    "nan equal": lambda T: (T.tensor([[1.0, NAN]]), T.tensor([[1.0, NAN]]), dict(equal_nan=True)),
    "inf": lambda T: (T.tensor([INF, 1.0]), T.tensor([INF, 1.0]), {}),
    "opposite inf": lambda T: (T.tensor([INF]), T.tensor([-INF]), {}),
    "integers": lambda T: (T.tensor([1, 2]), T.tensor([1, 3]), {}),
    "int32 vs int64": lambda T: (T.tensor([1, 2], dtype=T.int32), T.tensor([1, 2]), {}),
    "bools": lambda T: (T.tensor([True]), T.tensor([False]), {}),
    "0-dim": lambda T: (T.tensor(1.0), T.tensor(2.0), {}),
    "0-dim int": lambda T: (T.tensor(1), T.tensor(2), {}),
    "one element": lambda T: (T.tensor([1.0]), T.tensor([2.0]), {}),
    "numbers": lambda T: (1.0, 1.1, {}),
    "numbers close": lambda T: (1.0, 1.0 + 1e-8, {}),
    "int and float": lambda T: (1, 1.0, {}),
    "nan number": lambda T: (1.0, NAN, dict(equal_nan=True)),
    "list": lambda T: ([T.tensor(1.0)], [T.tensor(2.0)], {}),
    "tuple and list": lambda T: ((1.0, 2.0), [1.0, 2.0], {}),
    "lengths": lambda T: ([1.0, 2.0], [1.0, 2.0, 3.0], {}),
    "dict": lambda T: ({"a": T.tensor(1.0)}, {"a": T.tensor(1.5)}, {}),
    "nested": lambda T: ({"w": [T.ones(2), T.ones(3)]}, {"w": [T.ones(2), T.zeros(3)]}, {}),
    "keys": lambda T: ({"a": 1}, {"b": 1}, {}),
    "none": lambda T: (None, None, {}),
    "none and one": lambda T: (None, 1, {}),
    "tensor and list": lambda T: (T.tensor([1.0, 2.0]), [1.0, 2.0], {}),
    "tensor and float": lambda T: (T.tensor(1.0), 1.0, {}),
    "strings": lambda T: ("a", "a", {}),
    "requires_grad ignored": lambda T: (T.tensor([1.0]), T.tensor([1.0], requires_grad=True), {}),
    "tiny values within atol": lambda T: (T.tensor([1e-10]), T.tensor([2e-10]), {}),
    "given tolerances": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.01]), dict(rtol=1e-2, atol=0)),
    "equality": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.01]), dict(rtol=0, atol=0)),
    "one tolerance": lambda T: (T.tensor([1.0]), T.tensor([1.0]), dict(rtol=0.1)),
    "message": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.5]), dict(msg="custom")),
    "message function": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.5]), dict(msg=lambda m: "X:" + m)),
    "strides": lambda T: (T.ones(2, 3), T.ones(3, 2).t(), dict(check_stride=True)),
    "strides unchecked": lambda T: (T.ones(2, 3), T.ones(3, 2).t(), {}),
    "numpy arrays": lambda T: (np.array([1.0]), np.array([1.1]), {}),
    "tensor and numpy": lambda T: (T.tensor([1.0]), np.array([1.0]), {}),
    "negative relative": lambda T: (T.tensor([-3.0, 0.0, 5.0]), T.tensor([-3.5, 0.5, 5.0]), {}),
}


def _outcome(lib, case):
    actual, expected, options = CASES[case](lib)
    try:
        lib.testing.assert_close(actual, expected, **options)
    except (AssertionError, TypeError, ValueError) as error:
        return type(error).__name__, str(error)
    return "passed"


@pytest.mark.parametrize("case", CASES)
def test_assert_close_passes_or_fails_as_pytorchs(case):
    assert _outcome(gradscope, case) == _outcome(torch, case)


def test_a_custom_backward_checked_with_assert_close():
    """The use it is for: a hand-written Function's gradient against a composite one."""
    class Square(gradscope.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = gradscope.randn(4, 3, dtype=gradscope.float64, requires_grad=True)
    (ours,) = gradscope.autograd.grad(Square.apply(x).sum(), x)
    (reference,) = gradscope.autograd.grad((x ** 2).sum(), x)
    gradscope.testing.assert_close(ours, reference)
    with pytest.raises(AssertionError, match="Mismatched elements: 12 / 12"):
        gradscope.testing.assert_close(ours, reference * 1.001)


@pytest.mark.parametrize("expected", [[1.0, 2.0], [1.0, 3.0], [1.0, 2.0001]])
def test_assert_allclose_is_deprecated_and_uses_the_older_tolerances(expected):
    outcomes = []
    for lib in (gradscope, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                lib.testing.assert_allclose(lib.tensor([1.0, 2.0]), expected)
                outcome = "passed"
            except AssertionError as error:
                outcome = str(error)
        outcomes.append((outcome, [(w.category.__name__, str(w.message)) for w in caught]))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("dtype, low, high", [("float32", None, None), ("float64", -1, 1), ("int64", None, None),
                                              ("int32", 0, 5), ("bool", None, None)])
def test_make_tensor_gives_the_shape_dtype_and_range_asked(dtype, low, high):
    t = gradscope.testing.make_tensor((3, 4), dtype=getattr(gradscope, dtype), device="cpu", low=low, high=high)
    assert t.shape == (3, 4) and t.dtype == getattr(gradscope, dtype)
    values = t.numpy()
    if dtype != "bool":
        lo = -9 if low is None else low
        hi = (9 if dtype.startswith("float") else 10) if high is None else high
        assert values.min() >= lo and values.max() < hi  # high is exclusive
    noncontiguous = gradscope.testing.make_tensor(3, 4, dtype=gradscope.float32, device="cpu", noncontiguous=True,
                                                  requires_grad=True)
    assert not noncontiguous.is_contiguous() and noncontiguous.requires_grad and noncontiguous.shape == (3, 4)
