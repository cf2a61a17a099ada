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


def _command(function, **settings) -> None:
    """Register a command. The command list shows its docstring's first paragraph as one line: typer's rich
    mode would keep the docstring's line breaks there and leave ragged rows."""
    first_paragraph = function.__doc__.split("\n\n")[0]
    app.command(short_help=" ".join(first_paragraph.split()), **settings)(function)


_command(inspect, context_settings=SCRIPT_COMMAND)
_command(browse)
_command(export, context_settings=SCRIPT_COMMAND)
_command(gradcheck, context_settings=SCRIPT_COMMAND)
_command(check, context_settings=SCRIPT_COMMAND)
_command(diff)
_command(compat)
_command(watch, context_settings=SCRIPT_COMMAND)


def main() -> None:
    app()
