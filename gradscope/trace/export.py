"""Exports of a trace for other tools: Graphviz DOT and JSON (the trace schema, values inline)."""

from __future__ import annotations

import functools
import io
import json
from json.encoder import encode_basestring_ascii
from typing import TextIO

import numpy as np

from gradscope._stats import TensorStats
from gradscope.trace.model import NodeRecord, TensorRecord, Trace
from gradscope.trace.tracefile import _finite_json, collector_paused, to_manifest

FOLD_ABOVE = 400  # nodes: bigger graphs are folded into one box per module scope
VALUES_CHUNK = 8192  # array elements formatted at once
PIECES_CHARS = 1 << 18  # text handed to the stream at once


def write_json(trace: Trace, stream: TextIO, extra: dict | None = None) -> None:
    """Write the trace as JSON, following docs/trace-format.md, with small arrays inline as `values`;
    `extra` keys (JSON-able) follow the trace's own (`inspect --json` adds its `warnings`).

    The document goes out a node, a pass and a tensor at a time, and an array's values a chunk at a
    time: memory holds the trace's own arrays, never the text. The text is `json.dumps(document,
    indent=1)` exactly.

    >>> with open("trace.json", "w") as stream:
    ...     write_json(trace, stream)
    """
    with collector_paused():
        pieces = _Pieces(stream)
        _write_document(trace, pieces, extra)
        pieces.flush()


def _write_document(trace: Trace, stream: _Pieces, extra: dict | None) -> None:
    manifest, records = to_manifest(trace)
    for record in records:
        record.values  # noqa: B018 - read every array first: a bad one fails before any output
    TensorRecord.compute_all_stats(records)
    manifest.update(extra or {})

    def tensor(record: TensorRecord) -> None:
        stream.write('{\n   "stats": ' + _stats_text(record.stats, 3) + ',\n   "values": ')
        values = record.values
        if values is None:
            stream.write("null")
        else:
            _write_values(stream, values, 3)
        stream.write("\n  }")

    stream.write("{")
    for index, (key, value) in enumerate(manifest.items()):
        stream.write(("," if index else "") + f"\n {json.dumps(key)}: ")
        if isinstance(value, list):
            _write_list(stream, value, tensor if key == "tensors" else lambda item: stream.write(_dumps(item, 2)))
        else:
            stream.write(_dumps(value, 1))
    stream.write("\n}")


class _Pieces:
    """Text on its way to a stream, handed over PIECES_CHARS at a time: a call to a text stream's write
    costs several times appending to a list, and the export is hundreds of thousands of pieces."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pieces: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.pieces.append(text)
        self.size += len(text)
        if self.size >= PIECES_CHARS:
            self.flush()

    def flush(self) -> None:
        self.stream.write("".join(self.pieces))
        self.pieces.clear()
        self.size = 0


def to_json(trace: Trace, extra: dict | None = None) -> str:
    """`write_json` into a string."""
    buffer = io.StringIO()
    write_json(trace, buffer, extra)
    return buffer.getvalue()


_compact = json.JSONEncoder(check_circular=False).encode  # C-accelerated, unlike any encoder with an indent
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _scalar(value) -> str:
    """One JSON scalar exactly as json.dumps writes it, without the cost of a call into the encoder."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        text = float.__repr__(value)
        return _NON_FINITE.get(text, text)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return _compact(value)


