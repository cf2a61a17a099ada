"""Seeded mutants of a real trace file, and what a user does with one: load, export, browse.

Shared by tests/trace/test_trace_fuzz.py (a few hundred mutants per run) and bench/fuzz_traces.py
(thousands, with time and memory measured). `mutant(original, seed)` picks the mutation class from
the seed, so every class is covered by any run of consecutive seeds; `exercise(path)` returns
"loaded", "refused" (TraceFormatError from load_trace) or "refused late" (TraceFormatError while
reading an array during export), and lets any other exception through: that is a crash.

The zip files are written by hand (`write_zip`) so a mutant can say anything in its headers:
sizes that lie, duplicate names, compression methods gradscope never uses, and deflate streams
that inflate to gigabytes from a few kilobytes (`deflate_padded`).
"""

from __future__ import annotations

import bz2
import functools
import io
import json
import math
import os
import random
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import gradscope as torch
from gradscope import nn
from gradscope.trace.export import to_dot, write_json
from gradscope.trace.model import Trace
from gradscope.trace.recorder import Recorder
from gradscope.trace.tracefile import MAX_ARRAY_BYTES, SCHEMA_VERSION, TraceFormatError, load_trace, save_trace
from gradscope.tui.items import TOP, MoreItem
from gradscope.tui.outline import Outline
from gradscope.tui.parameter_index import ParameterRow
from gradscope.tui.present import Labeller, gradient, gradient_text, ordered_anomalies
from gradscope.tui.widgets.anomaly_list import AnomalyPrompt
from gradscope.tui.widgets.node_detail import NodeDetail, tensor_rows
from gradscope.tui.widgets.parameters_table import COLUMNS, ParametersTable
from gradscope.tui.widgets.tensor_view import histogram_rows, sparkline, stats_text, values_text

MANIFEST = "manifest.json"
MIB = 1 << 20


# ------------------------------------------------------------------------------------ the real trace
def record_sample() -> Trace:
    """Two passes through a small module: a forward and a backward culprit, float16, bool and int64
    saved tensors, module scopes, and stats-only tensors (more than 16 elements)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with Recorder(keep_values=16) as recorder:
        x = torch.tensor([[0.0, 1.0, 2.0], [-1.0, 0.5, 3.0]], requires_grad=True)
        big = torch.ones(5, 4, requires_grad=True)
        picked = model(x).gather(1, torch.tensor([[0], [1]]))
        masked = x.masked_fill(x < 0, 0.0) * (x > 0)
        half = (x.half() * 2).float()
        ((x.log() * 2).sum() + picked.sum() + masked.sum() + half.sum() + (big * big).sum()).backward()
        (x * x).sum().backward()
    return recorder.finish({"x": x, "big": big, "model": model})


LEGACY_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "trace-v2.gstrace"


def legacy_sample_bytes() -> bytes:
    """`record_sample()` as schema 2 wrote it, one .npy member per array (old files must load safely too)."""
    return LEGACY_SAMPLE.read_bytes()


def sample_bytes() -> bytes:
    """The real trace as a file."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "sample.gstrace"
        save_trace(record_sample(), path)
        return path.read_bytes()


