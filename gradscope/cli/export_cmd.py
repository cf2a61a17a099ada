"""`gradscope export SCRIPT|TRACE --format dot|json`: the graph for other tools."""

from __future__ import annotations

import zipfile
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from gradscope.cli.errors import reported_errors
from gradscope.trace.export import to_dot, to_json
from gradscope.trace.script import run_script
from gradscope.trace.tracefile import load_trace


class Format(str, Enum):
    dot = "dot"
    json = "json"


def load_any(source: Path):
    """A trace file is read (never executed); anything else is run as a model script."""
    if source.suffix != ".py" and zipfile.is_zipfile(source):
        return load_trace(source)
    if source.suffix != ".py" and source.exists():
        return load_trace(source)  # not a zip: TraceFormatError explains
    return run_script(source).trace


def export(
    source: Annotated[Path, typer.Argument(help="A model script or a trace file.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.dot,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Export the recorded graph as Graphviz DOT or JSON."""
    with reported_errors():
        trace = load_any(source)
        text = to_dot(trace) if format is Format.dot else to_json(trace)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text)
