"""`gradscope watch SCRIPT`: run a training script, stop at its first bad step, keep the evidence."""

from __future__ import annotations

import json as json_module
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from gradscope._format import format_number
from gradscope.cli.console import Hanging, make_console
from gradscope.cli.errors import EXIT_OK, EXIT_PROBLEM, report_output, reported_errors
from gradscope.cli.options import ScriptArgs, Timeout
from gradscope.watching.job import watch_script
from gradscope.watching.report import WatchReport
from gradscope.watching.rules import WatchRuleError, parse_rules


def _rules(values: list[str] | None) -> list[str]:
    try:
        parse_rules(values or [])
    except WatchRuleError as error:
        raise typer.BadParameter(str(error)) from None
    return values or []


def watch(
    script: Annotated[Path, typer.Argument(help="Training script, run as __main__ (like `python SCRIPT`).")],
    max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, metavar="N",
                                                  help="Stop after N steps (backward passes).")] = None,
    keep: Annotated[int, typer.Option("--keep", min=0, metavar="K",
                                      help="Steps before the anomalous one kept as full recordings.")] = 1,
    no_traces: Annotated[bool, typer.Option("--no-traces",
                                            help="Monitor only: keep no recordings (the cheapest).")] = False,
    out: Annotated[Path, typer.Option("--out", metavar="DIR",
                                      help="Where history.jsonl and the step traces go.")] = Path("gradscope-watch"),
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", metavar="RULE", callback=_rules,
        help="Also stop on: grad-spike[=FACTOR], loss-spike[=FACTOR], grad-norm[=GLOB<=NUMBER] (repeatable).")] = None,
    keep_going: Annotated[bool, typer.Option("--keep-going",
                                             help="Record every anomaly and run to the end.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    timeout: Timeout = None,
    args: ScriptArgs = None,
) -> None:
    """Run a training SCRIPT, measuring every step; stop at the first anomalous step (exit 1) and keep
    its recording, the K steps before it, and a per-step history in DIR."""
    status = _Status(make_console(stderr=True), script)
    with reported_errors(), status:
        report = watch_script(script, out=out, keep=None if no_traces else keep, rules=rule or [],
                              keep_going=keep_going, max_steps=max_steps, timeout=timeout, progress=status.update,
                              argv=args or ())
    console = make_console()
    with report_output(EXIT_PROBLEM if report.first_anomaly else EXIT_OK):
        if json:
            sys.stdout.write(json_module.dumps(report.to_json(), indent=1) + "\n")
            return
        render(report, console)


class _Status:
    """'watching train.py: step 1200, loss 0.531' on a terminal's stderr while the run goes."""

    def __init__(self, console: Console, script: Path) -> None:
        self._console, self._script = console, script
        self._status = console.status(f"watching {escape(str(script))}") if console.is_terminal else None

    def __enter__(self) -> _Status:
        if self._status is not None:
            self._status.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.stop()

    def update(self, message: dict) -> None:
        if self._status is not None and "step" in message:
            loss = message.get("loss")
            shown = f", loss {format_number(loss)}" if isinstance(loss, float) else f", loss {loss}" if loss else ""
            self._status.update(f"watching {escape(str(self._script))}: step {message['step']}{shown}")


def render(report: WatchReport, console: Console) -> None:
    """The report: the step, its loss, where the non-finite value began, what came before, the files."""
    first = report.first_anomaly
    if first is None:
        optimizer = (f"{report.optimizer_steps} optimizer steps; " if report.optimizer_steps != report.steps_run
                     else "")  # LBFGS runs its closure, one step each, several times per optimizer step
        console.print(f"[bold green]no anomaly[/] in {report.steps_run} steps ({optimizer}"
                      f"{'stopped at --max-steps' if report.reason == 'max-steps' else 'the run ended'})")
    else:
        stop = "stopped at" if report.stopped else "first anomaly at"
        console.print(f"[bold red]{stop} step {first.step}[/] ({report.steps_run} steps run, "
                      f"{report.optimizer_steps} optimizer steps)", highlight=False)
        _line(console, f"  loss that step: {format_number(report.loss)}")
        _line(console, f"  {first.phase}: {first.message}")
        graph = None if first.phase != "forward" else "in" if first.node else "outside"
        where = ", ".join(part for part in (_where(first.file, first.line), first.scope and f"scope {first.scope}",
                                            graph and f"{graph} the autograd graph") if part)
        if where:
            _line(console, f"    at {where}")
        _print_rest(report, console)
    if report.history:
        _line(console, f"history: {report.history}")
    for path in report.traces:
        _line(console, f"trace: {path}")
    if report.traces:
        timeline = f", or the run's timeline: gradscope browse {Path(report.history).parent}" if report.history else ""
        _line(console, f"open: gradscope browse {report.traces[-1]}{timeline}")


def _print_rest(report: WatchReport, console: Console) -> None:
    parameter = report.first_parameter
    if parameter is not None and parameter != report.first_anomaly:
        _line(console, f"  first non-finite parameter: {parameter.message}")
    if report.backward_culprit:
        _line(console, f"  backward: {report.backward_culprit}")
    others = [a for a in report.anomalies if a.step == report.first_anomaly.step and a != report.first_anomaly
              and a.message != (parameter.message if parameter else None)]
    for anomaly in others[:5]:
        _line(console, f"  also: {anomaly.message}")
    if report.before:
        _line(console, "  before it:")
        for line in report.before:
            _line(console, f"    {line}")
    later = [step for step in report.anomalous_steps if step != report.first_anomaly.step]
    if later:
        shown = ", ".join(map(str, later[:10])) + (f" … and {len(later) - 10} more" if len(later) > 10 else "")
        _line(console, f"  later anomalous steps: {shown}")


def _line(console: Console, text: str) -> None:
    """A line of the report, plain text; wrapped, it stays indented under its heading."""
    console.print(Hanging(text), highlight=False)


def _where(file: str | None, line: int | None) -> str:
    if not file:
        return ""
    try:
        shown = os.path.relpath(file)
    except ValueError:
        shown = file
    return f"{shown if not shown.startswith('..') else file}:{line}"
