"""Trace files: one zip holding `manifest.json` and one `.npy` per stored array (docs/trace-format.md).

Writing is atomic (a temporary file renamed into place). Reading parses the manifest, checks it
thoroughly and loads arrays only when asked, always with `allow_pickle=False`: opening a trace file
never runs code. Anything malformed raises `TraceFormatError`.
"""

from __future__ import annotations

import io
import json
import math
import os
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np

from gradscope._stats import TensorStats
from gradscope.trace.model import (
    Anomaly,
    NodeRecord,
    Parameter,
    PassRecord,
    SourceLocation,
    TensorRecord,
    Trace,
)
from gradscope.trace.output import write_atomically

FORMAT = "gradscope-trace"
MAX_MANIFEST_BYTES = 1 << 30
# what a damaged zip member can raise while being opened or inflated
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
               RuntimeError, zlib.error, KeyError, IndexError, OverflowError)
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


class TraceFormatError(ValueError):
    """The file is not a readable gradscope trace (corrupt, truncated, another kind, or newer)."""


# ------------------------------------------------------------------------------------------- writing
class _TensorTable:
    """Each distinct TensorRecord is written once and referred to by its index."""

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self.arrays: dict[str, np.ndarray] = {}
        self._index: dict[int, int] = {}

    def ref(self, record: TensorRecord | None) -> int | None:
        if record is None:
            return None
        key = id(record)
        if key in self._index:
            return self._index[key]
        index = len(self.entries)
        entry = {"stats": _finite_json(record.stats.to_json()), "array": None}
        values = record.values
        if values is not None:
            name = f"arrays/{index}.npy"
            self.arrays[name] = values
            entry["array"] = name
        self.entries.append(entry)
        self._index[key] = index
        return index


def _finite_json(value):
    """JSON has no NaN/Infinity: write them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_json(v) for v in value]
    return value


def to_manifest(trace: Trace) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON document and the arrays of a trace (also what `export --format json` prints)."""
    table = _TensorTable()
    nodes = []
    for node in trace.nodes.values():
        nodes.append({
            "id": node.id, "name": node.name, "op": node.op, "kind": node.kind, "scope": node.scope,
            "source": None if node.source is None else
            {"file": node.source.file, "line": node.source.line, "function": node.source.function},
            "params": node.params, "next": [[child, nr] for child, nr in node.next],
            "inputs": [table.ref(r) for r in node.inputs], "outputs": [table.ref(r) for r in node.outputs],
            "saved": {name: table.ref(r) for name, r in node.saved.items()}, "leaf_name": node.leaf_name,
            "hooks": node.hooks,
        })
    passes = [{
        "index": p.index, "roots": p.roots, "order": p.order,
        "grad_outputs": {str(k): [table.ref(r) for r in v] for k, v in p.grad_outputs.items()},
        "grad_inputs": {str(k): [table.ref(r) for r in v] for k, v in p.grad_inputs.items()},
        "leaf_grads": {str(k): table.ref(r) for k, r in p.leaf_grads.items()},
    } for p in trace.passes]
    manifest = {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "meta": _finite_json(trace.meta), "nodes": nodes,
        "passes": passes,
        "parameters": [{"name": p.name, "node": p.node, "value": table.ref(p.value), "module": p.module}
                       for p in trace.parameters],
        "anomalies": [{"phase": a.phase, "role": a.role, "node": a.node, "pass": a.pass_index, "message": a.message}
                      for a in trace.anomalies],
        "tensors": table.entries,
    }
    return manifest, table.arrays


def save_trace(trace: Trace, path: str | os.PathLike) -> None:
    """Write `trace` to `path` atomically; an `OutputError` names `path` if that fails.

    This replaces whatever `path` holds: the CLI and the browser check first with
    `gradscope.trace.output.check_output`, which refuses to overwrite files that aren't traces.
    """
    write_atomically(path, lambda stream: write_trace(trace, stream))


