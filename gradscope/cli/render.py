"""Rich renderings of a trace: summary, graph tree, parameter table, anomalies."""

from __future__ import annotations

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from gradscope._format import format_number, number_style
from gradscope.trace.model import NodeRecord, TensorRecord, Trace


def _number(value: float) -> Text:
    return Text(format_number(value), style=number_style(value))


def _grad_text(record: TensorRecord | None) -> Text:
    if record is None:
        return Text("")
    stats = record.stats
    if not stats.finite:
        return Text(f"grad ✗ {stats.nan} nan {stats.posinf + stats.neginf} inf", style="bold red")
    return Text(f"grad ‖{format_number(stats.norm)}‖", style="cyan")


def _loss_value(trace: Trace) -> str | None:
    if not trace.passes or not trace.passes[-1].roots:
        return None
    root = trace.nodes[trace.passes[-1].roots[0]]
    outputs = [r for r in root.outputs if r is not None]
    if not outputs:
        return None
    values = outputs[0].values
    return format_number(float(values.reshape(-1)[0])) if values is not None and values.size == 1 else None


def summary(trace: Trace) -> Panel:
    culprits = trace.culprits()
    source = trace.meta.get("script", "")
    entry = trace.meta.get("entry")
    lines = [
        f"[bold]{escape(source)}[/]" + (f"  entry [cyan]{escape(entry)}()[/]" if entry else "  (run as __main__)"),
        f"passes [bold]{len(trace.passes)}[/]   nodes [bold]{len(trace.nodes)}[/]   "
        f"parameters [bold]{len(trace.parameters)}[/]   anomalies "
        + (f"[bold red]{len(trace.anomalies)} ({len(culprits)} culprit)[/]" if trace.anomalies else "[green]none[/]"),
    ]
    loss = _loss_value(trace)
    if loss is not None:
        lines.append(f"loss [bold]{loss}[/]")
    return Panel("\n".join(lines), title="gradscope inspect", expand=False)


def _node_label(trace: Trace, node: NodeRecord, pass_index: int, culprits: set) -> Text:
    label = Text(node.label, style="bold blue" if node.kind == "leaf" else "bold")
    outputs = [r for r in node.outputs if r is not None]
    if outputs:
        label.append(f" {list(outputs[0].shape)}", style="dim")
    if node.kind != "leaf" and node.scope:
        label.append(f" {node.scope}", style="magenta")
    passes = trace.passes
    if passes:
        record = passes[pass_index]
        grad = record.leaf_grads.get(node.id) if node.kind == "leaf" else \
            next(iter(record.grad_outputs.get(node.id, [])), None)
        if grad is not None:
            label.append("  ")
            label.append_text(_grad_text(grad))
    if node.id in culprits:
        label.append("  ◀ culprit", style="bold red reverse")
    return label


def graph_tree(trace: Trace, depth: int = 8, pass_index: int = -1) -> Tree:
    """The backward graph from the loss down to the leaves; shared nodes appear once."""
    culprits = {a.node for a in trace.culprits()}
    roots = trace.passes[pass_index].roots if trace.passes else []
    tree = Tree(Text("backward graph (from the loss)", style="bold"))
    shown: set[int] = set()
    stack = [(tree, root, 0) for root in reversed(roots)]
    while stack:
        parent, node_id, level = stack.pop()
        node = trace.nodes[node_id]
        if node_id in shown:
            parent.add(Text(f"↑ {node.label} (shared, shown above)", style="dim italic"))
            continue
        shown.add(node_id)
        branch = parent.add(_node_label(trace, node, pass_index, culprits))
        children = [child for child, _ in node.next if child is not None]
        if children and level + 1 >= depth:
            branch.add(Text(f"… {len(children)} more below (raise --depth)", style="dim"))
            continue
        stack.extend((branch, child, level + 1) for child in reversed(children))
    return tree


def _broken_first(trace: Trace) -> list:
    """The parameters in the model's order, except that those with a non-finite gradient come first."""
    def fine(parameter) -> bool:
        grad = trace.parameter_grad(parameter)
        return grad is None or grad.stats.finite
    return sorted(trace.parameters, key=fine)


def parameter_table(trace: Trace) -> Table:
    table = Table(title="parameters", title_justify="left")
    for column, justify in (("name", "left"), ("shape", "left"), ("grad norm", "right"),
                            ("grad/param", "right"), ("zero", "right"), ("non-finite", "right")):
        # numbers are never cut mid-exponent (`1.01e-`): the name column folds instead
        table.add_column(column, justify=justify, no_wrap=column != "name",
                         overflow="fold" if column == "name" else "ellipsis")
    for parameter in _broken_first(trace):
        grad = trace.parameter_grad(parameter)
        shape = str(list(parameter.value.shape))
        if grad is None:
            table.add_row(parameter.name, shape, Text("no grad", style="bold yellow"), "—", "—", "—")
            continue
        stats = grad.stats
        nonfinite = Text(str(stats.nonfinite), style="bold red" if stats.nonfinite else "")
        value_norm = parameter.value.stats.norm
        ratio = "—" if stats.nonfinite else _number(stats.norm / value_norm if value_norm else float("inf"))
        table.add_row(parameter.name, shape, _number(stats.norm), ratio, f"{stats.zero_fraction:.0%}", nonfinite)
    return table


def anomaly_list(trace: Trace) -> Text:
    """Culprits in full (op, the user's line, module scope, why); the nodes that only passed the
    non-finite values on, in one line per phase."""
    if not trace.anomalies:
        return Text("no anomalies: every value and gradient is finite", style="green")
    text = Text("anomalies\n", style="bold")
    for anomaly in trace.culprits():
        text.append(f"✗ culprit ({anomaly.phase}) ", style="bold red")
        if anomaly.node is None:
            text.append(f"{anomaly.op} (outside the autograd graph)", style="bold")
        else:
            text.append(f"{trace.nodes[anomaly.node].name} ({anomaly.op})", style="bold")
        if anomaly.source is not None:
            text.append(f" at {anomaly.source}", style="cyan")
        if anomaly.scope:
            text.append(f" in {anomaly.scope}", style="magenta")
        text.append(f"\n    {anomaly.message}\n")
    for phase in ("forward", "backward"):
        names = [trace.nodes[a.node].name for a in trace.anomalies if a.role == "propagator" and a.phase == phase]
        if names:
            text.append(f"  passed on ({phase}) by {len(names)} node{'s' if len(names) > 1 else ''}: ", style="yellow")
            text.append(", ".join(names) + "\n")
    text.rstrip()
    return text
