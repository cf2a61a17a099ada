"""A table drawn line by line (Textual's line API): the browser's tables, cheap however many rows they hold.

Rows are plain strings with a style per cell, given all at once (`fill`) or made when first drawn (`cells`,
for tables of thousands of rows); only the lines on screen are ever drawn, so 16,000 rows open at once and
a table refilled at every cursor move costs next to nothing (Textual's DataTable measures and renders every
cell on each refill). The header stays on top; the cursor row is reverse video when the table has focus and
dimmed when not, as in the graph tree. Columns are two spaces apart, one when that makes more of them fit a
narrow table (at 80 columns the detail pane's tensor table shows its name, non-finite and norm columns whole),
and a column is drawn only when it shows whole.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gradscope.tui.keys import movement
from gradscope.tui.scrollbars import PlacedScrollView

GAP, NARROW_GAP = 2, 1  # spaces between columns; in a table too narrow for them all
NAME_MIN = 12  # the first column is never cut narrower than this to show the columns kept beside it


class LineTable(PlacedScrollView, ScrollView, can_focus=True):
    """Columns `labels` (right-aligned when in `right`); `fill(rows, styles)` sets the rows, or a subclass
    makes each row when it is drawn (`cells`) and sets their number with `show_rows`. Subclasses react to
    `cursor_moved(position)`, `chosen(position)` (enter or a click) and `header_clicked(column)`."""

    COMPONENT_CLASSES = {"line-table--header", "line-table--cursor"}
    DEFAULT_CSS = """
    LineTable > .line-table--header { text-style: bold; }
    LineTable > .line-table--cursor {
        color: $block-cursor-blurred-foreground;
        background: $block-cursor-blurred-background;
        text-style: $block-cursor-blurred-text-style;
    }
    LineTable:focus > .line-table--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """
    BINDINGS = [
        *movement("cursor_up", "cursor_down", "first", "last"),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("enter", "choose", "Choose the row", show=False),
    ]

    cursor_row: reactive[int] = reactive(0)
    """The position of the highlighted row, in the order shown."""

    def __init__(self, labels: Sequence[str], right: frozenset[str] = frozenset(), *, keep: int = 0,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.column_labels = list(labels)
        self.right = right
        self.keep = keep
        self.rows: list[tuple[str, ...]] = []
        self.styles_of: list[tuple[str | None, ...] | None] = []
        self.order: list[int] = []  # row indices in the order shown
        self.natural_widths = [len(label) for label in self.column_labels]  # each column's widest cell
        self.widths = list(self.natural_widths)  # as laid out at the table's width
        self.gap = GAP
        self._shared = 0  # the characters the first column's cells share at their start, left out when it is cut

    # ------------------------------------------------------------------------------ contents
    def fill(self, rows: list[tuple[str, ...]], styles: list[tuple[str | None, ...] | None] | None = None,
             extra_width: int = 0) -> None:
        """Show `rows` (one string per column) with optional styles per cell; the cursor goes to the top.
        `extra_width` is room kept in each header (for a sort arrow)."""
        self.rows = rows
        self.styles_of = styles if styles is not None else [None] * len(rows)
        self.show_rows(len(rows), [max([len(label) + extra_width, *(len(cells[column]) for cells in rows)])
                                   for column, label in enumerate(self.column_labels)])

    def show_rows(self, count: int, widths: list[int]) -> None:
        """Show rows 0 to `count` - 1 (drawn by `cells`) in columns `widths` wide; the cursor goes to the top."""
        self.order = list(range(count))
        self.natural_widths = widths
        self._lay_out()
        self.virtual_size = Size(self.content_width, count + 1)
        self.set_reactive(LineTable.cursor_row, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh(layout=True)

    @property
    def row_count(self) -> int:
        return len(self.order)

    def cells(self, index: int) -> tuple[Sequence[str], Sequence[str | None] | None]:
        """Row `index`'s texts and their styles (None: the row's style throughout)."""
        return self.rows[index], self.styles_of[index]

    def header(self) -> list[str]:
        """The header's texts (a subclass adds marks, e.g. a sort arrow)."""
        return self.column_labels

    def column_x(self, column: int) -> int:
        """Where a column starts, in the table's content."""
        return sum(width + self.gap for width in self.widths[:column])

    @property
    def content_width(self) -> int:
        """The width of the rows: the columns and the gaps between them (none after the last: a table as wide as
        its pane needs no scroll bar)."""
        return max(self.column_x(len(self.widths)) - self.gap, 0)

    def _lay_out(self) -> None:
        """The columns' widths and gap at the table's width: the first `keep` columns show whole if the first one,
        cut in its middle, can make room for the others (at 80 columns a module's tensor table shows the norms of
        `blocks.0.fc.weight.grad` and its siblings' gradients as `…0.fc.weight.grad`: the start the names share goes
        first); then the gap that shows more columns whole."""
        room, widths = self.scrollable_content_region.width, list(self.natural_widths)
        self._shared = 0
        if self.keep and room and self._whole_columns(NARROW_GAP, room, widths) < self.keep:
            others = sum(widths[1:self.keep]) + NARROW_GAP * (self.keep - 1)
            widths[0] = max(room - others, min(widths[0], NAME_MIN))
            names = [cells[0] for cells in self.rows]
            shared = os.path.commonprefix(names) if len(names) > 1 else ""
            self._shared = shared.rfind(".") + 1  # whole dotted parts: "blocks." of blocks.0.fc… and blocks.1.fc…
        self.widths = widths
        self.gap = NARROW_GAP if room and self._whole_columns(NARROW_GAP, room, widths) > self._whole_columns(
            GAP, room, widths) else GAP

    @staticmethod
    def _whole_columns(gap: int, room: int, widths: list[int]) -> int:
        """How many columns `widths` wide show whole in `room` cells, `gap` apart, unscrolled."""
        shown, end = 0, -gap
        for width in widths:
            end += gap + width
            if end > room:
                break
            shown += 1
        return shown

    def _on_resize(self, event: events.Resize) -> None:
        laid_out = (self.widths, self.gap)
        self._lay_out()
        if (self.widths, self.gap) != laid_out:
            self.virtual_size = Size(self.content_width, self.virtual_size.height)
            self.refresh()

    # ------------------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        shown = (scroll_x, scroll_x + width)
        if y == 0:
            segments = self._segments(self.header(), None, self.rich_style + self.get_component_rich_style(
                "line-table--header", partial=True), shown)
        else:
            position = scroll_y + y - 1
            if position >= len(self.order):
                return Strip.blank(width, self.rich_style)
            style = self.rich_style
            if position == self.cursor_row:
                style = style + self.get_component_rich_style("line-table--cursor")
            segments = self._segments(*self.cells(self.order[position]), style, shown)
        return Strip(segments).crop(*shown).extend_cell_length(width, self.rich_style)

    def _segments(self, texts: Sequence[str], styles: Sequence[str | None] | None, style: Style,
                  shown: tuple[int, int]) -> list[Segment]:
        """A row's cells; those of a column not wholly within `shown` (the cells in view) are left blank: a number
        cut at the edge reads as another number (0.7083 as 0.708, 12345 as 1234)."""
        segments, x = [], 0
        for column, (text, width) in enumerate(zip(texts, self.widths, strict=True)):
            if shown[0] <= x and x + width <= shown[1]:
                if len(text) > width:
                    text = self._cut(text, width)
                padded = text.rjust(width) if self.column_labels[column] in self.right else text.ljust(width)
                cell_style = style if styles is None or not styles[column] else style + Style.parse(styles[column])
                segments.append(Segment(padded, cell_style))
            else:
                segments.append(Segment(" " * width, style))
            segments.append(Segment(" " * self.gap, style))
            x += width + self.gap
        return segments

    def _cut(self, name: str, width: int) -> str:
        """A name cut to `width` to make room for the columns kept beside it: the start its rows share goes first,
        then whole dotted parts (`….fc.weight.grad`, never `…0.fc.weight.grad` for blocks.10.fc.weight.grad)."""
        if len(name) - self._shared < width:
            return "…" + name[self._shared:]
        tail = name[len(name) - width + 1:]
        if name[len(name) - width] != "." and "." in tail:
            tail = tail[tail.index("."):]
        return "…" + tail

    # ------------------------------------------------------------------------------ moving
    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self.order) - 1))

    def watch_cursor_row(self, row: int) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # the header stays on top
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= self.scroll_y + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)
        self.refresh()
        if self.order:
            self.cursor_moved(row)

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = len(self.order) - 1

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * max(1, self.scrollable_content_region.height - 2)

    def action_choose(self) -> None:
        if self.order:
            self.chosen(self.cursor_row)

    def on_click(self, event: events.Click) -> None:
        x = event.x + int(self.scroll_x)
        if event.y == 0:
            column = next((index for index in range(len(self.widths)) if x < self.column_x(index + 1)), None)
            if column is not None:
                self.header_clicked(column)
            return
        position = int(self.scroll_y) + event.y - 1
        if position < len(self.order):
            self.cursor_row = position
            self.chosen(position)

    # ------------------------------------------------------------------------------ for subclasses
    def cursor_moved(self, position: int) -> None:
        """The cursor is on another row."""

    def chosen(self, position: int) -> None:
        """Enter, or a click, on a row."""

    def header_clicked(self, column: int) -> None:
        """A click on a column's header."""