# ------------------------------------------------------------------------------------ zip by hand
@dataclass(frozen=True)
class Member:
    """One zip member as the headers describe it; `payload` is what is stored (compressed)."""

    name: str
    payload: bytes
    method: int
    crc: int
    size: int  # the uncompressed size both headers claim

    @classmethod
    def of(cls, name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> Member:
        payload = {zipfile.ZIP_STORED: lambda: data, zipfile.ZIP_DEFLATED: lambda: deflate(data),
                   zipfile.ZIP_BZIP2: lambda: bz2.compress(data)}.get(method, lambda: deflate(data))()
        return cls(name, payload, method, zlib.crc32(data), len(data))


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def deflate_padded(prefix: bytes, fill: bytes, mebibytes: int) -> bytes:
    """A raw deflate stream of `prefix` followed by `mebibytes` MiB of the byte `fill`, about 1 KB per MiB.

    After a full flush deflate starts afresh, so one compressed MiB can simply be repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(fill * MIB) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + block * mebibytes + b"\x03\x00"  # an empty final block ends the stream


def write_zip(members: list[Member]) -> bytes:
    """A zip archive holding `members` exactly as given (duplicates and lies included)."""
    body, directory = bytearray(), bytearray()
    for member in members:
        name = member.name.encode()
        sizes = (member.crc & 0xFFFFFFFF, len(member.payload), member.size & 0xFFFFFFFF)
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, member.method, 0, 0, *sizes,
                                 len(name), 0, 0, 0, 0, 0, len(body)) + name
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, member.method, 0, 0, *sizes, len(name), 0) + name
        body += member.payload
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0)
    return bytes(body + directory + end)


def read_members(data: bytes) -> list[Member]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [Member.of(info.filename, archive.read(info)) for info in archive.infolist()]


# ------------------------------------------------------------------------------------ mutations
@functools.lru_cache(maxsize=2)
def _taken_apart(original: bytes) -> tuple[tuple[Member, ...], dict[str, bytes]]:
    members = tuple(read_members(original))
    return members, {member.name: zlib.decompress(member.payload, -15) for member in members}


class _Trace:
    """The original file taken apart: its members, their contents, the manifest to change, helpers to
    put it back together."""

    def __init__(self, original: bytes) -> None:
        self.original = original
        members, self.contents = _taken_apart(original)
        self.members = list(members)
        self.manifest = json.loads(self.contents[MANIFEST])
        self.arrays = [entry for entry in self.manifest["tensors"] if entry["array"]]

    def zipped(self, *replacements: Member, raw: dict[str, str] | None = None) -> bytes:
        """The file again: the manifest as changed (placeholders in `raw` swapped for raw JSON text), and
        `replacements` in place of the members of the same names."""
        replaced = {MANIFEST: Member.of(MANIFEST, _dumps(self.manifest, raw))} | {m.name: m for m in replacements}
        return write_zip([replaced.get(m.name, m) for m in self.members])


def _dumps(manifest, raw: dict[str, str] | None = None) -> bytes:
    """JSON text; each placeholder string in `raw` is swapped for raw JSON text (deep nesting,
    5000-digit numbers, NaN tokens) that json.dumps would not write."""
    text = json.dumps(manifest)
    for placeholder, replacement in (raw or {}).items():
        text = text.replace(json.dumps(placeholder), replacement)
    return text.encode()


def _paths(value, prefix=()):
    """Every position in a JSON document, as a key path."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _place(document, path, value) -> None:
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


RAW_VALUES = {
    "@deep900": "[" * 900 + "]" * 900,
    "@deep100000": "[" * 100_000 + "]" * 100_000,
    "@digits": "9" * 5000,
    "@nan": "NaN",
    "@infinity": "-Infinity",
}
ODD_VALUES = [None, True, False, 0, -1, 1, 2**31, -(2**63), 10**30, 1e308, -1e308, 0.5, "nan", "inf", "-inf", "",
              "x", "é", "\ud800", "\x1b[2J", [], {}, [0], [[None, 0]], {"a": 1}, "x" * MIB, *RAW_VALUES]


def _odd_value(rng: random.Random):
    return rng.choice(ODD_VALUES)


def manifest_value(rng: random.Random, trace: _Trace) -> bytes:
    """Any position of the manifest set to a value of another type, out of range, huge or deep."""
    path = rng.choice([p for p in _paths(trace.manifest) if p])
    _place(trace.manifest, path, _odd_value(rng))
    return trace.zipped(raw=RAW_VALUES)


def manifest_removal(rng: random.Random, trace: _Trace) -> bytes:
    """A key or list element removed anywhere in the manifest."""
    path = rng.choice([p for p in _paths(trace.manifest) if p])
    target = trace.manifest
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return trace.zipped()


STATS_CHANGES: list[Callable[[random.Random, dict], None]] = [
    lambda rng, s: s.update(dtype=rng.choice(["complex64", "complex128", "void", "V0", "S0", "U0", "object",
                                              "float128", "bytes", "", "int64", "bool", "float16", "uint64"])),
    lambda rng, s: s.update(histogram=s["histogram"][:rng.randrange(len(s["histogram"]))]),
    lambda rng, s: s.update(histogram=s["histogram"] + [0]),
    lambda rng, s: s["histogram"].__setitem__(rng.randrange(len(s["histogram"])), rng.choice([-1, -5, 10**12, 0.5])),
    lambda rng, s: s.update(histogram=[-1] * len(s["histogram"])),
    lambda rng, s: s.update(histogram_range=rng.choice([["nan", 0], [1, 0], ["inf", "-inf"], ["nan", "nan"], [0],
                                                        "x", [0, "inf"]])),
    lambda rng, s: s.update({rng.choice(["nan", "posinf", "neginf"]): rng.choice([-1, s["numel"] + 1, 10**18])}),
    lambda rng, s: s.update(numel=s["numel"] + rng.choice([-1, 1])),
    lambda rng, s: s.update(shape=[10**9], numel=10**9),
    lambda rng, s: s.update(shape=[10**8, 0], numel=0),
    lambda rng, s: s.update(shape=[1] * 65, numel=1),
    lambda rng, s: s.update(shape=[-2, -3], numel=6),
    lambda rng, s: s.update(zero_fraction=rng.choice([-1, 2, "nan"])),
    lambda rng, s: s.update({rng.choice(["norm", "std"]): -1.0}),
]


PACKED_CHANGES = [
    lambda rng, e: e.update(shape=rng.choice([[-1], [10**9], [10**8, 0], [1] * 65, [], [2**62, 4], "3", None])),
    lambda rng, e: e.update(dtype=rng.choice(["complex64", "V0", "object", "", None, "float64", "int8", "bool"])),
    lambda rng, e: e.update(offset=rng.choice([-1, 1, 10**12, 0.5, "0", None, e["offset"] + 1])),
    lambda rng, e: e.update(array=rng.choice(["arrays/float64-7.bin", "manifest.json", "", 3])),
    lambda rng, e: e.pop(rng.choice(["shape", "dtype", "offset"])),
]


def stats_value(rng: random.Random, trace: _Trace) -> bytes:
    """A tensor's statistics changed to what gradscope never writes (or, sometimes, still could); for a
    tensor packed into a blob (schema 3), its shape, dtype, offset or blob."""
    entry = rng.choice(trace.arrays if rng.random() < 0.7 else trace.manifest["tensors"])
    if "stats" in entry:
        rng.choice(STATS_CHANGES)(rng, entry["stats"])
    else:
        rng.choice(PACKED_CHANGES)(rng, entry)
    return trace.zipped()


def _bad_blob(rng: random.Random, trace: _Trace, name: str) -> bytes:
    """A blob (schema 3) that is not what its tensors add up to, or is an .npy file instead."""
    blob = trace.contents[name]
    npy = _npy_header("<f4", False, (len(blob) // 4,)) + blob
    return trace.zipped(Member.of(name, rng.choice([blob[:-1], blob + b"\0", b"", blob[:len(blob) // 2], npy,
                                                     bytes(len(blob)), blob[::-1]])))


def schema_version(rng: random.Random, trace: _Trace) -> bytes:
    trace.manifest["schema_version"] = rng.choice([0, -1, SCHEMA_VERSION + 1, 10**30, "1", 1.0, True, None,
                                                  SCHEMA_VERSION])
    return trace.zipped()


def duplicate_member(rng: random.Random, trace: _Trace) -> bytes:
    """A second member under an existing name (zipfile would silently keep the last one)."""
    members = list(trace.members)
    twin = rng.choice(members)
    if twin.name == MANIFEST:
        other = json.loads(json.dumps(trace.manifest))
        other["nodes"] = []
        copy = Member.of(MANIFEST, json.dumps(other).encode())
    else:
        copy = Member.of(twin.name, trace.contents[twin.name][:rng.randrange(1, 200)])
    members.insert(rng.randrange(len(members) + 1), copy)
    return write_zip(members)


def missing_member(rng: random.Random, trace: _Trace) -> bytes:
    members = list(trace.members)
    members.pop(rng.randrange(len(members)))
    return write_zip(members)


def lying_sizes(rng: random.Random, trace: _Trace) -> bytes:
    """A member whose headers claim another size or checksum than its content has."""
    member = rng.choice(trace.members)
    size = rng.choice([0, 1, 100, member.size - 1, member.size + 1, 2**32 - 1, member.size])
    crc = member.crc if rng.random() < 0.5 else member.crc ^ 1
    return trace.zipped(replace(member, size=size, crc=crc))


def compression_method(rng: random.Random, trace: _Trace) -> bytes:
    """A member stored, bzip2-compressed (not what gradscope writes), or with an unknown method."""
    member = rng.choice(trace.members)
    data = trace.contents[member.name]
    method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
    return trace.zipped(Member.of(member.name, data, method))


def _npy_header(descr, fortran: bool, shape, version: tuple[int, int] = (1, 0)) -> bytes:
    header = repr({"descr": descr, "fortran_order": fortran, "shape": tuple(shape)}).encode()
    length_bytes = 2 if version == (1, 0) else 4
    header += b" " * (-(8 + length_bytes + len(header) + 1) % 64) + b"\n"
    return (b"\x93NUMPY" + bytes(version) + len(header).to_bytes(length_bytes, "little") + header)


DESCRS = ["|V0", "|S0", "<U0", "<c8", "<c16", "|S8", "|O", "<f16", ">f8", "<f8", "<f4", "<i8", "|b1", "<u2",
          "<M8[s]", [("a", "<f8")]]


def _data_offset(npy: bytes) -> int:
    return 10 + int.from_bytes(npy[8:10], "little")


def npy_header(rng: random.Random, trace: _Trace) -> bytes:
    """An array's .npy file changed in one or two ways (its dtype, shape, order, format version, header or
    length), the data and the statistics usually changed to match so that later checks are reached."""
    entry = rng.choice(trace.arrays)
    if "stats" not in entry:
        return _bad_blob(rng, trace, entry["array"])
    stats, name = entry["stats"], entry["array"]
    original = trace.contents[name]
    descr = np.lib.format.read_array_header_1_0(io.BytesIO(original[8:]))[2].str
    fortran, shape, version = False, stats["shape"], (1, 0)
    changes = rng.sample(["dtype", "shape", "fortran", "version", "length"], rng.choice([1, 1, 2]))
    if "dtype" in changes:
        descr = rng.choice(DESCRS)
    if "shape" in changes:
        shape = rng.choice([[10**9], [0], [10**8, 0], [-1], [1] * 64, [1] * 65, [2**62, 4], [3, 0, 2**40]])
    if "fortran" in changes:
        fortran = True
    if "version" in changes:
        version = rng.choice([(2, 0), (3, 0), (9, 9)])
    dtype = np.dtype(descr if isinstance(descr, str) else [tuple(field) for field in descr])
    numel = math.prod(shape)
    size = max(0, numel * dtype.itemsize)
    body = bytes(size) if size <= MIB else original[_data_offset(original):]
    if "length" in changes:
        body = rng.choice([body[:-1], body + b"\0", b"", body[:len(body) // 2]])
    npy = _npy_header(descr, fortran, shape, version) + body
    if rng.random() < 0.1:
        npy = npy[:rng.randrange(len(npy))]
    if rng.random() < 0.8:
        stats.update(dtype=dtype.name, shape=shape, numel=numel)
    return trace.zipped(Member.of(name, npy))


def zip_bomb(rng: random.Random, trace: _Trace) -> bytes:
    """An array member that inflates to 64 MiB or 2 GiB of zeros from a few KB, its headers claiming
    its real size or the original one; sometimes the statistics declare all of it as a valid array."""
    entry = rng.choice(trace.arrays)
    name, data = entry["array"], trace.contents[entry["array"]]
    mebibytes = rng.choice([64, 2048])
    # a valid float32 array of every byte, .npy header and statistics included (schema 2 members)
    if rng.random() < 0.5 and "stats" in entry:
        numel = (mebibytes * MIB) // 4
        data = _npy_header("<f4", False, (numel,))
        entry["stats"].update(dtype="float32", shape=[numel], numel=numel, histogram=[0] * 16)
        if mebibytes * MIB > MAX_ARRAY_BYTES:  # else the recording's keep_values is what refuses it
            trace.manifest["meta"]["keep_values"] = numel
    payload = deflate_padded(data, b"\0", mebibytes)
    honest = rng.random() < 0.5
    size = len(data) + mebibytes * MIB if honest else len(data)
    bomb = Member(name, payload, zipfile.ZIP_DEFLATED, zlib.crc32(data), size)
    return trace.zipped(bomb)


def huge_manifest(rng: random.Random, trace: _Trace) -> bytes:
    """The manifest followed by 300 MiB of spaces (past the cap), its headers honest or claiming the
    original size."""
    data = json.dumps(trace.manifest).encode()
    payload = deflate_padded(data, b" ", 300)
    size = len(data) + 300 * MIB if rng.random() < 0.5 else len(data)
    return trace.zipped(Member(MANIFEST, payload, zipfile.ZIP_DEFLATED, zlib.crc32(data), size))


def flip_bytes(rng: random.Random, trace: _Trace) -> bytes:
    mutated = bytearray(trace.original)
    for _ in range(rng.randint(1, 8)):
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
    return bytes(mutated)


def truncate(rng: random.Random, trace: _Trace) -> bytes:
    return trace.original[:rng.randrange(len(trace.original))]


def extend(rng: random.Random, trace: _Trace) -> bytes:
    """Bytes appended or spliced in: random ones, or another copy of the file."""
    extra = rng.choice([os.urandom(rng.randint(1, 4096)), trace.original, b"\0" * rng.randint(1, 100)])
    offset = rng.choice([len(trace.original), rng.randrange(len(trace.original))])
    return trace.original[:offset] + extra + trace.original[offset:]


MUTATIONS: dict[str, Callable[[random.Random, _Trace], bytes]] = {
    "flip bytes": flip_bytes,
    "truncate": truncate,
    "extend": extend,
    "manifest value": manifest_value,
    "manifest removal": manifest_removal,
    "stats": stats_value,
    "schema version": schema_version,
    "duplicate member": duplicate_member,
    "missing member": missing_member,
    "lying sizes": lying_sizes,
    "compression method": compression_method,
    "npy header": npy_header,
    "zip bomb": zip_bomb,
    "huge manifest": huge_manifest,
}
CLASSES = list(MUTATIONS)


def mutant(original: bytes, seed: int) -> tuple[str, bytes]:
    """Mutant number `seed` of the trace file `original`: its mutation class and its bytes."""
    kind = CLASSES[seed % len(CLASSES)]
    return kind, MUTATIONS[kind](random.Random(seed), _Trace(original))


# ------------------------------------------------------------------------------------ using a file
class _Sink(io.TextIOBase):
    """A text stream that keeps nothing."""

    def write(self, text: str) -> int:
        text.encode()  # what writing to a UTF-8 file or terminal would do
        return len(text)


def exercise(path: Path) -> str:
    """Load the file, export it both ways and browse all of it: "loaded", "refused" or "refused late"."""
    try:
        trace = load_trace(path)
    except TraceFormatError:
        return "refused"
    outcome = "loaded"
    try:
        write_json(trace, _Sink())
    except TraceFormatError:  # an array turned out unreadable: `gradscope export` exits 2
        outcome = "refused late"
    to_dot(trace).encode()
    browse(trace)
    return outcome


def browse(trace: Trace) -> int:
    """Make everything the browser shows of every pass, node, tensor, parameter and anomaly; how many
    pieces. (Drawing them would only cost time: the figures and texts are all made here.)"""
    made: list = []
    records = {}  # each tensor once, however many rows show it
    for pass_index in range(len(trace.passes)) or [None]:
        outline = Outline(trace, -1 if pass_index is None else pass_index)
        labeller = Labeller(outline)
        items = [TOP]
        while items:
            for item in outline.children(items.pop()):
                made.append(labeller(item))
                if outline.expandable(item) or isinstance(item, MoreItem):
                    items.append(item)
        made += [outline.path(node_id) for node_id in outline.order] + [outline.search("backward")]
        detail = NodeDetail(trace)
        for node in trace.nodes.values():
            made += [detail._summary(node), detail._passes(node, pass_index),
                     gradient_text(gradient(trace, node.id, pass_index))]
            records.update((id(row.record), row.record) for row in tensor_rows(trace, node, pass_index))
        rows = [ParameterRow.of(trace, parameter, pass_index) for parameter in trace.parameters]
        made += [ParametersTable._cells(row) for key in COLUMNS.values() for row in sorted(rows, key=key)]
    for record in records.values():
        made += [stats_text(record.stats), sparkline(record.stats), histogram_rows(record.stats, 80),
                 values_text(record, 80, full=False), values_text(record, 80, full=True)]
    made += [AnomalyPrompt(trace, anomaly).lines(80) for anomaly in ordered_anomalies(trace)]
    return len(made)
