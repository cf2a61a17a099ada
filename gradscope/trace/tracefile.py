"""Trace files: one zip holding `manifest.json` and one `.npy` per stored array (docs/trace-format.md).

Writing is atomic (a temporary file renamed into place). Reading treats the file as untrusted: it
parses the manifest, checks it thoroughly and loads arrays only when asked, parsing `.npy` headers as
data (never unpickling: opening a trace file never runs code). Only what gradscope writes is accepted,
within limits that bound the time and memory any read takes, whatever the zip headers claim; anything
else raises `TraceFormatError`.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import reprlib
import threading
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
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
SCHEMA_VERSION = 2  # 2: anomalies carry op, node_name, file, line, function, scope; node may be null
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
        "anomalies": [_anomaly_json(trace, a) for a in trace.anomalies],
        "tensors": table.entries,
    }
    return manifest, table.arrays


def _anomaly_json(trace: Trace, anomaly: Anomaly) -> dict:
    source = anomaly.source
    return {"phase": anomaly.phase, "role": anomaly.role, "pass": anomaly.pass_index, "node": anomaly.node,
            "node_name": None if anomaly.node is None else trace.nodes[anomaly.node].name, "op": anomaly.op,
            "file": source and source.file, "line": source and source.line, "function": source and source.function,
            "scope": anomaly.scope, "message": anomaly.message}


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
# What a trace file may ask of its reader (docs/trace-format.md, "Limits")
MAX_MANIFEST_BYTES = 256 << 20
MAX_ARRAY_BYTES = 1 << 30
MAX_JSON_DEPTH = 32  # containers inside one another in `meta`, counting the manifest and `meta` itself
MAX_EMPTY_POSITIONS = 1 << 16  # an array without elements may still claim [65536, 0]: that many empty rows
_NPY_HEADER_BYTES = 10_000  # NumPy's own limit
_CHUNK = 1 << 16  # bytes inflated at once
STORED_DTYPES = {name: np.dtype(name) for name in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                                   "uint32", "uint64", "float16", "float32", "float64")}
NODE_KINDS = frozenset({"op", "leaf", "function", "other"})
PHASES = frozenset({"forward", "backward"})
ROLES = frozenset({"culprit", "propagator"})
# what a damaged zip member can raise while being opened or inflated
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
               RuntimeError, zlib.error, KeyError, IndexError, OverflowError)
_MANIFEST_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError, OverflowError)
_ARRAY_ERRORS = (*_ZIP_ERRORS, MemoryError, RecursionError, SyntaxError, TypeError)  # and from a .npy header


def load_trace(path: str | os.PathLike) -> Trace:
    """Read a trace file; arrays are loaded when first used.

    The file is untrusted: whatever gradscope would not have written raises `TraceFormatError`, and no read
    takes more memory than the limits above allow, whatever the zip headers claim.

    >>> trace = load_trace("run.gstrace")
    """
    path = Path(path)
    archive = _open_archive(path)
    try:
        manifest = _read_manifest(path, archive)
        try:
            return _parse(manifest, path, archive)
        except _MANIFEST_ERRORS as error:
            raise TraceFormatError(f"{path}: malformed trace manifest ({type(error).__name__}: {error})") from None
    except BaseException:
        archive.close()
        raise


def _open_archive(path: Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (FileNotFoundError, PermissionError):
        raise
    except IsADirectoryError:
        raise TraceFormatError(f"{path}: not a gradscope trace file (it is a directory)") from None
    except _ZIP_ERRORS as error:
        raise TraceFormatError(f"{path}: not a gradscope trace file (not a zip archive: {error})") from None
    names = archive.namelist()
    if len(set(names)) != len(names):  # zipfile would silently read the last one
        twin = next(name for name, count in Counter(names).items() if count > 1)
        archive.close()
        raise TraceFormatError(f"{path}: corrupt trace file (member {twin!r} appears more than once)")
    return archive


def _open_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        # NOTE: zipfile inflates bzip2 and lzma members without an output limit
        raise TraceFormatError(f"{path}: corrupt trace file ({info.filename!r} is compressed with method "
                               f"{info.compress_type}; gradscope writes deflated or stored members)")
    return archive.open(info)


def _read_manifest(path: Path, archive: zipfile.ZipFile) -> dict:
    """The manifest, parsed; its size checked against the headers first, then again while inflating."""
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise TraceFormatError(f"{path}: not a gradscope trace file (no {MANIFEST})") from None
    too_large = TraceFormatError(f"{path}: manifest is larger than {MAX_MANIFEST_BYTES:,} bytes")
    if info.file_size > MAX_MANIFEST_BYTES:
        raise too_large
    try:
        with _open_member(path, archive, info) as stream:
            raw = bytearray()
            while chunk := stream.read(_CHUNK):
                raw += chunk
                if len(raw) > MAX_MANIFEST_BYTES:
                    raise too_large
    except TraceFormatError:
        raise
    except _ZIP_ERRORS as error:
        raise TraceFormatError(f"{path}: corrupt trace file ({type(error).__name__}: {error})") from None
    try:
        manifest = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise TraceFormatError(f"{path}: corrupt manifest (not UTF-8)") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError, absurd numbers, deep nesting
        raise TraceFormatError(f"{path}: corrupt manifest ({type(error).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TraceFormatError(f"{path}: not a gradscope trace file (format is not {FORMAT!r})")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise TraceFormatError(f"{path}: trace file has no valid schema_version")
    if version > SCHEMA_VERSION:
        raise TraceFormatError(f"{path}: trace schema version {version} is newer than this gradscope supports "
                               f"({SCHEMA_VERSION}); upgrade gradscope to read it")
    if version < 1:
        raise TraceFormatError(f"{path}: trace schema version {version} was never written by gradscope")
    return manifest


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # gradscope writes non-finite numbers as strings


class _ArrayReader:
    """Reads `.npy` members on demand, each checked against its statistics before anything is allocated
    for it, and never with pickle."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, keep_values: int | None) -> None:
        self.path = path
        self.archive = archive
        self.keep_values = keep_values  # the recording's limit: no array it stored is larger
        self.claimed: set[str] = set()
        self.lock = threading.Lock()

    def loader(self, name: str, stats: TensorStats) -> Callable[[], np.ndarray]:
        if name in self.claimed:
            raise ValueError(f"two tensors name the array {name!r}")
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise TraceFormatError(f"{self.path}: array {name!r} is missing from the trace file") from None
        self.claimed.add(name)
        return functools.partial(self.read, info, stats)

    def read(self, info: zipfile.ZipInfo, stats: TensorStats) -> np.ndarray:
        try:
            self._check_declared(stats)
            with self.lock, _open_member(self.path, self.archive, info) as stream:
                return _read_npy(stream, stats)
        except TraceFormatError:
            raise
        except _ARRAY_ERRORS as error:
            why = str(error) if isinstance(error, _ArrayError) else f"{type(error).__name__}: {error}"
            raise TraceFormatError(f"{self.path}: corrupt array {info.filename!r} ({why})") from None

    def _check_declared(self, stats: TensorStats) -> None:
        """Refuse an array its statistics already rule out, before its member is opened."""
        if stats.dtype not in STORED_DTYPES:
            raise _ArrayError(f"{stats.dtype} values are never stored in a trace file")
        size = stats.numel * STORED_DTYPES[stats.dtype].itemsize
        if self.keep_values is not None and stats.numel > self.keep_values:
            raise _ArrayError(f"{stats.numel:,} elements, more than the recording's keep_values "
                              f"({self.keep_values:,})")
        if size > MAX_ARRAY_BYTES:
            raise _ArrayError(f"{size:,} bytes, larger than the limit of {MAX_ARRAY_BYTES:,}")
        if stats.numel == 0 and math.prod(filter(None, stats.shape)) > MAX_EMPTY_POSITIONS:
            raise _ArrayError(f"an empty array of shape {list(stats.shape)}")


