"""Tests for gradscope._printing.

Literal expected strings (taken from PyTorch 2.13) keep the suite meaningful
without torch; where torch is installed it is also used as an oracle, on the
same literal cases, on hypothesis-generated arrays and on a seeded sweep.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradscope._printing import (
    dtype_name,
    format_tensor,
    get_printoptions,
    set_printoptions,
)

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
ALL_DTYPES = [
    np.dtype(t)
    for t in (
        np.float16,
        np.float32,
        np.float64,
        np.complex64,
        np.complex128,
        np.bool_,
        np.uint8,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
    )
]
DEFAULT_OPTIONS = {
    "precision": 4,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 80,
    "sci_mode": None,
}

# (array, suffixes, default float dtype, repr printed by torch 2.13)
LITERAL_CASES: list[tuple[np.ndarray, tuple[str, ...], np.dtype, str]] = [
    (np.array(3.0, dtype=F32), (), F32, "tensor(3.)"),
    (
        np.array(27.0, dtype=F32),
        ("grad_fn=<MeanBackward0>",),
        F32,
        "tensor(27., grad_fn=<MeanBackward0>)",
    ),
    (np.array(5), (), F32, "tensor(5)"),
    (np.array(True), (), F32, "tensor(True)"),
    (np.array([1.0, 2.0], dtype=F32), (), F32, "tensor([1., 2.])"),
    (np.array([4.5, 1.0], dtype=F32), (), F32, "tensor([4.5000, 1.0000])"),
    (np.array([1e10, 1.0], dtype=F32), (), F32, "tensor([1.0000e+10, 1.0000e+00])"),
    (
        np.array([123456.789, 1.0], dtype=F32),
        (),
        F32,
        "tensor([1.2346e+05, 1.0000e+00])",
    ),
    (np.array(1.2413e-35, dtype=F32), (), F32, "tensor(1.2413e-35)"),
    (np.array([0.0, -0.0, 1.0], dtype=F32), (), F32, "tensor([0., -0., 1.])"),
    (
        np.array([np.nan, np.inf, -np.inf], dtype=F32),
        (),
        F32,
        "tensor([nan, inf, -inf])",
    ),
    (
        np.array([1.5, np.nan, np.inf, -np.inf], dtype=F32),
        (),
        F32,
        "tensor([1.5000,    nan,    inf,   -inf])",
    ),
    (np.array([0.0, np.nan], dtype=F32), (), F32, "tensor([0., nan])"),
    (
        np.array([-507307.8871, 525152.6237, -1442456.2454]),
        ("grad_fn=<MulBackward0>",),
        F32,
        """\
tensor([ -507307.8871,   525152.6237, -1442456.2454], dtype=torch.float64,
       grad_fn=<MulBackward0>)""",
    ),
    (
        np.ones(12, dtype=F32),
        ("requires_grad=True",),
        F32,
        "tensor([1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.], requires_grad=True)",
    ),
    (
        np.ones(13, dtype=F32),
        ("requires_grad=True",),
        F32,
        """\
tensor([1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.],
       requires_grad=True)""",
    ),
    (
        np.arange(30, dtype=F32) * 1.5,
        (),
        F32,
        """\
tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,
        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,
        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,
        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000])""",
    ),
    (
        np.arange(2000, dtype=F32),
        (),
        F32,
        """\
tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,
        1.9990e+03])""",
    ),
    (
        np.arange(1200).reshape(40, 30),
        (),
        F32,
        """\
tensor([[   0,    1,    2,  ...,   27,   28,   29],
        [  30,   31,   32,  ...,   57,   58,   59],
        [  60,   61,   62,  ...,   87,   88,   89],
        ...,
        [1110, 1111, 1112,  ..., 1137, 1138, 1139],
        [1140, 1141, 1142,  ..., 1167, 1168, 1169],
        [1170, 1171, 1172,  ..., 1197, 1198, 1199]])""",
    ),
    (
        np.linspace(-1, 1, 12, dtype=F32).reshape(3, 4),
        ("requires_grad=True",),
        F32,
        """\
