"""utils.data.DistributedSampler against torch: each replica's indices (shuffled from seed + epoch, padded or
trimmed), lengths, set_epoch, use in a DataLoader, and the errors (no process group to ask, a bad rank)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


@settings(deadline=None, max_examples=80)
@given(size=st.integers(1, 40), replicas=st.integers(1, 5), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 1000), epoch=st.integers(0, 3))
def test_every_replica_reads_what_torch_gives_it(size, replicas, shuffle, drop_last, seed, epoch):
    def run(lib):
        shares = []
        for rank in range(replicas):
            sampler = lib.utils.data.DistributedSampler(range(size), replicas, rank, shuffle, seed, drop_last)
            sampler.set_epoch(epoch)
            shares.append((len(sampler), list(sampler)))
        return shares

    assert run(gradscope) == run(torch)


def test_in_a_data_loader_and_errors():
    def run(lib):
        data = lib.utils.data.TensorDataset(lib.arange(10))
        sampler = lib.utils.data.DistributedSampler(data, num_replicas=3, rank=2, seed=7)
        loader = lib.utils.data.DataLoader(data, batch_size=2, sampler=sampler)
        batches = [batch[0].tolist() for batch in loader]
        return [batches, _error(lambda: lib.utils.data.DistributedSampler(data)),
                _error(lambda: lib.utils.data.DistributedSampler(data, num_replicas=2)),
                _error(lambda: lib.utils.data.DistributedSampler(data, num_replicas=2, rank=2)),
                _error(lambda: lib.utils.data.DistributedSampler(data, num_replicas=2, rank=-1))]

    assert run(gradscope) == run(torch)
