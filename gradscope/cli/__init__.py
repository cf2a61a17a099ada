"""The `gradscope` command line (typer + rich). Commands stay thin: parse, call the library, render."""

from __future__ import annotations

import typer

import gradscope
from gradscope.cli.browse_cmd import browse
from gradscope.cli.check_cmd import check
from gradscope.cli.compat_cmd import compat
from gradscope.cli.diff_cmd import diff
from gradscope.cli.export_cmd import export
from gradscope.cli.gradcheck_cmd import gradcheck
from gradscope.cli.inspect_cmd import inspect
from gradscope.cli.options import SCRIPT_COMMAND
from gradscope.cli.watch_cmd import watch

app = typer.Typer(
    name="gradscope",
    help="Inspect, check and browse the gradients of PyTorch-style models written against gradscope.",
    no_args_is_help=True,
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradscope {gradscope.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """gradscope: see what backward() does."""


app.command(context_settings=SCRIPT_COMMAND)(inspect)
app.command()(browse)
app.command(context_settings=SCRIPT_COMMAND)(export)
app.command(context_settings=SCRIPT_COMMAND)(gradcheck)
app.command(context_settings=SCRIPT_COMMAND)(check)
app.command()(diff)
app.command()(compat)
app.command(context_settings=SCRIPT_COMMAND)(watch)


def main() -> None:
    app()