def _dumps(value, level: int) -> str:
    """`value` as json.dumps(..., indent=1) prints it `level` containers deep.

    Written here because json's indenting encoder is pure Python, several times slower than its C
    one: containers are laid out by hand, scalars written as the encoder writes them."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = "\n" + " " * (level + 1)
        return "{" + inner + ("," + inner).join([encode_basestring_ascii(str(key)) + ": " + _dumps(item, level + 1)
                                                 for key, item in value.items()]) + "\n" + " " * level + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = "\n" + " " * (level + 1)
        return "[" + inner + ("," + inner).join([_dumps(item, level + 1) for item in value]) + "\n" + " " * level + "]"
    return _scalar(value)


def _stats_text(stats: TensorStats, level: int) -> str:
    """`_dumps(_finite_json(stats.to_json()), level)`, from one template (a trace has tens of thousands)."""
    number, (inner, deeper) = _number_text, _indents(level)
    low, high = stats.histogram_range
    return (f'{{{inner}"shape": {_list_text(stats.shape, level + 1)},{inner}"dtype": '
            f'{encode_basestring_ascii(stats.dtype)},{inner}"numel": {stats.numel},{inner}"norm": '
            f'{number(stats.norm)},{inner}"mean": {number(stats.mean)},{inner}"std": {number(stats.std)},'
            f'{inner}"min": {number(stats.min)},{inner}"max": {number(stats.max)},{inner}"nan": {stats.nan},'
            f'{inner}"posinf": {stats.posinf},{inner}"neginf": {stats.neginf},{inner}"zero_fraction": '
            f'{number(stats.zero_fraction)},{inner}"histogram": {_list_text(stats.histogram, level + 1)},'
            f'{inner}"histogram_range": [{deeper}{number(low)},{deeper}{number(high)}{inner}]\n{" " * level}}}')


@functools.cache
def _indents(level: int) -> tuple[str, str]:
    """The line breaks before an item `level` deep and before an item of a list inside it."""
    return "\n" + " " * (level + 1), "\n" + " " * (level + 2)


def _number_text(value: float) -> str:
    """A float as `_dumps(_finite_json(value))` writes it: non-finite ones as strings."""
    text = float.__repr__(value)
    return _NON_FINITE_TEXT.get(text, text)


_NON_FINITE_TEXT = {"nan": '"nan"', "inf": '"inf"', "-inf": '"-inf"'}


def _list_text(counts: tuple[int, ...], level: int) -> str:
    """A list of integers `level` deep, as `_dumps` writes it."""
    if not counts:
        return "[]"
    inner, _ = _indents(level)
    return "[" + inner + ("," + inner).join(map(int.__repr__, counts)) + inner[:-1] + "]"


def _write_list(stream: _Pieces, items: list, write_item) -> None:
    """A top-level list, one item at a time."""
    if not items:
        stream.write("[]")
        return
    for index, item in enumerate(items):
        stream.write(",\n  " if index else "[\n  ")
        write_item(item)
    stream.write("\n ]")


def _write_values(stream: _Pieces, array: np.ndarray, level: int) -> None:
    """An array as json.dumps prints its nested lists `level` deep, non-finite numbers as strings; a big
    array a block of rows at a time (a row too big on its own, recursively)."""
    if array.size <= VALUES_CHUNK or array.ndim == 0:
        stream.write(_values_text(array, level))
        return
    separator = ",\n" + " " * (level + 1)
    rows_at_once = max(1, VALUES_CHUNK // (array.size // len(array)))
    stream.write("[" + separator[1:])
    for start in range(0, len(array), rows_at_once):
        if start:
            stream.write(separator)
        rows = array[start:start + rows_at_once]
        if rows.size <= VALUES_CHUNK:
            stream.write(_values_text(rows, level)[level + 3:-(level + 2)])  # its items: no "[\n  " nor "\n ]"
        else:
            _write_values(stream, rows[0], level + 1)
    stream.write("\n" + " " * level + "]")


def _values_text(array: np.ndarray, level: int) -> str:
    """An array as json.dumps(_finite_json(array.tolist()), indent=1) writes it `level` deep.

    The C encoder writes the nested lists compactly (`[[1.5, NaN], [2.0, 3.0]]`, each number as
    json.dumps would), then a few replacements lay them out: numbers never contain a bracket, a comma or
    a space, so the text between two numbers says how many lists close and open there. (json's
    indenting encoder is pure Python, many times slower.)"""
    if array.ndim == 0 or not array.size:  # no list of numbers to lay out
        return _dumps(_finite_json(array.tolist()), level)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{array.dtype} values have no JSON form")
    depth = array.ndim
    text = _compact(array.tolist())[depth:-depth]
    if "N" in text or "I" in text:  # NaN, Infinity, -Infinity: the export writes them as strings
        text = text.replace("-Infinity", '"-inf"').replace("Infinity", '"inf"').replace("NaN", '"nan"')
    indents = ["\n" + " " * (level + k) for k in range(depth + 1)]  # a list `k` deep holds items at k + 1
    for closed in range(depth - 1, 0, -1):  # most lists closed first: "]], [[" holds "], ["
        text = text.replace("]" * closed + ", " + "[" * closed,
                            "".join(indents[depth - i] + "]" for i in range(1, closed + 1)) + ","
                            + "".join(indents[depth - i] + "[" for i in range(closed, 0, -1)) + indents[depth])
    return ("[" + "".join(indents[k] + "[" for k in range(1, depth)) + indents[depth]
            + text.replace(", ", "," + indents[depth])
            + "".join(indents[k] + "]" for k in range(depth - 1, -1, -1)))


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
