"""Trace files: one zip holding `manifest.json` and the stored arrays packed into a few raw blobs, one
run per dtype, each tensor a slice of one (docs/trace-format.md). Files of schema 1 and 2, with one
`.npy` member per array, still load.

Writing is atomic (a temporary file renamed into place). Reading treats the file as untrusted: it
parses the manifest, checks it thoroughly and loads arrays only when asked, parsing `.npy` headers as
data (never unpickling: opening a trace file never runs code). Only what gradscope writes is accepted,
within limits that bound the time and memory any read takes, whatever the zip headers claim; anything
else raises `TraceFormatError`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
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

from gradscope._stats import MAX_DIMS, TensorStats
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
SCHEMA_VERSION = 3  # 3: arrays packed in blobs; 2: anomalies carry op, node_name, file, line, function, scope
MANIFEST = "manifest.json"
BLOB_BYTES = 64 << 20  # a blob is closed once it holds this much; the next array of its dtype starts another
WRITE_BYTES = 1 << 20  # a blob is compressed and written a piece of this size at a time


class TraceFormatError(ValueError):
    """The file is not a readable gradscope trace (corrupt, truncated, another kind, or newer)."""


@contextlib.contextmanager
def collector_paused():
    """Keep the cyclic garbage collector off while a trace is read, written or exported: that builds
    hundreds of thousands of containers, none of them garbage, and each collection they trigger walks
    them all again (half the time of loading a 20,000-node trace). Collections resume afterwards."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# ------------------------------------------------------------------------------------------- writing
class _TensorTable:
    """Each distinct TensorRecord is listed once and referred to by its index."""

    def __init__(self) -> None:
        self.records: list[TensorRecord] = []
        self._index: dict[int, int] = {}

    def ref(self, record: TensorRecord | None) -> int | None:
        if record is None:
            return None
        key = id(record)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.records)
            self.records.append(record)
        return index


class _Blobs:
    """Stored arrays packed back to back, little-endian, one run of blobs per dtype: a tensor's entry
    names its blob and the element it starts at. Far fewer zip members than one per array is what
    makes saving and loading fast."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}  # blob member name → its arrays, in order
        self._open: dict[str, tuple[str, int]] = {}  # dtype → (the blob being filled, its elements so far)

    def entry(self, values: np.ndarray, dtype_name: str) -> dict:
        name, used = self._open.get(dtype_name, (None, 0))
        if name is None or used and (used + values.size) * values.itemsize > BLOB_BYTES:
            name, used = f"arrays/{dtype_name}-{sum(n.startswith(f'arrays/{dtype_name}-') for n in self.parts)}.bin", 0
            self.parts[name] = []
        self.parts[name].append(values)
        self._open[dtype_name] = (name, used + values.size)
        return {"shape": list(values.shape), "dtype": dtype_name, "array": name, "offset": used}

    def write(self, archive: zipfile.ZipFile) -> None:
        """Each blob streamed into its member a piece of about WRITE_BYTES at a time: never a copy of a
        whole blob (the values are in memory already)."""
        for name, arrays in self.parts.items():
            little = STORED_DTYPES[name[len("arrays/"):name.rindex("-")]].newbyteorder("<")
            with archive.open(name, "w") as member:
                piece, size, last = [], 0, len(arrays) - 1
                for index, array in enumerate(arrays):
                    piece.append(array)
                    size += array.nbytes
                    if size >= WRITE_BYTES or index == last:
                        member.write(np.concatenate(piece, axis=None).astype(little, copy=False).data)
                        piece, size = [], 0


_DTYPE_NAMES: dict[np.dtype, str | None] = {}  # NOTE: dtype.name is slow; a trace has a handful of dtypes


def _stored_dtype_name(dtype: np.dtype) -> str | None:
    """The name of a dtype whose values a trace file stores (either byte order), None for others."""
    name = _DTYPE_NAMES.get(dtype, False)
    if name is False:
        name = _DTYPE_NAMES[dtype] = dtype.name if dtype.name in STORED_DTYPES else None
    return name


def _finite_json(value):
    """JSON has no NaN/Infinity: write them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_json(v) for v in value]
    return value


