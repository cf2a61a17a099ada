"""The samplers PyTorch runs element by element (torch._standard_gamma, _sample_dirichlet, poisson, binomial)
draw PyTorch's values after the same seed and leave the stream where PyTorch leaves it; the implicit
reparameterisation gradients (_standard_gamma_grad, _dirichlet_grad) agree with PyTorch's approximations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def drawn(lib, seed: int, draw):
    lib.manual_seed(seed)
    values = draw(lib)
    return values.numpy(), lib.randn(3).numpy()


def assert_same(seed: int, draw, ulps: float = 0) -> None:
    (ours, ours_next), (theirs, theirs_next) = drawn(gradscope, seed, draw), drawn(torch, seed, draw)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    if ulps:
        np.testing.assert_allclose(ours, theirs, rtol=ulps * np.finfo(ours.dtype).eps, atol=0)
    else:
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours_next, theirs_next)


DTYPES = st.sampled_from(["float32", "float64"])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dtype=DTYPES, data=st.data())
def test_standard_gamma_is_pytorchs(seed, dtype, data):
    alphas = data.draw(st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=30))
    assert_same(seed, lambda lib: lib._standard_gamma(lib.tensor(alphas, dtype=getattr(lib, dtype))))


def test_standard_gamma_edges_are_pytorchs():
    """α = 0 draws nothing and gives the smallest normal; a negative or nan α takes draws and gives it too."""
    edges = [0.0, 2.0, -1.0, 2.0, float("nan"), 0.5, 1 / 3, 2.0]
    for dtype in ("float32", "float64"):
        assert_same(0, lambda lib, dtype=dtype: lib._standard_gamma(lib.tensor(edges, dtype=getattr(lib, dtype))))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dtype=DTYPES, categories=st.integers(1, 4), data=st.data())
def test_sample_dirichlet_is_pytorchs(seed, dtype, categories, data):
    rows = data.draw(st.integers(1, 5))
    alphas = np.array(data.draw(st.lists(st.floats(1e-2, 1e2), min_size=rows * categories,
                                         max_size=rows * categories))).reshape(rows, categories)
    assert_same(seed, lambda lib: lib._sample_dirichlet(lib.tensor(alphas, dtype=getattr(lib, dtype))))


def test_sample_dirichlet_of_many_categories_within_an_ulp():
    """Past 4 categories PyTorch sums the gammas in a vectorised order: the shares may differ in the last bit."""
    alphas = np.linspace(0.3, 7.0, 60).reshape(4, 15)
    assert_same(5, lambda lib: lib._sample_dirichlet(lib.tensor(alphas)), ulps=4)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dtype=DTYPES, data=st.data())
def test_poisson_is_pytorchs(seed, dtype, data):
    rates = data.draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e4)), min_size=1, max_size=30))
    assert_same(seed, lambda lib: lib.poisson(lib.tensor(rates, dtype=getattr(lib, dtype))))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dtype=DTYPES, data=st.data())
def test_binomial_is_pytorchs(seed, dtype, data):
    size = data.draw(st.integers(1, 30))
    counts = data.draw(st.lists(st.integers(0, 5000).map(float), min_size=size, max_size=size))
    probs = data.draw(st.lists(st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0, 1)), min_size=size,
                               max_size=size))
    assert_same(seed, lambda lib: lib.binomial(lib.tensor(counts, dtype=getattr(lib, dtype)),
                                               lib.tensor(probs, dtype=getattr(lib, dtype))))


@pytest.mark.parametrize("call", [
    lambda lib: lib.poisson(lib.tensor([1.0, -1.0])),
    lambda lib: lib.poisson(lib.tensor([1, 2])),
    lambda lib: lib._standard_gamma(lib.tensor([1, 2])),
    lambda lib: lib.binomial(lib.tensor([5, 2]), lib.tensor([0.3, 0.2])),
    lambda lib: lib.binomial(lib.tensor([5.0]), lib.tensor([0.3], requires_grad=True)).sum().backward(),
    lambda lib: lib._sample_dirichlet(lib.tensor([1.0, 2.0], requires_grad=True)).sum().backward(),
    lambda lib: lib._standard_gamma(lib.tensor([1.0, 2.0], requires_grad=True)).grad_fn.name(),
    lambda lib: lib.poisson(lib.tensor([1.0, 2.0], requires_grad=True)).grad_fn.name(),
], ids=lambda call: "")
def test_errors_and_nodes_as_torch(call):
    results = []
    for lib in (gradscope, torch):
        try:
            results.append(repr(call(lib)))
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            results.append((type(error).__name__, str(error)))
    assert results[0] == results[1]


@settings(max_examples=50, deadline=None)
@given(alpha=st.floats(1e-3, 1e3), ratio=st.floats(1e-6, 1e2))
def test_standard_gamma_grad_is_pytorchs(alpha, ratio):
    a, x = np.array([alpha]), np.array([alpha * ratio])
    ours = gradscope._standard_gamma_grad(gradscope.tensor(a), gradscope.tensor(x)).numpy()
    theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-11)


@settings(max_examples=50, deadline=None)
@given(alpha=st.floats(1e-2, 1e2), beta=st.floats(1e-2, 1e2), x=st.floats(1e-4, 1 - 1e-4))
def test_dirichlet_grad_is_pytorchs(alpha, beta, x):
    args = [np.array([x]), np.array([alpha]), np.array([alpha + beta])]
    ours = gradscope._dirichlet_grad(*(gradscope.tensor(a) for a in args)).numpy()
    theirs = torch._dirichlet_grad(*(torch.tensor(a) for a in args)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gamma_rsample_gradient_matches_the_cdf_derivative(dtype):
    """The reparameterisation gradient dx/dα = −(∂F/∂α) / f, checked against central differences of the
    CDF (igamma) at the samples."""
    gradscope.manual_seed(1)
    alpha = gradscope.tensor([0.3, 1.0, 4.0, 20.0] * 5, dtype=getattr(gradscope, dtype), requires_grad=True)
    x = gradscope._standard_gamma(alpha)
    x.sum().backward()
    a, s = alpha.detach().double(), x.detach().double()
    h = 1e-6
    dF_da = (gradscope.igamma(a + h, s) - gradscope.igamma(a - h, s)) / (2 * h)
    density = ((a - 1) * s.log() - s - a.lgamma()).exp()
    tolerance = 2e-3  # PyTorch's approximation's own error: some 2e-4
    np.testing.assert_allclose(alpha.grad.double().numpy(), (-dF_da / density).numpy(), rtol=tolerance)
