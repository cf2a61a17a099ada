"""What a portable training script asks before it decides how to run (`torch.distributed.is_initialized()`,
`torch.cuda.max_memory_allocated()`, whether to wrap the model in DDP) gets PyTorch's answers on a CPU machine
with no process group: a script's single-process path is the one it takes under gradscope."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")

CALLS = {
    "dist.is_available": lambda T: T.distributed.is_available(),
    "dist.is_initialized": lambda T: T.distributed.is_initialized(),
    "dist.is_nccl_available": lambda T: T.distributed.is_nccl_available(),
    "dist.is_gloo_available": lambda T: T.distributed.is_gloo_available(),
    "dist.get_rank": lambda T: T.distributed.get_rank(),
    "dist.get_world_size": lambda T: T.distributed.get_world_size(),
    "dist.barrier": lambda T: T.distributed.barrier(),
    "dist.all_reduce": lambda T: T.distributed.all_reduce(T.ones(1)),
    "dist.destroy_process_group": lambda T: T.distributed.destroy_process_group(),
    "DistributedDataParallel": lambda T: T.nn.parallel.DistributedDataParallel(T.nn.Linear(1, 1)),
    "cuda.memory_allocated": lambda T: T.cuda.memory_allocated(),
    "cuda.max_memory_allocated": lambda T: T.cuda.max_memory_allocated(),
    "cuda.memory_reserved": lambda T: T.cuda.memory_reserved(),
    "cuda.max_memory_reserved": lambda T: T.cuda.max_memory_reserved(),
    "cuda.current_device": lambda T: T.cuda.current_device(),
    "cuda.get_device_name": lambda T: T.cuda.get_device_name(0),
}


def _answer(lib, call):
    try:
        return "returned", CALLS[call](lib)
    except (ValueError, AssertionError, RuntimeError) as error:
        return type(error).__name__, str(error)


@pytest.mark.parametrize("call", CALLS)
def test_the_answer_is_pytorchs_without_a_process_group(call):
    assert _answer(gradscope, call) == _answer(torch, call)


def test_joining_a_process_group_is_refused_with_what_to_do():
    with pytest.raises(RuntimeError, match="single process"):
        gradscope.distributed.init_process_group("gloo")


def test_a_portable_script_takes_its_single_process_path():
    def run(lib):
        model = lib.nn.Linear(2, 1)
        if lib.distributed.is_available() and lib.distributed.is_initialized():
            model = lib.nn.parallel.DistributedDataParallel(model)
        rank = lib.distributed.get_rank() if lib.distributed.is_initialized() else 0
        return type(model).__name__, rank, lib.cuda.max_memory_allocated() / 2**20
    assert run(gradscope) == run(torch)
