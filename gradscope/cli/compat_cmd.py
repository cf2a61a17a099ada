"""`gradscope compat SCRIPT`: which torch APIs a script uses, and which gradscope lacks (read, never run)."""

from __future__ import annotations

import json as json_module
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from gradscope.cli.console import make_console
from gradscope.cli.errors import EXIT_OK, EXIT_PROBLEM, report_output, reported_errors
from gradscope.trace.compat import CompatReport, scan


def _table(report: CompatReport) -> Table:
    table = Table(title=f"gradscope compat {report.script}", title_justify="left")
    table.add_column("torch API", style="bold")
    table.add_column("lines", justify="right")
    table.add_column("gradscope")
    for use in report.uses:
        status = Text("✓ supported", style="green") if use.supported else Text("✗ not implemented", style="bold red")
        table.add_row(use.api, ", ".join(map(str, use.lines)), status)
    return table


def compat(
    script: Annotated[Path, typer.Argument(help="A PyTorch script (read, never run).")],
    json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the torch APIs SCRIPT uses and whether gradscope implements each (exit 1 if one is missing)."""
    with reported_errors():
        report = scan(script)
    with report_output(EXIT_PROBLEM if report.unsupported else EXIT_OK):
        if json:
            print(json_module.dumps(report.to_json(), indent=1))
            return
        console = make_console()
        if not report.uses:
            console.print(f"{report.script} uses no torch API")
            return
        console.print(_table(report))
        missing = report.unsupported
        summary = (f"{len(missing)} of {len(report.uses)} APIs not implemented: "
                   f"{', '.join(use.api for use in missing)}" if missing
                   else f"all {len(report.uses)} APIs are implemented (methods called on tensors are not checked)")
        console.print(Text(summary, style="bold red" if missing else "bold green"))
