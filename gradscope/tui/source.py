"""Where a browsed trace comes from: a model script (recorded, and re-run with `r`) or a trace file (read).

A `.py` file is a script; anything else is read as a trace file, never executed. A script runs in a
child process (`gradscope.trace.isolate`), so the browser outlives it: a script that never returns is
stopped by its timeout, by quitting, or by starting it again. What it prints would scribble over the
screen, so it is kept instead (the tail of it) and shown if the recording fails.

>>> source = TraceSource(Path("model.py"), timeout=60)
>>> load = source.start()     # in the UI thread: stops the recording still running, if any
>>> result = load.run()       # in a worker thread: a Trace, or a LoadFailed to show
>>> source.cancel()           # from anywhere: the running recording stops within ~0.1 s
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from gradscope.trace.isolate import record_script
from gradscope.trace.model import Trace
from gradscope.trace.script import ScriptError
from gradscope.trace.tracefile import TraceFormatError, load_trace
from gradscope.watching.history import WatchRunError, read_run

LOAD_ERRORS = (ScriptError, TraceFormatError, WatchRunError, OSError)
OUTPUT_KEPT = 8192  # characters of the script's output kept for the error screen


class ScriptOutput:
    """A text stream keeping the last `limit` characters written to it (written from the relay thread)."""

    def __init__(self, limit: int = OUTPUT_KEPT) -> None:
        self.limit = limit
        self.truncated = False
        self._text = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self._text += text
            if len(self._text) > self.limit:
                self._text = self._text[-self.limit:]
                self.truncated = True

    def flush(self) -> None:
        pass

    def tail(self) -> str:
        """What was kept, saying so when earlier output was left out."""
        with self._lock:
            return f"… (only its last {self.limit} characters are kept)\n{self._text}" if self.truncated else self._text


@dataclass(frozen=True)
class LoadFailed:
    """A load that ended in `error`, with the tail of what the script printed."""

    error: Exception
    output: str = ""


class Load:
    """One opening of a source. `run` blocks (call it in a worker thread); `cancel` stops it."""

    def __init__(self, source: TraceSource) -> None:
        self.source = source
        self.cancelled = threading.Event()
        self.output = ScriptOutput()

    def run(self) -> Trace | LoadFailed:
        source = self.source
        try:
            if source.path.is_dir():  # a training run `gradscope watch --out` wrote
                return read_run(source.path)
            if not source.is_script:
                return load_trace(source.path)
            return record_script(source.path, source.entry, timeout=source.timeout, cancel=self.cancelled,
                                 output=self.output, argv=source.argv)
        except LOAD_ERRORS as error:
            return LoadFailed(error, self.output.tail())

    def cancel(self) -> None:
        self.cancelled.set()


@dataclass
class TraceSource:
    """A script (recorded with `entry` and stopped after `timeout` seconds) or a trace file."""

    path: Path
    entry: str | None = None
    timeout: float | None = None
    argv: tuple[str, ...] = ()  # the script's arguments (its sys.argv[1:])
    _running: Load | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def is_script(self) -> bool:
        return self.path.suffix == ".py"

    # What the app asks of any source (a training-run directory or a pair of traces would answer the same):
    @property
    def title(self) -> str:
        """What the header names."""
        return self.path.name

    @property
    def loading_message(self) -> str:
        return f"{'recording' if self.is_script else 'reading'} {self.path} …"

    @property
    def loading_timeout(self) -> float | None:
        """The time limit shown while loading (only a script's run is limited)."""
        return self.timeout if self.is_script else None

    @property
    def restartable(self) -> bool:
        """Whether `r` can load it again with a different result (a script can be run again)."""
        return self.is_script

    @property
    def protected(self) -> list[Path]:
        """Files a save must never overwrite."""
        return [self.path] if self.is_script else []

    @property
    def save_name(self) -> Path:
        """The file name offered when saving what it loaded."""
        return Path(self.path.stem + ".gstrace")

    def start(self) -> Load:
        """A new load, stopping the one still running: one recording at a time."""
        self.cancel()
        self._running = Load(self)
        return self._running

    def cancel(self) -> None:
        """Stop the running load, if any: its `run` returns a cancelled `LoadFailed` within ~0.1 s."""
        if self._running is not None:
            self._running.cancel()


def describe_error(error: Exception) -> tuple[str, str]:
    """A load or save error as (message, details) for the error screen or a notification."""
    if isinstance(error, ScriptError):
        return error.message, error.details
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror}", ""
    return str(error), ""
