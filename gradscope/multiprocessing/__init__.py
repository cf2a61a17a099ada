"""torch.multiprocessing: Python's multiprocessing re-exported, as PyTorch's is, with PyTorch's sharing-strategy
functions and `spawn` (spawn.py).

PyTorch registers reducers that move tensors to shared memory; gradscope's tensors are NumPy arrays and cross
processes pickled, as copies. The sharing strategy is remembered and validated, and changes nothing.

    >>> import gradscope.multiprocessing as mp
    >>> mp.Process is multiprocessing.Process
    True
"""

import multiprocessing
import sys
from multiprocessing import *  # noqa: F403

from gradscope.multiprocessing.spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies", "ProcessContext",
           "ProcessException", "ProcessExitedException", "ProcessRaisedException", "spawn", "start_processes"]
__all__ += multiprocessing.__all__

if sys.platform in ("darwin", "win32"):
    _sharing_strategy = "file_system"
    _all_sharing_strategies = {"file_system"}
else:
    _sharing_strategy = "file_descriptor"
    _all_sharing_strategies = {"file_descriptor", "file_system"}


def set_sharing_strategy(new_strategy: str) -> None:
    """Set the strategy for sharing CPU tensors (one of get_all_sharing_strategies())."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of {_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy() -> str:
    """The current strategy for sharing CPU tensors."""
    return _sharing_strategy


def get_all_sharing_strategies() -> set:
    """The sharing strategies this system supports."""
    return _all_sharing_strategies
