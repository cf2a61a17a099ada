"""The anomaly list on its own screen; choosing one returns it to the main screen, which jumps to its node."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from gradscope.trace.model import Anomaly, Trace
from gradscope.trace.passes import no_anomalies
from gradscope.tui.flow import Flow
from gradscope.tui.present import counted, place
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.widgets.anomaly_list import AnomalyList
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.title_header import TitleHeader


class AnomaliesScreen(BrowserScreen[None]):
    """Calls `chosen` with the anomaly chosen, then closes; escape closes it."""

    CSS_PATH = "lists.tcss"
    BINDINGS = [Binding("escape,a", "dismiss_none", "Back")]

    def __init__(self, trace: Trace, chosen: Callable[[Anomaly], None]) -> None:
        super().__init__()
        self.trace = trace
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        culprits = len(self.trace.culprits())
        if self.trace.anomalies:
            propagators = counted(len(self.trace.anomalies) - culprits, "propagator", "propagators")
            caption = Flow.phrases(f"{counted(len(self.trace.anomalies), 'anomaly', 'anomalies')}: "
                                   f"{counted(culprits, 'culprit', 'culprits')} (made the first non-finite value), "
                                   f"{propagators}", "enter: go to the node")
        else:
            caption = Flow.phrases(no_anomalies(self.trace, place))
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
