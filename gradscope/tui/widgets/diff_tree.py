"""Run A's graph with the nodes that differ from run B marked `≠` (and the folds that hold them)."""

from __future__ import annotations

from rich.text import Text

from gradscope.compare import DiffReport
from gradscope.tui.items import Item, NodeItem
from gradscope.tui.outline import Outline
from gradscope.tui.present import Labeller
from gradscope.tui.widgets.graph_tree import GraphTree

DIFFERS = "bold yellow"


def difference_marks(report: DiffReport, pass_index: int | None) -> dict[int, str]:
    """Node of A → what differs there first in pass `pass_index` (a node that runs in several passes
    may differ in one only): 'op', 'only in A', 'forward' or 'gradient'."""
    marks: dict[int, str] = {}
    for difference in report.differences:
        if difference.a is None or difference.a.id in marks or difference.pass_index != pass_index:
            continue
        if difference.kind == "structural":
            marks[difference.a.id] = "op" if difference.what == "different op" else difference.what
        else:
            marks[difference.a.id] = "forward" if difference.phase == "forward" else "gradient"
    return marks


class DiffLabeller(Labeller):
    """The usual labels, plus `≠ forward` on a node that differs and `≠` on each fold on the way to one."""

    def __init__(self, outline: Outline, marks: dict[int, str]) -> None:
        super().__init__(outline)
        self.marks = marks
        self.holding: set[Item] = set()
        for node in marks:
            if node in outline:
                self.holding.update(outline.path(node)[:-1])

    def __call__(self, item: Item) -> Text:
        label = super().__call__(item)
        if isinstance(item, NodeItem) and item.node in self.marks:
            label.append(f"  ≠ {self.marks[item.node]}", style=DIFFERS)
        elif item in self.holding:
            label.append("  ≠", style=DIFFERS)
        return label


class DiffTree(GraphTree):
    """The graph tree of run A, labelled by a `DiffLabeller` with the marks of the pass it shows."""

    def __init__(self, outline: Outline, marks: dict[int, str], *, id: str | None = None) -> None:
        self.marks = marks
        super().__init__(outline, id=id)

    def show_marked(self, outline: Outline, marks: dict[int, str]) -> None:
        """Show another pass, with its own marks."""
        self.marks = marks
        self.show_outline(outline)

    def make_labeller(self, outline: Outline) -> Labeller:
        return DiffLabeller(outline, self.marks)
