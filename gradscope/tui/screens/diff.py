"""The diff screen (`gradscope browse A B`): run A's graph with the nodes that differ from run B marked,
and the detail pane showing both sides of the selected node."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from gradscope.compare import DiffReport
from gradscope.trace.model import Trace
from gradscope.tui.outline import Outline
from gradscope.tui.widgets.diff_detail import DiffDetail
from gradscope.tui.widgets.diff_tree import DiffTree, difference_marks
from gradscope.tui.widgets.graph_tree import GraphTree


class DiffScreen(Screen):
    """Browses run A of a comparison, in the pass of the first divergence, opening on it."""

    CSS_PATH = "diff.tcss"
    BINDINGS = [
        Binding("n", "difference(1)", "Next ≠", tooltip="Next node that differs (in execution order)"),
        Binding("N", "difference(-1)", "Previous ≠", show=False, tooltip="Previous node that differs"),
    ]

    def __init__(self, a: Trace, b: Trace, report: DiffReport) -> None:
        super().__init__()
        self.a, self.b, self.report = a, b, report
        first = report.first
        self.pass_index = first.pass_index if first is not None and first.pass_index is not None else -1
        self.outline = Outline(a, self.pass_index)
        self.pass_index = self.outline.pass_index
        self.marks = difference_marks(report)
        self.differing = [node for node in self.marks if node in self.outline]  # in execution order
        self.position: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield DiffTree(self.outline, self.marks, id="graph")
            yield DiffDetail(self.a, self.b, self.report, id="detail")
        yield Static(id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        report = self.report
        self.sub_title = f"{report.a_label} ≠ {report.b_label}" if not report.equal else \
            f"{report.a_label} = {report.b_label}"
        elsewhere = sum(1 for d in report.differences if d.a is None)
        status = report.summary() + (f" · {elsewhere} differences in B only, not in this tree" if elsewhere else "")
        self.query_one("#status", Static).update(status)
        tree = self.query_one(GraphTree)
        tree.focus()
        if self.differing:
            self.action_difference(1)

    def on_graph_tree_highlighted(self, event: GraphTree.Highlighted) -> None:
        self.query_one(DiffDetail).show(event.node, self.pass_index)

    def action_difference(self, step: int) -> None:
        if not self.differing:
            self.notify("no node of this tree differs")
            return
        if self.position is None:
            self.position = 0 if step > 0 else len(self.differing) - 1
        else:
            self.position = (self.position + step) % len(self.differing)
        self.query_one(GraphTree).reveal(self.differing[self.position])
