"""einsum with '...' vs PyTorch: the ellipsis stands for the dims no letter names, aligned from the right and
broadcast across operands; an implicit output puts them first. Values, gradients, the node PyTorch's decomposition
ends in, and PyTorch's errors for a stray '.' or too many letters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")

CASES = [
    ("...ij,jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (3, 1, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,...jk", [(3, 4), (2, 4, 5)]),
    ("i...->...", [(2, 3, 4)]),
    ("...", [(2, 3, 4)]),
    ("...->", [(2, 3)]),
    ("...ii", [(2, 3, 3)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("b...,b...", [(2, 3, 4), (2, 3, 4)]),
    ("b...,b...->b", [(2, 3, 4), (2, 1, 4)]),
    ("ij...,jk...", [(2, 3, 5), (3, 4, 5)]),
    ("ij->...", [(3, 4)]),
    ("...ij->...ji", [(3, 4)]),
    (" ... ij , j ... ", [(2, 3, 4), (4, 2)]),
    ("...i,...i->...", [(4,), (3, 4)]),
    ("a...b,b...c->ac...", [(2, 3, 4), (4, 3, 5)]),
]


def _run(lib, equation, arrays):
    operands = [lib.tensor(a, requires_grad=True) for a in arrays]
    try:
        out = lib.einsum(equation, *operands)
    except RuntimeError as error:
        return "RuntimeError", str(error)
    weights = lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))
    (out * weights).sum().backward()
    return (type(out.grad_fn).__name__, tuple(out.shape), out.detach().numpy(), [o.grad.numpy() for o in operands])


def _assert_same(ours, theirs):
    assert ours[:2] == theirs[:2]
    if ours[0] != "RuntimeError":
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12, atol=1e-12)
        for mine, other in zip(ours[3], theirs[3]):
            np.testing.assert_allclose(mine, other, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("equation", "shapes"), CASES, ids=[f"{e.strip()}-{s}" for e, s in CASES])
def test_einsum_with_an_ellipsis_matches_torch(equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    _assert_same(_run(gradscope, equation, arrays), _run(torch, equation, arrays))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 3]), max_size=3), st.lists(st.booleans(), max_size=3), st.integers(0, 2),
       st.sampled_from(["...ij,...jk->...ik", "...ij,...jk", "...ij,...kj->...", "i...j,j...->...i"]))
def test_broadcast_ellipsis_dims_match_torch(left, ones, extra, equation):
    """The second operand's ellipsis dims: the first's (or 1 where `ones` says), `extra` more in front."""
    right = [3] * extra + [1 if one else size for size, one in zip(left, ones + [False] * len(left))]
    rng = np.random.default_rng(1)
    if equation.startswith("i..."):
        arrays = [rng.standard_normal((2, *left, 3)), rng.standard_normal((3, *right))]
    else:
        last = (3, 4) if "jk" in equation else (4, 3)
        arrays = [rng.standard_normal((*left, 2, 3)), rng.standard_normal((*right, *last))]
    _assert_same(_run(gradscope, equation, arrays), _run(torch, equation, arrays))


@pytest.mark.parametrize(("equation", "shapes"), [("..i", [(2, 3)]), ("...ijk,jk", [(3, 4), (4, 5)]),
                                                  ("i...j", [(3,)]), ("i....", [(3,)]),
                                                  ("...i...", [(3,)]), ("i.j", [(3,)]),
                                                  ("...ij,...jk", [(2, 5, 3, 4), (3, 3, 4, 5)]),
                                                  ("...ij,...jk", [(4, 2, 3, 4), (5, 2, 4, 5)]),
                                                  ("...ij,...jk", [(2, 3, 4), (2, 5, 5)])])
def test_ellipsis_errors_are_torchs(equation, shapes):
    arrays = [np.ones(shape) for shape in shapes]
    assert _run(gradscope, equation, arrays) == _run(torch, equation, arrays)
