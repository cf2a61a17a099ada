"""`gradscope inspect SCRIPT`: record a model script and report its gradients."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gradscope.cli.console import make_console
from gradscope.cli.errors import EXIT_OK, EXIT_PROBLEM, reported_errors
from gradscope.cli.render import anomaly_list, graph_tree, parameter_table, summary
from gradscope.trace.export import to_json
from gradscope.trace.script import run_script
from gradscope.trace.tracefile import save_trace


def inspect(
    script: Annotated[Path, typer.Argument(help="Model script (runs its code, like `python SCRIPT`).")],
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to differentiate.")] = None,
    save: Annotated[Path | None, typer.Option(help="Write the recording to this trace file.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the trace as JSON instead of a report.")] = False,
    depth: Annotated[int, typer.Option(min=1, help="Depth of the graph tree.")] = 8,
) -> None:
    """Record SCRIPT's graph, run backward, and report gradients and anomalies (exit 1 if any)."""
    with reported_errors():
        trace = run_script(script, entry).trace
        if save is not None:
            save_trace(trace, save)
    console = make_console()
    if json:
        console.print_json(to_json(trace)) if console.is_terminal else print(to_json(trace))
    else:
        console.print(summary(trace))
        console.print(graph_tree(trace, depth))
        console.print(parameter_table(trace))
        console.print(anomaly_list(trace))
        if save is not None:
            console.print(f"trace written to [bold]{save}[/]")
    raise typer.Exit(EXIT_PROBLEM if trace.culprits() else EXIT_OK)
