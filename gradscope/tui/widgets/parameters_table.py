"""The parameters table: name, non-finite count, grad norm, grad/param ratio, zero fraction, shape; sortable.

Drawn line by line (Textual's line API) from rows formatted once, so a model with 16,000 parameters opens
at once and sorts in milliseconds: only the lines on screen are ever styled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gradscope.trace.model import Parameter, Trace
from gradscope.tui.keys import movement
from gradscope.tui.present import NONFINITE, number, shape_text

GAP = 2  # spaces between columns


@dataclass(frozen=True)
class ParameterRow:
    """The figures of one parameter's gradient in one pass (None where it got no gradient)."""

    name: str
    node: int | None
    shape: tuple[int, ...]
    norm: float | None
    ratio: float | None
    zero_fraction: float | None
    nonfinite: int | None

    @classmethod
    def of(cls, trace: Trace, parameter: Parameter, pass_index: int | None) -> ParameterRow:
        grad = trace.parameter_grad(parameter, pass_index) if pass_index is not None else None
        shape = parameter.value.shape
        if grad is None:
            return cls(parameter.name, parameter.node, shape, None, None, None, None)
        stats, value_norm = grad.stats, parameter.value.stats.norm
        ratio = stats.norm / value_norm if value_norm else math.inf
        return cls(parameter.name, parameter.node, shape, stats.norm, ratio, stats.zero_fraction, stats.nonfinite)


def _figure(value: float | None, nonfinite: int | None) -> tuple[bool, float]:
    """Sort key of a gradient figure: gradients with non-finite entries above every finite figure, then the
    figure itself; "no grad" below everything."""
    if value is None:
        return False, -math.inf
    return bool(nonfinite), -math.inf if math.isnan(value) else value


# column label → the row's sort key, in the order shown; numbers sort largest first
COLUMNS = {
    "name": lambda row: row.name,
    "non-finite": lambda row: -1 if row.nonfinite is None else row.nonfinite,
    "grad norm": lambda row: _figure(row.norm, row.nonfinite),
    "grad/param": lambda row: _figure(row.ratio, row.nonfinite),
    "zeros": lambda row: -math.inf if row.zero_fraction is None else row.zero_fraction,
    "shape": lambda row: (math.prod(row.shape), row.shape),
}
DESCENDING_FIRST = {"non-finite", "grad norm", "grad/param", "zeros"}
RIGHT_ALIGNED = {"non-finite", "grad norm", "grad/param", "zeros"}