def to_manifest(trace: Trace) -> tuple[dict, list[TensorRecord]]:
    """The JSON document of a trace, its `tensors` the distinct records in the order the rest refers
    to them by (a file writes each as an entry; `export --format json` with its statistics and values)."""
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
        "leaf_grads": {str(k): table.ref(r) for k, r in p.leaf_grads.items()}, "made_by": p.made_by,
    } for p in trace.passes]
    manifest = {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "meta": _finite_json(trace.meta), "nodes": nodes,
        "passes": passes,
        "parameters": [{"name": p.name, "node": p.node, "value": table.ref(p.value), "module": p.module}
                       for p in trace.parameters],
        "anomalies": [_anomaly_json(trace, a) for a in trace.anomalies],
        "masks": [_anomaly_json(trace, a) for a in trace.masks],
        "tensors": table.records,
    }
    return manifest, table.records


def _file_entry(record: TensorRecord, blobs: _Blobs) -> dict:
    """A tensor as a file lists it: where its values are (statistics follow from them when read), or
    its statistics alone."""
    values = record.values
    dtype_name = None if values is None else _stored_dtype_name(values.dtype)
    if dtype_name is not None:
        return blobs.entry(values, dtype_name)
    return {"stats": _finite_json(record.stats.to_json()), "array": None}


def _anomaly_json(trace: Trace, anomaly: Anomaly) -> dict:
    source = anomaly.source
    return {"phase": anomaly.phase, "role": anomaly.role, "pass": anomaly.pass_index, "node": anomaly.node,
            "node_name": None if anomaly.node is None else trace.nodes[anomaly.node].name, "op": anomaly.op,
            "file": source and source.file, "line": source and source.line, "function": source and source.function,
            "scope": anomaly.scope, "message": anomaly.message}


def save_trace(trace: Trace, path: str | os.PathLike, *, compress: bool = True) -> None:
    """Write `trace` to `path` atomically; an `OutputError` names `path` if that fails. `compress=False`
    stores the members as they are (see `write_trace`).

    This replaces whatever `path` holds: the CLI and the browser check first with
    `gradscope.trace.output.check_output`, which refuses to overwrite files that aren't traces.
    """
    write_atomically(path, lambda stream: write_trace(trace, stream, compress=compress))


def write_trace(trace: Trace, stream, *, compress: bool = True) -> None:
    """Write `trace` as a trace file to a binary stream: its members deflated, or with `compress=False`
    stored as they are (a file read once right away, as the child recording a script hands its trace
    over: a 3000-pass trace writes in 1.1 s instead of 6.3, reads in 1.7 s instead of 2.5, 20% larger)."""
    with collector_paused():
        _write_trace(trace, stream, compress)


def _write_trace(trace: Trace, stream, compress: bool) -> None:
    manifest, records = to_manifest(trace)
    blobs = _Blobs()
    manifest["tensors"] = [_file_entry(record, blobs) for record in records]
    text = json.dumps(manifest, separators=(",", ":"))  # ASCII: json escapes every other character
    del manifest, records  # only the text is written, and the arrays in `blobs`
    # NOTE: level 1: float data hardly compresses, and the default level costs several times the time
    method, level = (zipfile.ZIP_DEFLATED, 1) if compress else (zipfile.ZIP_STORED, None)
    with zipfile.ZipFile(stream, "w", method, compresslevel=level) as archive:
        with archive.open(MANIFEST, "w") as member:
            for start in range(0, len(text), WRITE_BYTES):
                member.write(text[start:start + WRITE_BYTES].encode("ascii"))
        blobs.write(archive)


