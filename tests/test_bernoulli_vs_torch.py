"""After the same seed, bernoulli, bernoulli_ and every dropout draw PyTorch's CPU values and leave the stream
where PyTorch leaves it (each case also compares the randn drawn next). A number p compares a double uniform
(two words) per element with p; a tensor p a uniform of its own precision; dropout is `bernoulli_(1 - p)`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def both(draw, seed=0):
    """`draw(library)` (a tensor or a list of them) on gradscope and on torch, each right after manual_seed(seed),
    with the randn that follows it: two flat float64 arrays."""
    results = []
    for library in (gradscope, torch):
        library.manual_seed(seed)
        drawn = draw(library)
        drawn = (drawn if isinstance(drawn, list) else [drawn]) + [library.randn(3)]
        results.append(np.concatenate([t.detach().double().numpy().ravel() for t in drawn]))
    return results


def ramp(lib, shape, dtype, requires_grad=False):
    """Exact, varied values (randn's float32 blocks are PyTorch's only within ulps)."""
    values = (lib.arange(int(np.prod(shape))) % 13 - 6) * 0.25
    return values.to(getattr(lib, dtype)).reshape(shape).requires_grad_(requires_grad)


def assert_same(draw, seed=0):
    ours, theirs = both(draw, seed)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", [1, 2, 15, 16, 17, 1000, 64 * 256])
@pytest.mark.parametrize("p", [0.0, 0.1, 0.37, 0.5, 0.9, 1.0])
def test_bernoulli_with_a_number_p(dtype, size, p):
    assert_same(lambda lib: lib.empty(size, dtype=getattr(lib, dtype)).bernoulli_(p), seed=size)
    assert_same(lambda lib: lib.bernoulli(lib.zeros(size, dtype=getattr(lib, dtype)), p), seed=size + 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_number_p_within_a_draws_first_word_compares_the_second(seed):
    """A draw's first word's 21 bits equal p's (one draw in 2**21): the second word decides; p at the draw
    itself, just above it, or halfway in its 2**-21 step."""
    u = torch.rand(1, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)).item()
    for p in (u, np.nextafter(u, 1.0), (np.floor(u * 2**21) + 0.5) / 2**21):
        assert_same(lambda lib, p=float(p): lib.empty(3, dtype=lib.float64).bernoulli_(p), seed)


@pytest.mark.parametrize("p_dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("self_dtype", ["float32", "float64", "int64", "bool"])
def test_bernoulli_with_tensor_p_draws_in_ps_precision(self_dtype, p_dtype):
    def draw(lib):
        p = lib.linspace(0, 1, 300).to(getattr(lib, p_dtype))
        return [lib.empty(300, dtype=getattr(lib, self_dtype)).bernoulli_(p), lib.bernoulli(p.reshape(20, 15))]
    assert_same(draw, seed=4)


def test_bernoulli_p_broadcasts_and_non_contiguous_targets_fill_in_memory_order():
    def draw(lib):
        p = lib.linspace(0.05, 0.95, 7, dtype=lib.float64)
        return [lib.empty(5, 7).bernoulli_(p), lib.empty(7, 5).t().bernoulli_(p), lib.empty(7, 5).t().bernoulli_(0.3),
                lib.empty(4, 14)[:, ::2].bernoulli_(0.6), lib.bernoulli(lib.full((7, 5), 0.4).t())]
    assert_same(draw, seed=9)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1),
       p=st.floats(0, 1), dtype=st.sampled_from(["float32", "float64"]))
def test_bernoulli_of_any_shape(shape, seed, p, dtype):
    def draw(lib):
        probabilities = lib.rand(*shape, dtype=getattr(lib, dtype))
        return [lib.bernoulli(probabilities), lib.empty(*shape).bernoulli_(p),
                lib.empty(*shape).bernoulli_(probabilities)]
    assert_same(draw, seed)


@pytest.mark.parametrize("call", [
    "lib.empty(3).bernoulli_(1.5)", "lib.empty(3).bernoulli_(float('nan'))", "lib.bernoulli(lib.ones(3), p=2.0)",
    "lib.empty(3).bernoulli_(-1e-7)", "lib.bernoulli(lib.tensor([0.5, float('nan')]))",
    "lib.empty(3).bernoulli_(lib.tensor([1, 0, 1]))", "lib.bernoulli(lib.tensor([True]))",
])
def test_bernoulli_errors_are_pytorchs(call):
    raised = []
    for lib in (gradscope, torch):
        with pytest.raises(Exception) as error:
            eval(call, {"lib": lib})
        raised.append((error.type, str(error.value)))
    assert raised[0] == raised[1]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5,), (64, 256), (3, 4, 17)])
@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.63, 0.999])
def test_dropout_is_pytorchs(dtype, shape, p):
    def draw(lib):
        x = ramp(lib, shape, dtype, requires_grad=True)
        y = lib.nn.functional.dropout(x, p)
        y.backward(lib.ones_like(y))
        return [y, x.grad, lib.nn.Dropout(p)(x), lib.nn.functional.dropout(x.detach().clone(), p, inplace=True)]
    assert_same(draw, seed=int(p * 100))


@pytest.mark.parametrize("call, shape", [
    ("dropout1d", (4, 6, 5)), ("dropout1d", (6, 5)), ("dropout2d", (3, 4, 5, 5)), ("dropout2d", (4, 5, 5)),
    ("dropout3d", (2, 3, 2, 2, 2)), ("dropout3d", (3, 2, 2, 2)), ("alpha_dropout", (8, 9)),
    ("feature_alpha_dropout", (4, 6, 3, 3)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.filterwarnings("ignore:dropout2d")
def test_feature_and_alpha_dropout_are_pytorchs(call, shape, dtype):
    def draw(lib):
        x = ramp(lib, shape, dtype)
        return getattr(lib.nn.functional, call)(x, 0.3, training=True)
    assert_same(draw, seed=2)


def test_dropout_inside_layers_is_pytorchs():
    def draw(lib):
        lstm = lib.nn.LSTM(3, 4, num_layers=2, dropout=0.4)
        attention = lib.nn.MultiheadAttention(8, 2, dropout=0.3)
        x = lib.randn(5, 2, 8)
        return [lstm(lib.randn(6, 2, 3))[0], attention(x, x, x)[0],
                lib.nn.functional.scaled_dot_product_attention(x, x, x, dropout_p=0.5)]
    ours, theirs = both(draw, seed=11)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)  # the layers' float math, not the masks
    assert np.array_equal(ours == 0, theirs == 0)
