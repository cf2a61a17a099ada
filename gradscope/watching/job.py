"""`gradscope watch SCRIPT` in a child process (`gradscope.trace.isolate`): the script runs as
`__main__` under a `Monitor`; the history and the traces are written to the output directory as the
run goes, progress messages stream the step count, and the report comes back as JSON.

>>> report = watch_script("train.py", out="watch", keep=1, timeout=600)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from gradscope.trace.isolate import run_in_child
from gradscope.trace.script import ScriptError, _compile, _execute, _script_environment
from gradscope.watching.history import HISTORY, HistoryWriter, prepare_directory
from gradscope.watching.metrics import StepRecord, json_number
from gradscope.watching.monitor import Monitor, WatchStop
from gradscope.watching.recordings import StepRecordings
from gradscope.watching.report import WatchReport, build_report
from gradscope.watching.rules import parse_rules

PROGRESS_SECONDS = 0.25  # at most this often a step count goes to the parent


def watch_script(script: str | os.PathLike, *, out: str | os.PathLike, keep: int | None = 1, rules=(),
                 keep_going: bool = False, max_steps: int | None = None, timeout: float | None = None,
                 progress: Callable[[dict], None] | None = None, cancel: threading.Event | None = None,
                 output=None, argv: Sequence[str] = ()) -> WatchReport:
    """Watch the training script `script` in a child process; see the module docstring.

    `progress` receives `{"step": N, "loss": …}` messages as the run goes; the script gets `argv` as its
    `sys.argv[1:]`.
    """
    parse_rules(rules)  # a wrong rule is reported before the script runs
    args = {"path": os.fspath(script), "out": os.fspath(out), "keep": keep, "rules": list(rules),
            "keep_going": keep_going, "max_steps": max_steps}
    data = run_in_child("gradscope.watching.job:watch_job", args, script=script, timeout=timeout,
                        progress=progress, cancel=cancel, output=output, argv=argv)
    return WatchReport.from_json(data)


def watch_job(args: dict, work: Path, report: Callable[[dict], None]) -> dict:
    """In the child: run the script under the monitor and return the report as JSON."""
    path = Path(args["path"])
    _, code = _compile(path)  # a missing script or a syntax error, before any file is written
    directory = prepare_directory(args["out"])
    writer = HistoryWriter(directory / HISTORY)
    keep = args["keep"]
    recordings = None if keep is None else StepRecordings(keep, directory, protect=[path])
    progress = _Progress(report)

    def on_step(record: StepRecord) -> None:
        writer.write(record)
        progress.step(record)

    def make_report(monitor: Monitor) -> WatchReport:
        return build_report(monitor, recordings.written if recordings else (), str(directory / HISTORY))

    monitor = Monitor(parse_rules(args["rules"]), keep_going=args["keep_going"], max_steps=args["max_steps"],
                      on_step=on_step, recordings=recordings, make_report=make_report)
    try:
        _run_main(code, path, monitor)
    finally:
        writer.close()
    if monitor.steps_run == 0:
        raise ScriptError(f"{path}: no backward happened: gradscope watch follows a training loop, one step per "
                          "backward() call, and the script made none")
    return make_report(monitor).to_json()


def _run_main(code, path: Path, monitor: Monitor) -> None:
    """Run the script as `__main__` under the monitor; a WatchStop ends it early, as planned (inside the
    script it arrives as the ScriptError of an exception the script raised)."""
    monitor.start()
    try:
        with _script_environment(path):
            try:
                _execute(code, path, "__main__")
            except ScriptError:
                if monitor.stopped_by is None:  # the script failed on its own
                    raise
                return
            monitor.finish()
    except WatchStop:  # the script's last step was the anomalous one
        pass
    finally:
        monitor.stop()


class _Progress:
    """Step counts for the parent, a few times a second, and at once for an anomalous step."""

    def __init__(self, report: Callable[[dict], None]) -> None:
        self._report = report
        self._last = 0.0

    def step(self, record: StepRecord) -> None:
        now = time.monotonic()
        if record.findings or now - self._last >= PROGRESS_SECONDS:
            self._last = now
            self._report({"step": record.step, "loss": json_number(record.loss),
                          "anomaly": record.findings[0].message if record.findings else None})
