"""Where a browsed trace comes from: a model script (recorded, and re-run with `r`) or a trace file (read).

A `.py` file is a script; anything else is read as a trace file, never executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gradscope.trace.model import Trace
from gradscope.trace.script import ScriptError, run_script
from gradscope.trace.tracefile import TraceFormatError, load_trace

LOAD_ERRORS = (ScriptError, TraceFormatError, OSError)


@dataclass(frozen=True)
class TraceSource:
    path: Path
    entry: str | None = None

    @property
    def is_script(self) -> bool:
        return self.path.suffix == ".py"

    def open(self) -> Trace:
        """Record the script, or read the trace file. Raises one of LOAD_ERRORS."""
        if self.is_script:
            return run_script(self.path, self.entry).trace
        return load_trace(self.path)

    def try_open(self) -> Trace | Exception:
        """Like `open`, but an input error is returned (for a background worker to hand back)."""
        try:
            return self.open()
        except LOAD_ERRORS as error:
            return error


def describe_error(error: Exception) -> tuple[str, str]:
    """A load error as (message, details) for the error screen."""
    if isinstance(error, ScriptError):
        return error.message, error.details
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror}", ""
    return str(error), ""
