"""`gradscope inspect SCRIPT`: record a model script and report its gradients."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gradscope.checks.health import health_warnings
from gradscope.cli.anomaly_report import anomaly_list, warning_list
from gradscope.cli.console import Hanging, make_console
from gradscope.cli.errors import EXIT_INPUT, EXIT_OK, EXIT_PROBLEM, report_output, reported_errors
from gradscope.cli.options import Force, ScriptArgs, Timeout
from gradscope.cli.render import graph_tree, parameter_table, summary
from gradscope.trace.export import to_json, write_json
from gradscope.trace.isolate import record_script
from gradscope.trace.model import Trace
from gradscope.trace.output import check_output, write_output
from gradscope.trace.passes import default_pass
from gradscope.trace.tracefile import write_trace


def _pass_option(value: str | None) -> str | None:
    if value is not None and value != "last" and not (value.isdigit() and value.isascii()):
        raise typer.BadParameter("give a pass number (0 is the first) or 'last'")
    return value


def _chosen_pass(trace: Trace, chosen: str | None) -> int | None:
    """The pass to show: `--pass N`, `--pass last`, or by default the first with an anomaly."""
    if chosen is None or not trace.passes:
        return default_pass(trace)
    if chosen == "last":
        return len(trace.passes) - 1
    if int(chosen) >= len(trace.passes):
        make_console(stderr=True).print(f"[bold red]error:[/] --pass {chosen}: the recording has passes 0–"
                                        f"{len(trace.passes) - 1}", highlight=False)
        raise typer.Exit(EXIT_INPUT)
    return int(chosen)


def inspect(
    script: Annotated[Path, typer.Argument(help="Model script (runs its code, like `python SCRIPT`).")],
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to differentiate.")] = None,
    save: Annotated[str | None, typer.Option(metavar="FILE", help="Write the recording to this trace file.")] = None,
    force: Force = False,
    json: Annotated[bool, typer.Option("--json", help="Print the trace as JSON instead of a report.")] = False,
    depth: Annotated[int, typer.Option(min=1, help="Depth of the graph tree.")] = 8,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 on health warnings too (by default only non-finite values do).")] = False,
    pass_: Annotated[str | None, typer.Option(
        "--pass", metavar="N|last", callback=_pass_option,
        help="The backward pass to show, 0 for the first (default: the first with an anomaly, else the last).")] = None,
    timeout: Timeout = None,
    args: ScriptArgs = None,
) -> None:
    """Record SCRIPT's graph, run backward, and report gradients, anomalies (exit 1 if any) and health
    warnings (the check rules at their default thresholds; exit 1 with --strict)."""
    with reported_errors():
        if save is not None:  # refuse before running anything
            check_output(save, "trace", force=force, protect=[script])
        trace = record_script(script, entry, timeout=timeout, argv=args or ())
        if save is not None:
            write_output(save, "trace", lambda stream: write_trace(trace, stream), force=force, protect=[script])
    console = make_console()
    shown = _chosen_pass(trace, pass_)
    warnings = health_warnings(trace)
    with report_output(EXIT_PROBLEM if trace.anomalies or (strict and warnings) else EXIT_OK):
        if json:
            extra = {"warnings": [warning.to_json() for warning in warnings]}
            if console.is_terminal:
                console.print_json(to_json(trace, extra))
            else:
                write_json(trace, sys.stdout, extra)  # streamed: the text is never held whole
                sys.stdout.write("\n")
            return
        console.print(summary(trace, shown))
        console.print(graph_tree(trace, depth, -1 if shown is None else shown, width=console.width))
        console.print(parameter_table(trace, -1 if shown is None else shown))
        console.print(Hanging(anomaly_list(trace)))
        console.print(Hanging(warning_list(warnings, strict)))
        if save is not None:
            console.print(f"trace written to [bold]{save}[/]")
