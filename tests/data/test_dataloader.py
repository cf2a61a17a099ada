"""torch.utils.data against PyTorch 2.13: batch order, shapes, dtypes and collate structure; seeded shuffles."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch

Point = collections.namedtuple("Point", "x y")


def _samples(lib):
    """Datasets of every kind default_collate recurses into."""
    features = lib.arange(30, dtype=lib.float32).reshape(10, 3)
    labels = lib.arange(10)
    return {
        "tensor_dataset": lib.utils.data.TensorDataset(features, labels),
        "python_numbers": [(float(i) / 2, i, bool(i % 2)) for i in range(7)],
        "numpy_arrays": [np.full((2, 2), i, dtype=np.float32) for i in range(5)],
        "numpy_scalars": [(np.float64(i), np.int32(i), np.float32(i)) for i in range(5)],
        "dicts": [{"x": lib.ones(2) * i, "label": i, "name": f"s{i}"} for i in range(6)],
        "namedtuples": [Point(lib.zeros(3) + i, [i, i + 1]) for i in range(5)],
        "range": range(9),
        # the strings of a tuple sample batch as a tuple, as PyTorch's (a list before: file names, captions)
        "names_in_tuples": [(lib.ones(1) * i, f"file{i}.png", (f"n{i}", i)) for i in range(6)],
        "names_in_lists": [[i, f"s{i}"] for i in range(5)],
    }


def _describe(batch):
    """What a batch is: nested structure with each tensor's dtype, shape and values."""
    if hasattr(batch, "numpy") and hasattr(batch, "dtype"):
        return ("tensor", str(batch.dtype).replace("torch.", ""), tuple(batch.shape), batch.numpy().tolist())
    if isinstance(batch, dict):
        return ("dict", {key: _describe(value) for key, value in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return (type(batch).__name__, [_describe(item) for item in batch])
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [_describe(item) for item in batch])
    return ("value", batch)


LOADER_OPTIONS = {
    "batch4": dict(batch_size=4),
    "batch4_drop_last": dict(batch_size=4, drop_last=True),
    "batch1_default": dict(),
    "no_batching": dict(batch_size=None),
}


@pytest.mark.parametrize("options", LOADER_OPTIONS)
@pytest.mark.parametrize("dataset", list(_samples(gradscope)))
def test_unshuffled_batches_match_pytorch(dataset, options):
    torch = reference_torch()
    if torch is None:
        pytest.skip("PyTorch not installed")
    described = []
    for lib in (gradscope, torch):
        loader = lib.utils.data.DataLoader(_samples(lib)[dataset], **LOADER_OPTIONS[options])
        described.append(([_describe(batch) for batch in loader], len(loader)))
    assert described[0] == described[1]


def test_seeded_shuffle_is_a_reproducible_permutation():
    data = gradscope.utils.data
    dataset = data.TensorDataset(gradscope.arange(10))

    def epoch(generator):
        return [batch[0].tolist() for batch in data.DataLoader(dataset, batch_size=3, shuffle=True,
                                                              generator=generator)]

    first = epoch(gradscope.Generator().manual_seed(7))
    assert first == epoch(gradscope.Generator().manual_seed(7))
    assert [len(b) for b in first] == [3, 3, 3, 1]
    assert sorted(sum(first, [])) == list(range(10))
    generator = gradscope.Generator().manual_seed(7)
    assert epoch(generator) != epoch(generator)  # the generator moves on between epochs
    gradscope.manual_seed(3)
    global_seeded = epoch(None)
    gradscope.manual_seed(3)
    assert epoch(None) == global_seeded


def test_samplers():
    data = gradscope.utils.data
    assert list(data.SequentialSampler(range(4))) == [0, 1, 2, 3]
    batches = data.BatchSampler(data.SequentialSampler(range(5)), 2, drop_last=False)
    assert list(batches) == [[0, 1], [2, 3], [4]] and len(batches) == 3
    assert len(data.BatchSampler(range(5), 2, drop_last=True)) == 2
    random = data.RandomSampler(range(6), generator=gradscope.Generator().manual_seed(0))
    assert sorted(random) == list(range(6)) and len(random) == 6
    drawn = list(data.RandomSampler(range(3), replacement=True, num_samples=10,
                                    generator=gradscope.Generator().manual_seed(0)))
    assert len(drawn) == 10 and set(drawn) <= {0, 1, 2}
    assert len(list(data.RandomSampler(range(4), num_samples=10))) == 10
    assert list(data.WeightedRandomSampler([0.0, 1.0, 0.0], 4)) == [1, 1, 1, 1]
    assert sorted(data.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False)) == [0, 1, 2]
    assert data.get_worker_info() is None
    subset = list(data.SubsetRandomSampler([10, 20, 30], generator=gradscope.Generator().manual_seed(1)))
    assert sorted(subset) == [10, 20, 30]
    loader = data.DataLoader(range(8), batch_sampler=data.BatchSampler(data.SequentialSampler(range(8)), 3, False))
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    loader = data.DataLoader(range(8), batch_size=2, sampler=[7, 1, 3])
    assert [b.tolist() for b in loader] == [[7, 1], [3]]


