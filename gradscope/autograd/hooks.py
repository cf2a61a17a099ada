"""RemovableHandle: what every register_*hook returns."""

from __future__ import annotations

import itertools
import weakref


class RemovableHandle:
    """Removes a hook from the dict it was registered in; also a context manager.

    >>> handle = tensor.register_hook(print)
    >>> handle.remove()
    """

    _next_id = itertools.count()

    def __init__(self, hooks_dict: dict, *extra_dicts: dict) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.extra_dict_refs = tuple(map(weakref.ref, extra_dicts))  # keyed by the id too, emptied with it
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_refs):
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class HookDict(dict):
    """A dict of hooks in registration order that RemovableHandle can refer to weakly."""

    __slots__ = ("__weakref__",)

    def add(self, hook) -> RemovableHandle:
        handle = RemovableHandle(self)
        self[handle.id] = hook
        return handle
