"""`gradscope check` in a child process (`gradscope.trace.isolate`): the report crosses the process
boundary as JSON and is rebuilt on the other side.

>>> report = check_in_child("model.py", file_values, flag_values, "pyproject.toml", timeout=60)
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from gradscope.checks.config import build_config
from gradscope.checks.results import CheckReport, CheckResult
from gradscope.checks.runner import run_checks
from gradscope.trace.isolate import run_in_child


def check_in_child(script: str | os.PathLike, file_values: dict, flag_values: dict, source: str, *,
                   timeout: float | None = None, cancel: threading.Event | None = None, output=None,
                   baseline_out: Callable[[Path], None] | None = None, argv: Sequence[str] = ()) -> CheckReport:
    """`run_checks(script, build_config(file_values, flag_values, source))`, run in a child process.

    With `baseline_out`, the baseline rule writes the run's golden gradients to a file in the child's
    work directory, and `baseline_out(path)` is called with it (to copy it where the user asked)."""
    build_config(file_values, flag_values, source)  # a bad configuration is reported before the script runs
    args = {"script": os.fspath(script), "file_values": file_values, "flag_values": flag_values, "source": source,
            "write_baseline": baseline_out is not None}

    def keep(work: Path, data: dict) -> dict:
        if baseline_out is not None and data.get("baseline"):
            baseline_out(work / data["baseline"])
        return data

    data = run_in_child("gradscope.checks.job:check_job", args, script=script, timeout=timeout, cancel=cancel,
                        output=output, keep=keep, argv=argv)
    return report_from_json(data["report"])


def check_job(args: dict, work: Path, report) -> dict:
    """In the child: run the checks and return the report as JSON-able data (and the baseline's file name)."""
    config = build_config(args["file_values"], args["flag_values"], args["source"])
    baseline = "baseline.gstrace" if args.get("write_baseline") else None
    result = run_checks(args["script"], config, baseline_out=None if baseline is None else Path(work) / baseline)
    return {"report": report_to_json(result), "baseline": baseline}


def report_to_json(report: CheckReport) -> dict:
    return {"script": report.script, "entry": report.entry, "steps": report.steps, "rules": list(report.rules),
            "duration": report.duration, "results": [_result_to_json(r) for r in report.results]}


def report_from_json(data: dict) -> CheckReport:
    report = CheckReport(data["script"], data["entry"], data["steps"], tuple(data["rules"]))
    report.results = [CheckResult(**{**fields, "value": _number(fields["value"])}) for fields in data["results"]]
    report.duration = data["duration"]
    return report


def _result_to_json(result: CheckResult) -> dict:
    fields = dict(vars(result))
    value = fields["value"]
    fields["value"] = value if value is None or math.isfinite(value) else repr(float(value))  # "nan", "inf"
    return fields


def _number(value):
    return float(value) if isinstance(value, str) else value
