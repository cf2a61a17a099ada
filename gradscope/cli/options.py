"""Options shared by the commands that run a script or write a file."""

from __future__ import annotations

import math
from typing import Annotated

import typer


def _positive(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter("must be a positive number of seconds")
    return value


Timeout = Annotated[float | None, typer.Option(
    "--timeout", metavar="SECONDS", callback=_positive,
    help="Stop the script after this many seconds (exit 2, naming the line it was running).")]
# what follows the script on the command line is the script's own (its sys.argv[1:], as `python SCRIPT ARGS`):
# gradscope's options are still gradscope's wherever they stand, and everything after `--` is the script's
ScriptArgs = Annotated[list[str] | None, typer.Argument(
    metavar="[ARGS]...", show_default=False,
    help="Arguments for the script (its sys.argv[1:]); after `--` even those named like gradscope's options.")]
# the commands that take them: an option gradscope doesn't know (`--epochs`) is one of them, not an error
SCRIPT_COMMAND = {"ignore_unknown_options": True}
Force = Annotated[bool, typer.Option(
    "--force", help="Overwrite an existing output file even if gradscope didn't write it (never the script).")]