class ParametersTable(ScrollView, can_focus=True):
    """Keys 1–6 (or a click on a header) sort by that column; again reverses. Enter (or a click on a row)
    posts `Chosen`."""

    COMPONENT_CLASSES = {"parameters-table--header", "parameters-table--cursor", "parameters-table--no-grad"}
    DEFAULT_CSS = """
    ParametersTable > .parameters-table--header { text-style: bold; }
    ParametersTable > .parameters-table--no-grad { color: $warning; text-style: bold; }
    ParametersTable > .parameters-table--cursor {
        color: $block-cursor-blurred-foreground;
        background: $block-cursor-blurred-background;
        text-style: $block-cursor-blurred-text-style;
    }
    ParametersTable:focus > .parameters-table--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """
    BINDINGS = [
        *movement("cursor_up", "cursor_down", "first", "last"),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("enter", "choose", "Go to the parameter's node", show=False),
        Binding("1", "sort(0)", "Sort", key_display="1-6", tooltip="Sort by name"),
        *(Binding(str(index), f"sort({index - 1})", f"Sort by {label}", show=False)
          for index, label in enumerate(COLUMNS, start=1) if index > 1),
    ]

    cursor_row: reactive[int] = reactive(0)
    """The position of the highlighted row, in the order shown."""

    order: reactive[tuple[int, bool] | None] = reactive(None)
    """The column sorted by and whether largest first; None keeps the script's order."""

    class Chosen(Message):
        """Enter (or a click) on a parameter's row."""

        def __init__(self, row: ParameterRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, trace: Trace, pass_index: int | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = [ParameterRow.of(trace, parameter, pass_index) for parameter in trace.parameters]
        self.cells = [self._cells(row) for row in self.rows]
        self.shown = list(range(len(self.rows)))  # row indices in the order shown
        self.widths = [max([len(label) + 2, *(len(cells[column]) for cells in self.cells)])  # + the sort arrow
                       for column, label in enumerate(COLUMNS)]
        self.virtual_size = Size(sum(self.widths) + GAP * len(self.widths), len(self.rows) + 1)

    @staticmethod
    def _cells(row: ParameterRow) -> tuple[str, ...]:
        if row.norm is None:
            return row.name, "—", "no grad", "—", "—", shape_text(row.shape)
        return (row.name, str(row.nonfinite), number(row.norm), number(row.ratio), f"{row.zero_fraction:.0%}",
                shape_text(row.shape))

    # ------------------------------------------------------------------------------ reading it
    @property
    def ordered_names(self) -> list[str]:
        """The parameter names in the order shown."""
        return [self.rows[index].name for index in self.shown]

    @property
    def labels(self) -> list[str]:
        """The column headers, with the sort arrow on the sorted column."""
        column, descending = self.order if self.order is not None else (None, False)
        return [label + ((" ▼" if descending else " ▲") if index == column else "")
                for index, label in enumerate(COLUMNS)]

    def column_x(self, column: int) -> int:
        """Where a column starts, in the table's content."""
        return sum(width + GAP for width in self.widths[:column])

    # ------------------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            segments = self._line(self.labels, self.get_component_rich_style("parameters-table--header"))
        else:
            position = scroll_y + y - 1
            if position >= len(self.shown):
                return Strip.blank(width, self.rich_style)
            segments = self._row(position)
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, self.rich_style)

    def _line(self, texts: list[str], style: Style, styles: list[Style | None] | None = None) -> list[Segment]:
        segments = []
        for column, (text, width) in enumerate(zip(texts, self.widths, strict=True)):
            label = list(COLUMNS)[column]
            padded = text.rjust(width) if label in RIGHT_ALIGNED else text.ljust(width)
            cell_style = style if styles is None or styles[column] is None else style + styles[column]
            segments += [Segment(padded, cell_style), Segment(" " * GAP, style)]
        return segments

    def _row(self, position: int) -> list[Segment]:
        index = self.shown[position]
        row, cells = self.rows[index], self.cells[index]
        style = self.rich_style
        if position == self.cursor_row:
            style = style + self.get_component_rich_style("parameters-table--cursor")
        styles: list[Style | None] = [None] * len(cells)
        if row.norm is None:
            styles[2] = self.get_component_rich_style("parameters-table--no-grad", partial=True)
        elif row.nonfinite:
            styles[1] = styles[2] = styles[3] = Style.parse(NONFINITE)
        return self._line(list(cells), style, styles)

    # ------------------------------------------------------------------------------ moving
    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self.shown) - 1))

    def watch_cursor_row(self, previous: int, row: int) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # the header stays on top
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= self.scroll_y + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)
        self.refresh()

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = len(self.shown) - 1

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * max(1, self.scrollable_content_region.height - 2)

    def action_choose(self) -> None:
        if self.shown:
            self.post_message(self.Chosen(self.rows[self.shown[self.cursor_row]]))

    def on_click(self, event: events.Click) -> None:
        x = event.x + int(self.scroll_x)
        if event.y == 0:
            column = next((index for index in range(len(self.widths))
                           if x < self.column_x(index) + self.widths[index] + GAP), None)
            if column is not None:
                self.action_sort(column)
            return
        position = int(self.scroll_y) + event.y - 1
        if position < len(self.shown):
            self.cursor_row = position
            self.action_choose()

    # ------------------------------------------------------------------------------ sorting
    def action_sort(self, column: int) -> None:
        if self.order is not None and self.order[0] == column:
            self.order = (column, not self.order[1])
        else:
            self.order = (column, list(COLUMNS)[column] in DESCENDING_FIRST)

    def watch_order(self, order: tuple[int, bool] | None) -> None:
        if order is None:
            return
        column, descending = order
        key = COLUMNS[list(COLUMNS)[column]]
        rows = self.rows  # sorted from the script's order each time, so that ties keep it
        self.shown = sorted(range(len(rows)), key=lambda index: key(rows[index]), reverse=descending)
        self.refresh()
