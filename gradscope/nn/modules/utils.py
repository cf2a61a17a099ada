"""torch.nn.modules.utils: the argument helpers layer code imports (`_pair(3)` is (3, 3)), and the prefix stripper
for loading a DataParallel model's state dict into a bare one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A parser that keeps any iterable as a tuple of its items and repeats anything else `n` times."""
    def parse(value) -> tuple:
        return tuple(value) if isinstance(value, Iterable) else (value,) * n
    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(values: tuple, n: int) -> tuple:
    """`values` last first, each repeated `n` times: a layer's per-dim padding as F.pad takes it."""
    return tuple(value for value in reversed(values) for _ in range(n))


def _list_with_default(out_size, defaults: list[int]):
    """An adaptive pool's output size with each None taken from the matching trailing dim of `defaults`."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [size if size is not None else default for size, default in zip(out_size, defaults[-len(out_size):])]


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Remove `prefix` from the keys that start with it, in place (and from the state dict's `_metadata`), so that
    a state dict saved from a wrapped model ("module." under DataParallel) loads into the bare model.

    >>> state = {"module.weight": 1}
    >>> consume_prefix_in_state_dict_if_present(state, "module.")
    >>> state
    {'weight': 1}
    """
    for key in list(state_dict):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is None:
        return
    for key in list(metadata):
        # the wrapper's own entry ('') stays; 'module' (the model's root) and 'module.…' lose the prefix
        if key and (key == prefix.replace(".", "") or key.startswith(prefix)):
            metadata[key[len(prefix):]] = metadata.pop(key)