class _ArrayError(ValueError):
    """Why an array member is refused."""


def _read_npy(stream, stats: TensorStats) -> np.ndarray:
    """The array in a `.npy` stream, once its header matches `stats`; inflated a chunk at a time into the
    array itself, so a member can never inflate to more than the array it declares."""
    dtype, shape, fortran = _npy_header(stream)
    if dtype.newbyteorder("=") != STORED_DTYPES[stats.dtype]:
        raise _ArrayError(f"it holds {dtype}, its statistics say {stats.dtype}")
    if shape != stats.shape or fortran:
        raise _ArrayError(f"shape {shape}{' in Fortran order' if fortran else ''}, expected {stats.shape}")
    array = np.empty(stats.numel, dtype=dtype)
    data = memoryview(array.view(np.uint8))
    filled = 0
    while filled < len(data):
        chunk = stream.read(min(_CHUNK, len(data) - filled))
        if not chunk:
            raise _ArrayError("truncated")
        data[filled:filled + len(chunk)] = chunk
        filled += len(chunk)
    if stream.read(1):
        raise _ArrayError(f"longer than {len(data):,} bytes of data")
    return array.reshape(shape)


_NPY_HEADERS = {(1, 0): (2, np.lib.format.read_array_header_1_0), (2, 0): (4, np.lib.format.read_array_header_2_0)}


