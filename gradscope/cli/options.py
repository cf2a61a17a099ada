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
Force = Annotated[bool, typer.Option(
    "--force", help="Overwrite an existing output file even if gradscope didn't write it (never the script).")]
