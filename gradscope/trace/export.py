"""Exports of a trace for other tools: Graphviz DOT and JSON (the trace schema, values inline)."""

from __future__ import annotations

import json

from gradscope.trace.model import NodeRecord, Trace
from gradscope.trace.tracefile import _finite_json, to_manifest

FOLD_ABOVE = 400  # nodes: bigger graphs are folded into one box per module scope


def to_json(trace: Trace) -> str:
    """The trace as JSON, following docs/trace-format.md, with small arrays inline as `values`."""
    manifest, arrays = to_manifest(trace)
    for entry in manifest["tensors"]:
        name = entry.pop("array")
        entry["values"] = None if name is None else _finite_json(arrays[name].tolist())
    return json.dumps(manifest, indent=1)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(node: NodeRecord) -> str:
    outputs = [r for r in node.outputs if r is not None]
    return "×".join(map(str, outputs[0].shape)) if outputs and outputs[0].shape else "scalar" if outputs else ""


def to_dot(trace: Trace, fold: int = FOLD_ABOVE) -> str:
    """Graphviz source: leaves blue, saved tensors orange, the loss green, culprits red, propagators pink;
    nodes grouped in clusters by module scope, folded to one box per scope above `fold` nodes."""
    culprits = {a.node for a in trace.anomalies if a.role == "culprit"}
    propagators = {a.node for a in trace.anomalies if a.role == "propagator"} - culprits
    roots = {r for p in trace.passes for r in p.roots}
    lines = ["digraph gradscope {", '  rankdir="BT";', '  node [fontname="Helvetica", fontsize=10];']
    folded = len(trace.nodes) > fold

    def node_id(node: NodeRecord) -> str:
        if folded and node.scope and node.kind != "leaf":
            return _quote("scope:" + node.scope)
        return f"n{node.id}"

    if folded:
        counts: dict[str, int] = {}
        for node in trace.nodes.values():
            if node.scope and node.kind != "leaf":
                counts[node.scope] = counts.get(node.scope, 0) + 1
        for scope, count in counts.items():
            lines.append(f"  {_quote('scope:' + scope)} [shape=box3d, label={_quote(f'{scope} ({count} ops)')}];")
    clusters: dict[str, list[str]] = {}
    for node in trace.nodes.values():
        if folded and node.scope and node.kind != "leaf":
            continue
        attrs = {"label": f"{node.label}\\n{_shape(node)}", "shape": "box", "style": "filled", "fillcolor": "white"}
        if node.kind == "leaf":
            attrs.update(shape="ellipse", fillcolor="lightblue")
        if node.id in roots:
            attrs.update(shape="doubleoctagon", fillcolor="palegreen")
        if node.id in propagators:
            attrs["fillcolor"] = "pink"
        if node.id in culprits:
            attrs.update(fillcolor="red", fontcolor="white", penwidth="2")
        text = f"  n{node.id} [" + ", ".join(f"{k}={_quote(v) if k != 'label' else _quote_label(v)}"
                                             for k, v in attrs.items()) + "];"
        clusters.setdefault(node.scope or "", []).append(text)
        for index, (name, record) in enumerate(node.saved.items()):
            lines.append(f'  s{node.id}_{index} [shape=note, style=filled, fillcolor=orange, fontsize=8, '
                         f'label={_quote(f"{name} {list(record.shape)}")}];')
            lines.append(f"  s{node.id}_{index} -> n{node.id} [style=dashed, arrowhead=none];")
    for scope, texts in clusters.items():
        if scope:
            lines.append(f"  subgraph {_quote('cluster_' + scope)} {{ label={_quote(scope)}; style=rounded;")
            lines.extend("  " + t for t in texts)
            lines.append("  }")
        else:
            lines.extend(texts)
    edges = set()
    for node in trace.nodes.values():
        for child, _ in node.next:
            if child is not None:
                edge = (node_id(trace.nodes[child]), node_id(node))
                if edge[0] != edge[1]:
                    edges.add(edge)
    lines.extend(f"  {a} -> {b};" for a, b in sorted(edges))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote_label(text: str) -> str:
    # labels keep their \n line breaks
    return '"' + text.replace('"', '\\"') + '"'
