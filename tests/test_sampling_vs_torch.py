"""After the same seed, multinomial, WeightedRandomSampler, exponential_, geometric_, cauchy_, log_normal_ and
random_ draw PyTorch's CPU values
and leave the stream where PyTorch leaves it (each case also compares the randn drawn next); randint and
random_ raise PyTorch's range errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def both(draw, seed=0):
    """`draw(library)` (a tensor, list or list of them) on gradscope and on torch, each right after
    manual_seed(seed), with the randn that follows it: two flat float64 arrays."""
    results = []
    for library in (gradscope, torch):
        library.manual_seed(seed)
        drawn = draw(library)
        drawn = (drawn if isinstance(drawn, list) else [drawn]) + [library.randn(3)]
        results.append(np.concatenate([np.asarray(t.tolist() if hasattr(t, "tolist") else t, dtype=np.float64).ravel()
                                       for t in drawn]))
    return results


def assert_same(draw, seed=0):
    ours, theirs = both(draw, seed)
    np.testing.assert_array_equal(ours, theirs)


def weights(lib, shape, dtype):
    """Varied positive weights, exactly the same in both libraries."""
    values = (lib.arange(int(np.prod(shape))) % 7 + 1) * 0.125
    return values.to(getattr(lib, dtype)).reshape(shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5,), (3, 10), (1000,)])
@pytest.mark.parametrize("num_samples, replacement", [(1, False), (1, True), (4, False), (5, True), (300, True)])
def test_multinomial_is_pytorchs(dtype, shape, num_samples, replacement):
    assert_same(lambda lib: lib.multinomial(weights(lib, shape, dtype), num_samples, replacement), seed=num_samples)


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 4), categories=st.integers(1, 40), seed=st.integers(0, 2**32 - 1),
       replacement=st.booleans(), dtype=st.sampled_from(["float32", "float64"]), data=st.data())
def test_multinomial_of_random_weights(rows, categories, seed, replacement, dtype, data):
    num_samples = data.draw(st.integers(1, categories if not replacement else 3 * categories))
    probabilities = np.random.default_rng(seed).random((rows, categories))
    assert_same(lambda lib: lib.multinomial(lib.tensor(probabilities).to(getattr(lib, dtype)), num_samples,
                                            replacement), seed)


def test_weighted_random_sampler_is_pytorchs():
    def draw(lib):
        sampler = lib.utils.data.WeightedRandomSampler
        return [list(sampler([0.1, 0.9, 0.4, 0.7, 0.3], 12)), list(sampler([3, 1, 2, 5], 3, replacement=False)),
                list(sampler([0.5, 0.5], 4, generator=lib.Generator().manual_seed(2)))]
    assert_same(draw)


@pytest.mark.parametrize("call", [
    "lib.multinomial(lib.tensor([1., -1.]), 2, True)", "lib.multinomial(lib.tensor([1., float('nan')]), 2, True)",
    "lib.multinomial(lib.tensor([1., float('inf')]), 2, True)", "lib.multinomial(lib.tensor([0., 0.]), 2, True)",
    "lib.multinomial(lib.tensor([1., -1.]), 1)", "lib.multinomial(lib.tensor([0., 0.]), 1)",
    "lib.multinomial(lib.tensor([1, 2]), 1)", "lib.multinomial(lib.tensor([1., 2]), 0)",
    "lib.multinomial(lib.tensor([1., 2]), 3)", "lib.multinomial(lib.ones(2, 2, 2), 1)",
    "lib.empty(3).exponential_(0)", "lib.empty(3).exponential_(-1.5)", "lib.empty(3, dtype=lib.int64).exponential_()",
    "lib.empty(3).random_(5, 2)", "lib.randint(0, 0, (3,))", "lib.randint(0, 300, (3,), dtype=lib.uint8)",
    "lib.randint(-1, 3, (3,), dtype=lib.uint8)", "lib.randint(0, 2**40, (3,), dtype=lib.int32)",
    "lib.zeros(3, dtype=lib.bool).random_(0, 3)", "lib.zeros(3, dtype=lib.int16).random_(-2**20, 3)",
    "lib.zeros(3).geometric_(0)", "lib.zeros(3).geometric_(1.5)", "lib.zeros(3, dtype=lib.bool).geometric_(0.3)",
    "lib.zeros(3).cauchy_(0, -1)", "lib.zeros(3, dtype=lib.int64).cauchy_()", "lib.zeros(3).log_normal_(0, 0)",
    "lib.zeros(3, dtype=lib.int64).log_normal_()",
])
def test_errors_are_pytorchs(call):
    raised = []
    for lib in (gradscope, torch):
        with pytest.raises(Exception) as error:
            eval(call, {"lib": lib})
        raised.append((error.type, str(error.value)))
    assert raised[0] == raised[1]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("size", [1, 17, 5000])
def test_exponential_is_pytorchs(dtype, size):
    assert_same(lambda lib: [lib.empty(size, dtype=getattr(lib, dtype)).exponential_(),
                             lib.empty(size, dtype=getattr(lib, dtype)).exponential_(2.5),
                             lib.empty(7, 3, dtype=getattr(lib, dtype)).t().exponential_(0.3)], seed=size)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("size", [1, 15, 3000])
def test_geometric_cauchy_and_log_normal_are_pytorchs(dtype, size):
    def draw(lib):
        def fresh():
            return lib.empty(size, dtype=getattr(lib, dtype))
        return [fresh().geometric_(0.3), fresh().geometric_(0.97), fresh().cauchy_(), fresh().cauchy_(-1.5, 0.25),
                fresh().log_normal_(), fresh().log_normal_(-0.5, 0.3), lib.empty(6, 4).t().cauchy_(2.0, 3.0)]
    ours, theirs = both(draw, seed=size)
    if dtype == "float64" and size >= 32:  # log_normal_'s normals are NumPy's log/cos/sin there: within ulps
        np.testing.assert_allclose(ours, theirs, rtol=2e-15, atol=0)
    else:
        np.testing.assert_array_equal(ours, theirs)


def test_geometric_of_integer_tensors_is_pytorchs():
    assert_same(lambda lib: [lib.empty(200, dtype=lib.int64).geometric_(0.2),
                             lib.empty(200, dtype=lib.int32).geometric_(0.6)])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"])
def test_random_is_pytorchs(dtype):
    def draw(lib):
        kind = getattr(lib, dtype)
        high = 2 if dtype == "bool" else 100
        return [lib.empty(50, dtype=kind).random_(), lib.empty(50, dtype=kind).random_(high),
                lib.empty(50, dtype=kind).random_(high // 2, high), lib.empty(5, 4, dtype=kind).t().random_(),
                lib.empty(50, dtype=kind).random_(0, None), lib.empty(50, dtype=kind).random_(to=high)]
    assert_same(draw, seed=3)


def test_random_nodes_and_the_float_precision_warning_are_pytorchs():
    names, warned = [], []
    for lib in (gradscope, torch):
        x = lib.zeros(3, requires_grad=True).clone()
        names.append([x.clone().random_().grad_fn.name(), x.clone().random_(5).grad_fn.name(),
                      x.clone().random_(2, 5).grad_fn.name(), x.clone().exponential_().grad_fn.name(),
                      x.clone().geometric_(0.5).grad_fn.name(), x.clone().cauchy_().grad_fn.name(),
                      x.clone().log_normal_().grad_fn.name()])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.zeros(3).random_(0, 2**25)
        warned.append([str(w.message).split(" (Triggered")[0] for w in caught])
    assert names[0] == names[1]
    assert warned[0] == warned[1] and warned[0]
