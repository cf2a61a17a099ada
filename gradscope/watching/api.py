"""`gradscope.watch(...)`: the same monitoring, stopping and evidence as `gradscope watch`, around a
training loop of your own (a script, a notebook).

    with gradscope.watch(model, out="watch") as w:
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    print(w.report.headline())

At the end of the first anomalous step, `WatchStop` is raised out of the loop (its `report` says what
happened); `keep_going=True` records every anomaly and lets the loop run on.
"""

from __future__ import annotations

import os

from gradscope.trace.recorder import DEFAULT_KEEP
from gradscope.watching.history import HISTORY, HistoryWriter, prepare_directory
from gradscope.watching.metrics import StepRecord
from gradscope.watching.monitor import Monitor
from gradscope.watching.recordings import StepRecordings
from gradscope.watching.report import WatchReport, build_report
from gradscope.watching.rules import parse_rules


class Watch:
    """A watched stretch of training (see the module docstring); use it as a context manager, or call
    `start()` and `close()`.

    - `model`: names the parameters `model.<name>` (default: after the variables of the code that
      calls backward, as `gradscope watch` does);
    - `keep`: steps kept before the anomalous one as full recordings (None: monitor only, cheapest);
    - `out`: a directory for `history.jsonl` and `step-NNNNNN.gstrace` (None: kept in memory:
      `history` and `evidence`);
    - `rules`: opt-in rules as on the command line (`"grad-spike"`, `"loss-spike=5"`, `"grad-norm=*<=1e3"`).
    """

    def __init__(self, model=None, *, keep: int | None = 1, out: str | os.PathLike | None = None, rules=(),
                 keep_going: bool = False, max_steps: int | None = None, keep_values: int = DEFAULT_KEEP) -> None:
        if keep is not None and keep < 0:
            raise ValueError(f"keep must be 0 or more steps, or None, got {keep}")
        parsed = parse_rules(rules)
        self.directory = None if out is None else prepare_directory(out)
        self.history: list[StepRecord] = []  # every step, when there is no directory to write them to
        self._writer = None if self.directory is None else HistoryWriter(self.directory / HISTORY)
        self.recordings = None if keep is None else StepRecordings(keep, self.directory, keep_values)
        names = None if model is None else (lambda: {"model": model})
        self.monitor = Monitor(parsed, keep_going=keep_going, max_steps=max_steps, on_step=self._on_step,
                               recordings=self.recordings, names=names, make_report=self._report)

    def _on_step(self, record: StepRecord) -> None:
        if self._writer is not None:
            self._writer.write(record)
        else:
            self.history.append(record)

    def _report(self, monitor: Monitor) -> WatchReport:
        traces = self.recordings.written if self.recordings is not None else ()
        history = None if self.directory is None else str(self.directory / HISTORY)
        return build_report(monitor, traces, history)

    @property
    def report(self) -> WatchReport:
        return self._report(self.monitor)

    @property
    def evidence(self) -> dict:
        """step → Trace of the kept recordings not written to a directory."""
        return {} if self.recordings is None else dict(self.recordings.evidence)

    def start(self) -> Watch:
        self.monitor.start()
        return self

    def close(self) -> None:
        """End the watch: close the last step (which raises WatchStop if it was anomalous)."""
        try:
            self.monitor.finish()
        finally:
            if self._writer is not None:
                self._writer.close()

    def __enter__(self) -> Watch:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        self.monitor.stop()
        if self._writer is not None:
            self._writer.close()


def watch(model=None, **options) -> Watch:
    """Watch a training loop; see `Watch`."""
    return Watch(model, **options)
