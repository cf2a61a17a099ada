"""The rich consoles the commands print to."""

from __future__ import annotations

import os

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

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


class Hanging:
    """A Text printed line by line, each wrapped line indented two columns past its own line's indent, so a
    wrapped message stays under its heading instead of starting at the margin:

        ✗ culprit (backward) SqrtBackward0 (sqrt) at model.py:8
            SqrtBackward0 returned 1 nan from a finite gradient: its saved result is already
              non-finite (1 nan): look at the forward pass
    """

    def __init__(self, text: Text | str, hang: int = 2):
        self.text = Text(text) if isinstance(text, str) else text
        self.hang = hang

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for line in self.text.split("\n"):
            plain = line.plain
            indent = len(plain) - len(plain.lstrip(" ")) + self.hang
            if cell_len(plain) <= width or width <= indent + 10:
                yield line
                continue
            head = line.wrap(console, width, overflow="fold")[0]
            yield head
            start = len(head.plain.rstrip(" "))
            start += len(plain[start:]) - len(plain[start:].lstrip(" "))
            for row in line[start:].wrap(console, width - indent, overflow="fold"):
                yield Text(" " * indent) + row
