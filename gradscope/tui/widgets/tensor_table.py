"""A node's tensors in one table (inputs, outputs, saved tensors, gradients); enter opens one."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message

from gradscope._format import format_number, number_style
from gradscope.trace.model import TensorRecord
from gradscope.tui.present import NONFINITE, QUIET, nonfinite_text, shape_text
from gradscope.tui.widgets.line_table import LineTable


@dataclass(frozen=True)
class TensorRow:
    """One tensor, with the one shown beside it when it is opened (a value's gradient, a gradient's value), if any."""

    name: str
    record: TensorRecord
    partner: TensorRecord | None = None
    partner_name: str = ""


class TensorTable(LineTable):
    """Rows of `TensorRow`s: non-finite counts first (what a NaN hunt looks for), then norm, shape, min, max,
    mean, zero fraction and dtype."""

    COLUMNS = ("tensor", "non-finite", "norm", "shape", "min", "max", "mean", "zeros", "dtype")
    BINDINGS = [Binding("enter", "choose", "Open the tensor (values, gradient, histogram)", show=False)]

    class RowChosen(Message):
        """The highlighted row changed (`opened` False) or enter was pressed on it (`opened` True)."""

        def __init__(self, row: TensorRow, opened: bool) -> None:
            super().__init__()
            self.row = row
            self.opened = opened

    def __init__(self, *, id: str | None = None) -> None:
        # the tensor, its non-finite count and its norm show whole in a pane 37 cells wide (80 columns)
        super().__init__(self.COLUMNS, frozenset({"norm", "min", "max", "mean", "zeros"}), keep=3, id=id)
        self.rows_shown: list[TensorRow] = []

    def show(self, rows: list[TensorRow]) -> None:
        self.rows_shown = rows
        cells, styles = [], []
        for row in rows:
            stats = row.record.stats
            figures = (stats.norm, stats.min, stats.max, stats.mean)
            norm, low, high, mean = map(format_number, figures)
            cells.append((row.name, nonfinite_text(stats) or "0", norm, shape_text(stats.shape), low, high, mean,
                          f"{stats.zero_fraction:.0%}", stats.dtype))
            norm_style, low_style, high_style, mean_style = (number_style(value) or None for value in figures)
            styles.append((None, NONFINITE if stats.nonfinite else QUIET, norm_style, None, low_style, high_style,
                           mean_style, None, None))
        self.fill(cells, styles)

    def cursor_moved(self, position: int) -> None:
        self.post_message(self.RowChosen(self.rows_shown[position], opened=False))

    def chosen(self, position: int) -> None:
        self.post_message(self.RowChosen(self.rows_shown[position], opened=True))
