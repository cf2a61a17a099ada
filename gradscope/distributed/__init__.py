"""`torch.distributed` as gradscope answers it: one process, never a process group.

Portable training scripts ask `is_available()` and `is_initialized()` and, finding no process group, run as one
process; that is how every script runs here (gradscope records one process's graph). The answers are PyTorch's
on a CPU build when no group was initialised, errors included (`get_rank()` raises PyTorch's ValueError);
joining a group (`init_process_group`, as under torchrun) is refused with what to do instead.
"""

from __future__ import annotations

import enum

__all__ = ["Backend", "ReduceOp", "all_gather", "all_reduce", "barrier", "broadcast", "destroy_process_group",
           "get_backend", "get_rank", "get_world_size", "init_process_group", "is_available", "is_gloo_available",
           "is_initialized", "is_nccl_available", "is_torchelastic_launched", "reduce"]

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


class Backend(str):
    """Backend names, as PyTorch spells them."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"


def is_available() -> bool:
    """True, as on PyTorch's CPU builds: the package is there (no group ever is)."""
    return True


def is_initialized() -> bool:
    return False


def is_nccl_available() -> bool:
    return False


def is_gloo_available() -> bool:
    return True


def is_torchelastic_launched() -> bool:
    return False


def init_process_group(backend=None, init_method=None, timeout=None, world_size: int = -1, rank: int = -1,
                       store=None, group_name: str = "", pg_options=None, device_id=None) -> None:
    raise RuntimeError("torch.distributed.init_process_group: gradscope runs a script as one process and has no "
                       "process group to join; run it as a single process (without torchrun), where "
                       "torch.distributed.is_initialized() is False")


def get_rank(group=None) -> int:
    raise ValueError(_NOT_INITIALIZED)


def get_world_size(group=None) -> int:
    raise ValueError(_NOT_INITIALIZED)


def get_backend(group=None) -> str:
    raise ValueError(_NOT_INITIALIZED)


def barrier(group=None, async_op: bool = False, device_ids=None):
    raise ValueError(_NOT_INITIALIZED)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    raise ValueError(_NOT_INITIALIZED)


def reduce(tensor, dst: int = 0, op=ReduceOp.SUM, group=None, async_op: bool = False):
    raise ValueError(_NOT_INITIALIZED)


def broadcast(tensor, src: int = 0, group=None, async_op: bool = False):
    raise ValueError(_NOT_INITIALIZED)


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    raise ValueError(_NOT_INITIALIZED)


def destroy_process_group(group=None) -> None:
    raise AssertionError("Process group cannot be None")