tensor([[-1.0000, -0.8182, -0.6364, -0.4545],
        [-0.2727, -0.0909,  0.0909,  0.2727],
        [ 0.4545,  0.6364,  0.8182,  1.0000]], requires_grad=True)""",
    ),
    (
        np.arange(8, dtype=F32).reshape(2, 2, 2) / 4,
        (),
        F32,
        """\
tensor([[[0.0000, 0.2500],
         [0.5000, 0.7500]],

        [[1.0000, 1.2500],
         [1.5000, 1.7500]]])""",
    ),
    (
        np.arange(16, dtype=F32).reshape(2, 2, 2, 2),
        ("requires_grad=True",),
        F32,
        """\
tensor([[[[ 0.,  1.],
          [ 2.,  3.]],

         [[ 4.,  5.],
          [ 6.,  7.]]],


        [[[ 8.,  9.],
          [10., 11.]],

         [[12., 13.],
          [14., 15.]]]], requires_grad=True)""",
    ),
    (np.array([1, 2]), (), F32, "tensor([1, 2])"),
    (
        np.array([-10, 200, 3], dtype=np.int32),
        (),
        F32,
        "tensor([-10, 200,   3], dtype=torch.int32)",
    ),
    (np.array([True, False]), (), F32, "tensor([ True, False])"),
    (np.zeros(0, dtype=F32), (), F32, "tensor([])"),
    (np.zeros((0, 3), dtype=F32), (), F32, "tensor([], size=(0, 3))"),
    (np.zeros(0, dtype=np.int64), (), F32, "tensor([], dtype=torch.int64)"),
    (
        np.zeros((2, 0), dtype=np.bool_),
        (),
        F32,
        "tensor([], size=(2, 0), dtype=torch.bool)",
    ),
    (np.array([1.0, 2.0], dtype=F32), (), F64, "tensor([1., 2.], dtype=torch.float32)"),
    (np.array([1.0, 2.0], dtype=F64), (), F64, "tensor([1., 2.])"),
    (np.zeros(0, dtype=F64), (), F64, "tensor([])"),
    (
        np.array([0.1, 2.0], dtype=np.float16),
        (),
        F32,
        "tensor([0.1000, 2.0000], dtype=torch.float16)",
    ),
    (
        np.array([0, 255], dtype=np.uint8),
        (),
        F32,
        "tensor([  0, 255], dtype=torch.uint8)",
    ),
    (
        np.array([-128, 127], dtype=np.int8),
        (),
        F32,
        "tensor([-128,  127], dtype=torch.int8)",
    ),
    (np.array([1, -2], dtype=np.int16), (), F32, "tensor([ 1, -2], dtype=torch.int16)"),
    (
        np.array([1 + 2j, -1.5 - 0.25j], dtype=np.complex64),
        (),
        F32,
        "tensor([ 1.0000+2.0000j, -1.5000-0.2500j])",
    ),
    (np.array([1j, 2.0]), (), F32, "tensor([0.+1.j, 2.+0.j], dtype=torch.complex128)"),
    (np.array([1j, 2.0]), (), F64, "tensor([0.+1.j, 2.+0.j])"),
]

# (print options, array, repr printed by torch 2.13 under those options)
OPTION_CASES: list[tuple[dict[str, Any], np.ndarray, str]] = [
    ({"precision": 2}, np.array([1.12345], dtype=F32), "tensor([1.12])"),
    ({"threshold": 5}, np.arange(10), "tensor([0, 1, 2,  ..., 7, 8, 9])"),
    (
        {"threshold": 5, "edgeitems": 1},
        np.arange(9).reshape(3, 3),
        """\
tensor([[0,  ..., 2],
        ...,
        [6,  ..., 8]])""",
    ),
    ({"edgeitems": 0}, np.arange(3.0, dtype=F32), "tensor([0., 1., 2.], size=(3,))"),
    (
        {"edgeitems": 0, "threshold": 2},
        np.arange(6.0, dtype=F32).reshape(2, 3),
        "tensor([...], size=(2, 3))",
    ),
    (
        {"linewidth": 20},
        np.arange(6),
        """\
