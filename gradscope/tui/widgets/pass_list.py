"""The backward passes of a trace, one line each: loss, nodes, anomalies and the culprit, if any."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from gradscope._format import format_number
from gradscope.trace.model import Anomaly, Trace
from gradscope.tui.flow import Flow
from gradscope.tui.keys import movement
from gradscope.tui.present import CULPRIT, NONFINITE, QUIET, anomaly_pass, anomaly_subject, counted


def pass_cells(trace: Trace, index: int, anomalies: list[Anomaly], first_anomalous: bool) -> list[Text | Flow]:
    """`pass 2`, `loss 0.31`, `5 nodes`, `1 anomaly` and `◀ culprit SqrtBackward0 (backward)` with whether it is the
    first anomalous pass: the cells of a pass's line."""
    record = trace.passes[index]
    root = trace.nodes.get(record.roots[0]) if record.roots else None
    loss = root.outputs[0] if root is not None and root.outputs and root.outputs[0] is not None else None
    loss_cell = Text()
    if loss is not None and loss.stats.numel == 1:
        loss_cell.append("loss ", style=QUIET)
        loss_cell.append(format_number(loss.stats.max) if loss.stats.finite else "nan" if loss.stats.nan else "inf",
                         style="" if loss.stats.finite else NONFINITE)
    nodes = Text(f"{len(record.order):,} nodes", style=QUIET)
    counted_anomalies = Text(counted(len(anomalies), "anomaly", "anomalies") if anomalies else "", style=NONFINITE)
    pieces = []
    culprit = next((anomaly for anomaly in anomalies if anomaly.role == "culprit"), None)
    if culprit is not None:
        pieces.append(Text.assemble((" ◀ culprit ", CULPRIT), anomaly_subject(trace, culprit)))
        pieces.append(Text(f"({culprit.phase})"))
    if first_anomalous:
        pieces.append(Text("· the first anomalous pass", style=QUIET))
    return [Text(f"pass {index}", style="bold"), loss_cell, nodes, counted_anomalies, Flow(pieces, separator=" ")]


def pass_prompt(cells: list[Text | Flow], widths: list[int]) -> Text:
    """A pass's line: its cells in columns as wide as the widest of any pass (so that passes line up), the culprit
    last. One line of Text (a narrow list cuts it with …, lists.tcss): the option list draws Text through Textual's
    own content, five times faster than a Rich renderable (2,000 passes: 0.15 s to open, 0.35 s as a hanging
    indent, 1 s as a table per line)."""
    line = Text()
    for column, (cell, width) in enumerate(zip(cells, widths, strict=False)):
        line.append_text(cell)
        line.append(" " * (width - cell.cell_len + (2 if column < len(widths) - 1 else 1)))  # the badge has a space
    tail = cells[-1]
    line.append_text(tail.separator.join(piece for piece in tail.pieces if piece))
    return line


class PassList(OptionList):
    """Enter (or a click) on a pass posts `PassList.Chosen` with its index."""

    BINDINGS = movement("cursor_up", "cursor_down", "first", "last")

    class Chosen(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, trace: Trace, shown: int | None, *, id: str | None = None) -> None:
        by_pass: dict[int, list[Anomaly]] = {}
        for anomaly in trace.anomalies:
            index = anomaly_pass(trace, anomaly)
            if index is not None:
                by_pass.setdefault(index, []).append(anomaly)
        first = min(by_pass, default=None)
        rows = [pass_cells(trace, index, by_pass.get(index, []), index == first) for index in range(len(trace.passes))]
        # a column no pass fills (no loss recorded, no anomalies) is left out
        widths = [max((row[column].cell_len for row in rows), default=0) for column in range(4)]
        columns = [column for column, width in enumerate(widths) if width]
        super().__init__(*(Option(pass_prompt([row[column] for column in columns] + [row[-1]],
                                              [widths[column] for column in columns])) for row in rows), id=id)
        self.shown = shown

    def on_mount(self) -> None:
        if self.shown is not None:
            self.highlighted = self.shown

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(event.option_index))
