"""The anomalies: culprits first, then the nodes that only passed non-finite values on."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from gradscope.trace.model import Anomaly, Trace
from gradscope.tui.flow import Flow, words
from gradscope.tui.keys import movement
from gradscope.tui.present import CULPRIT, QUIET, SCOPE, ordered_anomalies, place


def anomaly_prompt(trace: Trace, anomaly: Anomaly) -> Table:
    """Two lines: role, phase, node, scope and source; then the message, wrapped under the node."""
    # an op outside the autograd graph has no node: its op, scope and line are the anomaly's own
    name, detail = ((trace.nodes[anomaly.node].name, f" ({anomaly.op})") if anomaly.node is not None
                    else (anomaly.op, " (outside the autograd graph)"))
    role = Text(" culprit ", style=CULPRIT) if anomaly.role == "culprit" else Text("propagator", style="yellow")
    pieces = [Text.assemble((f"{anomaly.phase:<8} ", QUIET), (name, "bold"), (detail, QUIET))]
    if anomaly.scope:
        pieces.append(Text(anomaly.scope, style=SCOPE))
    if anomaly.source is not None:
        pieces.append(Text(place(anomaly.source), style=QUIET))
    if anomaly.pass_index is not None and len(trace.passes) > 1:
        pieces.append(Text(f"pass {anomaly.pass_index}", style=QUIET))
    where = Flow(pieces, separator=" ")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=10)
    grid.add_column(ratio=1)
    grid.add_row(role, where)
    grid.add_row("", Flow(words(anomaly.message), separator=" "))
    return grid


class AnomalyList(OptionList):
    """Enter (or a click) on an anomaly posts `AnomalyList.Chosen`."""

    BINDINGS = movement("cursor_up", "cursor_down", "first", "last")

    class Chosen(Message):
        def __init__(self, anomaly: Anomaly) -> None:
            super().__init__()
            self.anomaly = anomaly

    def __init__(self, trace: Trace, *, id: str | None = None) -> None:
        self.anomalies = ordered_anomalies(trace)
        super().__init__(*(Option(anomaly_prompt(trace, anomaly)) for anomaly in self.anomalies), id=id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self.anomalies[event.option_index]))
