"""A node's tensors in one table (inputs, outputs, saved tensors, gradients); enter opens one."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from gradscope.trace.model import TensorRecord
from gradscope.tui.keys import movement
from gradscope.tui.present import NONFINITE, QUIET, nonfinite_text, number, shape_text


@dataclass(frozen=True)
class TensorRow:
    """One tensor, with the one shown beside it when it is opened (a value's gradient, a gradient's value), if any."""

    name: str
    record: TensorRecord
    partner: TensorRecord | None = None
    partner_name: str = ""


class TensorTable(DataTable):
    """Rows of `TensorRow`s: non-finite counts first (what a NaN hunt looks for), then norm, shape, min, max,
    mean, zero fraction and dtype."""

    BINDINGS = movement("cursor_up", "cursor_down", "scroll_top", "scroll_bottom")
    COLUMNS = ("tensor", "non-finite", "norm", "shape", "min", "max", "mean", "zeros", "dtype")

    class RowChosen(Message):
        """The highlighted row changed (`opened` False) or enter was pressed on it (`opened` True)."""

        def __init__(self, row: TensorRow, opened: bool) -> None:
            super().__init__()
            self.row = row
            self.opened = opened

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, id=id)
        self.rows_shown: list[TensorRow] = []

    def on_mount(self) -> None:
        self.add_columns(*self.COLUMNS)

    def show(self, rows: list[TensorRow]) -> None:
        self.rows_shown = rows
        self.clear()
        for row in rows:
            stats = row.record.stats
            bad = Text(nonfinite_text(stats) or "0", style=NONFINITE if stats.nonfinite else QUIET)
            self.add_row(row.name, bad, number(stats.norm), shape_text(stats.shape), number(stats.min),
                         number(stats.max), number(stats.mean), f"{stats.zero_fraction:.0%}", stats.dtype)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.rows_shown):
            self.post_message(self.RowChosen(self.rows_shown[event.cursor_row], opened=False))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.rows_shown):
            self.post_message(self.RowChosen(self.rows_shown[event.cursor_row], opened=True))