def test_random_split_lengths_and_fractions():
    data = gradscope.utils.data
    parts = data.random_split(range(10), [0.33, 0.33, 0.34], generator=gradscope.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [4, 3, 3]  # PyTorch's remainder rule, round-robin from the first
    assert sorted(i for p in parts for i in p) == list(range(10))
    again = data.random_split(range(10), [0.33, 0.33, 0.34], generator=gradscope.Generator().manual_seed(0))
    assert [list(p) for p in parts] == [list(p) for p in again]
    assert [len(p) for p in data.random_split(range(10), [7, 3])] == [7, 3]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        data.random_split(range(10), [7, 4])


def test_datasets():
    data = gradscope.utils.data
    x, y = gradscope.randn(5, 2), gradscope.arange(5)
    dataset = data.TensorDataset(x, y)
    assert len(dataset) == 5 and dataset[2][1].item() == 2
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        data.TensorDataset(x, gradscope.arange(4))
    subset = data.Subset(dataset, [4, 0])
    assert len(subset) == 2 and subset[0][1].item() == 4
    both = dataset + data.Subset(dataset, [1])
    assert len(both) == 6 and both[5][1].item() == 1 and both[-1][1].item() == 1

    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in data.DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in data.DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]


DATALOADER_ERRORS = {
    "sampler_and_shuffle": lambda d: d.DataLoader(range(4), sampler=[0, 1], shuffle=True),
    "batch_sampler_and_batch_size": lambda d: d.DataLoader(range(4), batch_size=2, batch_sampler=[[0, 1]]),
    "no_batch_and_drop_last": lambda d: d.DataLoader(range(4), batch_size=None, drop_last=True),
    "negative_workers": lambda d: d.DataLoader(range(4), num_workers=-1),
    "iterable_is_abstract": lambda d: d.IterableDataset(),
    "iterable_shuffle": lambda d: d.DataLoader(type("Stream", (d.IterableDataset,), {"__iter__": iter})(),
                                               shuffle=True),
    "bad_batch_size": lambda d: d.BatchSampler(range(4), 0, False),
    "prefetch_without_workers": lambda d: d.DataLoader(range(4), prefetch_factor=2),
    "persistent_without_workers": lambda d: d.DataLoader(range(4), persistent_workers=True),
    "random_sampler_replacement": lambda d: d.RandomSampler(range(4), replacement=1),
    "weighted_num_samples": lambda d: d.WeightedRandomSampler([1.0, 2.0], 0),
    "weighted_not_1d": lambda d: d.WeightedRandomSampler([[1.0, 2.0]], 2),
    "unequal_lists": lambda d: list(d.DataLoader([[1, 2], [3]], batch_size=2)),
    "uncollatable": lambda d: list(d.DataLoader([object(), object()], batch_size=2)),
    "string_array": lambda d: list(d.DataLoader([np.array(["a"]), np.array(["b"])], batch_size=2)),
}


@pytest.mark.parametrize("name", DATALOADER_ERRORS)
def test_errors_match_pytorch(name):
    messages = []
    for lib in filter(None, (gradscope, reference_torch())):
        with pytest.raises(Exception) as info:
            DATALOADER_ERRORS[name](lib.utils.data)
        messages.append(f"{type(info.value).__name__}: {info.value}")
    assert len(set(messages)) == 1, messages


def test_num_workers_runs_in_process_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loader = gradscope.utils.data.DataLoader(range(4), batch_size=2, num_workers=2)
    assert "main process" in str(caught[0].message)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]


def test_generator_api_matches_pytorch():
    for lib in filter(None, (gradscope, reference_torch())):
        generator = lib.Generator()
        assert generator.initial_seed() == 67280421310721 and str(generator.device) == "cpu"
        assert generator.manual_seed(5) is generator and generator.initial_seed() == 5
    first = gradscope.randperm(6, generator=gradscope.Generator().manual_seed(5)).tolist()
    assert first == gradscope.randperm(6, generator=gradscope.Generator().manual_seed(5)).tolist()


@pytest.mark.parametrize("options", [dict(), dict(num_workers=2), dict(num_workers=2, persistent_workers=True)],
                         ids=["in process", "workers", "persistent workers"])
def test_shuffled_epochs_leave_the_global_stream_where_pytorch_leaves_it(options):
    """Each epoch's iterator draws the workers' base seed from the global stream, except that persistent
    workers' iterator is made once (later epochs reset it): the shuffles and the draws a script makes between
    epochs (dropout, noise) depend on it."""
    torch = reference_torch()
    if torch is None:
        pytest.skip("torch is not installed")
    seen = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loader = lib.utils.data.DataLoader(range(12), batch_size=4, shuffle=True, **options)
            epochs = []
            for _ in range(3):
                epochs.append([batch.tolist() for batch in loader])
                epochs.append(lib.rand(2).tolist())
        seen.append(epochs)
    assert seen[0] == seen[1]


def test_pin_memory_warns_as_pytorch_does_without_an_accelerator():
    torch = reference_torch()
    messages = []
    for lib in filter(None, (gradscope, torch)):
        loader = lib.utils.data.DataLoader(range(4), batch_size=2, pin_memory=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]
        messages.append([str(w.message) for w in caught])
    assert messages[0] == ["'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                           "memory won't be used."]
    assert len(set(map(tuple, messages))) == 1
