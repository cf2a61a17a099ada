"""A line plot of per-step values in the terminal, drawn with braille dots (2×4 per character cell).

Values are plotted on a log scale (gradient norms and losses span decades); steps whose value isn't
finite get a red ✗ on the top row, anomalous steps a ▼ above the plot, and the cursor step is shown
reversed. Too many steps for the width share a column.

>>> plot = StepPlot("gradient norm", [("model.0.weight", [0.1, 0.2, None, math.nan])], anomalous={3})
"""

from __future__ import annotations

import math

from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

COLOURS = ("cyan", "yellow", "green", "magenta", "blue", "bright_white")
_DOT = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))  # braille bit of (column, row) in a cell
GUTTER = 10  # characters for the axis labels


class StepPlot(Widget):
    """`series` is [(name, value per step or None)]; `cursor` is the step shown reversed."""

    DEFAULT_CSS = "StepPlot { height: 1fr; min-height: 6; }"
    cursor: reactive[int] = reactive(0)

    def __init__(self, title: str, series: list[tuple[str, list[float | None]]], *, anomalous=(), steps: int = 0,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.series = series
        self.anomalous = set(anomalous)
        self.steps = max([steps, *(len(values) for _, values in series)])

    def render(self) -> RenderableType:
        width = max(self.size.width - GUTTER, 4)
        height = max(self.size.height - 3, 2)  # a title row, a marker row and an axis row
        return render_plot(self.title, self.series, self.steps, width, height, self.anomalous, self.cursor)


def render_plot(title: str, series, steps: int, width: int, height: int, anomalous=frozenset(),
                cursor: int | None = None) -> Text:
    """The plot as text: `width` × `height` cells of braille, with a gutter, a title and a legend."""
    finite = [v for _, values in series for v in values if v is not None and math.isfinite(v) and v > 0]
    low, high = (math.log10(min(finite)), math.log10(max(finite))) if finite else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    columns, rows = 2 * width, 4 * height
    cells: list[list[dict[int, int]]] = [[{} for _ in range(width)] for _ in range(height)]
    broken: dict[int, str] = {}  # cell column → colour of a non-finite value there

    def x_of(step: int) -> int:
        return round(step * (columns - 1) / max(steps - 1, 1))

    def y_of(value: float) -> int:
        level = math.log10(value) if value > 0 else low
        return round((high - level) / (high - low) * (rows - 1))

    for index, (_, values) in enumerate(series):
        previous = None
        for step, value in enumerate(values):
            if value is None:
                previous = None
                continue
            if not math.isfinite(value):
                broken.setdefault(x_of(step) // 2, COLOURS[index % len(COLOURS)])
                previous = None
                continue
            point = (x_of(step), y_of(value))
            for x, y in _line(previous or point, point):
                cell = cells[y // 4][x // 2]
                cell[index] = cell.get(index, 0) | _DOT[x % 2][y % 4]
            previous = point
    cursor_column = None if cursor is None or not steps else x_of(cursor) // 2
    text = Text(f"{title} (log scale)\n", style="bold")
    text.append(" " * GUTTER + _markers({x_of(s) // 2 for s in anomalous if s < steps}, width) + "\n", style="bold red")
    for row in range(height):
        label = f"{10 ** high:.2g}" if row == 0 else f"{10 ** low:.2g}" if row == height - 1 else ""
        text.append(f"{label:>{GUTTER - 1}} ", style="dim")
        for column in range(width):
            text.append(*_cell(cells[row][column], broken.get(column) if row == 0 else None,
                               column == cursor_column))
        text.append("\n")
    text.append(" " * GUTTER + _axis(steps, width, cursor_column, cursor) + "\n", style="dim")
    for index, (name, _) in enumerate(series):
        text.append("⣿ ", style=COLOURS[index % len(COLOURS)])
        text.append(name + "  ")
    return text


def _cell(dots: dict[int, int], broken: str | None, on_cursor: bool) -> tuple[str, str]:
    if broken is not None:
        return "✗", f"bold red{' reverse' if on_cursor else ''}"
    if not dots:
        return ("│", "dim reverse") if on_cursor else (" ", "")
    bits = 0
    for value in dots.values():
        bits |= value
    main = max(dots, key=lambda index: bin(dots[index]).count("1"))
    return chr(0x2800 + bits), COLOURS[main % len(COLOURS)] + (" reverse" if on_cursor else "")


def _markers(columns: set[int], width: int) -> str:
    return "".join("▼" if column in columns else " " for column in range(width))


def _axis(steps: int, width: int, cursor_column: int | None, cursor: int | None) -> str:
    """'0 … step 37 … 99' under the plot, the cursor's step beneath its column."""
    axis = [" "] * width
    last = str(max(steps - 1, 0))
    axis[0] = "0"
    axis[width - len(last):] = list(last)
    if cursor_column is not None:
        label = f"^{cursor}"
        start = min(cursor_column, width - len(label))
        axis[start:start + len(label)] = list(label)
    return "".join(axis)


def _line(start: tuple[int, int], end: tuple[int, int]):
    """The dots from `start` to `end` (Bresenham)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    error = dx + dy
    while True:
        yield x0, y0
        if (x0, y0) == (x1, y1):
            return
        double = 2 * error
        if double >= dy:
            error += dy
            x0 += sx
        if double <= dx:
            error += dx
            y0 += sy
