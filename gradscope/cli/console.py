"""The rich consoles the commands print to."""

from __future__ import annotations

import os

from rich.console import Console

PIPE_WIDTH = 120  # rich assumes 80 columns when output isn't a terminal; CI logs read better wider


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader went away (`| head`): let the command decide its exit code (rich would exit 1)."""
        self.quiet = True
        raise BrokenPipeError


def make_console(stderr: bool = False) -> Console:
    """A console that respects NO_COLOR and the terminal, and doesn't wrap CI logs at 80 columns."""
    console = _Console(stderr=stderr)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console
