"""`gradscope browse SCRIPT|TRACE`: the interactive graph browser (a Textual app)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from gradscope.cli.errors import EXIT_INTERRUPTED, reported_errors
from gradscope.cli.export_cmd import load_any
from gradscope.cli.options import Timeout
from gradscope.compare import compare_traces
from gradscope.trace.script import ScriptError


def browse(
    source: Annotated[Path, typer.Argument(
        help="A model script (recorded first; runs its code), a trace file, or a directory `gradscope watch` wrote.")],
    other: Annotated[Path | None, typer.Argument(
        help="A second run (script or trace): browse SOURCE with the nodes that differ from it marked.")] = None,
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to differentiate.")] = None,
    timeout: Timeout = None,
    args: Annotated[str | None, typer.Option(
        "--args", metavar="'ARGS'", help="Arguments for the script(s), quoted as one: --args '--epochs 2'.")] = None,
) -> None:
    """Browse the backward graph, gradients and anomalies in the terminal (press ? in it for the keys)."""
    from gradscope.tui import make_app  # Textual loads only for this command, keeping the others quick
    from gradscope.tui.source import TraceSource

    with reported_errors():
        argv = _script_arguments(args, [source] if other is None else [source, other])
    if other is None:
        app = make_app(source=TraceSource(source, entry, timeout, argv))
    else:
        with reported_errors():  # both runs are recorded (or read) first, then compared
            a, b = load_any(source, timeout, entry, argv=argv), load_any(other, timeout, entry, argv=argv)
        app = make_app(a, compared=(b, compare_traces(a, b, a_label=str(source), b_label=str(other))))
    app.run()
    with reported_errors():
        if app.error is not None:  # already shown in the app; repeated on stderr, with exit code 2
            raise app.error
        if app.return_code == EXIT_INTERRUPTED:  # ctrl+c: reported as in every other command
            raise KeyboardInterrupt
    raise typer.Exit(app.return_code or 0)


def _script_arguments(args: str | None, sources: list[Path]) -> tuple[str, ...]:
    """--args split as a shell would; refused when no source is a script (a trace takes no arguments)."""
    if args is None:
        return ()
    try:
        argv = tuple(shlex.split(args))
    except ValueError as error:
        raise ScriptError(f"--args {args!r}: {error}") from None
    if argv and not any(source.suffix == ".py" for source in sources):
        raise ScriptError(f"--args was given ({args}), but {' and '.join(map(str, sources))} "
                          f"{'is' if len(sources) == 1 else 'are'} not a script")
    return argv
