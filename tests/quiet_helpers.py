"""A helper the fast-path tests (test_fused*.py) share; apart from test_fused_products.py, which imports PyTorch,
so test_fused.py runs without it."""

from __future__ import annotations

import contextlib
import threading

from gradscope._quiet import QUIET_RUN


@contextlib.contextmanager
def quiet_context_held_elsewhere():
    """Another thread stays inside the fast paths' quiet context (QUIET_RUN) for the with block, so this thread
    can't enter it: the fast paths must then take the general path."""
    entered, release = threading.Event(), threading.Event()

    def hold():
        entered.set()
        release.wait()

    holder = threading.Thread(target=lambda: QUIET_RUN(hold))
    holder.start()
    entered.wait()
    try:
        yield
    finally:
        release.set()
        holder.join()
