"""Writes into tensor memory, announced before they happen: what lets a recording keep references, not copies.

A recording shows every tensor as it was when recorded. Copying each one costs a pass over memory per
tensor; instead the recorder may *hold* an array: keep a reference and copy it only if something is about
to change it. That is safe only if every write into the memory of an existing tensor is announced first,
so every gradscope path that writes into one calls `before_write(array)` before writing: in-place ops and
`out=` (inplace._write, the scalar fast path), `.grad` accumulation (engine), the optimizers' updates,
batch norm's running statistics, gradcheck's perturbations. Handing the array itself to the caller
(`Tensor.numpy()`, `np.asarray(tensor)`) counts as a write: the caller may write through it at any time.
With nothing held, `before_write` is one test of an empty dict.

Holding is safe for memory no code outside gradscope can reach as an array: what gradscope's ops made
while recording (the recorder knows), and what its factories allocated (`allocated`: parameters, inputs
made with `tensor`, `randn` …) until `handed_out` (`numpy()`). Memory the caller gave (`from_numpy`,
an ndarray operand) is never private: the caller may write into it unannounced.

>>> hold(array, record)   # False: not holdable (memory NumPy doesn't own), copy it now instead
>>> before_write(view)    # any array in the same memory: record.preserve() runs first, once
>>> is_private(allocated(np.zeros(3)))
True
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

_held: dict[int, _Held] = {}  # id(memory owner) -> its entry: a weakref to it, with weakrefs to its holders
_private: dict[int, weakref.ref] = {}  # id(memory owner) -> weakref to it: allocated by gradscope, never handed out
_prune_private_at = 1024  # entries of dead owners are dropped when the dict grows past this (see `allocated`)
_lock = threading.Lock()  # nothing under it takes it again (an owner dying calls `_forget`, which takes none)
# NOTE: taken with acquire and release, not `with`: the with statement's special-method lookups cost ~0.2 µs more (a
# recording holds a dozen arrays a step)
_acquire, _release = _lock.acquire, _lock.release


def memory_owner(array: np.ndarray):
    """The object whose memory `array` is in: NumPy points a view at the array owning the memory; a view
    made by `as_strided` goes through a helper object first, whose `base` is that array."""
    owner = array
    base = array.base
    while base is not None:
        owner = base
        base = getattr(base, "base", None)
    return owner


class _Held(weakref.ref):
    """The entry of a memory owner in `_held`: a weak reference to it, gone from `_held` when it dies (`_forget`),
    with its `holders`' claims (weak references to them). NOTE: one object with the key, not a lambda per owner."""

    __slots__ = ("key", "holders")


def hold(array: np.ndarray, holder, owner=None) -> bool:
    """Call `holder.preserve()` before the first announced write into `array`'s memory. The holder keeps
    `array` as `holder.held` until it lets go (None then): a reference that only reads. Only memory an
    ndarray owns can be held (other owners, a bytes object or an mmap, are written without gradscope):
    False then, and the caller must copy now. `owner`: `memory_owner(array)`, when the caller knows it."""
    if owner is None:
        owner = array if array.base is None else memory_owner(array)
    if type(owner) is not np.ndarray or not owner.flags.owndata:
        return False
    key = id(owner)
    _acquire()
    try:
        entry = _held.get(key)
        if entry is None or entry() is not owner:  # its first holder
            entry = _held[key] = _Held(owner, _forget)
            entry.key = key
            entry.holders = [weakref.ref(holder)]
            return True
        holders = entry.holders
        # the claims of holders gone are dropped in bulk as the list doubles: memory held by one recording after
        # another and never written (a parameter, without an optimizer step) keeps the live ones, not one per hold
        count = len(holders)
        if count >= 8 and not count & (count - 1):
            holders[:] = [ref for ref in holders if ref() is not None]
        holders.append(weakref.ref(holder))
    finally:
        _release()
    return True


def _forget(entry: _Held) -> None:
    """The owner is gone: so are its holders' claims. NOTE: no lock: the key is the entry's own (the owner's id can't
    be reused before it is freed, after this call), and a pop is atomic (a write may have popped it first)."""
    _held.pop(entry.key, None)


def held_references(array: np.ndarray) -> tuple[int, int]:
    """The references holders keep to `array` and, when it is a view, to its base (what `sys.getrefcount`
    counts of each): references that don't make `array` anyone else's, since a holder copies it before a
    write. (0, 0) when nothing is held."""
    if not _held:
        return 0, 0
    base = array.base
    owner = array if base is None else memory_owner(array)
    _acquire()
    try:
        entry = _held.get(id(owner))
        claims = () if entry is None or entry() is not owner else entry.holders[:]
    finally:
        _release()
    to_array = to_base = 0
    for claim in claims:
        holder = claim()
        held = None if holder is None else holder.held
        if held is None:
            continue
        if held is array or held.base is array:  # a view of an array is a reference to it
            to_array += 1
        elif base is not None and (held is base or held.base is base):
            to_base += 1
    return to_array, to_base


def allocated(array: np.ndarray) -> np.ndarray:
    """Note `array`, just allocated by gradscope for a new tensor and owning its memory, as private: only
    tensors reach it (until `handed_out`), so every write into it is announced. Returns `array`."""
    if array.base is None:
        _private[id(array)] = weakref.ref(array)
        if len(_private) > _prune_private_at:
            _prune_private()
    return array


def _prune_private() -> None:
    """Drop the entries of owners gone. NOTE: pruned in bulk, not by a weakref callback each: a factory's
    tensor then costs one weakref, and its death nothing (an entry lost to a race only makes a copy)."""
    global _prune_private_at
    for key, ref in list(_private.items()):
        if ref() is None and _private.get(key) is ref:
            _private.pop(key, None)
    _prune_private_at = max(1024, 2 * len(_private))


def is_private(owner) -> bool:
    """Whether the memory owner `owner` (see `memory_owner`) was `allocated` and never handed out."""
    ref = _private.get(id(owner))
    return ref is not None and ref() is owner


def handed_out(array: np.ndarray) -> None:
    """The caller gets `array` itself (`Tensor.numpy()`): it may write through it at any time, unannounced.
    That counts as a write now, and its memory is private no more."""
    before_write(array)
    owner = memory_owner(array)
    if is_private(owner):
        _private.pop(id(owner), None)


def before_write(array: np.ndarray) -> None:
    """Announce a write into `array`'s memory (hot: every in-place write calls it)."""
    if _held:
        _preserve(array)


def before_writes(arrays) -> None:
    """`before_write` of each array: one call for an update that writes into several (an optimizer's)."""
    if _held:
        for array in arrays:
            _preserve(array)


def _preserve(array: np.ndarray) -> None:
    owner = memory_owner(array)
    with _lock:
        entry = _held.get(id(owner))
        if entry is None or entry() is not owner:
            return
        del _held[id(owner)]
    for ref in entry.holders:
        holder = ref()
        if holder is not None:
            holder.preserve()
