"""`DIR/history.jsonl`: one JSON line of metrics per step, written as each step closes (so a run that
crashes keeps its history up to there), and read back by the browser's timeline.

>>> records = read_history("watch/history.jsonl")
>>> records[0].loss
2.302
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from gradscope.trace.output import OutputError, is_trace_file
from gradscope.watching.metrics import StepRecord
from gradscope.watching.recordings import trace_name

HISTORY = "history.jsonl"


class WatchRunError(ValueError):
    """A directory or history file that isn't what `gradscope watch --out` writes (exit 2)."""


class HistoryWriter:
    """Appends one line per step to a fresh history file."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self._stream = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole run
        except OSError as error:
            raise OutputError(self.path, error.strerror or str(error)) from None

    def write(self, record: StepRecord) -> None:
        self._stream.write(json.dumps(record.to_json()) + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


def read_history(path: str | os.PathLike) -> list[StepRecord]:
    """The steps of a history file; WatchRunError naming the line for one that isn't gradscope's."""
    records = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                records.append(StepRecord.from_json(json.loads(line)))
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise WatchRunError(f"{path}:{number}: not a line of a gradscope watch history ({error})") from None
    return records


@dataclass
class WatchRun:
    """A watch directory read back: its steps, and the trace kept for some of them."""

    directory: Path
    steps: list[StepRecord]
    traces: dict[int, Path] = field(default_factory=dict)  # step → its trace file

    @property
    def anomalous(self) -> list[int]:
        return [record.step for record in self.steps if record.findings]


def is_watch_directory(path: str | os.PathLike) -> bool:
    return Path(path).is_dir() and (Path(path) / HISTORY).is_file()


def read_run(directory: str | os.PathLike) -> WatchRun:
    """The history and kept traces of a watch directory; WatchRunError if it holds no history."""
    directory = Path(directory)
    if not (directory / HISTORY).is_file():
        raise WatchRunError(f"{directory}: no {HISTORY} here: not a directory `gradscope watch --out` wrote")
    traces = {_step_of(path.name): path for path in sorted(directory.glob("step-*.gstrace"))
              if path.name == trace_name(_step_of(path.name))}
    return WatchRun(directory, read_history(directory / HISTORY), traces)


def prepare_directory(directory: str | os.PathLike) -> Path:
    """Make the output directory (or reuse one of an earlier watch): refuse a file, or a history.jsonl
    gradscope did not write; remove the step traces an earlier run left, so the directory describes one run."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(directory, "is a file, not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(directory, error.strerror or str(error)) from None
    history = directory / HISTORY
    if history.exists() and not _is_history(history):
        raise OutputError(history, "exists and is not a history gradscope watch wrote; refusing to overwrite it")
    for old in directory.glob("step-*.gstrace"):
        if old.name == trace_name(_step_of(old.name)) and is_trace_file(old):
            old.unlink()
    return directory


def _is_history(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as stream:
            first = stream.readline()
        return not first.strip() or "step" in json.loads(first)
    except (OSError, ValueError, UnicodeDecodeError, TypeError):
        return False


def _step_of(name: str) -> int:
    digits = name.removeprefix("step-").removesuffix(".gstrace")
    return int(digits) if digits.isdigit() else -1