tensor([0, 1, 2, 3,
        4, 5])""",
    ),
    (
        {"sci_mode": True},
        np.array([1.5, 2.0], dtype=F32),
        "tensor([1.5000e+00, 2.0000e+00])",
    ),
    ({"sci_mode": False}, np.array([1e-5, 1.0], dtype=F32), "tensor([0.0000, 1.0000])"),
    (
        {"profile": "short"},
        np.arange(10.0, dtype=F32).reshape(2, 5) / 3,
        """\
tensor([[0.00, 0.33, 0.67, 1.00, 1.33],
        [1.67, 2.00, 2.33, 2.67, 3.00]])""",
    ),
    (
        {"profile": "full"},
        np.zeros(1001, dtype=np.int8),
        # 41 full lines of 24 zeros, then 17 more: nothing is summarised
        "tensor(["
        + ",\n        ".join([", ".join(["0"] * 24)] * 41 + [", ".join(["0"] * 17)])
        + "], dtype=torch.int8)",
    ),
]


@pytest.fixture(autouse=True)
def _default_print_options() -> Iterator[None]:
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")


@pytest.fixture(scope="module")
def torch() -> ModuleType:
    return pytest.importorskip("torch")


@contextlib.contextmanager
def _torch_settings(
    torch: ModuleType, default_float: np.dtype, options: dict[str, Any]
) -> Iterator[None]:
    """Apply the default dtype and print options to torch and to gradscope alike."""
    torch.set_default_dtype(torch.float64 if default_float == F64 else torch.float32)
    torch.set_printoptions(**options)
    set_printoptions(**options)
    try:
        yield
    finally:
        torch.set_default_dtype(torch.float32)
        torch.set_printoptions(profile="default")
        set_printoptions(profile="default")


def _torch_repr(torch: ModuleType, array: np.ndarray, suffixes: tuple[str, ...]) -> str:
    """Return torch's repr of `array`, with autograd state that yields `suffixes`."""
    tensor = torch.from_numpy(array.copy())
    make_suffix = {
        "requires_grad=True": lambda t: t,
        "grad_fn=<CloneBackward0>": torch.clone,
        "grad_fn=<MulBackward0>": lambda t: t * 1,
        "grad_fn=<MeanBackward0>": torch.mean,
    }
    for suffix in suffixes:
        tensor = make_suffix[suffix](tensor.requires_grad_())
    return repr(tensor)


@pytest.mark.parametrize(
    ("array", "suffixes", "default_float", "expected"), LITERAL_CASES
)
def test_literal_repr(
    array: np.ndarray, suffixes: tuple[str, ...], default_float: np.dtype, expected: str
) -> None:
    assert format_tensor(array, suffixes, default_float=default_float) == expected


@pytest.mark.parametrize(("options", "array", "expected"), OPTION_CASES)
def test_literal_repr_with_options(
    options: dict[str, Any], array: np.ndarray, expected: str
) -> None:
    set_printoptions(**options)
    assert format_tensor(array) == expected


def test_literal_cases_match_torch(torch: ModuleType) -> None:
    for array, suffixes, default_float, expected in LITERAL_CASES:
        with _torch_settings(torch, default_float, {}):
            assert _torch_repr(torch, array, suffixes) == expected
    for options, array, expected in OPTION_CASES:
        with _torch_settings(torch, F32, options):
            assert _torch_repr(torch, array, ()) == expected


def test_printoptions_round_trip() -> None:
    assert get_printoptions() == DEFAULT_OPTIONS
    set_printoptions(precision=2, linewidth=100, sci_mode=True)
    saved = get_printoptions()
    assert saved == {
        **DEFAULT_OPTIONS,
        "precision": 2,
        "linewidth": 100,
        "sci_mode": True,
    }
    set_printoptions(profile="full")
    assert get_printoptions()["threshold"] == math.inf
    set_printoptions(**saved)
    assert get_printoptions() == saved


