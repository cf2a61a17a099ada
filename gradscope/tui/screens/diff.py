"""The diff screen (`gradscope browse A B`): run A's graph with the nodes that differ from run B marked,
and the detail pane showing both sides of the selected node."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from gradscope.compare import DiffReport
from gradscope.trace.model import Trace
from gradscope.tui.outline import Outline
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.widgets.diff_detail import DiffDetail
from gradscope.tui.widgets.diff_tree import DiffTree, difference_marks
from gradscope.tui.widgets.graph_tree import GraphTree
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.title_header import TitleHeader


class DiffScreen(BrowserScreen):
    """Browses run A of a comparison, in the pass of the first divergence, opening on it."""

    CSS_PATH = "diff.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # as the main screen: even panes below 120 columns
    BINDINGS = [
        Binding("n", "difference(1)", "Next ≠", tooltip="Next node that differs (in execution order)"),
        Binding("N", "difference(-1)", "Previous ≠", show=False, tooltip="Previous node that differs"),
        Binding("right_square_bracket", "switch_pass(1)", "Pass", tooltip="Next backward pass of A"),
        Binding("left_square_bracket", "switch_pass(-1)", "Previous pass", show=False,
                tooltip="Previous backward pass of A"),
    ]

    def __init__(self, a: Trace, b: Trace, report: DiffReport) -> None:
        super().__init__()
        self.a, self.b, self.report = a, b, report
        first = report.first
        self.outline: Outline
        self.marks: dict[int, str] = {}
        self.differing: list[int] = []  # the marked nodes of the pass shown, in execution order
        self.position: int | None = None  # in `differing`, as n and N walk it
        self._show_pass(first.pass_index if first is not None and first.pass_index is not None else -1)

    def _show_pass(self, pass_index: int) -> None:
        self.outline = Outline(self.a, pass_index)
        self.pass_index = self.outline.pass_index
        self.marks = difference_marks(self.report, self.pass_index)
        self.differing = [node for node in self.marks if node in self.outline]
        self.position = None

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with Horizontal(id="body"):
            yield DiffTree(self.outline, self.marks, id="graph")
            yield DiffDetail(self.a, self.b, self.report, id="detail")
        yield Static(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        report = self.report
        self._describe()
        elsewhere = sum(1 for d in report.differences if d.a is None)
        status = report.summary() + (f" · {elsewhere} differences in B only, not in this tree" if elsewhere else "")
        self.query_one("#status", Static).update(status)
        tree = self.query_one(GraphTree)
        tree.focus()
        if self.differing:
            self.action_difference(1)

    def _describe(self) -> None:
        report = self.report
        verdict = f"{report.a_label} {'=' if report.equal else '≠'} {report.b_label}"
        # passes count from 0, as on the main screen and in the first divergence's line below
        shown = "" if self.pass_index is None else f" · pass {self.pass_index} of {len(self.a.passes)}"
        self.sub_title = f"{verdict}{shown} · {len(self.differing)} nodes differ here"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_pass":
            return len(self.a.passes) > 1  # hidden from the footer for single-pass traces
        return True

    def action_switch_pass(self, step: int) -> None:
        self._show_pass((self.pass_index + step) % len(self.a.passes))
        self.query_one(DiffTree).show_marked(self.outline, self.marks)
        self._describe()

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