# ------------------------------------------------------------------------------------------- reading
# What a trace file may ask of its reader (docs/trace-format.md, "Limits")
MAX_MANIFEST_BYTES = 256 << 20
MAX_ARRAY_BYTES = 1 << 30
MAX_BLOB_BYTES = 1 << 30  # gradscope closes a blob at BLOB_BYTES; one array may take it past that, never this
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
        with collector_paused():
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
        _check_array_size(stats.dtype, stats.shape, stats.numel, self.keep_values)


class _ArrayError(ValueError):
    """Why an array member is refused."""


@functools.lru_cache(maxsize=256)  # a trace's tensors come in a few shapes: each is checked once
def _checked_numel(dtype: str, shape: tuple[int, ...], keep_values: int | None) -> int:
    """The element count of an array of this dtype and shape, once the limits allow it."""
    numel = math.prod(shape)
    _check_array_size(dtype, shape, numel, keep_values)
    return numel


def _check_array_size(dtype: str, shape: tuple[int, ...], numel: int, keep_values: int | None) -> None:
    """Refuse an array its declared dtype, shape and the recording's limit rule out."""
    if dtype not in STORED_DTYPES:
        raise _ArrayError(f"{dtype} values are never stored in a trace file")
    size = numel * STORED_DTYPES[dtype].itemsize
    if keep_values is not None and numel > keep_values:
        raise _ArrayError(f"{numel:,} elements, more than the recording's keep_values ({keep_values:,})")
    if size > MAX_ARRAY_BYTES:
        raise _ArrayError(f"{size:,} bytes, larger than the limit of {MAX_ARRAY_BYTES:,}")
    if numel == 0 and math.prod(filter(None, shape)) > MAX_EMPTY_POSITIONS:
        raise _ArrayError(f"an empty array of shape {list(shape)}")


