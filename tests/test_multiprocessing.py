"""gradscope.multiprocessing is torch.multiprocessing: Python's multiprocessing re-exported, the sharing-strategy
functions, and spawn raising a child's exception as PyTorch does."""

from __future__ import annotations

import multiprocessing

import pytest

import gradscope
import gradscope.multiprocessing as mp

torch = pytest.importorskip("torch")
import torch.multiprocessing  # noqa: E402, F811 - binds torch.multiprocessing


def test_it_re_exports_multiprocessing_and_torchs_names():
    assert mp.Process is multiprocessing.Process and mp.Queue is not None and mp.get_context is not None
    ours = {name for name in dir(mp) if not name.startswith("_")}
    theirs = {name for name in dir(torch.multiprocessing) if not name.startswith("_")}
    assert set(torch.multiprocessing.__all__) <= ours
    assert {"spawn", "start_processes", "ProcessContext", "ProcessRaisedException"} <= ours & theirs


def test_sharing_strategies():
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == torch.multiprocessing.get_sharing_strategy()
    with pytest.raises(AssertionError, match="invalid sharing strategy 'cuda'"):
        mp.set_sharing_strategy("cuda")


def _square_into(i, queue):
    queue.put((i, float((gradscope.tensor([float(i)]) ** 2).sum())))


def _fails(i):
    if i == 1:
        raise ValueError("rank one fails")


def test_spawn_runs_each_rank_and_raises_a_childs_error():
    context = multiprocessing.get_context("fork")
    queue = context.SimpleQueue()
    mp.spawn(_square_into, args=(queue,), nprocs=2, start_method="fork")
    assert sorted(queue.get() for _ in range(2)) == [(0, 0.0), (1, 1.0)]
    with pytest.raises(mp.ProcessRaisedException, match=r"-- Process 1 terminated with the following error:\n"
                       r"(.|\n)*ValueError: rank one fails"):
        mp.spawn(_fails, nprocs=2, start_method="fork")