def _npy_header(stream) -> tuple[np.dtype, tuple[int, ...], bool]:
    """(dtype, shape, Fortran order) of a `.npy` stream, read without trusting its header length."""
    magic = stream.read(8)
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY":
        raise _ArrayError("not a .npy array")
    version = (magic[6], magic[7])
    if version not in _NPY_HEADERS:
        raise _ArrayError(f"unsupported .npy version {version}")
    length_bytes, read_header = _NPY_HEADERS[version]
    length_field = stream.read(length_bytes)
    length = int.from_bytes(length_field, "little")
    if len(length_field) < length_bytes or length > _NPY_HEADER_BYTES:
        raise _ArrayError("implausible .npy header")
    header = stream.read(length)
    shape, fortran, dtype = read_header(io.BytesIO(length_field + header), max_header_size=_NPY_HEADER_BYTES)
    return dtype, tuple(shape), fortran


# the manifest, field by field: each has the type gradscope writes (unknown keys are ignored)
def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {reprlib.repr(value)}")
    return value


def _count(value) -> int:
    if _int(value) < 0:
        raise ValueError(f"expected a count, got {value}")
    return value


def _text(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {reprlib.repr(value)}")
    if not value.isascii():
        value.encode()  # a lone surrogate (JSON "\\ud800") can't be printed: UnicodeEncodeError
    return value


def _optional_text(value) -> str | None:
    return None if value is None else _text(value)


def _list(value) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {reprlib.repr(value)}")
    return value


def _dict(value) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {reprlib.repr(value)}")
    return value


def _one_of(value, choices: frozenset[str]) -> str:
    if value not in choices:
        raise ValueError(f"expected one of {sorted(choices)}, got {reprlib.repr(value)}")
    return value


def _meta(value) -> dict:
    """`meta` is free-form JSON: bounded nesting, printable strings."""
    pending = [(_dict(value), 2)]
    while pending:
        container, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"meta is nested more than {MAX_JSON_DEPTH} deep")
        for item in (*container, *container.values()) if isinstance(container, dict) else container:
            if isinstance(item, (dict, list)):
                pending.append((item, depth + 1))
            elif isinstance(item, str):
                _text(item)
    return value


