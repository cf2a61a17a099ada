"""The parameters table: name, non-finite count, grad norm, grad/param ratio, zero fraction, shape; sortable.

A `LineTable`, so a model with 16,000 parameters opens at once and sorts in milliseconds (sorting
reorders row indices; only the lines on screen are drawn, and a parameter's figures are worked out when its
row is first drawn or the table first sorted by them).
"""

from __future__ import annotations

import math

from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from gradscope._format import format_number, number_style
from gradscope._stats import norm_sort_key
from gradscope.tui.parameter_index import ParameterIndex, ParameterRow
from gradscope.tui.present import NONFINITE, shape_text
from gradscope.tui.widgets.line_table import LineTable

NO_GRAD = "bold yellow"


# column label → the row's sort key (ascending), in the order shown
COLUMNS = {
    "name": lambda row: row.name,
    "non-finite": lambda row: -1 if row.nonfinite is None else row.nonfinite,
    "grad norm": lambda row: norm_sort_key(row.norm),
    "grad/param": lambda row: norm_sort_key(row.ratio),
    "zeros": lambda row: -math.inf if row.zero_fraction is None else row.zero_fraction,
    "shape": lambda row: (math.prod(row.shape), row.shape),
}
# norms sort largest (or smallest) first with nan and inf above every finite norm either way, "no grad" last
NORMS = {"grad norm": "norm", "grad/param": "ratio"}
DESCENDING_FIRST = {"non-finite", "grad norm", "grad/param", "zeros"}
RIGHT_ALIGNED = frozenset({"non-finite", "grad norm", "grad/param", "zeros"})


class ParametersTable(LineTable):
    """Keys 1–6 (or a click on a header) sort by that column; again reverses. Enter (or a click on a row)
    posts `Chosen`."""

    BINDINGS = [
        Binding("enter", "choose", "Go to the parameter's node", show=False),
        Binding("1", "sort(0)", "Sort", key_display="1-6", tooltip="Sort by name"),
        *(Binding(str(index), f"sort({index - 1})", f"Sort by {label}", show=False)
          for index, label in enumerate(COLUMNS, start=1) if index > 1),
    ]

    sorting: reactive[tuple[int, bool] | None] = reactive(None)
    """The column sorted by and whether largest first; None keeps the script's order."""

    class Chosen(Message):
        """Enter (or a click) on a parameter's row."""

        def __init__(self, row: ParameterRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, parameters: ParameterIndex, pass_index: int | None, *, id: str | None = None) -> None:
        super().__init__(list(COLUMNS), RIGHT_ALIGNED, id=id)
        self.parameter_index = parameters
        self.pass_index = pass_index
        self.parameters = parameters.parameters
        self._drawn: dict[int, tuple[tuple[str, ...], tuple[str | None, ...] | None]] = {}
        # NOTE: a number column is as wide as its header with room for the sort arrow, which is wider than any
        # count, percentage, norm or ratio (never negative) that format_number writes, so no row need be
        # formatted to lay the table out
        widths = [len(label) + 2 for label in COLUMNS]
        name, shape = parameters.widths()
        widths[0], widths[-1] = max(widths[0], name), max(widths[-1], shape)
        self.show_rows(len(self.parameters), widths)

    def show_pass(self, pass_index: int | None) -> None:
        """Show the gradients of another pass, sorted as the table is, the cursor on the top row."""
        self.pass_index = pass_index
        self._drawn.clear()
        self._sort(self.sorting)
        self.cursor_row = 0

    def figures(self, index: int) -> ParameterRow:
        """The figures of parameter `index` (the trace's index works them out for every parameter, once)."""
        return self.parameter_index.rows(self.pass_index)[index]

    def cells(self, index: int) -> tuple[tuple[str, ...], tuple[str | None, ...] | None]:
        drawn = self._drawn.get(index)
        if drawn is None:
            row = self.figures(index)
            drawn = self._drawn[index] = (self._cells(row), self._styles(row))
        return drawn

    @staticmethod
    def _cells(row: ParameterRow) -> tuple[str, ...]:
        if row.norm is None:
            return row.name, "—", "no grad", "—", "—", shape_text(row.shape)
        return (row.name, str(row.nonfinite), format_number(row.norm), format_number(row.ratio),
                f"{row.zero_fraction:.0%}", shape_text(row.shape))

    @staticmethod
    def _styles(row: ParameterRow) -> tuple[str | None, ...] | None:
        if row.norm is None:
            return None, None, NO_GRAD, None, None, None
        if row.nonfinite:
            return None, NONFINITE, NONFINITE, NONFINITE, None, None
        return None, None, number_style(row.norm) or None, number_style(row.ratio) or None, None, None

    @property
    def ordered_names(self) -> list[str]:
        """The parameter names in the order shown."""
        return [self.parameters[index].name for index in self.order]

    def header(self) -> list[str]:
        column, descending = self.sorting if self.sorting is not None else (None, False)
        return [label + ((" ▼" if descending else " ▲") if index == column else "")
                for index, label in enumerate(self.column_labels)]

    def chosen(self, position: int) -> None:
        self.post_message(self.Chosen(self.figures(self.order[position])))

    def header_clicked(self, column: int) -> None:
        self.action_sort(column)

    def action_sort(self, column: int) -> None:
        if self.sorting is not None and self.sorting[0] == column:
            self.sorting = (column, not self.sorting[1])
        else:
            self.sorting = (column, list(COLUMNS)[column] in DESCENDING_FIRST)

    def watch_sorting(self, sorting: tuple[int, bool] | None) -> None:
        self._sort(sorting)

    def _sort(self, sorting: tuple[int, bool] | None) -> None:
        if sorting is None:
            return
        column, descending = sorting
        label, rows = list(COLUMNS)[column], self.parameter_index.rows(self.pass_index)
        # sorted from the script's order each time, so that ties keep it
        if label in NORMS:
            figure = NORMS[label]
            self.order = sorted(range(len(rows)), key=lambda index: norm_sort_key(getattr(rows[index], figure),
                                                                                   largest_first=descending))
        else:
            key = COLUMNS[label]
            self.order = sorted(range(len(rows)), key=lambda index: key(rows[index]), reverse=descending)
        self.refresh()
