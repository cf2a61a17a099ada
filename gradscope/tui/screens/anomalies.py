"""The anomaly list on its own screen; choosing one returns it to the main screen, which jumps to its node."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from gradscope.trace.model import Anomaly, Trace
from gradscope.tui.present import counted
from gradscope.tui.widgets.anomaly_list import AnomalyList
from gradscope.tui.widgets.key_footer import KeyFooter


class AnomaliesScreen(Screen[None]):
    """Calls `chosen` with the anomaly chosen, then closes; escape closes it."""

    CSS_PATH = "lists.tcss"
    BINDINGS = [Binding("escape,a", "dismiss_none", "Back")]

    def __init__(self, trace: Trace, chosen: Callable[[Anomaly], None]) -> None:
        super().__init__()
        self.trace = trace
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        yield Header()
        culprits = len(self.trace.culprits())
        if self.trace.anomalies:
            propagators = counted(len(self.trace.anomalies) - culprits, "propagator", "propagators")
            caption = (f"{counted(len(self.trace.anomalies), 'anomaly', 'anomalies')}: {culprits} culprit (made the "
                       f"first non-finite value), {propagators} · enter: go to the node")
        else:
            caption = "no anomalies: every value and gradient is finite"
        yield Static(caption, classes="caption")
        yield AnomalyList(self.trace)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "anomalies"
        self.query_one(AnomalyList).focus()

    def on_anomaly_list_chosen(self, event: AnomalyList.Chosen) -> None:
        self.chosen(event.anomaly)
        self.dismiss()

    def action_dismiss_none(self) -> None:
        self.dismiss()
