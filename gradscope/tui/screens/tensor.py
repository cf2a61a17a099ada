"""One tensor in full: statistics, histogram and values, with its gradient beside it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal

from gradscope.trace.model import TensorRecord
from gradscope.tui.keys import KeyScroll
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.tensor_view import TensorView
from gradscope.tui.widgets.title_header import TitleHeader


class TensorScreen(BrowserScreen[None]):
    """`name`'s record, and `partner_name`'s record next to it when there is one."""

    CSS_PATH = "tensor.tcss"
    BINDINGS = [Binding("escape", "dismiss", "Back")]

    def __init__(self, name: str, record: TensorRecord, partner_name: str = "",
                 partner: TensorRecord | None = None) -> None:
        super().__init__()
        self.tensors = [(name, record)] + ([(partner_name, partner)] if partner is not None else [])

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with KeyScroll(), Horizontal():
            for name, record in self.tensors:  # composed with their records: laid out once, filled
                beside = [(other, shown) for other, shown in self.tensors if shown is not record]
                yield TensorView(full=True, title=name, record=record, beside=beside)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = " · ".join(name for name, _ in self.tensors)
        self.query_one(KeyScroll).focus()
