"""`gradscope export SCRIPT|TRACE --format dot|json`: the graph for other tools."""

from __future__ import annotations

import io
import sys
import zipfile
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from gradscope.cli.errors import EXIT_OK, report_output, reported_errors
from gradscope.cli.options import Force, ScriptArgs, Timeout
from gradscope.trace.export import to_dot, write_json
from gradscope.trace.isolate import record_script
from gradscope.trace.output import check_output, write_output
from gradscope.trace.script import ScriptError
from gradscope.trace.tracefile import load_trace


class Format(str, Enum):
    dot = "dot"
    json = "json"


def load_any(source: Path, timeout: float | None = None, entry: str | None = None, keep_values: int | None = None,
             argv=()):
    """A trace file is read (never executed); anything else is run as a model script, with `argv` as its
    arguments."""
    if argv and source.suffix != ".py" and source.is_file():
        raise ScriptError(f"{source}: arguments were given for a script ({' '.join(argv)}), but this is a trace "
                          "file: only a script runs")
    if source.suffix != ".py" and zipfile.is_zipfile(source):
        return load_trace(source)
    if source.suffix != ".py" and source.exists():
        return load_trace(source)  # not a zip: TraceFormatError explains
    return record_script(source, entry, keep_values=keep_values, timeout=timeout, argv=argv)


def export(
    source: Annotated[Path, typer.Argument(help="A model script or a trace file.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.dot,
    output: Annotated[str | None, typer.Option("--output", "-o", metavar="FILE",
                                               help="Write here instead of stdout.")] = None,
    force: Force = False,
    timeout: Timeout = None,
    args: ScriptArgs = None,
) -> None:
    """Export the recorded graph as Graphviz DOT or JSON."""
    kind = format.value
    protect = [source] if source.suffix == ".py" else []  # a trace read in full may be replaced (--force)
    with reported_errors():
        if output is not None:
            check_output(output, kind, force=force, protect=protect)
        trace = load_any(source, timeout, argv=args or ())
        if output is not None:
            write_output(output, kind, lambda stream: _write(trace, format, stream), force=force, protect=protect)
            raise typer.Exit(EXIT_OK)
    with reported_errors(), report_output(EXIT_OK):
        if format is Format.dot:
            sys.stdout.write(to_dot(trace))
        else:
            write_json(trace, sys.stdout)  # streamed: the text is never held whole
        sys.stdout.flush()


def _write(trace, format: Format, stream) -> None:
    """The export into a binary stream."""
    if format is Format.dot:
        stream.write(to_dot(trace).encode("utf-8"))
        return
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    write_json(trace, text)
    text.flush()
    text.detach()  # leave the binary stream open for its owner
