"""Exports of a trace for other tools: Graphviz DOT and JSON (the trace schema, values inline)."""

from __future__ import annotations

import functools
import io
import json
import operator
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import TextIO

import numpy as np

from gradscope._stats import TensorStats
from gradscope.trace import float_text
from gradscope.trace.model import NodeRecord, TensorRecord, Trace
from gradscope.trace.tracefile import _finite_json, collector_paused, to_manifest

FOLD_ABOVE = 400  # nodes: bigger graphs are folded into one box per module scope
VALUES_CHUNK = 8192  # array elements formatted at once
PIECES_CHARS = 1 << 18  # text handed to the stream at once
WINDOW_VALUES = 1 << 16  # elements of small arrays formatted in one window
RECENT_CHARS = 1 << 22  # text of the values of recent tensors kept for identical ones that follow


def write_json(trace: Trace, stream: TextIO, extra: dict | None = None) -> None:
    """Write the trace as JSON, following docs/trace-format.md, with small arrays inline as `values`;
    `extra` keys (JSON-able) follow the trace's own (`inspect --json` adds its `warnings`).

    The document goes out a node, a pass and a window of tensors at a time, and a big array's values a
    chunk at a time: memory holds the trace's own arrays, never the text. The text is `json.dumps(document,
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
    stream.write("{")
    for index, (key, value) in enumerate(manifest.items()):
        stream.write(("," if index else "") + f"\n {json.dumps(key)}: ")
        if key == "tensors":
            _write_tensors(stream, value)
        elif isinstance(value, list):
            _write_list(stream, value, lambda item: stream.write(_dumps(item, 2)))
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
    write = _SCALARS.get(type(value))
    return write(value) if write is not None else _compact(value)


def _float(value: float) -> str:
    text = float.__repr__(value)
    return _NON_FINITE.get(text, text)


_SCALARS = {str: encode_basestring_ascii, int: int.__repr__, float: _float, type(None): lambda _: "null",
            bool: lambda value: "true" if value else "false"}  # by exact type: json writes subclasses alike


def _dumps(value, level: int) -> str:
    """`value` as json.dumps(..., indent=1) prints it `level` containers deep.

    Written here because json's indenting encoder is pure Python, several times slower than its C
    one: containers are laid out by hand, scalars written as the encoder writes them (looked up by
    type, not through a call of `_dumps` each: a node of the graph is mostly scalars)."""
    scalar = _SCALARS.get
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = _indents(level)[0]
        return "{" + inner + ("," + inner).join([
            encode_basestring_ascii(str(key)) + ": " + (write(item) if (write := scalar(type(item))) else
                                                        _dumps(item, level + 1))
            for key, item in value.items()]) + inner[:-1] + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = _indents(level)[0]
        return "[" + inner + ("," + inner).join([write(item) if (write := scalar(type(item))) else
                                                 _dumps(item, level + 1) for item in value]) + inner[:-1] + "]"
    return _scalar(value)


def _stats_texts(stats: list[TensorStats], level: int) -> list[str]:
    """`_dumps(_finite_json(s.to_json()), level)` of each statistics, from one template: the floats of
    them all written by one call of the C encoder, the histograms by another (a trace has tens of
    thousands of statistics: a call per figure is what costs)."""
    floats = _compact([figure for s in stats for figure in (s.norm, s.mean, s.std, s.min, s.max, s.zero_fraction,
                                                              *s.histogram_range)])[1:-1]
    if "N" in floats or "I" in floats:  # NaN, Infinity, -Infinity: written as strings
        floats = floats.replace("-Infinity", '"-inf"').replace("Infinity", '"inf"').replace("NaN", '"nan"')
    inner, deeper = _indents(level)
    # "[[1, 2], [], [3]]" → "1, 2]]3": the counts of each histogram between two "]" (none in a number)
    histograms = _compact([s.histogram for s in stats])[2:-2].replace("], [", "]").replace(", ", "," + deeper)
    template = _stats_template(level)
    return [template % (_list_text(s.shape, level + 1), _dtype_text(s.dtype), s.numel, norm, mean, std, low, high,
                        s.nan, s.posinf, s.neginf, zero_fraction,
                        "[" + deeper + histogram + inner + "]" if histogram else "[]", range_low, range_high)
            for s, histogram, (norm, mean, std, low, high, zero_fraction, range_low, range_high)
            in zip(stats, histograms.split("]"), zip(*[iter(floats.split(", "))] * 8))]


@functools.cache
def _stats_template(level: int) -> str:
    """The text of statistics `level` deep, with a %s for each field's text."""
    inner, deeper = _indents(level)
    fields = "".join(f'{inner}"{name}": %s,' for name in ("shape", "dtype", "numel", "norm", "mean", "std", "min",
                                                        "max", "nan", "posinf", "neginf", "zero_fraction",
                                                        "histogram"))
    return "{" + fields + f'{inner}"histogram_range": [{deeper}%s,{deeper}%s{inner}]\n{" " * level}}}'


