"""Modules' `_parameters` and `_modules` dicts, which say when they change, and the parameter lists zero_grad keeps
between steps while none changed.

`model.zero_grad()` runs once per training step and walks the whole model for its parameters: 200 layers take
~0.3 ms, as much as a few layers' forward. A model's list stays valid until a parameter or a child module is added,
replaced or removed anywhere, which writes to some module's registry (or replaces one, or a module's class): every
list is then forgotten, and the next zero_grad walks again.
"""

from __future__ import annotations

import weakref

# a module's weak reference -> (classes met in the walk, its parameters): a WeakKeyDictionary's own dict, read without
# its `get`'s Python frame (a zero_grad per step); an entry goes with its module (_dropped)
_lists: dict = {}
_ref = weakref.ref
# module -> (the parameter list `kept` gave, {key: what was made from the model then}): see `kept_with`
_derived: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_holding = False  # whether _lists may hold any (clearing an empty WeakKeyDictionary still costs a Python loop)
_writes = 0  # registry writes so far: a list walked while another thread wrote is not kept


def _dropped(ref) -> None:
    _lists.pop(ref, None)


def forget() -> None:
    """Drop every kept parameter list: some module's parameters or children changed."""
    global _holding, _writes
    _writes += 1
    if _holding:
        _holding = False
        _lists.clear()
        _derived.clear()


class Registry(dict):
    """A module's `_parameters` or `_modules`: a dict whose every write (however made: `register_parameter`,
    `del module._parameters[name]`, a container's renumbering) forgets the kept parameter lists."""

    __slots__ = ()

    def __setitem__(self, key, value) -> None:
        forget()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key) -> None:
        forget()
        dict.__delitem__(self, key)

    def __ior__(self, other):
        forget()
        return dict.__ior__(self, other)

    def pop(self, *args):
        forget()
        return dict.pop(self, *args)

    def popitem(self):
        forget()
        return dict.popitem(self)

    def clear(self) -> None:
        forget()
        dict.clear(self)

    def update(self, *args, **kwargs) -> None:
        forget()
        dict.update(self, *args, **kwargs)

    def setdefault(self, key, default=None):
        forget()
        return dict.setdefault(self, key, default)


def kept(module, walk, base_named_modules):
    """`module`'s parameters as `walk()` lists them, kept until a registry changes. None when the list can't be
    kept: a module in the tree lists its descendants itself (overrides named_modules), or holds a registry that is
    not a Registry (set by hand, or unpickled from an older gradscope)."""
    global _holding
    entry = _lists.get(_ref(module))
    if entry is not None:
        classes, parameters = entry
        for cls in classes:  # NOTE: a class given another named_modules since (monkeypatched)
            if cls.named_modules is not base_named_modules:
                break
        else:
            return parameters
    if type(module).named_modules is not base_named_modules:
        return None
    writes = _writes
    modules = list(walk())
    classes = tuple({type(each): None for each in modules})
    if any(cls.named_modules is not base_named_modules for cls in classes) or not all(
            type(each.__dict__.get("_parameters")) is Registry and type(each.__dict__.get("_modules")) is Registry
            for each in modules):
        return None
    parameters, seen = [], set()  # ids: a tensor's own __hash__ is Python code
    for each in modules:
        for value in each._parameters.values():
            if value is not None and id(value) not in seen:
                seen.add(id(value))
                parameters.append(value)
    _holding = True
    _lists[_ref(module, _dropped)] = (classes, parameters)
    if writes != _writes:  # another thread wrote to a registry meanwhile: what was walked may be stale
        forget()
    return parameters


def kept_with(module, walk, base_named_modules, key, make):
    """`make()`, something made from `module`'s tree (the names of its parameters, say), kept under `key`
    while `kept` keeps the tree's parameter list: that very list is returned until a registry changes, so
    what was made with it is still what `make()` would make. Made every time when the list can't be kept."""
    parameters = kept(module, walk, base_named_modules)
    if parameters is None:
        return make()
    entry = _derived.get(module)
    if entry is None or entry[0] is not parameters:
        entry = _derived[module] = (parameters, {})
    made = entry[1].get(key)
    if made is None:
        made = make()
        # NOTE: made after the list: a registry written meanwhile made that list stale, never returned again
        entry[1][key] = made
    return made
