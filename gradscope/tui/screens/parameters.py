"""The parameters table on its own screen; choosing a row returns its node to the main screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from gradscope.tui.parameter_index import ParameterIndex
from gradscope.tui.present import counted
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.parameters_table import ParametersTable


class ParametersScreen(Screen[int | None]):
    """Dismissed with the chosen parameter's node id, or None (escape)."""

    CSS_PATH = "lists.tcss"
    BINDINGS = [Binding("escape,p", "dismiss_none", "Back")]

    def __init__(self, parameters: ParameterIndex, pass_index: int | None) -> None:
        super().__init__()
        self.parameters = parameters
        self.pass_index = pass_index

    def compose(self) -> ComposeResult:
        yield Header()
        shown = "" if self.pass_index is None else f" after pass {self.pass_index}"
        parameters = counted(len(self.parameters.parameters), "parameter", "parameters")
        yield Static(f"{parameters}, gradients{shown} · enter: go to the node · 1-6 or a click on a header: sort",
                     classes="caption")
        yield ParametersTable(self.parameters, self.pass_index)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "parameters"
        self.query_one(ParametersTable).focus()

    def on_parameters_table_chosen(self, event: ParametersTable.Chosen) -> None:
        if event.row.node is None:
            self.notify(f"{event.row.name} never joined the graph: it has no node", severity="warning")
            return
        self.dismiss(event.row.node)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