@functools.cache
def _dtype_text(dtype: str) -> str:
    return encode_basestring_ascii(dtype)


@functools.cache
def _indents(level: int) -> tuple[str, str]:
    """The line breaks before an item `level` deep and before an item of a list inside it."""
    return "\n" + " " * (level + 1), "\n" + " " * (level + 2)


@functools.lru_cache(maxsize=1024)  # a trace's tensors come in a few shapes
def _list_text(counts: tuple[int, ...], level: int) -> str:
    """A list of integers `level` deep, as `_dumps` writes it."""
    if not counts:
        return "[]"
    inner, _ = _indents(level)
    return "[" + inner + ("," + inner).join(map(int.__repr__, counts)) + inner[:-1] + "]"


def _write_tensors(stream: _Pieces, records: list[TensorRecord]) -> None:
    """The `tensors` list: each tensor's statistics and values.

    Tensors are formatted a window at a time (`_windows`), small ones of one dtype and shape together,
    and a tensor identical to one written a little before (the zero gradient of every layer of a deep
    model, the same weights in several passes) reuses its text: formatting numbers is what costs."""
    if not records:
        stream.write("[]")
        return
    values_texts, stats_texts = _RecentTexts(RECENT_CHARS), _RecentTexts(RECENT_CHARS // 4)
    separator = "[\n  "
    for window in _windows(records):
        stats = [record.stats for record in window]
        # by identity: identical tensors share statistics (compute_all_stats), which the records keep alive
        stats = stats_texts.texts([id(s) for s in stats], stats, lambda distinct: _stats_texts(distinct, 3))
        for record, stats_text, values_text in zip(window, stats, _small_values_texts(window, values_texts)):
            stream.write(separator + '{\n   "stats": ' + stats_text + ',\n   "values": ')
            separator = ",\n  "
            if values_text is not None:
                stream.write(values_text + "\n  }")
                continue
            values = record.values
            if values is None:
                stream.write("null")
            else:
                _write_values(stream, values, 3)  # a big one a piece at a time
            stream.write("\n  }")
    stream.write("\n ]")


def _small(values: np.ndarray | None) -> bool:
    """Whether an array's values are formatted with others of its dtype and shape: a few numbers."""
    return values is not None and values.ndim > 0 and 0 < values.size <= VALUES_CHUNK and values.dtype.kind in "biuf"


def _windows(records: list[TensorRecord]):
    """The records in runs holding WINDOW_VALUES elements of small arrays (`_small`) or so."""
    window: list[TensorRecord] = []
    size = 0
    for record in records:
        window.append(record)
        if _small(record.values):
            size += record.values.size
            if size >= WINDOW_VALUES:
                yield window
                window, size = [], 0
    if window:
        yield window


def _small_values_texts(records: list[TensorRecord], recent: _RecentTexts) -> list[str | None]:
    """The text of each record's values when they are small (`_small`), else None: those of one dtype and
    shape formatted together, those seen lately (by dtype, shape and bytes) not again."""
    texts: list[str | None] = [None] * len(records)
    alike: dict[tuple, list[int]] = {}
    for index, record in enumerate(records):
        values = record.values
        if _small(values):
            alike.setdefault((values.dtype, values.shape), []).append(index)
    for indices in alike.values():
        arrays = [records[index].values for index in indices]
        keys = [_content(array) for array in arrays]
        for index, text in zip(indices, recent.texts(keys, arrays, lambda distinct: _new_texts(distinct, recent))):
            texts[index] = text
    return texts


def _content(array: np.ndarray) -> tuple:
    """What a text of values is kept by: arrays alike in it are written alike."""
    return array.dtype, array.shape, array.tobytes()


def _new_texts(arrays: list[np.ndarray], recent: _RecentTexts) -> list[str]:
    """`_values_text(a, 3)` of distinct arrays of one dtype and shape. A matrix that is the transpose of
    one written lately or of another of these (a linear layer's weight and its `t`, their gradients)
    takes that one's numbers in its own order; the others are formatted, together."""
    if arrays[0].ndim != 2 or arrays[0].size < 2:
        return _values_texts(arrays, 3)
    texts: list[str | None] = [None] * len(arrays)
    own = {_content(array): index for index, array in enumerate(arrays)}
    of_others: list[tuple[int, int]] = []  # (index, the index of the array it is the transpose of)
    formatted = []
    for index, array in enumerate(arrays):
        transposed = _content(np.ascontiguousarray(array.T))
        if transposed in recent.known:
            texts[index] = _transposed_text(recent.known[transposed], array.shape[::-1], 3)
        elif own.get(transposed, index) < index:
            of_others.append((index, own[transposed]))
        else:
            formatted.append(index)
    for index, text in zip(formatted, _values_texts([arrays[index] for index in formatted], 3) if formatted else ()):
        texts[index] = text
    for index, source in of_others:  # a source comes first: formatted, or taken from another already
        texts[index] = _transposed_text(texts[source], arrays[source].shape, 3)
    return texts


def _transposed_text(text: str, shape: tuple[int, int], level: int) -> str:
    """The text `_values_text` writes for the transpose of a matrix of `shape`, from the matrix's text
    `level` deep: its numbers split apart, taken column by column, joined again (none formatted)."""
    top, row, item = ("\n" + " " * (level + k) for k in range(3))
    head, tail = "[" + row + "[" + item, row + "]" + top + "]"
    separator, between_rows = "," + item, row + "]," + row + "[" + item
    numbers = text[len(head):-len(tail)].replace(between_rows, separator).split(separator)
    rows, columns = shape
    taken = operator.itemgetter(*_transposed_order(rows, columns))(numbers)
    return head + between_rows.join([separator.join(taken[start:start + rows])
                                     for start in range(0, rows * columns, rows)]) + tail


@functools.lru_cache(maxsize=64)
def _transposed_order(rows: int, columns: int) -> tuple[int, ...]:
    """Where the elements of the transpose of a `rows` × `columns` matrix are, in C order, in the matrix."""
    return tuple(np.arange(rows * columns).reshape(rows, columns).T.ravel().tolist())


class _RecentTexts:
    """Texts made lately, by key, up to `limit` characters, the oldest forgotten first (one still in use
    is then made again, once: cheaper than keeping the order of use)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.known: dict = {}  # key → text, oldest first
        self.chars = 0

    def texts(self, keys: list, items: list, make: Callable[[list], list[str]]) -> list[str]:
        """The text of each item, by its key: remembered, or made by `make` from the items of the keys not
        known, each once."""
        known = self.known
        missing = {key: item for key, item in zip(keys, items) if key not in known}
        for key, text in zip(missing, make(list(missing.values())) if missing else ()):
            known[key] = text
            self.chars += len(text)
        found = [known[key] for key in keys]
        while self.chars > self.limit and len(known) > 1:
            self.chars -= len(known.pop(next(iter(known))))
        return found


def _values_texts(arrays: list[np.ndarray], level: int) -> list[str]:
    """`[_values_text(a, level) for a in arrays]` for arrays of one dtype and shape, with elements and at
    least one dimension: laid out together as the items of one list a level up, then split where one
    item ends and the next starts (",", a line break, `level` spaces, "["; lines inside an item are
    indented further)."""
    if len(arrays) == 1:
        return [_values_text(arrays[0], level)]
    items = _values_text(np.stack(arrays), level - 1)[level + 2:-(level + 1)].split(",\n" + " " * level + "[")
    return [items[0], *["[" + item for item in items[1:]]]


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

    The C encoder writes the nested lists with the line break between two numbers as their separator
    (`[[1.5,⏎    NaN],⏎    [2.0,⏎    3.0]]`, each number as json.dumps would), then a replacement per
    depth lays out the lists: numbers never contain a bracket or a comma, so the text between two
    numbers says how many lists close and open there. (json's indenting encoder is pure Python, many
    times slower.)"""
    if array.ndim == 0 or not array.size:  # no list of numbers to lay out
        return _dumps(_finite_json(array.tolist()), level)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{array.dtype} values have no JSON form")
    depth = array.ndim
    indents = ["\n" + " " * (level + k) for k in range(depth + 1)]  # a list `k` deep holds items at k + 1
    if array.dtype in float_text.FAST_DTYPES:
        return ("[" + "".join(indents[k] + "[" for k in range(1, depth)) + indents[depth]
                + float_text.join(array, *_layout_separators(array.shape, level)))
    separator = "," + indents[depth]
    text = _encoder(separator)(array.tolist())[depth:-depth]
    if "N" in text or "I" in text:  # NaN, Infinity, -Infinity: the export writes them as strings
        text = text.replace("-Infinity", '"-inf"').replace("Infinity", '"inf"').replace("NaN", '"nan"')
    for closed in range(depth - 1, 0, -1):  # most lists closed first: "]],⏎[[" holds "],⏎["
        text = text.replace("]" * closed + separator + "[" * closed,
                            "".join(indents[depth - i] + "]" for i in range(1, closed + 1)) + ","
                            + "".join(indents[depth - i] + "[" for i in range(closed, 0, -1)) + indents[depth])
    return ("[" + "".join(indents[k] + "[" for k in range(1, depth)) + indents[depth] + text
            + "".join(indents[k] + "]" for k in range(depth - 1, -1, -1)))


def _layout_separators(shape: tuple[int, ...], level: int) -> tuple[list[str], np.ndarray]:
    """What follows each value of an array of `shape` written `level` deep, as `_values_text` lays it out:
    the texts (closing 0 … ndim - 1 lists and opening as many again, then the end) and which follows each."""
    depth = len(shape)
    indents = ["\n" + " " * (level + k) for k in range(depth + 1)]
    separators = ["".join(indents[depth - i] + "]" for i in range(1, closed + 1)) + ","
                  + "".join(indents[depth - i] + "[" for i in range(closed, 0, -1)) + indents[depth]
                  for closed in range(depth)]
    separators.append("".join(indents[k] + "]" for k in range(depth - 1, -1, -1)))
    kinds = np.zeros(int(np.prod(shape)), np.int8)
    items = 1
    for size in shape[:0:-1]:  # after the last item of a list `depth - t` deep, t lists close
        items *= size
        kinds[items - 1::items] += 1
    kinds[-1] = depth
    return separators, kinds


@functools.cache
def _encoder(separator: str) -> Callable[[object], str]:
    """The C encoder writing `separator` between items (at most a few: one per depth and level)."""
    return json.JSONEncoder(check_circular=False, separators=(separator, ": ")).encode


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
