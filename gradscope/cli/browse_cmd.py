"""`gradscope browse SCRIPT|TRACE`: the interactive graph browser (a Textual app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gradscope.cli.errors import reported_errors


def browse(
    source: Annotated[Path, typer.Argument(help="A model script (recorded first; runs its code) or a trace file.")],
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to differentiate.")] = None,
) -> None:
    """Browse the backward graph, gradients and anomalies in the terminal (press ? in it for the keys)."""
    from gradscope.tui import make_app  # Textual loads only for this command, keeping the others quick
    from gradscope.tui.source import TraceSource

    app = make_app(source=TraceSource(source, entry))
    app.run()
    if app.error is not None:  # already shown in the app; repeated on stderr, with exit code 2
        with reported_errors():
            raise app.error
    raise typer.Exit(app.return_code or 0)