def write_trace(trace: Trace, stream) -> None:
    """Write `trace` as a trace file to a binary stream."""
    manifest, arrays = to_manifest(trace)
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, np.require(array, requirements='C'), allow_pickle=False)
            archive.writestr(name, buffer.getvalue())


# ------------------------------------------------------------------------------------------- reading
def load_trace(path: str | os.PathLike) -> Trace:
    """Read a trace file; arrays are loaded when first used."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (FileNotFoundError, PermissionError):
        raise
    except IsADirectoryError:
        raise TraceFormatError(f"{path}: not a gradscope trace file (it is a directory)") from None
    except _ZIP_ERRORS as error:
        raise TraceFormatError(f"{path}: not a gradscope trace file (not a zip archive: {error})") from None
    try:
        info = archive.getinfo(MANIFEST)
        if info.file_size > MAX_MANIFEST_BYTES:
            raise TraceFormatError(f"{path}: manifest is implausibly large ({info.file_size} bytes)")
        raw = archive.read(info)
    except KeyError:
        raise TraceFormatError(f"{path}: not a gradscope trace file (no {MANIFEST})") from None
    except _ZIP_ERRORS as error:
        raise TraceFormatError(f"{path}: corrupt trace file ({type(error).__name__}: {error})") from None
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, bad UTF-8, absurd numbers, deep nesting
        raise TraceFormatError(f"{path}: corrupt manifest ({type(error).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TraceFormatError(f"{path}: not a gradscope trace file (format is not {FORMAT!r})")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise TraceFormatError(f"{path}: trace file has no valid schema_version")
    if version > SCHEMA_VERSION:
        raise TraceFormatError(f"{path}: trace schema version {version} is newer than this gradscope supports "
                               f"({SCHEMA_VERSION}); upgrade gradscope to read it")
    try:
        return _parse(manifest, _ArrayReader(path, archive))
    except TraceFormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError, OverflowError) as error:
        raise TraceFormatError(f"{path}: malformed trace manifest ({type(error).__name__}: {error})") from None


class _ArrayReader:
    """Loads `.npy` members on demand from the open archive, never unpickling."""

    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.archive = archive
        self.names = set(archive.namelist())
        self.lock = threading.Lock()

    def loader(self, name: str, stats: TensorStats):
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise TraceFormatError(f"{self.path}: array {name!r} is missing from the trace file") from None

        def load() -> np.ndarray:
            try:
                return self._read(name, info, stats)
            except TraceFormatError:
                raise
            except (*_ZIP_ERRORS, MemoryError) as error:
                raise TraceFormatError(f"{self.path}: corrupt array {name!r} "
                                   f"({type(error).__name__}: {error})") \
                    from None
        return load

    def _read(self, name: str, info: zipfile.ZipInfo, stats: TensorStats) -> np.ndarray:
        """Check the .npy header against the manifest's statistics before reading any data."""
        limit = 4096 + stats.numel * 16
        if info.file_size > limit:
            raise TraceFormatError(f"{self.path}: corrupt array {name!r} "
                                   f"(larger than its {stats.numel} elements allow)")
        with self.lock:
            data = self.archive.read(info)
        stream = io.BytesIO(data)
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise TraceFormatError(f"{self.path}: corrupt array {name!r} "
                                   f"(unsupported .npy version {version})")
        if dtype.hasobject:
            raise TraceFormatError(f"{self.path}: corrupt array {name!r} "
                                   f"(it holds Python objects; refusing to load it)")
        if tuple(shape) != stats.shape:
            raise TraceFormatError(f"{self.path}: corrupt array {name!r} "
                                   f"(shape {tuple(shape)}, expected {stats.shape})")
        if len(data) - stream.tell() != stats.numel * dtype.itemsize:
            raise TraceFormatError(f"{self.path}: corrupt array {name!r} "
                                   f"(truncated or padded)")
        array = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(array, np.ndarray):
            raise TraceFormatError(f"{self.path}: corrupt array {name!r} "
                                   f"(not a single .npy array)")
        return array