class _BlobReader:
    """Schema 3: arrays are slices of raw little-endian blobs. Every slice is checked when the manifest
    is read (a stored dtype, within the limits, the slices of a blob one dtype and tiling it exactly,
    the blob no larger than MAX_BLOB_BYTES); then each blob is inflated into a buffer of exactly its
    declared size, and refused if it holds more or less. Values are views into it, not copies."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, keep_values: int | None) -> None:
        self.path = path
        self.archive = archive
        self.keep_values = keep_values
        self.slices: dict[str, list[tuple[int, int, str]]] = {}  # blob → (offset, elements, dtype) of each tensor
        self.blobs: dict[str, np.ndarray] = {}

    def record(self, entry: dict) -> TensorRecord:
        name, dtype = _text(entry["array"]), _text(entry["dtype"])
        shape = _counts_list(entry["shape"])
        offset = _count(entry["offset"])
        try:
            numel = _checked_numel(dtype, shape, self.keep_values)
        except _ArrayError as error:
            raise ValueError(f"tensor in {name!r}: {error}") from None
        self.slices.setdefault(name, []).append((offset, numel, dtype))
        return TensorRecord(loader=functools.partial(self.read, name, offset, numel, shape), shape=shape)

    def read_all(self) -> None:
        """Check every blob, then read it: a packed tensor's statistics come from its values, so a damaged
        blob is refused when the file is opened, not when a figure is first shown."""
        self.check()
        for name in self.slices:
            self.blobs[name] = self._inflate(name)

    def check(self) -> None:
        """Each blob: present, one dtype, its slices back to back from 0, its size what they add up to."""
        for name, slices in self.slices.items():
            try:
                info = self.archive.getinfo(name)
            except KeyError:
                raise TraceFormatError(f"{self.path}: array blob {name!r} is missing from the trace file") from None
            dtypes = {dtype for _, _, dtype in slices}
            if len(dtypes) != 1:
                raise ValueError(f"blob {name!r} holds tensors of {len(dtypes)} dtypes")
            end = 0
            for offset, numel, _ in sorted(slices):
                if offset != end:
                    raise ValueError(f"blob {name!r}: a tensor at element {offset}, expected {end}")
                end += numel
            size = end * STORED_DTYPES[dtypes.pop()].itemsize
            if size > MAX_BLOB_BYTES:
                raise ValueError(f"blob {name!r} of {size:,} bytes, larger than the limit of {MAX_BLOB_BYTES:,}")
            if info.file_size != size:
                raise ValueError(f"blob {name!r} holds {info.file_size:,} bytes, its tensors {size:,}")

    def read(self, name: str, offset: int, numel: int, shape: tuple[int, ...]) -> np.ndarray:
        return self.blobs[name][offset:offset + numel].reshape(shape)

    def _inflate(self, name: str) -> np.ndarray:
        slices = self.slices[name]
        dtype = STORED_DTYPES[slices[0][2]]
        elements = sum(numel for _, numel, _ in slices)
        buffer = np.empty(elements * dtype.itemsize, dtype=np.uint8)
        try:
            with _open_member(self.path, self.archive, self.archive.getinfo(name)) as stream:
                filled = 0
                while filled < len(buffer):
                    chunk = stream.read(min(_CHUNK, len(buffer) - filled))
                    if not chunk:
                        raise _ArrayError("truncated")
                    buffer[filled:filled + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
                    filled += len(chunk)
                if stream.read(1):
                    raise _ArrayError(f"longer than {len(buffer):,} bytes")
        except TraceFormatError:
            raise
        except _ARRAY_ERRORS as error:
            why = str(error) if isinstance(error, _ArrayError) else f"{type(error).__name__}: {error}"
            raise TraceFormatError(f"{self.path}: corrupt array blob {name!r} ({why})") from None
        return buffer.view(dtype.newbyteorder("<")).astype(dtype, copy=False)


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


# the manifest, field by field: each has the type gradscope writes (unknown keys are ignored). JSON
# gives exactly these types (never a subclass; a bool is not an int), and a trace has hundreds of
# thousands of fields: hence `type(value) is`, the cheapest check there is.
def _int(value) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {reprlib.repr(value)}")
    return value


def _count(value) -> int:
    if _int(value) < 0:
        raise ValueError(f"expected a count, got {value}")
    return value


def _counts_list(value) -> tuple[int, ...]:
    """A shape: at most MAX_DIMS counts."""
    shape = tuple(_list(value))
    for n in shape:
        _count(n)
    if len(shape) > MAX_DIMS:
        raise ValueError(f"{len(shape)} dimensions (at most {MAX_DIMS})")
    return shape


def _text(value) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {reprlib.repr(value)}")
    if not value.isascii():
        value.encode()  # a lone surrogate (JSON "\\ud800") can't be printed: UnicodeEncodeError
    return value


def _optional_text(value) -> str | None:
    return None if value is None else _text(value)


def _list(value) -> list:
    if type(value) is not list:
        raise TypeError(f"expected a list, got {reprlib.repr(value)}")
    return value


def _dict(value) -> dict:
    if type(value) is not dict:
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
    reader = _ArrayReader(path, archive, keep_values)  # schema 1 and 2: one .npy member per array
    blobs = _BlobReader(path, archive, keep_values)  # schema 3: arrays packed into blobs
    tensors = []
    for entry in _list(manifest["tensors"]):
        entry = _dict(entry)
        if "offset" in entry:
            tensors.append(blobs.record(entry))
            continue
        stats = TensorStats.from_json(_dict(entry["stats"]))
        name = _optional_text(entry["array"])
        tensors.append(TensorRecord(stats=stats, loader=None if name is None else reader.loader(name, stats)))
    blobs.read_all()

    count = len(tensors)

    def ref(index) -> TensorRecord | None:
        if type(index) is int and 0 <= index < count:
            return tensors[index]
        if index is None:
            return None
        raise ValueError(f"tensor index {_int(index)} out of range")

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
                            order=[_node(trace, r) for r in _list(data["order"])],
                            made_by=_optional_text(data.get("made_by")))
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
    trace.masks = [_anomaly(trace, _dict(data)) for data in _list(manifest.get("masks", []))]
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
