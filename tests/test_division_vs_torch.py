"""Rounded division and the modulo of a number, as PyTorch records them.

`torch.div(a, b, rounding_mode=...)` records DivBackward2 (whose gradients are zero: a rounded quotient is
piecewise constant) whenever the mode is given, None too; `a // b` is `floor_divide`, whose node refuses a
backward (NotImplemented), and so is `remainder(number, tensor)`; `fmod` has no number-first form at all.
Each case is run in both libraries and compared by what a user sees: the result, its dtype and requires_grad,
the node's name, its next functions and saved values, and what backward gives or raises."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

X = [1.5, 2.5, -3.0, 7.25]

CASES = {
    "x // 2": lambda T, x, d: x // 2,
    "x // 2.5": lambda T, x, d: x // 2.5,
    "x // x": lambda T, x, d: x // x,
    "floor_divide(x, 2)": lambda T, x, d: T.floor_divide(x, 2),
    "x //= 2": lambda T, x, d: _ifloordiv(x.clone()),
    "div floor, number": lambda T, x, d: T.div(x, 2, rounding_mode="floor"),
    "div trunc, float number": lambda T, x, d: T.div(x, 2.5, rounding_mode="trunc"),
    "div floor, tensor without grad": lambda T, x, d: T.div(x, d + 1, rounding_mode="floor"),
    "div floor, divisor needs grad": lambda T, x, d: T.div(d, x, rounding_mode="floor"),
    "div floor, both need grad": lambda T, x, d: T.div(x * 3, x, rounding_mode="floor"),
    "x.div trunc": lambda T, x, d: x.div(2, rounding_mode="trunc"),
    "div, mode None": lambda T, x, d: T.div(x, 2, rounding_mode=None),
    "div, mode None, tensor": lambda T, x, d: T.divide(x, x * x, rounding_mode=None),
    "div_ floor": lambda T, x, d: x.clone().div_(2, rounding_mode="floor"),
    "div, no mode": lambda T, x, d: T.div(x, 2),
    "remainder(2, x)": lambda T, x, d: T.remainder(2, x),
    "remainder(2.5, x)": lambda T, x, d: T.remainder(2.5, x),
    "2 % x": lambda T, x, d: 2 % x,
    "x % 2": lambda T, x, d: x % 2,
    "int floor": lambda T, x, d: T.div(T.tensor([7, -7]), 2, rounding_mode="floor"),
    "int trunc": lambda T, x, d: T.div(T.tensor([7, -7]), 2, rounding_mode="trunc"),
    "int trunc by float": lambda T, x, d: T.div(T.tensor([7, -7]), 2.0, rounding_mode="trunc"),
    "int, mode None": lambda T, x, d: T.div(T.tensor([7, -7]), 2, rounding_mode=None),
    "int //": lambda T, x, d: T.tensor([7, -7]) // 2,
    "int % number first": lambda T, x, d: T.remainder(7, T.tensor([2, -3])),
}


def _ifloordiv(x):
    x //= 2
    return x


def _name(node) -> str | None:
    return None if node is None else node.name()


def _seen(lib, case) -> dict:
    x = lib.tensor(X, requires_grad=True)
    out = CASES[case](lib, x, x.detach())
    node = out.grad_fn
    seen = {"values": out.detach().numpy().tolist(), "dtype": str(out.dtype), "requires_grad": out.requires_grad,
            "node": _name(node)}
    if node is None:
        return seen
    seen["next"] = [(_name(fn), index) for fn, index in node.next_functions if fn is not None]
    saved = {}
    for name in sorted(a for a in dir(node) if a.startswith("_saved_")):
        value = getattr(node, name)
        saved[name] = (str(value.dtype), value.detach().numpy().tolist()) if hasattr(value, "dtype") else value
    seen["saved"] = saved
    try:
        out.sum().backward()
        seen["grad"] = x.grad.numpy().tolist()
    except RuntimeError as error:
        seen["error"] = str(error)
    return seen


@pytest.mark.parametrize("case", CASES)
def test_division_records_what_pytorch_records(case):
    assert _seen(gradscope, case) == _seen(torch, case)


@pytest.mark.parametrize("case", ["x // x", "remainder(2, x)", "div floor, both need grad"])
def test_refusing_nodes_and_zero_gradients_hold_under_autograd_grad(case):
    """autograd.grad gives the same as .backward(): zeros through DivBackward2, PyTorch's error through
    NotImplemented."""
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor(X, requires_grad=True)
        out = CASES[case](lib, x, x.detach())
        try:
            (grad,) = lib.autograd.grad(out.sum(), x)
            results.append(grad.numpy().tolist())
        except RuntimeError as error:
            results.append(str(error))
    assert results[0] == results[1]


def test_a_bad_rounding_mode_is_refused_with_pytorch_words():
    messages = []
    for lib in (gradscope, torch):
        with pytest.raises(RuntimeError) as caught:
            lib.div(lib.tensor(X), 2, rounding_mode="round")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "'round'" in messages[0]


@pytest.mark.parametrize("call", [lambda T: T.fmod(2, T.tensor(X)), lambda T: T.remainder(2, 3)],
                         ids=["fmod(number, tensor)", "remainder(number, number)"])
def test_number_first_forms_pytorch_lacks_raise_its_type_error(call):
    messages = []
    for lib in (gradscope, torch):
        with pytest.raises(TypeError) as caught:
            call(lib)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_rounded_quotients_match_numpy_floor_and_trunc_on_awkward_values():
    """Signed zeros, exact multiples and float32 values near an integer quotient."""
    a = np.array([-7.0, 7.0, -0.0, 6.0, 1e-8, -1e-8, 0.3, -0.3, 5.999999], dtype=np.float32)
    b = np.array([2.0, -2.0, 3.0, 3.0, 1.0, 1.0, 0.1, 0.1, 1.0], dtype=np.float32)
    for mode in ("floor", "trunc"):
        ours = gradscope.div(gradscope.tensor(a), gradscope.tensor(b), rounding_mode=mode).numpy()
        theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode).numpy()
        np.testing.assert_array_equal(ours, theirs)
        assert np.array_equal(np.signbit(ours), np.signbit(theirs)), mode


def _augmented(op: str):
    def run(T, x, d):
        y = x * 1  # a non-leaf the operator writes into, and an alias of it
        alias = y
        namespace = {"y": y}
        exec(f"y {op} 2", namespace)
        assert namespace["y"] is alias, f"{op} made a new tensor"
        return alias
    return run


@pytest.mark.parametrize("op", ["//=", "%=", "**=", "/=", "*=", "+=", "-="])
def test_augmented_assignment_writes_in_place_as_in_pytorch(op):
    """`y //= 2` changes y itself (an alias sees it) and records the in-place op's node."""
    CASES[f"y {op} 2"] = _augmented(op)
    try:
        assert _seen(gradscope, f"y {op} 2") == _seen(torch, f"y {op} 2")
    finally:
        del CASES[f"y {op} 2"]