def _parse(manifest: dict, path: Path, archive: zipfile.ZipFile) -> Trace:
    meta = _meta(manifest.get("meta", {}))
    keep_values = meta.get("keep_values")
    if not isinstance(keep_values, int) or isinstance(keep_values, bool) or keep_values < 0:
        keep_values = None  # a trace written from Python may have no such limit
    reader = _ArrayReader(path, archive, keep_values)
    tensors = []
    for entry in _list(manifest["tensors"]):
        stats = TensorStats.from_json(_dict(entry["stats"]))
        name = _optional_text(entry["array"])
        tensors.append(TensorRecord(stats=stats, loader=None if name is None else reader.loader(name, stats)))

    def ref(index) -> TensorRecord | None:
        if index is None:
            return None
        if not 0 <= _int(index) < len(tensors):
            raise ValueError(f"tensor index {index} out of range")
        return tensors[index]

    def required(index) -> TensorRecord:
        if index is None:
            raise ValueError("a saved tensor or parameter value can't be null")
        return ref(index)

    trace = Trace(meta=meta)
    for data in _list(manifest["nodes"]):
        node = _node_record(_dict(data), ref, required)
        if node.id in trace.nodes:
            raise ValueError(f"node id {node.id} appears twice")
        trace.nodes[node.id] = node
    for node in trace.nodes.values():
        for child, _ in node.next:
            if child is not None and child not in trace.nodes:
                raise ValueError(f"node {node.id} points to unknown node {child}")
    for index, data in enumerate(_list(manifest["passes"])):
        if _int(data["index"]) != index:
            raise ValueError(f"pass {index} says it is pass {data['index']}")
        record = PassRecord(index=index, roots=[_node(trace, r) for r in _list(data["roots"])],
                            order=[_node(trace, r) for r in _list(data["order"])])
        record.grad_outputs = {_node_key(trace, k): [ref(i) for i in _list(v)]
                               for k, v in _dict(data["grad_outputs"]).items()}
        record.grad_inputs = {_node_key(trace, k): [ref(i) for i in _list(v)]
                              for k, v in _dict(data["grad_inputs"]).items()}
        record.leaf_grads = {_node_key(trace, k): ref(v) for k, v in _dict(data["leaf_grads"]).items()}
        trace.passes.append(record)
    for data in _list(manifest["parameters"]):
        node = _dict(data).get("node")
        trace.parameters.append(Parameter(_text(data["name"]), None if node is None else _node(trace, node),
                                          required(data["value"]), _optional_text(data.get("module"))))
    trace.anomalies = [_anomaly(trace, _dict(data)) for data in _list(manifest["anomalies"])]
    return trace


def _anomaly(trace: Trace, data: dict) -> Anomaly:
    """An anomaly; one without a node (an op outside the graph) must say its op. Version 1 files have
    only the node: its op, source and scope stand in."""
    pass_index = data.get("pass")
    if pass_index is not None and not 0 <= _int(pass_index) < len(trace.passes):
        raise ValueError(f"anomaly in pass {pass_index} of {len(trace.passes)}")
    node_id = data.get("node")
    node = None if node_id is None else trace.nodes[_node(trace, node_id)]
    source = node.source if node is not None else None
    if data.get("file") is not None:
        source = SourceLocation(_text(data["file"]), _count(data["line"]), _text(data.get("function") or ""))
    op = _optional_text(data.get("op")) or (node.op if node is not None else None)
    if op is None:
        raise ValueError("an anomaly outside the graph (no node) must name its op")
    scope = _optional_text(data["scope"]) if "scope" in data else node.scope if node is not None else None
    return Anomaly(_one_of(data["phase"], PHASES), _one_of(data["role"], ROLES), node_id, pass_index,
                   _text(data["message"]), op, source, scope)


def _node_record(data: dict, ref, required) -> NodeRecord:
    source = data.get("source")
    if source is not None:
        source = SourceLocation(_text(_dict(source)["file"]), _count(source["line"]), _text(source["function"]))
    return NodeRecord(
        id=_count(data["id"]), name=_text(data["name"]), op=_text(data["op"]), kind=_one_of(data["kind"], NODE_KINDS),
        scope=_optional_text(data.get("scope")), source=source,
        params={_text(k): _text(v) for k, v in _dict(data.get("params", {})).items()},
        next=[_edge(edge) for edge in _list(data["next"])],
        inputs=[ref(i) for i in _list(data["inputs"])], outputs=[ref(i) for i in _list(data["outputs"])],
        saved={_text(k): required(v) for k, v in _dict(data["saved"]).items()},
        leaf_name=_optional_text(data.get("leaf_name")), hooks=[_text(h) for h in _list(data.get("hooks", []))],
    )


def _edge(edge) -> tuple[int | None, int]:
    child, input_nr = _list(edge)
    return None if child is None else _count(child), _count(input_nr)


def _node(trace: Trace, node_id) -> int:
    if _int(node_id) not in trace.nodes:
        raise ValueError(f"unknown node id {node_id}")
    return node_id


def _node_key(trace: Trace, key: str) -> int:
    """A node id written as an object key: its decimal digits, nothing else."""
    node_id = int(key)
    if str(node_id) != key:
        raise ValueError(f"node id key {reprlib.repr(key)}")
    return _node(trace, node_id)