def _number(value) -> float:
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _stats(data: dict) -> TensorStats:
    numeric = {k: _number(data[k]) for k in ("norm", "mean", "std", "min", "max", "zero_fraction")}
    counts = {k: _int(data[k]) for k in ("numel", "nan", "posinf", "neginf")}
    histogram = tuple(_int(c) for c in data["histogram"])
    low, high = (_number(v) for v in data["histogram_range"])
    shape = tuple(_int(s) for s in data["shape"])
    if any(s < 0 for s in shape) or math.prod(shape) != counts["numel"]:
        raise ValueError(f"shape {shape} doesn't match numel {counts['numel']}")
    return TensorStats(shape=shape, dtype=str(data["dtype"]), histogram=histogram, histogram_range=(low, high),
                       **numeric, **counts)


def _parse(manifest: dict, reader: _ArrayReader) -> Trace:
    tensors = []
    for entry in manifest["tensors"]:
        stats = _stats(entry["stats"])
        name = entry["array"]
        tensors.append(TensorRecord(stats=stats, loader=None if name is None else reader.loader(str(name), stats)))

    def ref(index) -> TensorRecord | None:
        if index is None:
            return None
        index = _int(index)
        if not 0 <= index < len(tensors):
            raise ValueError(f"tensor index {index} out of range")
        return tensors[index]

    def required(index) -> TensorRecord:
        if index is None:
            raise ValueError("a saved tensor or parameter value can't be null")
        return ref(index)

    trace = Trace(meta=dict(manifest.get("meta", {})))
    for data in manifest["nodes"]:
        source = data.get("source")
        node = NodeRecord(
            id=_int(data["id"]), name=str(data["name"]), op=str(data["op"]), kind=str(data["kind"]),
            scope=None if data.get("scope") is None else str(data["scope"]),
            source=None if source is None else SourceLocation(str(source["file"]), _int(source["line"]),
                                                              str(source["function"])),
            params={str(k): str(v) for k, v in data.get("params", {}).items()},
            next=[(None if child is None else _int(child), _int(nr)) for child, nr in data["next"]],
            inputs=[ref(i) for i in data["inputs"]], outputs=[ref(i) for i in data["outputs"]],
            saved={str(k): required(v) for k, v in data["saved"].items()},
            leaf_name=None if data.get("leaf_name") is None else str(data["leaf_name"]),
            hooks=[str(h) for h in data.get("hooks", [])],
        )
        trace.nodes[node.id] = node
    for node in trace.nodes.values():
        for child, _ in node.next:
            if child is not None and child not in trace.nodes:
                raise ValueError(f"node {node.id} points to unknown node {child}")
    for data in manifest["passes"]:
        record = PassRecord(index=_int(data["index"]), roots=[_node(trace, r) for r in data["roots"]],
                            order=[_node(trace, r) for r in data["order"]])
        record.grad_outputs = {_node(trace, int(k)): [ref(i) for i in v] for k, v in data["grad_outputs"].items()}
        record.grad_inputs = {_node(trace, int(k)): [ref(i) for i in v] for k, v in data["grad_inputs"].items()}
        record.leaf_grads = {_node(trace, int(k)): ref(v) for k, v in data["leaf_grads"].items()}
        trace.passes.append(record)
    for data in manifest["parameters"]:
        node = data.get("node")
        trace.parameters.append(Parameter(str(data["name"]), None if node is None else _node(trace, node),
                                          required(data["value"]), data.get("module")))
    for data in manifest["anomalies"]:
        pass_index = data.get("pass")
        trace.anomalies.append(Anomaly(str(data["phase"]), str(data["role"]), _node(trace, data["node"]),
                                       None if pass_index is None else _int(pass_index), str(data["message"])))
    return trace


def _node(trace: Trace, node_id) -> int:
    node_id = _int(node_id)
    if node_id not in trace.nodes:
        raise ValueError(f"unknown node id {node_id}")
    return node_id
