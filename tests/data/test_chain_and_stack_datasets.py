"""ChainDataset, StackDataset and IterableDataset's `+` against PyTorch 2.13."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")


def _stream(data, values):
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(values)

        def __len__(self):
            return len(values)
    return Stream()


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value.tolist() if hasattr(value, "tolist") else value


def test_chain_dataset_matches_torch():
    def run(lib):
        data = lib.utils.data
        chained = data.ChainDataset([_stream(data, [1, 2]), _stream(data, [3])])
        added = _stream(data, [4]) + _stream(data, [5, 6])
        batches = [b.tolist() for b in data.DataLoader(chained + _stream(data, [7]), batch_size=2)]
        return list(chained), len(chained), type(added).__name__, list(added), batches

    assert run(gradscope) == run(torch)


def test_chain_dataset_refuses_map_style_datasets_as_torch():
    def run(lib):
        chained = lib.utils.data.ChainDataset([lib.utils.data.TensorDataset(lib.arange(3))])
        errors = []
        for read in (list, len):
            with pytest.raises(AssertionError) as info:
                read(chained)
            errors.append(str(info.value))
        return errors

    assert run(gradscope) == run(torch)


def test_stack_dataset_matches_torch():
    def run(lib):
        data = lib.utils.data
        images, labels = lib.arange(12.0).reshape(4, 3), lib.arange(4)
        as_tuple = data.StackDataset(data.TensorDataset(images), labels)
        as_dict = data.StackDataset(images=images, labels=data.Subset(list(range(10)), [3, 1, 4, 1]))
        batches = [_plain(b) for b in data.DataLoader(as_dict, batch_size=3)]
        return (len(as_tuple), _plain(as_tuple[1]), _plain(as_dict[2]), _plain(as_tuple.__getitems__([0, 3])),
                _plain(as_dict.__getitems__([1, 2])), batches)

    assert run(gradscope) == run(torch)


STACK_ERRORS = {
    "none": lambda d: d.StackDataset(),
    "both": lambda d: d.StackDataset([1], b=[2]),
    "sizes": lambda d: d.StackDataset([1, 2], [3]),
    "sizes by name": lambda d: d.StackDataset(a=[1, 2], b=[3]),
}


@pytest.mark.parametrize("name", STACK_ERRORS)
def test_stack_dataset_errors_match_torch(name):
    messages = []
    for lib in (gradscope, torch):
        with pytest.raises(Exception) as info:
            STACK_ERRORS[name](lib.utils.data)
        messages.append(f"{type(info.value).__name__}: {info.value}")
    assert messages[0] == messages[1]
