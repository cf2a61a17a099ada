"""After the same seed, gradscope's CPU random stream gives PyTorch's values: rand, randn, uniform_, normal_,
the nn.init fills and so the default initialisation of layers. Exact (float32 normals of 16 or more elements
too: PyTorch's x86 vectorised kernel, float32_math), except float64 normals of 16 or more (NumPy's and the C
library's log/cos/sin: within 2 ulps)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

SIZES = [1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 100, 1001]


def both(draw, seed=0):
    """`draw(library)` (an array or a list of them, flattened) run on gradscope and on torch, each right after
    manual_seed(seed)."""
    results = []
    for library in (gradscope, torch):
        library.manual_seed(seed)
        drawn = draw(library)
        results.append(np.concatenate([np.ravel(a) for a in drawn]) if isinstance(drawn, list) else drawn)
    return results


def test_randn_after_manual_seed_0_is_pytorchs():
    gradscope.manual_seed(0)
    assert gradscope.randn(3).tolist() == pytest.approx([1.5410, -0.2934, -2.1788], abs=1e-4)
    ours, theirs = both(lambda lib: lib.randn(3).numpy())
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", [0, 7, 2**32 + 5, -1])
def test_rand_is_exact(seed, size, dtype):
    ours, theirs = both(lambda lib: [lib.rand(size, dtype=getattr(lib, dtype)).numpy() for _ in range(2)], seed)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", [0, 7, 2**32 + 5])
def test_randn_matches(seed, size, dtype):
    ours, theirs = both(lambda lib: [lib.randn(size, dtype=getattr(lib, dtype)).numpy() for _ in range(2)], seed)
    if size < 16 or dtype == "float32":  # the scalar Box-Muller in double, or PyTorch's float32 kernel: exact
        np.testing.assert_array_equal(ours, theirs)
    else:  # NumPy's log/cos/sin against the C library's
        np.testing.assert_array_max_ulp(ours, theirs, maxulp=4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_large_float32_normals_are_pytorchs_to_the_bit(seed):
    ours, theirs = both(lambda lib: [lib.randn(100_003).numpy(), lib.empty(64, 64).normal_(0.5, 0.02).numpy(),
                                     lib.nn.Linear(300, 200).weight.detach().normal_().numpy()], seed)
    np.testing.assert_array_equal(ours, theirs)


def test_the_second_box_muller_draw_is_kept_for_the_next_call():
    ours, theirs = both(lambda lib: [lib.randn(1).tolist(), lib.randn(1).tolist(), lib.randn(3).tolist(),
                                     lib.randn(1, dtype=lib.float64).tolist()])
    assert ours.tolist() == theirs.tolist()


def test_uniform_and_normal_fills_with_bounds_are_pytorchs():
    def draw(lib):
        return [lib.empty(5, 7).uniform_(-0.447, 0.447).numpy().ravel(),
                lib.empty(40, dtype=lib.float64).uniform_(2.5, 7.1).numpy().ravel(),
                lib.empty(9).normal_(0.5, 2.0).numpy().ravel()]
    ours, theirs = both(draw)
    np.testing.assert_array_equal(ours, theirs)
    ours, theirs = both(lambda lib: lib.empty(50, 3).normal_(-1.0, 0.02).numpy())
    np.testing.assert_array_max_ulp(ours, theirs, maxulp=4)


@pytest.mark.parametrize("make", [
    lambda nn: nn.Linear(4, 3),
    lambda nn: nn.Linear(20, 30),
    lambda nn: nn.Conv2d(3, 8, 3),
    lambda nn: nn.Conv1d(2, 4, 5, bias=False),
], ids=["linear", "linear_large", "conv2d", "conv1d"])
def test_default_layer_initialisation_is_pytorchs(make):
    ours, theirs = both(lambda lib: [p.detach().numpy().copy() for p in make(lib.nn).parameters()])
    np.testing.assert_array_equal(ours, theirs)


def test_embedding_initialisation_is_pytorchs():
    ours, theirs = both(lambda lib: lib.nn.Embedding(10, 6).weight.detach().numpy())
    np.testing.assert_array_equal(ours, theirs)


def test_a_model_built_after_other_draws_is_pytorchs():
    def draw(lib):
        lib.rand(5)
        lib.randn(2)  # leaves a cached normal behind
        model = lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Linear(16, 1))
        return [p.detach().numpy().copy() for p in model.parameters()] + [lib.randn(1).numpy()]
    ours, theirs = both(draw, seed=1234)
    np.testing.assert_array_equal(ours, theirs)


def test_seeds_and_generators():
    for seed in (0, 2**32 + 5, 2**63 + 1, -1):
        assert gradscope.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
        assert gradscope.initial_seed() == torch.initial_seed()
    ours = gradscope.randn(4, generator=gradscope.Generator().manual_seed(3))
    theirs = torch.randn(4, generator=torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = gradscope.rand(3, generator=gradscope.Generator())  # unseeded: PyTorch's default seed
    np.testing.assert_array_equal(ours.numpy(), torch.rand(3, generator=torch.Generator()).numpy())


def test_get_state_and_set_state_repeat_the_stream():
    generator = gradscope.Generator().manual_seed(5)
    gradscope.randn(1, generator=generator)  # a normal is cached: the state carries it
    state = generator.get_state()
    first = gradscope.randn(5, generator=generator).tolist()
    assert gradscope.randn(5, generator=generator.set_state(state)).tolist() == first


@pytest.mark.parametrize("draws", [
    [], [("rand", 3)], [("randn", 1)], [("rand", 623)], [("rand", 624)], [("rand", 625)],
    [("randn", 1), ("rand", 2000)], [("randn", 17)],
], ids=["seeded", "some", "cached_normal", "twist_next", "block", "past_block", "long", "blocks"])
def test_rng_state_is_pytorchs_bytes(draws):
    def draw(lib):
        for name, count in draws:
            getattr(lib, name)(count, dtype=lib.float64)
        return [lib.get_rng_state().numpy()]
    ours, theirs = both(draw, seed=2**40 + 3)
    assert ours.dtype == np.uint8 and len(ours) == 5056
    np.testing.assert_array_equal(ours, theirs)


def test_a_state_saved_by_either_library_loads_in_the_other():
    torch.manual_seed(8)
    torch.randn(1, dtype=torch.float64)  # the second normal is cached: it is in the state
    gradscope.set_rng_state(gradscope.tensor(torch.get_rng_state().numpy()))
    assert gradscope.initial_seed() == 8
    np.testing.assert_array_equal(gradscope.randn(5, dtype=gradscope.float64).numpy(),
                                  torch.randn(5, dtype=torch.float64).numpy())
    generator = gradscope.Generator().manual_seed(3)
    gradscope.rand(700, generator=generator)
    theirs = torch.Generator().set_state(torch.from_numpy(generator.get_state().numpy()))
    np.testing.assert_array_equal(gradscope.rand(9, generator=generator).numpy(),
                                  torch.rand(9, generator=theirs).numpy())


@pytest.mark.parametrize("state", [
    "{}", "lib.zeros(5056)", "lib.zeros(10, dtype=lib.uint8)", "lib.zeros(5056, dtype=lib.uint8)",
])
def test_set_rng_state_errors_are_pytorchs(state):
    raised = []
    for lib in (gradscope, torch):
        with pytest.raises(Exception) as error:
            lib.Generator().set_state(eval(state, {"lib": lib}))
        raised.append((error.type, str(error.value)))
    assert raised[0] == raised[1]


def test_a_pickled_generator_continues_its_stream():
    generator = gradscope.Generator().manual_seed(4)
    gradscope.randn(1, generator=generator)
    copy = pickle.loads(pickle.dumps(generator))
    assert copy.initial_seed() == 4
    assert gradscope.randn(5, generator=copy).tolist() == gradscope.randn(5, generator=generator).tolist()


@pytest.mark.parametrize("args, dtype", [
    ((0, 10, (100,)), None), ((10, (7,)), None), ((-5, 5, (3, 4)), None), ((0, 2**40, (50,)), None),
    ((-2**62, 2**62, (20,)), None), ((0, 2**40, (50,)), "float64"), ((3, 200, (30,)), "uint8"),
    ((0, 2, (30,)), "float32"), ((0, 2**28, (30,)), None), ((0, 2**28 - 1, (30,)), None),
    ((-2**30, 2**30, (30,)), "int32"),
], ids=["small", "high_only", "negative", "random64", "wide", "random64_float64", "uint8", "float32",
        "random64_from_2**28", "one_word_below_2**28", "random64_int32"])
def test_randint_is_exact(args, dtype):
    def draw(lib):
        kwargs = {"dtype": getattr(lib, dtype)} if dtype else {}
        drawn = lib.randint(*args, **kwargs)
        assert drawn.dtype == getattr(lib, dtype or "int64")
        return [drawn.numpy().astype(np.float64), lib.rand(3).numpy()]  # and the stream after it
    ours, theirs = both(draw, seed=3)
    np.testing.assert_array_equal(ours, theirs)


def test_randint_like_is_exact():
    ours, theirs = both(lambda lib: [lib.randint_like(lib.zeros(4, 5), 3, 9).numpy(),
                                     lib.randint_like(lib.zeros(6, dtype=lib.int64), 100).numpy()])
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("draw", [
    lambda lib: lib.normal(lib.arange(20.0).reshape(4, 5), 0.3),
    lambda lib: lib.normal(lib.arange(5.0), 2.0),
    lambda lib: lib.normal(1.5, lib.linspace(0.1, 2, 7)),
    lambda lib: lib.normal(lib.arange(20.0).reshape(4, 5), lib.linspace(0.1, 2, 5)),
    lambda lib: lib.normal(lib.arange(20.0, dtype=lib.float64), 0.3),
    lambda lib: lib.normal(2.0, 3.0, (5,)),
], ids=["tensor_mean", "small_tensor_mean", "tensor_std", "both_tensors", "float64", "numbers"])
def test_normal_with_tensors_is_pytorchs(draw):
    ours, theirs = both(lambda lib: draw(lib).numpy(), seed=1)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fill", [
    lambda lib: lib.empty(3, 4).t().uniform_(),
    lambda lib: lib.empty(3, 8)[:, ::2].uniform_(),
    lambda lib: lib.empty(2, 3, 5).permute(2, 0, 1).uniform_(-1, 2),
    lambda lib: lib.empty(8, 4).t().normal_(),
    lambda lib: lib.empty(6, 8, dtype=lib.float64)[::2].normal_(1, 2),
], ids=["transposed", "sliced", "permuted", "normal_transposed", "normal_sliced"])
def test_non_contiguous_fills_follow_pytorchs_order(fill):
    """uniform_ writes in memory order; normal_ on a non-contiguous tensor is the scalar normal, in that order."""
    ours, theirs = both(lambda lib: fill(lib).numpy())
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000])
def test_randperm_is_pytorchs(n):
    ours, theirs = both(lambda lib: [lib.randperm(n).numpy(), lib.randperm(n, generator=lib.Generator()).numpy(),
                                     lib.rand(2).numpy()], seed=5)
    np.testing.assert_array_equal(ours, theirs)


def test_data_loading_shuffles_as_pytorch_and_leaves_the_stream_where_pytorch_does():
    def draw(lib):
        from_data = lib.utils.data
        loader = from_data.DataLoader(range(10), shuffle=True, batch_size=4)
        epochs = [batch.numpy() for _ in range(2) for batch in loader]
        samplers = [list(from_data.RandomSampler(range(10))),
                    list(from_data.RandomSampler(range(10), replacement=True, num_samples=40)),
                    list(from_data.RandomSampler(range(7), generator=lib.Generator().manual_seed(1)))]
        split = [list(part) for part in from_data.random_split(range(10), [0.7, 0.3],
                                                              generator=lib.Generator().manual_seed(2))]
        iter(from_data.DataLoader(range(4)))  # an iterator draws its workers' base seed, even unshuffled
        return epochs + [np.array(s) for s in samplers + split] + [lib.rand(2).numpy()]
    ours, theirs = both(draw)
    np.testing.assert_array_equal(ours, theirs)
