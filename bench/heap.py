"""One heap policy for every implementation a bench times in one process: freed memory stays in the heap.

glibc's malloc returns memory to the OS on its own schedule: a freed block above the mmap threshold is
unmapped at once, and the top of the heap is trimmed when more than the trim threshold lies free there, both
thresholds moving with the largest block freed so far. When implementations run in turns in one process,
the next one's fresh arrays then page-fault (about 2.4 µs a page in this VM) on memory the previous one gave
back: in session 11's interleaved CNN rounds the NumPy floor's 7 MB im2col left gradscope 350–1,340 faults a
step and PyTorch 200–680, against 1 and 0 with each run alone; gradscope / PyTorch moved by ~10% with it.

`keep_freed_memory()` fixes both thresholds (32 MiB mmap, the most glibc allows; 1 GiB trim) before timing,
so every implementation reuses the heap it grew and pays no faults after its warm-up, whichever ran before
it. It applies to all of them alike, the floor included (the floor's own faults go too). Elsewhere than
glibc it changes nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
TRIM_THRESHOLD = 1 << 30
MMAP_THRESHOLD = 32 << 20  # glibc refuses more than HEAP_MAX_SIZE / 2 (32 MiB on 64-bit)
CACHE_LINE = 64


def keep_freed_memory() -> str:
    """Fix glibc's trim and mmap thresholds for this process; returns what was done, for the bench's notes."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return "the platform's malloc, unchanged (no glibc mallopt)"
    if not (mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)):
        return "the platform's malloc, unchanged (mallopt refused)"
    return f"glibc malloc, trim threshold {TRIM_THRESHOLD >> 20} MiB, mmap threshold {MMAP_THRESHOLD >> 20} MiB"


def aligned(array: np.ndarray) -> np.ndarray:
    """A new C-ordered copy of `array` that starts on a cache line (64 bytes).

    Why: malloc gives NumPy's arrays 16-byte alignment, so whether a workload's fixed inputs (weights, data,
    targets) start on a cache line is decided by everything the process allocated before them: the rows run
    earlier, the code version's own allocations. In session 16 the rnn float32 inputs at offset 16 instead of 0
    made the NumPy floor ~4% slower and gradscope's step ~3.6% slower, and moved the ratio between 1.26 and 1.36
    with nothing else changed; a single-row run and a full run put them at different offsets. The workloads give
    every implementation its fixed inputs aligned (PyTorch aligns its own allocations to 64 bytes); what each
    implementation allocates while it steps is its own."""
    buffer = np.empty(array.nbytes + CACHE_LINE, np.uint8)
    start = -buffer.ctypes.data % CACHE_LINE
    copy = buffer[start:start + array.nbytes].view(array.dtype).reshape(array.shape)
    copy[...] = array
    return copy
