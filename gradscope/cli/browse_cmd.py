"""`gradscope browse SCRIPT|TRACE`: the interactive graph browser (a Textual app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gradscope.cli.errors import EXIT_INTERRUPTED, reported_errors
from gradscope.cli.export_cmd import load_any
from gradscope.cli.options import Timeout
from gradscope.compare import compare_traces


def browse(
    source: Annotated[Path, typer.Argument(
        help="A model script (recorded first; runs its code), a trace file, or a directory `gradscope watch` wrote.")],
    other: Annotated[Path | None, typer.Argument(
        help="A second run (script or trace): browse SOURCE with the nodes that differ from it marked.")] = None,
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to differentiate.")] = None,
    timeout: Timeout = None,
) -> None:
    """Browse the backward graph, gradients and anomalies in the terminal (press ? in it for the keys)."""
    from gradscope.tui import make_app  # Textual loads only for this command, keeping the others quick
    from gradscope.tui.source import TraceSource

    if other is None:
        app = make_app(source=TraceSource(source, entry, timeout))
    else:
        with reported_errors():  # both runs are recorded (or read) first, then compared
            a, b = load_any(source, timeout, entry), load_any(other, timeout, entry)
        app = make_app(a, compared=(b, compare_traces(a, b, a_label=str(source), b_label=str(other))))
    app.run()
    with reported_errors():
        if app.error is not None:  # already shown in the app; repeated on stderr, with exit code 2
            raise app.error
        if app.return_code == EXIT_INTERRUPTED:  # ctrl+c: reported as in every other command
            raise KeyboardInterrupt
    raise typer.Exit(app.return_code or 0)
