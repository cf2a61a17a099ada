"""Silence NumPy's floating-point warnings inside gradscope's own computations.

PyTorch returns inf/nan silently for log(0), 0/0, overflow …; so must we, whatever warning filters
the user has set, and without touching the user's own NumPy error settings. `np.errstate` does this
but costs microseconds per call; setting NumPy's error-state context variable directly costs a
fraction of that, so it is used when this NumPy exposes it.

The one-frame forwards (autograd/fused.py) call NumPy through `QUIET_RUN(function, *args)`: it runs in a context
of its own whose error state is "ignore" (entering a context costs less than the two writes of a context
variable, each of which copies the context's map). One thread at a time can be in that context; another finds
it entered (RuntimeError) and takes the op's general path, which silences its own context.
"""

from __future__ import annotations

import contextvars

import numpy as np

try:  # NumPy 2.x keeps its error state in a ContextVar
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    _IGNORE = _make_extobj(all="ignore")
    # hot paths inline these two: `token = QUIET_SET(QUIET_VALUE)` … `QUIET_RESET(token)`
    QUIET_SET, QUIET_RESET, QUIET_VALUE = _extobj_contextvar.set, _extobj_contextvar.reset, _IGNORE

    def quiet() -> object:
        """Enter: returns a token for `loud`."""
        return _extobj_contextvar.set(_IGNORE)

    def loud(token) -> None:
        _extobj_contextvar.reset(token)

    _QUIET_CONTEXT = contextvars.Context()
    _QUIET_CONTEXT.run(_extobj_contextvar.set, _IGNORE)
    QUIET_RUN = _QUIET_CONTEXT.run

except ImportError:  # pragma: no cover - other NumPy versions

    def quiet() -> object:
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def loud(token) -> None:
        token.__exit__(None, None, None)

    QUIET_SET, QUIET_RESET, QUIET_VALUE = lambda _: quiet(), loud, None

    def _quiet_run(function, *args):
        token = quiet()
        try:
            return function(*args)
        finally:
            loud(token)

    QUIET_RUN = _quiet_run
