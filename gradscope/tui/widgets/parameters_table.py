"""The parameters table: name, shape, grad norm, grad/param ratio, zero fraction, non-finite; sortable."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from gradscope.trace.model import Parameter, Trace
from gradscope.tui.present import NONFINITE, number, shape_text


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


# column label → the row's sort key; numbers sort largest first, "no grad" sorts below every number
COLUMNS = {
    "name": lambda row: row.name,
    "shape": lambda row: (math.prod(row.shape), row.shape),
    "grad norm": lambda row: -math.inf if row.norm is None or math.isnan(row.norm) else row.norm,
    "grad/param": lambda row: -math.inf if row.ratio is None or math.isnan(row.ratio) else row.ratio,
    "zeros": lambda row: -math.inf if row.zero_fraction is None else row.zero_fraction,
    "non-finite": lambda row: -1 if row.nonfinite is None else row.nonfinite,
}
DESCENDING_FIRST = {"grad norm", "grad/param", "zeros", "non-finite"}


class ParametersTable(DataTable):
    """Keys 1–6 (or a click on a header) sort by that column; again reverses. Enter jumps to the node."""

    BINDINGS = [Binding("1", "sort(0)", "Sort", key_display="1-6", tooltip="Sort by name")] + [
        Binding(str(index), f"sort({index - 1})", f"Sort by {label}", show=False)
        for index, label in enumerate(COLUMNS, start=1) if index > 1]

    order: reactive[tuple[int, bool] | None] = reactive(None)
    """The column sorted by and whether largest first; None keeps the script's order."""

    class Chosen(Message):
        """Enter (or a click) on a parameter's row."""

        def __init__(self, row: ParameterRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, trace: Trace, pass_index: int | None, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", id=id)
        self.rows_by_name = {parameter.name: ParameterRow.of(trace, parameter, pass_index)
                             for parameter in trace.parameters}

    def on_mount(self) -> None:
        for label in COLUMNS:
            self.add_column(label + "  ", key=label)  # room for the sort arrow
        for row in self.rows_by_name.values():
            self.add_row(*self._cells(row), key=row.name)

    @staticmethod
    def _cells(row: ParameterRow) -> tuple:
        if row.norm is None:
            return row.name, shape_text(row.shape), Text("no grad", style="bold yellow"), "—", "—", "—"
        bad = Text(str(row.nonfinite), style=NONFINITE if row.nonfinite else "")
        return (row.name, shape_text(row.shape), Text(number(row.norm), justify="right"),
                Text(number(row.ratio), justify="right"), Text(f"{row.zero_fraction:.0%}", justify="right"), bad)

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
        self.sort("name", key=lambda name: key(self.rows_by_name[name]), reverse=descending)
        for index, (name, shown) in enumerate(zip(COLUMNS, self.columns.values(), strict=True)):
            shown.label = Text(name + ((" ▼" if descending else " ▲") if index == column else "  "))
        self.refresh()

    @property
    def ordered_names(self) -> list[str]:
        """The parameter names in the order shown."""
        return [self.coordinate_to_cell_key((index, 0)).row_key.value for index in range(self.row_count)]

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.action_sort(event.column_index)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self.rows_by_name[event.row_key.value]))
