"""What the browser says about a trace: numbers, gradient indicators, tree labels, anomaly order.

Styles use the terminal's ANSI colour names, so the browser follows the terminal's palette.
"""

from __future__ import annotations

import functools
import os

from rich.text import Text

from gradscope._format import format_number
from gradscope._stats import TensorStats
from gradscope.trace.model import Anomaly, SourceLocation, TensorRecord, Trace
from gradscope.tui.items import BranchItem, FoldItem, Item, LinkItem, MoreItem, NodeItem
from gradscope.tui.outline import Outline

CULPRIT = "bold red reverse"
NONFINITE = "bold red"
GRADIENT = "cyan"
SCOPE = "magenta"
LEAF = "bold blue"
QUIET = "dim"


def counted(count: int, singular: str, plural: str) -> str:
    """`1 anomaly`, `4 anomalies`."""
    return f"{count:,} {singular if count == 1 else plural}"


def shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(size) for size in shape) + "]"


def place(source: SourceLocation) -> str:
    """`file:line`, the file relative to the working directory when it is in it (as the user names it:
    `sample_models/nan_log.py:23`, a third of the width of its absolute path at 80 columns)."""
    return f"{shown_file(source.file, os.getcwd())}:{source.line}"


@functools.lru_cache(maxsize=256)
def shown_file(file: str, directory: str) -> str:
    """`file` relative to `directory` when it is in it (once per file: thousands of anomalies name a few)."""
    try:
        relative = os.path.relpath(file, directory)
    except ValueError:  # another drive (Windows), or a name no path can reach
        return file
    return relative if not relative.startswith(os.pardir) else file


def nonfinite_text(stats: TensorStats) -> str:
    """`12 nan 19 inf`: the non-finite counts that are not zero."""
    parts = [f"{stats.nan} nan"] if stats.nan else []
    infinite = stats.posinf + stats.neginf
    if infinite:
        parts.append(f"{infinite} inf")
    return " ".join(parts)


def gradient(trace: Trace, node_id: int, pass_index: int | None) -> TensorRecord | None:
    """The gradient that flowed into a node in a pass: a leaf's `.grad`, or the gradient of an op's output."""
    if pass_index is None or not trace.passes:
        return None
    record = trace.passes[pass_index]
    if node_id in record.leaf_grads:
        return record.leaf_grads[node_id]
    return next((grad for grad in record.grad_outputs.get(node_id, []) if grad is not None), None)


def gradient_text(record: TensorRecord | None) -> Text:
    """The compact indicator: `‖0.125‖`, or `✗ 12 nan 19 inf` in the error colour."""
    if record is None:
        return Text("")
    stats = record.stats
    if not stats.finite:
        return Text(f"✗ {nonfinite_text(stats)}", style=NONFINITE)
    return Text(f"‖{format_number(stats.norm)}‖", style=GRADIENT)


def first_anomalous_pass(trace: Trace) -> int | None:
    """The pass to show first: the first one with an anomaly, else the last; None without passes."""
    if not trace.passes:
        return None
    anomalous = [index for index in map(functools.partial(anomaly_pass, trace), trace.anomalies) if index is not None]
    return min(anomalous) if anomalous else len(trace.passes) - 1


def anomaly_pass(trace: Trace, anomaly: Anomaly) -> int | None:
    """The pass an anomaly belongs to: its own, or (a forward one) the first backward pass through its node."""
    if anomaly.pass_index is not None:
        return anomaly.pass_index
    return next((index for index, record in enumerate(trace.passes)
                 if anomaly.node in record.grad_outputs or anomaly.node in record.leaf_grads), None)


def anomaly_subject(trace: Trace, anomaly: Anomaly) -> str:
    """What an anomaly is about: its node, or its op when the op ran outside the autograd graph."""
    if anomaly.node is not None:
        return trace.nodes[anomaly.node].label
    return f"{anomaly.op} (outside the autograd graph)"


def ordered_anomalies(trace: Trace) -> list[Anomaly]:
    """Culprits first, then the nodes that only passed non-finite values on (each in recording order)."""
    return trace.culprits() + [anomaly for anomaly in trace.anomalies if anomaly.role != "culprit"]


class Labeller:
    """Tree labels for the items of an outline, in one pass of a trace.

    A culprit node is marked `◀ culprit`; the folds and nodes on the way to it a plain `◀`.
    """

    def __init__(self, outline: Outline) -> None:
        self.outline = outline
        self.trace = outline.trace
        self.culprits = {anomaly.node for anomaly in self.trace.culprits() if anomaly.node in outline}
        self.flagged = outline.culprit_ancestors  # folds and branches with a culprit somewhere inside

    def __call__(self, item: Item) -> Text:
        if isinstance(item, NodeItem):
            return self._node(item)
        if isinstance(item, LinkItem):
            node = self.trace.nodes[item.node]
            return Text(f"↗ {node.label} #{node.id} (shared)", style="dim italic")
        if isinstance(item, MoreItem):
            what = "nodes" if self.outline.lists_nodes(item.container) else "inputs"
            return Text(f"… {self.outline.count(item):,} more {what} (enter to show)", style="dim italic")
        return self._group(item)

    def _grad(self, node_id: int) -> Text:
        return gradient_text(gradient(self.trace, node_id, self.outline.pass_index))

    def _node(self, item: NodeItem) -> Text:
        """Name, culprit mark, gradient, shape, scope: in order of importance, since a narrow pane cuts the end."""
        node = self.trace.nodes[item.node]
        if node.kind == "leaf" and node.leaf_name:  # the name says more than AccumulateGrad
            label = Text(node.leaf_name, style=LEAF)
        elif node.kind == "leaf":
            label = Text.assemble((node.name, QUIET), " ", (f"#{node.id}", LEAF))
        else:
            label = Text(node.name, style="bold")
        if item.node in self.culprits:
            label.append(" ")
            label.append(" ◀ culprit ", style=CULPRIT)
        elif item in self.flagged:
            label.append(" ◀", style=NONFINITE)
        grad = self._grad(item.node)
        if grad:
            label.append("  ")
            label.append_text(grad)
        outputs = [record for record in node.outputs if record is not None]
        if outputs:
            label.append(" " + shape_text(outputs[0].shape), style=QUIET)
        if node.scope and node.scope != item.base:
            label.append(" " + node.scope, style=SCOPE)
        return label

    def _group(self, item: FoldItem | BranchItem) -> Text:
        count = self.outline.count(item)
        if isinstance(item, FoldItem):
            label = Text(item.scope, style=f"bold {SCOPE}")
        else:
            label = Text.assemble((self.trace.nodes[item.head].name, "bold"), (" …", QUIET))
        if item in self.flagged:
            label.append(" ◀", style=NONFINITE)
        grad = self._grad(self.outline.first_node(item))
        if grad:
            label.append("  ")
            label.append_text(grad)
        label.append(f" ({count:,} nodes)", style=QUIET)
        return label
