"""The `baseline` rule: the run's gradients match golden ones recorded earlier, within tolerance.

The baseline (a trace file, see `gradscope.compare.baseline`) holds each parameter's value and gradient
per step; the run's are compared with them, and a failure names the first divergence: a parameter
whose value or gradient differs (the first to accumulate, in backward order), or one present in one
run only. A full trace (`inspect --save`) works as a baseline too: then every node is compared and the
failure names the first op that differs.
"""

from __future__ import annotations

import os
from pathlib import Path

from gradscope.checks.config import CheckConfig, CheckConfigError
from gradscope.checks.results import FAIL, PASS, CheckResult
from gradscope.checks.steps import Step
from gradscope.compare import BASELINE, Difference, Tolerance, baseline_trace, compare_traces
from gradscope.trace.model import Trace
from gradscope.trace.tracefile import TraceFormatError, load_trace, save_trace


def steps_baseline(steps: list[Step]) -> Trace:
    """The golden-gradient trace of these steps."""
    return baseline_trace([(step.trace, step.pass_index) for step in steps])


def write_baseline(steps: list[Step], config: CheckConfig, path: str | os.PathLike) -> list[CheckResult]:
    """Write the baseline of `steps` to `path` (replacing it) and say so in a passing result."""
    save_trace(steps_baseline(steps), path)
    parameters = len(steps[0].trace.parameters)
    return [CheckResult("baseline", str(config.baseline), PASS, None,
                        f"written ({parameters} parameters, {len(steps)} step{'s' if len(steps) != 1 else ''})",
                        "updated", message=f"baseline {config.baseline} written")]


def read_baseline(path: str) -> Trace:
    """The baseline file, or CheckConfigError (exit 2) when it is missing or not a trace."""
    if not Path(path).exists():
        raise CheckConfigError(f"baseline {path} does not exist: write it with --update-baseline {path}")
    try:
        return load_trace(path)
    except TraceFormatError as error:
        raise CheckConfigError(f"baseline {error}") from None


def check_baseline(steps: list[Step], config: CheckConfig, golden: Trace) -> list[CheckResult]:
    """Compare the run with the baseline `golden` (read from `config.baseline`); one result, failing
    with the first divergence."""
    tolerance = Tolerance(config.baseline_rtol, config.baseline_atol)
    if golden.meta.get("baseline") == BASELINE:
        current = steps_baseline(steps)
    else:
        current = steps[0].trace  # a full trace: compared node by node
    report = compare_traces(golden, current, tolerance, a_label=str(config.baseline), b_label="this run")
    threshold = tolerance.describe()
    target = str(config.baseline)
    if report.equal:
        return [CheckResult("baseline", target, PASS, 0.0, "equal", threshold)]
    differing = [p for p in report.parameters if p.status != "equal"]
    shown = f"{len(report.differences) or len(differing)} difference{'s' if len(report.differences) != 1 else ''}"
    message = f"the run (B) differs from baseline {target} (A): {report.summary()}"
    if differing:
        message += "; parameters that differ: " + ", ".join(f"{p.name} ({p.note or p.status})" for p in differing[:8])
        message += " …" if len(differing) > 8 else ""
    file, line = _location(report.first, steps[0])
    first = report.first
    shown += f"; first: {first.what} of {(first.b or first.a).label}" if first is not None and (first.a or first.b) \
        else ""
    return [CheckResult("baseline", target, FAIL, float(len(report.differences)), shown, threshold, message,
                        scope=first.scope if first else None, file=file, line=line)]


def _location(first: Difference | None, step: Step) -> tuple[str | None, int | None]:
    """The user's line of the first divergence: its op's, or for a parameter the first op that used it."""
    node = None if first is None else (first.b or first.a)
    if node is None:
        return None, None
    source = node.source
    if node.kind == "leaf":
        parameter = next((p for p in step.trace.parameters if p.name == node.leaf_name and p.node is not None), None)
        source = step.first_uses.get(parameter.node) if parameter is not None else None
    return (source.file, source.line) if source is not None else (None, None)

