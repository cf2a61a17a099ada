"""Copies of recorded arrays whose statistics wait to be read, made in recycled memory.

A recording copies every array above its keep limit and computes the statistics only when someone reads
them (`TensorRecord`). Fresh memory for each copy costs more than the copying: the OS maps a page on its
first write (a fault per 4 KB, together about ten times the memcpy), and the C allocator hands big freed
blocks straight back to it. So the memory of a snapshot summarised or dropped comes back here, up to
POOL_BYTES in all, and the next snapshot of the same size is written into it.

>>> copy = snapshot(array)      # array's values now, in array's memory order
>>> release(copy)               # no one may use `copy` after this

A recording also holds arrays by reference (copy-on-write), which then live until read, and are let go
together: `keep_freed_memory` keeps glibc from handing that memory back to the OS, where the next steps
would fault it in again page by page.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

POOL_BYTES = 64 << 20  # what the pool may keep: one recorder's budget of waiting snapshots (see Recorder)

_free: dict[int, list[np.ndarray]] = {}  # size in bytes → free buffers (1-D uint8) of that size
_held = 0
_lock = threading.Lock()  # recorders in several threads share the pool
_kept = False  # keep_freed_memory ran


def keep_freed_memory() -> None:
    """Ask glibc (once per process, no-op with other C libraries) to keep freed memory for reuse rather
    than return it to the OS: blocks up to 32 MB come from the heap instead of their own mappings, and up
    to 256 MB of free heap stays mapped. By default glibc trims a heap top grown past twice its largest
    freed block, so a recording letting go of a step's arrays at once (when read) makes the next steps
    fault each page of them back in: ~0.5 µs per 4 KB, more than copying it. The process keeps its peak
    memory instead."""
    global _kept
    if _kept:
        return
    _kept = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD


def snapshot(array: np.ndarray) -> np.ndarray:
    """A copy of `array` with its memory order (a transposed array's copy is transposed too), so that
    its statistics are those of `array` to the bit."""
    flags = array.flags
    buffer = _take(array.nbytes) if flags.c_contiguous or flags.f_contiguous else None
    if buffer is None:
        return np.array(array, copy=True)  # order K: memory order kept
    if flags.c_contiguous:
        copy = buffer.view(array.dtype).reshape(array.shape)
    else:
        copy = buffer.view(array.dtype).reshape(array.shape[::-1]).T
    np.copyto(copy, array)
    return copy


def release(copy: np.ndarray) -> None:
    """Take back the memory of a snapshot its holder is done with."""
    global _held
    owner = copy if copy.base is None else copy.base
    if type(owner) is not np.ndarray or owner.nbytes != copy.nbytes or not owner.nbytes:
        return
    flags = owner.flags
    if not (flags.writeable and (flags.c_contiguous or flags.f_contiguous)):
        return
    with _lock:
        if _held + owner.nbytes > POOL_BYTES:
            return
        _held += owner.nbytes
        _free.setdefault(owner.nbytes, []).append(owner.reshape(-1, order="A").view(np.uint8))


def _take(nbytes: int) -> np.ndarray | None:
    global _held
    with _lock:
        buffers = _free.get(nbytes)
        if not buffers:
            return None
        _held -= nbytes
        return buffers.pop()
