"""Full recordings of the last few steps, kept in a ring buffer so memory stays flat over a long run.

While started, `StepRecordings` keeps a `Recorder` listening as a process-wide engine observer (the
engine hands it every event directly); when a step's pass ends the recording becomes that step's
`Trace` (everything `inspect --save` keeps) and a new recorder takes its place. Only the last `keep + 1`
traces are held; `keep(step)` marks a step as evidence, and `write()` saves the marked step and the `keep`
steps before it to `DIR/step-NNNNNN.gstrace`.

A recording copies arrays rather than summarising them (a copy costs a fraction of the statistics; see
`TensorRecord`), so most steps, never kept, never pay for statistics: a kept step's are computed as it is
written, and its trace holds what `inspect --save` would.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from gradscope.autograd import observers
from gradscope.trace.model import Trace
from gradscope.trace.output import write_output
from gradscope.trace.recorder import DEFAULT_KEEP, Recorder
from gradscope.trace.tracefile import write_trace

MAX_ANOMALIES = 10  # anomalous steps whose recordings are kept


def trace_name(step: int) -> str:
    return f"step-{step:06d}.gstrace"


class StepRecordings:
    """See the module docstring. `directory` is where `write()` puts the traces (None: keep them in
    memory only, as `evidence`)."""

    def __init__(self, keep: int = 1, directory: str | Path | None = None, keep_values: int = DEFAULT_KEEP,
                 protect=()) -> None:
        self.keep_steps = keep
        self.directory = None if directory is None else Path(directory)
        self.keep_values = keep_values
        self.protect = tuple(protect)
        self._ring: deque[tuple[int, Trace]] = deque(maxlen=keep + 1)
        self._recorder = Recorder(keep_values)
        self.evidence: dict[int, Trace] = {}  # kept steps not yet written (all of them without a directory)
        self.written: list[Path] = []
        self._kept: set[int] = set()
        self.anomalies_kept = 0

    def start(self) -> None:
        """Record from now on (the current step's recorder listens to the engine, process-wide)."""
        observers.add_global(self._recorder)

    def stop(self) -> None:
        """Stop recording (idempotent)."""
        observers.remove_global(self._recorder)

    def pass_ended(self, step: int, namespace: dict) -> None:
        """The step's pass is over: its recording becomes its trace, and a new recorder listens in its place."""
        finished, self._recorder = self._recorder, Recorder(self.keep_values)
        observers.replace_global(finished, self._recorder)
        trace = finished.finish(namespace)
        trace.meta["step"] = step
        self._ring.append((step, trace))

    def recent(self) -> list[tuple[int, Trace]]:
        """(step, trace) of the steps in the ring buffer, oldest first."""
        return list(self._ring)

    def keep(self, step: int) -> None:
        """Keep the recordings of `step` and of the `keep` steps before it, and write them out (for at
        most MAX_ANOMALIES anomalous steps: a run that keeps going after its first NaN has one every step)."""
        if self.anomalies_kept >= MAX_ANOMALIES:
            return
        self.anomalies_kept += 1
        for recorded, trace in self._ring:
            if step - self.keep_steps <= recorded <= step and recorded not in self._kept:
                self._kept.add(recorded)
                self.evidence[recorded] = trace
        if self.directory is not None:
            self._write()

    def _write(self) -> None:
        for step, trace in sorted(self.evidence.items()):
            path = self.directory / trace_name(step)
            write_output(path, "trace", lambda stream, trace=trace: write_trace(trace, stream), protect=self.protect)
            self.written.append(path)
        self.evidence.clear()

