"""`gradscope inspect SCRIPT`: record a model script and report its gradients."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gradscope.cli.console import make_console
from gradscope.cli.errors import EXIT_OK, EXIT_PROBLEM, report_output, reported_errors
from gradscope.cli.options import Force, Timeout
from gradscope.cli.render import anomaly_list, graph_tree, parameter_table, summary
from gradscope.trace.export import to_json, write_json
from gradscope.trace.isolate import record_script
from gradscope.trace.output import check_output, write_output
from gradscope.trace.tracefile import write_trace


def inspect(
    script: Annotated[Path, typer.Argument(help="Model script (runs its code, like `python SCRIPT`).")],
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to differentiate.")] = None,
    save: Annotated[str | None, typer.Option(metavar="FILE", help="Write the recording to this trace file.")] = None,
    force: Force = False,
    json: Annotated[bool, typer.Option("--json", help="Print the trace as JSON instead of a report.")] = False,
    depth: Annotated[int, typer.Option(min=1, help="Depth of the graph tree.")] = 8,
    timeout: Timeout = None,
) -> None:
    """Record SCRIPT's graph, run backward, and report gradients and anomalies (exit 1 if any)."""
    with reported_errors():
        if save is not None:  # refuse before running anything
            check_output(save, "trace", force=force, protect=[script])
        trace = record_script(script, entry, timeout=timeout)
        if save is not None:
            write_output(save, "trace", lambda stream: write_trace(trace, stream), force=force, protect=[script])
    console = make_console()
    with report_output(EXIT_PROBLEM if trace.culprits() else EXIT_OK):
        if json:
            if console.is_terminal:
                console.print_json(to_json(trace))
            else:
                write_json(trace, sys.stdout)  # streamed: the text is never held whole
                sys.stdout.write("\n")
            return
        console.print(summary(trace))
        console.print(graph_tree(trace, depth))
        console.print(parameter_table(trace))
        console.print(anomaly_list(trace))
        if save is not None:
            console.print(f"trace written to [bold]{save}[/]")
