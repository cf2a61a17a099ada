"""torch.nn.utils.skip_init: a module built without running its parameter initialisation."""

from __future__ import annotations

import inspect

from gradscope.autograd.factories import get_rng_state, set_rng_state
from gradscope.nn.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls: type, *args, **kwargs) -> Module:
    """`module_cls(*args, **kwargs)` whose parameters are left to be filled by the caller. PyTorch builds it on
    the meta device and allocates empty storage; here it is built normally, and the random generator is put back
    where it was, so that, as in PyTorch, building it draws nothing from the random stream.

    >>> m = nn.utils.skip_init(nn.Linear, 5, 1)
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs.pop("device", None)
    state = get_rng_state()
    try:
        return module_cls(*args, **kwargs)
    finally:
        set_rng_state(state)
