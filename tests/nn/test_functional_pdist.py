"""F.pdist / torch.pdist against torch: values and gradients over drawn shapes and p (coordinates and whole
rows equal included), nodes, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope as gs

torch = pytest.importorskip("torch")


def _run(lib, x, p, u):
    t = lib.tensor(x, requires_grad=True)
    out = lib.nn.functional.pdist(t, p)
    out.backward(lib.tensor(u))
    return out.detach().numpy(), t.grad.numpy(), type(out.grad_fn).__name__


@settings(deadline=None, max_examples=60)
@given(rows=st.integers(1, 6), cols=st.integers(1, 4), p=st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, float("inf")]),
       ties=st.booleans(), seed=st.integers(0, 2**16))
def test_values_and_gradients_match_torch(rows, cols, p, ties, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (rows, cols)).astype(float) if ties else rng.standard_normal((rows, cols))
    u = rng.standard_normal(rows * (rows - 1) // 2)
    ours, theirs = _run(gs, x, p, u), _run(torch, x, p, u)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-12)
    assert ours[2] == theirs[2] == "PdistBackward0"


def test_torch_pdist_and_saved_values_match():
    def run(lib):
        x = lib.randn(3, 2, requires_grad=True)
        out = lib.pdist(x, 3)
        return type(out.grad_fn).__name__, out.grad_fn._saved_p, out.grad_fn._saved_self is x, out.shape

    assert run(gs) == run(torch)


ERRORS = {"1-D": "F.pdist(torch.ones(3))", "integer": "F.pdist(torch.ones(2, 3, dtype=torch.long))",
          "negative p": "F.pdist(torch.ones(2, 3), -1)"}
TEXTS = {"1-D": "RuntimeError: pdist only supports 2D tensors, got: 1D",
         "integer": "RuntimeError: pdist only supports floating-point dtypes",
         "negative p": "RuntimeError: pdist only supports non-negative p values"}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    oracle.check("F = torch.nn.functional\n" + ERRORS[case], error=TEXTS[case])
