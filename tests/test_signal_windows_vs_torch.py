"""torch.signal.windows and torch.fill, which gradscope lacked: values, dtypes, graphs and errors against PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

WINDOWS = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "hamming", "hann", "kaiser", "nuttall"]


def _outcome(L, call):
    try:
        result = call(L)
    except (RuntimeError, TypeError, ValueError) as error:
        return type(error).__name__, str(error)
    return result


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("name", WINDOWS)
def test_windows_match_torch(name, sym, dtype):
    for M in (0, 1, 2, 5, 8):
        ours = getattr(gradscope.signal.windows, name)(M, sym=sym, dtype=getattr(gradscope, dtype))
        theirs = getattr(torch.signal.windows, name)(M, sym=sym, dtype=getattr(torch, dtype))
        assert str(ours.dtype) == str(theirs.dtype)
        # a few float32 ulps: the same formula, NumPy's cos/exp/i0 against PyTorch's
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=3e-7)


PARAMETERS = {
    "general_cosine": lambda L: L.signal.windows.general_cosine(6, a=[0.5, 0.3, 0.2], sym=False),
    "general_hamming": lambda L: L.signal.windows.general_hamming(7, alpha=0.6),
    "exponential, center": lambda L: L.signal.windows.exponential(6, center=1.5, tau=2.0, sym=False),
    "gaussian, std": lambda L: L.signal.windows.gaussian(7, std=0.7),
    "kaiser, beta": lambda L: L.signal.windows.kaiser(9, beta=3.5, sym=False),
    "default dtype": lambda L: L.signal.windows.hann(4).dtype,
    "requires_grad": lambda L: (L.signal.windows.hann(4, requires_grad=True).requires_grad,
                                L.signal.windows.hann(4, requires_grad=True).grad_fn.name()),
}
ERRORS = {
    "negative M": lambda L: L.signal.windows.hann(-1), "blackman's M": lambda L: L.signal.windows.blackman(-2),
    "an int dtype": lambda L: L.signal.windows.hamming(3, dtype=L.int64),
    "tau": lambda L: L.signal.windows.exponential(3, tau=0),
    "center": lambda L: L.signal.windows.exponential(3, center=1),
    "std": lambda L: L.signal.windows.gaussian(3, std=-1.0), "beta": lambda L: L.signal.windows.kaiser(3, beta=-1.0),
    "no coefficients": lambda L: L.signal.windows.general_cosine(3, a=[]),
    "coefficients not a list": lambda L: L.signal.windows.general_cosine(3, a=0.5),
    "float16": lambda L: L.signal.windows.bartlett(3, dtype=L.float16),
}


@pytest.mark.parametrize("case", list(PARAMETERS) + list(ERRORS))
def test_window_parameters_and_errors_match_torch(case):
    call = PARAMETERS.get(case) or ERRORS[case]
    ours, theirs = _outcome(gradscope, call), _outcome(torch, call)
    if hasattr(theirs, "numpy"):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=3e-7)
    elif isinstance(theirs, tuple) or case in ERRORS:
        assert ours == theirs
    else:
        assert str(ours) == str(theirs)


FILL = {
    "a number": lambda L, x, v: L.fill(x, 2.5), "a 0-dim tensor": lambda L, x, v: L.fill(x, v),
    "an int tensor, a float": lambda L, x, v: L.fill(L.ones(2, dtype=L.int64), 2.7),
    "a 1-D value": lambda L, x, v: L.fill(x, L.ones(2)),
}


@pytest.mark.parametrize("case", FILL)
def test_fill_matches_torch(case):
    def run(L):
        x, v = L.ones(2, 3, requires_grad=True), L.tensor(2.0, requires_grad=True)
        y = FILL[case](L, x, v)
        if y.requires_grad:
            (y * L.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
        grads = [None if t.grad is None else t.grad.tolist() for t in (x, v)]
        return y.tolist(), str(y.dtype), None if y.grad_fn is None else y.grad_fn.name(), grads

    assert _outcome(gradscope, run) == _outcome(torch, run)
