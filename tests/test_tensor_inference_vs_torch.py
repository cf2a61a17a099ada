"""`torch.tensor(sequence)` infers PyTorch's dtype: every element keeps its own (a NumPy scalar's, an array's or a
tensor's dtype; bool, int64, or the default float or complex dtype for a Python number), promoted with
torch.promote_types. Inferring from the whole list's NumPy dtype gave `[np.float64(2)]` float32 and
`[np.int32(1)]` int64: silent dtype changes in a common idiom (lists built from NumPy values)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope
from tests.conftest import reference_torch

CASES = [
    "[np.float64(2)]", "[np.int32(1)]", "[np.float32(1), 2.0]", "[np.float16(1)]", "[np.int64(3), 1.5]",
    "[np.bool_(True)]", "[np.float64(1), np.float32(2)]", "[1, np.float64(2)]", "[[np.float64(1)], [2.0]]",
    "[np.complex64(1), 2.0]", "[np.uint8(1), True]", "[np.int8(1), 300]", "[np.float32(1), 1 + 2j]",
    "[np.float16(1), 2]", "[torch.tensor(1.0, dtype=torch.float64), 2.0]", "[np.array([1.0]), np.array([2.0])]",
    "[]", "[[], []]", "[1.0, 2]", "[[1, 2], [3.5, 4]]", "(True, 2)", "[np.uint8(3), np.int8(-1)]",
    "[[np.int16(1), 2], (np.int32(3), 4)]", "[torch.tensor(1, dtype=torch.int8), np.uint8(2)]",
]


def _made(torch, expression: str):
    return eval(expression, {"torch": torch, "np": np})  # noqa: S307 - the cases above, nothing else


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("expression", CASES)
def test_a_sequence_gets_pytorchs_dtype(expression, default):
    torch = reference_torch()
    if torch is None:
        pytest.skip("PyTorch is not installed")
    previous = gradscope.get_default_dtype()
    gradscope.set_default_dtype(getattr(gradscope, default))
    torch_previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default))
    try:
        ours = gradscope.tensor(_made(gradscope, expression))
        with warnings.catch_warnings():  # torch's advice on lists of arrays (slow there, not here)
            warnings.simplefilter("ignore", UserWarning)
            theirs = torch.tensor(_made(torch, expression))
    finally:
        gradscope.set_default_dtype(previous)
        torch.set_default_dtype(torch_previous)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# an element of a flat list: a Python number or a NumPy scalar of one of PyTorch's dtypes, small enough for any
_NUMPY = ["bool_", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
          "complex128"]
ELEMENTS = st.one_of(st.sampled_from([True, 2, 1.5, 2 + 1j]),
                     st.sampled_from(_NUMPY).map(lambda name: ("np", name)),
                     st.sampled_from(_NUMPY).map(lambda name: ("tensor", name)))


def _element(torch, spec):
    if not isinstance(spec, tuple):
        return spec
    kind, name = spec
    value = getattr(np, name)(1)
    if kind == "np":
        return value
    return torch.tensor(value, dtype=getattr(torch, "bool" if name == "bool_" else name))


@settings(max_examples=150, deadline=None)
@given(st.lists(ELEMENTS, min_size=1, max_size=4))
def test_mixed_elements_promote_as_pytorch(specs):
    torch = reference_torch()
    if torch is None:
        pytest.skip("PyTorch is not installed")
    ours = gradscope.tensor([_element(gradscope, spec) for spec in specs])
    theirs = torch.tensor([_element(torch, spec) for spec in specs])
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
