"""The backward passes of a trace, one line each: loss, nodes, anomalies and the culprit, if any."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from gradscope._format import format_number
from gradscope.trace.model import Anomaly, Trace
from gradscope.tui.keys import movement
from gradscope.tui.present import CULPRIT, NONFINITE, QUIET, anomaly_pass, anomaly_subject, counted


def pass_prompt(trace: Trace, index: int, anomalies: list[Anomaly], first_anomalous: bool) -> Text:
    """`pass 2  loss 0.31  5 nodes  1 anomaly  ◀ culprit SqrtBackward0 (backward)`."""
    record = trace.passes[index]
    text = Text.assemble((f"pass {index:<4}", "bold"))
    root = trace.nodes.get(record.roots[0]) if record.roots else None
    loss = root.outputs[0] if root is not None and root.outputs and root.outputs[0] is not None else None
    if loss is not None and loss.stats.numel == 1:
        text.append(" loss ", style=QUIET)
        text.append(format_number(loss.stats.max) if loss.stats.finite else "nan" if loss.stats.nan else "inf",
                    style="" if loss.stats.finite else NONFINITE)
    text.append(f"  {len(record.order):,} nodes", style=QUIET)
    if anomalies:
        text.append(f"  {counted(len(anomalies), 'anomaly', 'anomalies')}", style=NONFINITE)
    culprit = next((anomaly for anomaly in anomalies if anomaly.role == "culprit"), None)
    if culprit is not None:
        text.append("  ")
        text.append(" ◀ culprit ", style=CULPRIT)
        text.append(f" {anomaly_subject(trace, culprit)} ({culprit.phase})")
    if first_anomalous:
        text.append("  the first anomalous pass", style=QUIET)
    return text


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
        super().__init__(*(Option(pass_prompt(trace, index, by_pass.get(index, []), index == first))
                           for index in range(len(trace.passes))), id=id)
        self.shown = shown

    def on_mount(self) -> None:
        if self.shown is not None:
            self.highlighted = self.shown

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(event.option_index))
