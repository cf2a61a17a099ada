"""`gradscope check` in a child process (`gradscope.trace.isolate`): the report crosses the process
boundary as JSON and is rebuilt on the other side.

>>> report = check_in_child("model.py", file_values, flag_values, "pyproject.toml", timeout=60)
"""

from __future__ import annotations

import math
import os
import threading

from gradscope.checks.config import build_config
from gradscope.checks.results import CheckReport, CheckResult
from gradscope.checks.runner import run_checks
from gradscope.trace.isolate import run_in_child


def check_in_child(script: str | os.PathLike, file_values: dict, flag_values: dict, source: str, *,
                   timeout: float | None = None, cancel: threading.Event | None = None, output=None) -> CheckReport:
    """`run_checks(script, build_config(file_values, flag_values, source))`, run in a child process."""
    build_config(file_values, flag_values, source)  # a bad configuration is reported before the script runs
    args = {"script": os.fspath(script), "file_values": file_values, "flag_values": flag_values, "source": source}
    data = run_in_child("gradscope.checks.job:check_job", args, script=script, timeout=timeout, cancel=cancel,
                        output=output)
    return report_from_json(data)


def check_job(args: dict, work, report) -> dict:
    """In the child: run the checks and return the report as JSON-able data."""
    config = build_config(args["file_values"], args["flag_values"], args["source"])
    return report_to_json(run_checks(args["script"], config))


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
