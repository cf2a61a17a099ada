"""Trace files: round trip, atomic writes, lazy safe reads, and a clear TraceFormatError for every bad file."""

import copy
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradscope as torch
from gradscope.trace.export import to_dot, to_json
from gradscope.trace.model import TensorRecord, Trace
from gradscope.trace.recorder import Recorder
from gradscope.trace.tracefile import SCHEMA_VERSION, TraceFormatError, load_trace, save_trace


def record_sample() -> Trace:
    """Two passes, a forward and a backward culprit, saved tensors and one stats-only tensor."""
    with Recorder(keep_values=8) as rec:
        w = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
        big = torch.ones(3, 4, requires_grad=True)  # 12 elements: statistics only
        ((w.log() * 2).sum() + (big * big).sum()).backward()
        (w * w).sum().backward()
    return rec.finish({"w": w, "big": big})


@pytest.fixture(scope="module")
def sample() -> Trace:
    return record_sample()


@pytest.fixture(scope="module")
def trace_bytes(sample, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("trace") / "sample.gstrace"
    save_trace(sample, path)
    return path.read_bytes()


@pytest.fixture
def trace_file(trace_bytes, tmp_path) -> Path:
    path = tmp_path / "sample.gstrace"
    path.write_bytes(trace_bytes)
    return path


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def build_zip(contents: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_manifest(data: bytes, manifest) -> bytes:
    contents = members(data)
    contents["manifest.json"] = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    return build_zip(contents)


def manifest_of(data: bytes) -> dict:
    return json.loads(members(data)["manifest.json"])


def all_records(trace: Trace) -> list[TensorRecord]:
    records = []
    for node in trace.nodes.values():
        records += [*node.inputs, *node.outputs, *node.saved.values()]
    for record in trace.passes:
        for grads in (*record.grad_outputs.values(), *record.grad_inputs.values()):
            records += grads
        records += record.leaf_grads.values()
    records += [parameter.value for parameter in trace.parameters]
    return [r for r in records if r is not None]


def touch_everything(trace: Trace) -> None:
    for record in all_records(trace):
        assert record.stats.shape == record.shape
        values = record.values
        if values is not None:
            assert values.shape == record.stats.shape


def assert_same_record(a: TensorRecord | None, b: TensorRecord | None) -> None:
    assert (a is None) == (b is None)
    if a is None:
        return
    assert json.dumps(a.stats.to_json()) == json.dumps(b.stats.to_json())  # NaN-aware equality
    assert a.has_values == b.has_values
    if a.has_values:
        assert a.values.dtype == b.values.dtype
        np.testing.assert_array_equal(a.values, b.values)


def assert_same_trace(a: Trace, b: Trace) -> None:
    assert a.meta == b.meta
    assert a.nodes.keys() == b.nodes.keys()
    for node_id, node in a.nodes.items():
        other = b.nodes[node_id]
        for field in ("id", "name", "op", "kind", "scope", "source", "params", "next", "leaf_name"):
            assert getattr(node, field) == getattr(other, field), (node.name, field)
        for mine, theirs in ((node.inputs, other.inputs), (node.outputs, other.outputs)):
            assert len(mine) == len(theirs)
            for x, y in zip(mine, theirs, strict=True):
                assert_same_record(x, y)
        assert node.saved.keys() == other.saved.keys()
        for name in node.saved:
            assert_same_record(node.saved[name], other.saved[name])
    assert len(a.passes) == len(b.passes)
    for mine, theirs in zip(a.passes, b.passes, strict=True):
        assert (mine.index, mine.roots, mine.order) == (theirs.index, theirs.roots, theirs.order)
        for table in ("grad_outputs", "grad_inputs"):
            left, right = getattr(mine, table), getattr(theirs, table)
            assert left.keys() == right.keys()
            for key in left:
                for x, y in zip(left[key], right[key], strict=True):
                    assert_same_record(x, y)
        assert mine.leaf_grads.keys() == theirs.leaf_grads.keys()
        for key in mine.leaf_grads:
            assert_same_record(mine.leaf_grads[key], theirs.leaf_grads[key])
    assert [(p.name, p.node, p.module) for p in a.parameters] == [(p.name, p.node, p.module) for p in b.parameters]
    for mine, theirs in zip(a.parameters, b.parameters, strict=True):
        assert_same_record(mine.value, theirs.value)
    assert a.anomalies == b.anomalies


# ------------------------------------------------------------------------------------ good files
def test_round_trip(sample, trace_file):
    loaded = load_trace(trace_file)
    assert_same_trace(sample, loaded)
    assert {a.role for a in loaded.culprits()} == {"culprit"}
    assert len(loaded.passes) == 2
    big = next(p for p in loaded.parameters if p.name == "big")
    grad = loaded.parameter_grad(big, 0)
    assert not grad.has_values and grad.stats.norm == pytest.approx(2 * np.sqrt(12))


def test_file_layout(trace_bytes):
    contents = members(trace_bytes)
    manifest = json.loads(contents["manifest.json"])
    assert manifest["format"] == "gradscope-trace"
    assert manifest["schema_version"] == SCHEMA_VERSION
    arrays = [entry["array"] for entry in manifest["tensors"] if entry["array"] is not None]
    assert arrays and set(arrays) == set(contents) - {"manifest.json"}
    for name in arrays:
        assert name.endswith(".npy")
        assert np.load(io.BytesIO(contents[name]), allow_pickle=False).dtype != object


def test_arrays_are_read_lazily_and_never_with_pickle(trace_file, monkeypatch):
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    trace = load_trace(trace_file)
    records = [r for r in all_records(trace) if r.has_values]
    assert records and calls == []
    assert records[0].stats.numel >= 1 and calls == []  # statistics come from the manifest
    assert records[0].values is not None
    assert calls == [False]
    touch_everything(trace)
    assert calls and set(calls) == {False}


def test_save_replaces_atomically(sample, trace_file, monkeypatch):
    before = trace_file.read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_trace(sample, trace_file)
    assert trace_file.read_bytes() == before
    assert os.listdir(trace_file.parent) == [trace_file.name]  # no temporary file left behind
    monkeypatch.undo()
    save_trace(Trace(meta={"note": "empty"}), trace_file)
    assert load_trace(trace_file).meta == {"note": "empty"}
    assert os.listdir(trace_file.parent) == [trace_file.name]


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_trace(tmp_path / "nope.gstrace")


# ------------------------------------------------------------------------------- bad whole files
def _deflate_garbage(data: bytes) -> bytes:
    """Corrupt the compressed manifest stream while keeping the zip directory intact."""
    contents = members(data)
    archive = build_zip(contents)
    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo("manifest.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    corrupted = bytearray(archive)
    corrupted[start + 2:start + 40] = bytes(range(38))
    return bytes(corrupted)


def _unsupported_zip_version(data: bytes) -> bytes:
    corrupted = bytearray(data)
    directory = corrupted.find(b"PK\x01\x02")
    corrupted[directory + 6] = 0xFF  # "version needed to extract" far beyond what zipfile supports
    return bytes(corrupted)


BAD_FILES = {
    "empty": (lambda data: b"", "not a zip archive"),
    "text": (lambda data: b"hello, I am not a trace\n" * 20, "not a zip archive"),
    "truncated": (lambda data: data[: len(data) // 2], "not a zip archive"),
    "truncated tail": (lambda data: data[:-10], "not a zip archive"),
    "pickle": (lambda data: b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01x\x94.", "not a zip archive"),
    "zip without manifest": (lambda data: build_zip({"arrays/0.npy": b"x"}), "no manifest.json"),
    "empty zip": (lambda data: build_zip({}), "no manifest.json"),
    "corrupt compressed manifest": (_deflate_garbage, "corrupt"),
    "unsupported zip version": (_unsupported_zip_version, "trace"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_raise_trace_format_error(case, trace_bytes, tmp_path):
    mutate, message = BAD_FILES[case]
    path = tmp_path / "bad.gstrace"
    path.write_bytes(mutate(trace_bytes))
    with pytest.raises(TraceFormatError, match=message) as error:
        load_trace(path)
    assert str(path) in str(error.value)


def test_directory_is_not_a_trace(tmp_path):
    with pytest.raises(TraceFormatError, match="not a gradscope trace file"):
        load_trace(tmp_path)


# --------------------------------------------------------------------------------- bad manifests
RAW_MANIFESTS = {
    "not json": (b"{nope", "corrupt manifest"),
    "not utf-8": (b"\xff\xfe\x00{", "corrupt manifest"),
    "a list": (b"[]", "format is not 'gradscope-trace'"),
    "a string": (b'"gradscope-trace"', "format is not 'gradscope-trace'"),
    "another format": (b'{"format": "numpy", "schema_version": 1}', "format is not 'gradscope-trace'"),
    "no version": (b'{"format": "gradscope-trace"}', "no valid schema_version"),
    "version is text": (b'{"format": "gradscope-trace", "schema_version": "1"}', "no valid schema_version"),
    "version is a bool": (b'{"format": "gradscope-trace", "schema_version": true}', "no valid schema_version"),
    "version is a float": (b'{"format": "gradscope-trace", "schema_version": 1.0}', "no valid schema_version"),
    "newer version": (b'{"format": "gradscope-trace", "schema_version": 2}', "newer than this gradscope supports"),
    "huge integer": (b'{"format": "gradscope-trace", "schema_version": ' + b"9" * 5000 + b"}", "manifest"),
    "deeply nested": (b'{"format": "gradscope-trace", "schema_version": 1, "meta": ' + b"[" * 100_000 + b"]" * 100_000
                      + b"}", "manifest"),
    "pickle": (b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01x\x94.", "corrupt manifest"),
}


@pytest.mark.parametrize("case", RAW_MANIFESTS)
def test_raw_manifest_errors(case, trace_bytes, tmp_path):
    raw, message = RAW_MANIFESTS[case]
    path = tmp_path / "bad.gstrace"
    path.write_bytes(with_manifest(trace_bytes, raw))
    with pytest.raises(TraceFormatError, match=message):
        load_trace(path)


def _first(manifest, kind):
    return next(n for n in manifest["nodes"] if n["kind"] == kind)


def _set(path, value):
    """A mutation setting manifest[path...] = value."""
    def mutate(manifest):
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _delete(*path):
    def mutate(manifest):
        target = manifest
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


def _op_node(manifest):
    return _first(manifest, "op")


MALFORMED = {
    "no nodes": _delete("nodes"),
    "no tensors": _delete("tensors"),
    "no passes": _delete("passes"),
    "no parameters": _delete("parameters"),
    "no anomalies": _delete("anomalies"),
    "nodes is a number": _set(["nodes"], 5),
    "nodes is a dict": _set(["nodes"], {"0": {}}),
    "node without name": lambda m: _op_node(m).pop("name"),
    "node id is text": lambda m: _op_node(m).update(id="0"),
    "node id is a bool": lambda m: _op_node(m).update(id=True),
    "edge to an unknown node": lambda m: _op_node(m).update(next=[[9999, 0]]),
    "edge is not a pair": lambda m: _op_node(m).update(next=[[0]]),
    "edge input number is text": lambda m: _op_node(m).update(next=[[None, "0"]]),
    "source is text": lambda m: _op_node(m).update(source="file.py:3"),
    "source line is text": lambda m: _op_node(m)["source"].update(line="3"),
    "params is a list": lambda m: _op_node(m).update(params=["a"]),
    "saved is a list": lambda m: _op_node(m).update(saved=[0]),
    "saved tensor is null": lambda m: next(n for n in m["nodes"] if n["saved"])["saved"].update(self=None),
    "tensor index out of range": lambda m: _op_node(m).update(outputs=[10**6]),
    "negative tensor index": lambda m: _op_node(m).update(outputs=[-1]),
    "tensor index is a float": lambda m: _op_node(m).update(outputs=[0.0]),
    "tensor entry is a number": _set(["tensors", 0], 5),
    "stats without norm": lambda m: m["tensors"][0]["stats"].pop("norm"),
    "stats norm is text": lambda m: m["tensors"][0]["stats"].update(norm="big"),
    "stats shape and numel disagree": lambda m: m["tensors"][0]["stats"].update(numel=10**6),
    "stats negative shape": lambda m: m["tensors"][0]["stats"].update(shape=[-1, -3], numel=3),
    "histogram is a number": lambda m: m["tensors"][0]["stats"].update(histogram=3),
    "array not in the file": lambda m: next(t for t in m["tensors"] if t["array"]).update(array="arrays/999.npy"),
    "pass root unknown": lambda m: m["passes"][0].update(roots=[9999]),
    "pass order unknown": lambda m: m["passes"][0]["order"].append(9999),
    "leaf grad of an unknown node": lambda m: m["passes"][0]["leaf_grads"].update({"9999": 0}),
    "leaf grad key is not a number": lambda m: m["passes"][0]["leaf_grads"].update({"w": 0}),
    "grad_outputs is a list": lambda m: m["passes"][0].update(grad_outputs=[[0]]),
    "parameter of an unknown node": lambda m: m["parameters"][0].update(node=9999),
    "parameter without value": lambda m: m["parameters"][0].pop("value"),
    "anomaly of an unknown node": lambda m: m["anomalies"][0].update(node=9999),
    "anomaly pass is text": lambda m: m["anomalies"][-1].update({"pass": "0"}),
    "meta is text": _set(["meta"], "abc"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_manifest(case, trace_bytes, tmp_path):
    manifest = copy.deepcopy(manifest_of(trace_bytes))
    MALFORMED[case](manifest)
    path = tmp_path / "bad.gstrace"
    path.write_bytes(with_manifest(trace_bytes, manifest))
    with pytest.raises(TraceFormatError, match="trace") as error:
        load_trace(path)
    assert str(path) in str(error.value)


# ------------------------------------------------------------------------------------ bad arrays
def _array_member(trace_bytes) -> tuple[str, dict]:
    """The first stored array and its tensor entry."""
    manifest = manifest_of(trace_bytes)
    entry = next(t for t in manifest["tensors"] if t["array"])
    return entry["array"], entry["stats"]


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npy_header_only(shape: tuple[int, ...]) -> bytes:
    header = repr({"descr": "<f8", "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def _npz(array) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, a=array)
    return buffer.getvalue()


def _load_with_member(trace_bytes, tmp_path, name, data) -> Trace:
    contents = members(trace_bytes)
    contents[name] = data
    path = tmp_path / "bad.gstrace"
    path.write_bytes(build_zip(contents))
    return load_trace(path)


BAD_ARRAYS = {
    "not npy": lambda stats: b"garbage" * 10,
    "empty": lambda stats: b"",
    "truncated npy": lambda stats: _npy(np.zeros(stats["shape"], dtype=np.float32))[:-3],
    "wrong shape": lambda stats: _npy(np.zeros((7, 7), dtype=np.float32)),
    "raw pickle": lambda stats: b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01x\x94.",
    "npz archive": lambda stats: _npz(np.zeros(stats["shape"])),
    "header claiming a petabyte": lambda stats: _npy_header_only((10**14,)),
}


@pytest.mark.parametrize("case", BAD_ARRAYS)
def test_bad_array_members_fail_when_read(case, trace_bytes, tmp_path):
    name, stats = _array_member(trace_bytes)
    trace = _load_with_member(trace_bytes, tmp_path, name, BAD_ARRAYS[case](stats))
    with pytest.raises(TraceFormatError, match=name):
        touch_everything(trace)


def test_corrupt_compressed_array_fails_when_read(trace_bytes, tmp_path):
    name, _ = _array_member(trace_bytes)
    contents = members(trace_bytes)
    contents[name] = bytes(range(256)) * 4  # so the deflated stream is long enough to damage in its middle
    archive = bytearray(build_zip(contents))
    info = zipfile.ZipFile(io.BytesIO(bytes(archive))).getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    archive[start + 2:start + 20] = b"\xff" * 18
    path = tmp_path / "bad.gstrace"
    path.write_bytes(bytes(archive))
    trace = load_trace(path)
    with pytest.raises(TraceFormatError, match=name):
        touch_everything(trace)


# ----------------------------------------------------------------------------- no code execution
class _Payload:
    """Unpickling this creates `marker` (a harmless stand-in for arbitrary code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickle_payload_is_never_unpickled(trace_bytes, tmp_path):
    proof, marker = tmp_path / "proof", tmp_path / "marker"
    proof.mkdir()
    # the payload is live: loading it with pickle allowed does create its marker
    unpickled = np.load(io.BytesIO(_npy(np.array([_Payload(proof / "ran")], dtype=object), allow_pickle=True)),
                        allow_pickle=True)
    unpickled[0].close()
    assert (proof / "ran").exists()

    object_array = np.array([_Payload(marker)], dtype=object)
    name, stats = _array_member(trace_bytes)
    manifest = manifest_of(trace_bytes)
    entry = next(t for t in manifest["tensors"] if t["array"] == name)
    entry["stats"].update(shape=[1], numel=1, dtype="object")
    contents = members(trace_bytes)
    contents[name] = _npy(object_array, allow_pickle=True)
    contents["manifest.json"] = json.dumps(manifest).encode()
    path = tmp_path / "evil.gstrace"
    path.write_bytes(build_zip(contents))
    trace = load_trace(path)
    with pytest.raises(TraceFormatError, match="corrupt array"):
        touch_everything(trace)
    assert not marker.exists()

    for evil in (pickle.dumps(_Payload(marker)), build_zip({"manifest.json": pickle.dumps(_Payload(marker))})):
        path.write_bytes(evil)
        with pytest.raises(TraceFormatError):
            load_trace(path)
        assert not marker.exists()


# --------------------------------------------------------------------------------------- fuzzing
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)


def _paths(value, prefix=()):
    """Every position in a JSON document, as a key path."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _mutate(data: bytes, draw) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "splice", "member", "manifest"]))
    if kind == "flip":
        mutated = bytearray(data)
        for offset, value in draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)),
                                           min_size=1, max_size=8)):
            mutated[offset] = value
        return bytes(mutated)
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "splice":
        offset = draw(st.integers(0, len(data)))
        return data[:offset] + draw(st.binary(max_size=64)) + data[offset + draw(st.integers(0, 64)):]
    contents = members(data)
    if kind == "member":
        name = draw(st.sampled_from(sorted(contents)))
        original = contents[name]
        contents[name] = draw(st.binary(max_size=256) | st.just(original[: draw(st.integers(0, len(original)))]))
    else:
        manifest = json.loads(contents["manifest.json"])
        path = draw(st.sampled_from([p for p in _paths(manifest) if p]))
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = draw(json_values)
        contents["manifest.json"] = json.dumps(manifest).encode()
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    return build_zip(contents, compression)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_files_load_or_raise_trace_format_error(trace_file, data):
    path = trace_file.with_name("fuzzed.gstrace")
    path.write_bytes(_mutate(trace_file.read_bytes(), data.draw))
    try:
        trace = load_trace(path)
    except TraceFormatError:
        return
    try:
        touch_everything(trace)
    except TraceFormatError:
        return
    to_dot(trace)
    to_json(trace)
