"""torch.random: the CPU generator's seeding and state, and `fork_rng`, which runs a block and then puts the
random stream back where it was (tests and evaluation code draw inside it without moving training's stream)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from gradscope.autograd.factories import (
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from gradscope.autograd.generator import Generator

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: str = "cuda") -> Iterator[None]:
    """The CPU generator's state saved, the block run, the state restored (there are no accelerator generators to
    fork: `devices` has nothing to name).

    >>> with fork_rng():
    ...     noise = gradscope.randn(3)  # the stream after the block is the stream before it
    """
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
