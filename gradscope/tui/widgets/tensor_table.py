"""A node's tensors in one table (inputs, outputs, saved tensors, gradients); enter opens one."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from gradscope.trace.model import TensorRecord
from gradscope.tui.present import NONFINITE, QUIET, nonfinite_text, number, shape_text


@dataclass(frozen=True)
class TensorRow:
    """One tensor of a node, with the gradient that belongs with it (shown side by side), if any."""

    name: str
    record: TensorRecord
    gradient: TensorRecord | None = None
    gradient_name: str = ""


class TensorTable(DataTable):
    """Rows of `TensorRow`s: shape, norm, min, max, non-finite count, dtype, mean, zero fraction."""

    COLUMNS = ("tensor", "shape", "norm", "min", "max", "non-finite", "dtype", "mean", "zeros")

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
            self.add_row(row.name, shape_text(stats.shape), number(stats.norm), number(stats.min),
                         number(stats.max), bad, stats.dtype, number(stats.mean), f"{stats.zero_fraction:.0%}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.rows_shown):
            self.post_message(self.RowChosen(self.rows_shown[event.cursor_row], opened=False))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.rows_shown):
            self.post_message(self.RowChosen(self.rows_shown[event.cursor_row], opened=True))
