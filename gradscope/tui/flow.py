"""Text laid out in whole pieces: a line breaks between pieces, never inside one that fits a line.

Rich wraps at any space, so at 80 columns `min -0.1568` can end a line with `min` and `16 nan` with `16`, and a
caption can break in the middle of `1-6 or a click on a header: sort`. A `Flow` puts as many pieces on a line
as fit, `separator` between them, and starts the next line with the next piece; a piece wider than a whole line
wraps as Rich wraps it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

# a word, or a count with the word after it ("16 -inf", "6 nan,"): a line never parts a number from what it counts
WORD = re.compile(r"(?<!\S)[-+]?\d[\d,.%]*\s+[-+]?[^\W\d]\S*|\S+")


def words(text: str, style: str = "") -> list[Text]:
    """`text`'s words as pieces of a `Flow`, each count kept with the word after it."""
    return [Text(word, style=style) for word in WORD.findall(text)]


class Flow:
    """`pieces` (Text or str) on as few lines as fit, `separator` between two on the same line; the lines after
    the first start `hang` columns in (a hanging indent).

    >>> Flow(["norm 0.5", "min -0.1568", "max 2"], separator="  ")   # "norm 0.5  min -0.1568" / "max 2" at 22
    """

    def __init__(self, pieces: Iterable[Text | str], separator: Text | str = "  ", style: str = "",
                 hang: int = 0) -> None:
        self.pieces = [Text(piece) if isinstance(piece, str) else piece for piece in pieces]
        self.separator = Text(separator) if isinstance(separator, str) else separator
        self.style = style
        self.hang = hang

    @classmethod
    def sentence(cls, lead: Text, text: str) -> Flow:
        """`lead` (kept whole), then `text` word by word: `✗ culprit (forward) log produced 16 -inf: …`."""
        return cls([lead, *words(text)], separator=" ")

    @classmethod
    def phrases(cls, *phrases: str) -> Flow:
        """A caption: `4 parameters · enter: go to the node · 1-6: sort`, a line broken between phrases."""
        return cls(phrases, separator=" · ")

    def __str__(self) -> str:
        return self.separator.plain.join(piece.plain for piece in self.pieces if piece)

    def lines(self, width: int) -> list[Text]:
        """The lines at `width` columns (a piece wider than that alone on its line(s))."""
        lines: list[Text] = []
        line: Text | None = None
        for piece in self.pieces:
            if not piece:
                continue
            if line is not None and line.cell_len + self.separator.cell_len + piece.cell_len <= width:
                line.append_text(self.separator)
                line.append_text(piece)
                continue
            if line is not None:
                lines.append(line)
            line = Text(" " * self.hang if lines else "", style=self.style, end="")
            line.append_text(piece)
        if line is not None:
            lines.append(line)
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            line.end = "\n"
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widths = [piece.cell_len for piece in self.pieces if piece]
        if not widths:
            return Measurement(0, 0)
        return Measurement(max(widths) + self.hang, sum(widths) + self.separator.cell_len * (len(widths) - 1))