def test_set_printoptions_always_assigns_sci_mode() -> None:
    set_printoptions(sci_mode=True)
    set_printoptions(precision=3)
    assert get_printoptions()["sci_mode"] is None


def test_unknown_profile_is_rejected() -> None:
    with pytest.raises(ValueError, match="profile"):
        set_printoptions(profile="verbose")


def test_dtype_names() -> None:
    assert [dtype_name(dtype) for dtype in ALL_DTYPES] == [
        "torch.float16",
        "torch.float32",
        "torch.float64",
        "torch.complex64",
        "torch.complex128",
        "torch.bool",
        "torch.uint8",
        "torch.int8",
        "torch.int16",
        "torch.int32",
        "torch.int64",
    ]
    assert dtype_name(np.dtype(">f8")) == "torch.float64"
    with pytest.raises(TypeError):
        dtype_name(np.dtype("U3"))


def _elements(dtype: np.dtype) -> st.SearchStrategy[Any]:
    """Values of all magnitudes, including small integers and non-finite values."""
    if dtype.kind == "c":
        part = _elements(np.dtype(f"f{dtype.itemsize // 2}"))
        return st.builds(complex, part, part)
    if dtype.kind == "f":
        width = dtype.itemsize * 8
        return st.one_of(
            st.floats(width=width),
            st.floats(-100, 100, width=width),
            st.integers(-1000, 1000).map(float),
            st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1e-5, 65504.0]),
        )
    return hnp.from_dtype(dtype)


@st.composite
def _oracle_cases(
    draw: st.DrawFn,
) -> tuple[np.ndarray, tuple[str, ...], np.dtype, dict[str, Any]]:
    dtype = draw(st.sampled_from(ALL_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    array = draw(
        hnp.arrays(dtype, shape, elements=_elements(dtype), fill=_elements(dtype))
    )
    suffixes = ()
    if dtype.kind in "fc":
        suffixes = draw(
            st.sampled_from(
                [(), ("requires_grad=True",), ("grad_fn=<CloneBackward0>",)]
            )
        )
    default_float = draw(st.sampled_from([F32, F64]))
    options = draw(
        st.one_of(
            st.just({}),
            st.fixed_dictionaries(
                {
                    "precision": st.integers(0, 10),
                    "threshold": st.sampled_from([0, 10, 1000, math.inf]),
                    "edgeitems": st.integers(0, 4),
                    "linewidth": st.sampled_from([10, 40, 80, 120]),
                    "sci_mode": st.sampled_from([None, True, False]),
                }
            ),
        )
    )
    return array, suffixes, default_float, options


@settings(max_examples=200, deadline=None)
@given(case=_oracle_cases())
def test_matches_torch_on_generated_arrays(
    torch: ModuleType,
    case: tuple[np.ndarray, tuple[str, ...], np.dtype, dict[str, Any]],
) -> None:
    array, suffixes, default_float, options = case
    with _torch_settings(torch, default_float, options):
        assert format_tensor(
            array, suffixes, default_float=default_float
        ) == _torch_repr(torch, array, suffixes)


def test_matches_torch_on_random_sweep(torch: ModuleType) -> None:
    rng = np.random.default_rng(2024)
    for _ in range(400):
        dtype = ALL_DTYPES[rng.integers(len(ALL_DTYPES))]
        shape = tuple(int(n) for n in rng.integers(1, 9, size=rng.integers(0, 5)))
        if rng.random() < 0.1:
            shape = (int(rng.integers(990, 1300)), *shape[1:2])
        size = math.prod(shape)
        values = rng.standard_normal(size) * 10.0 ** rng.integers(-12, 12)
        if rng.random() < 0.3:
            values = np.round(values)
        with np.errstate(all="ignore"):
            if dtype.kind in "iu":
                info = np.iinfo(dtype)
                values = np.clip(values, info.min, info.max)
            array = values.astype(dtype).reshape(shape)
        with _torch_settings(torch, F32, {}):
            assert format_tensor(array) == _torch_repr(torch, array, ())
