"""Trace files: round trip, atomic writes, lazy safe reads, and a clear TraceFormatError for every bad file."""

import copy
import io
import json
import os
import pickle
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from trace_mutants import MIB, Member, deflate_padded, write_zip

import gradscope as torch
from gradscope._stats import compute_stats
from gradscope.trace import export, isolate, tracefile
from gradscope.trace.export import to_dot, to_json
from gradscope.trace.model import Parameter, TensorRecord, Trace
from gradscope.trace.recorder import Recorder
from gradscope.trace.tracefile import (
    SCHEMA_VERSION,
    TraceFormatError,
    _finite_json,
    load_trace,
    save_trace,
    to_manifest,
)

ROOT = Path(__file__).resolve().parents[2]


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


LEGACY_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "trace-v2-small.gstrace"


@pytest.fixture(scope="module")
def trace_bytes() -> bytes:
    """`record_sample()` as schema 2 wrote it (one .npy member per array): the checks of that layout's
    arrays and manifest below run on it, as old files must keep loading safely."""
    return LEGACY_SAMPLE.read_bytes()


@pytest.fixture(scope="module")
def packed_bytes(sample, tmp_path_factory) -> bytes:
    """`record_sample()` as this gradscope writes it (schema 3: arrays packed into blobs)."""
    path = tmp_path_factory.mktemp("trace") / "sample.gstrace"
    save_trace(sample, path)
    return path.read_bytes()


@pytest.fixture
def trace_file(packed_bytes, tmp_path) -> Path:
    path = tmp_path / "sample.gstrace"
    path.write_bytes(packed_bytes)
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
    assert a.masks == b.masks


# ------------------------------------------------------------------------------------ good files
def test_round_trip(sample, trace_file):
    loaded = load_trace(trace_file)
    assert_same_trace(sample, loaded)
    assert {a.role for a in loaded.culprits()} == {"culprit"}
    assert len(loaded.passes) == 2
    big = next(p for p in loaded.parameters if p.name == "big")
    grad = loaded.parameter_grad(big, 0)
    assert not grad.has_values and grad.stats.norm == pytest.approx(2 * np.sqrt(12))


def test_masks_come_back_from_the_file(tmp_path):
    """Forward infinities that were masks are no anomalies, but the file keeps where they were."""
    with Recorder() as rec:
        w = torch.ones(3, requires_grad=True)
        hidden = torch.tensor([False, True, False])
        torch.softmax(w.masked_fill(hidden, float("-inf")), 0)[0].backward()
    trace = rec.finish({"w": w})
    assert trace.anomalies == [] and [(m.phase, m.role, m.op) for m in trace.masks] == [
        ("forward", "culprit", "masked_fill")]
    save_trace(trace, tmp_path / "masked.gstrace")
    assert_same_trace(trace, load_trace(tmp_path / "masked.gstrace"))


def test_an_uncompressed_trace_stores_its_members_and_reads_the_same(sample, trace_file, tmp_path):
    """The child recording a script hands its trace over uncompressed (read once, right away)."""
    stored = tmp_path / "stored.gstrace"
    save_trace(sample, stored, compress=False)
    with zipfile.ZipFile(stored) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    with zipfile.ZipFile(trace_file) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    assert_same_trace(sample, load_trace(stored))


def test_a_recorded_script_comes_back_through_an_uncompressed_file(tmp_path):
    result = isolate.record_job({"path": str(ROOT / "sample_models" / "mlp.py"), "entry": None, "keep_values": None,
                                 "max_passes": None}, tmp_path, report=lambda message: None)
    with zipfile.ZipFile(tmp_path / result["trace"]) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_file_layout(packed_bytes, sample):
    contents = members(packed_bytes)
    manifest = json.loads(contents["manifest.json"])
    assert manifest["format"] == "gradscope-trace"
    assert manifest["schema_version"] == SCHEMA_VERSION == 3
    stored = [entry for entry in manifest["tensors"] if entry["array"] is not None]
    assert stored and {entry["array"] for entry in stored} == set(contents) - {"manifest.json"}
    for name in set(contents) - {"manifest.json"}:  # one blob per dtype, its tensors back to back
        slices = sorted((e["offset"], e) for e in stored if e["array"] == name)
        dtype = np.dtype(slices[0][1]["dtype"]).newbyteorder("<")
        assert name == f"arrays/{dtype.name}-0.bin" and "stats" not in slices[0][1]
        blob = np.frombuffer(contents[name], dtype=dtype)
        end = 0
        for offset, entry in slices:
            assert offset == end and entry["dtype"] == dtype.name
            end += int(np.prod(entry["shape"]))
        assert end == blob.size
    assert all(entry["stats"]["numel"] > 8 for entry in manifest["tensors"] if entry["array"] is None)


def test_schema_2_files_still_load(trace_bytes, sample, tmp_path):
    path = tmp_path / "old.gstrace"
    path.write_bytes(trace_bytes)
    old = load_trace(path)
    assert old.masks == []  # files before masks were kept hold none
    assert [(n.id, n.name) for n in old.nodes.values()] == [(n.id, n.name) for n in sample.nodes.values()]
    for mine, theirs in zip(all_records(old), all_records(sample), strict=True):
        # the file's statistics were computed when it was written, perhaps rounded differently since
        ours, recorded = mine.stats.to_json(), theirs.stats.to_json()
        for key in ("shape", "dtype", "numel", "nan", "posinf", "neginf", "histogram"):
            assert ours[key] == recorded[key], key
        figures = ("norm", "mean", "std", "min", "max", "zero_fraction")
        np.testing.assert_allclose([ours[k] for k in figures] + ours["histogram_range"],
                                   [recorded[k] for k in figures] + recorded["histogram_range"], rtol=1e-6)
        if theirs.has_values:
            np.testing.assert_array_equal(mine.values, theirs.values)
    save_trace(old, path)  # rewritten in this version's layout: the same graph and values
    rewritten = load_trace(path)
    assert [(n.id, n.name, n.source) for n in rewritten.nodes.values()] == \
        [(n.id, n.name, n.source) for n in old.nodes.values()]
    for mine, theirs in zip(all_records(rewritten), all_records(old), strict=True):
        assert mine.has_values == theirs.has_values and mine.shape == theirs.shape
        if theirs.has_values:
            np.testing.assert_array_equal(mine.values, theirs.values)


def test_arrays_are_read_lazily_and_never_with_pickle(trace_bytes, tmp_path, monkeypatch):
    """Schema 2 files: each array is read when first used."""
    trace_file = tmp_path / "old.gstrace"
    trace_file.write_bytes(trace_bytes)
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(archive, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(archive, name, *args, **kwargs)

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling")

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    for module, name in ((np, "load"), (pickle, "load"), (pickle, "loads")):
        monkeypatch.setattr(module, name, forbidden)
    trace = load_trace(trace_file)
    records = [r for r in all_records(trace) if r.has_values]
    assert records and opened == ["manifest.json"]
    assert records[0].stats.numel >= 1 and len(opened) == 1  # statistics come from the manifest
    assert records[0].values is not None
    assert len(opened) == 2 and opened[1].startswith("arrays/")
    touch_everything(trace)


def test_packed_arrays_are_read_once_each_when_opened_and_never_with_pickle(trace_file, monkeypatch):
    """Schema 3 files: each blob is read whole, once, when the file is opened (a damaged one is refused
    then); every tensor's values are a view into it."""
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(archive, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(archive, name, *args, **kwargs)

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling")

    blobs = set(members(trace_file.read_bytes())) - {"manifest.json"}
    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    for module, name in ((np, "load"), (pickle, "load"), (pickle, "loads")):
        monkeypatch.setattr(module, name, forbidden)
    trace = load_trace(trace_file)
    assert opened[0] == "manifest.json" and sorted(opened[1:]) == sorted(blobs)
    touch_everything(trace)
    assert len(opened) == 1 + len(blobs)
    packed = [r for r in all_records(trace) if r.has_values]
    assert packed and all(r.values.base is not None for r in packed)  # views, not copies


def test_save_replaces_atomically(sample, trace_file, monkeypatch):
    before = trace_file.read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tracefile._Blobs, "write", broken_save)
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
    "newer version": (b'{"format": "gradscope-trace", "schema_version": %d}' % (SCHEMA_VERSION + 1),
                      "newer than this gradscope supports"),
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
    "meta is a list of pairs": _set(["meta"], [["keep_values", 8]]),
    "meta string is a lone surrogate": lambda m: m["meta"].update(script="\udc00"),
    "schema version zero": _set(["schema_version"], 0),
    "negative schema version": _set(["schema_version"], -1),
    "node name is a number": lambda m: _op_node(m).update(name=5),
    "node name is a lone surrogate": lambda m: _op_node(m).update(name="\ud800"),
    "node of an unknown kind": lambda m: _op_node(m).update(kind="weird"),
    "duplicate node id": lambda m: m["nodes"].append(dict(_op_node(m))),
    "hooks is a string": lambda m: _op_node(m).update(hooks="abc"),
    "param value is a number": lambda m: _op_node(m).update(params={"dim": 1}),
    "negative edge input number": lambda m: _op_node(m).update(next=[[None, -1]]),
    "source line is negative": lambda m: _op_node(m)["source"].update(line=-3),
    "pass index out of order": lambda m: m["passes"][1].update(index=0),
    "node id key with a sign": lambda m: m["passes"][0]["leaf_grads"].update(
        {"+" + key: m["passes"][0]["leaf_grads"].pop(key) for key in list(m["passes"][0]["leaf_grads"])[:1]}),
    "parameter module is a number": lambda m: m["parameters"][0].update(module=3),
    "anomaly of an unknown role": lambda m: m["anomalies"][0].update(role="bystander"),
    "anomaly of an unknown phase": lambda m: m["anomalies"][0].update(phase="sideways"),
    "anomaly pass out of range": lambda m: m["anomalies"][-1].update({"pass": 7}),
    "two tensors share an array": lambda m: _arrays(m)[1].update(array=_arrays(m)[0]["array"]),
    "unknown dtype": lambda m: m["tensors"][0]["stats"].update(dtype="V0"),
    "too many dimensions": lambda m: m["tensors"][0]["stats"].update(shape=[1] * 65, numel=1),
    "histogram too short": lambda m: _counted(m)["stats"]["histogram"].pop(),
    "histogram too long": lambda m: _counted(m)["stats"]["histogram"].append(0),
    "negative histogram count": lambda m: _counted(m)["stats"]["histogram"].__setitem__(0, -1),
    "histogram counts more than the elements": lambda m: _counted(m)["stats"]["histogram"].__setitem__(0, 10**6),
    "histogram count is a float": lambda m: _counted(m)["stats"]["histogram"].__setitem__(0, 0.5),
    "histogram range is nan beside counts": lambda m: _counted(m)["stats"].update(histogram_range=["nan", 0.0]),
    "histogram range reversed": lambda m: _counted(m)["stats"].update(histogram_range=[1.0, 0.0]),
    "negative nan count": lambda m: m["tensors"][0]["stats"].update(nan=-1),
    "more non-finite values than elements": lambda m: m["tensors"][0]["stats"].update(posinf=10**6),
    "zero fraction above one": lambda m: m["tensors"][0]["stats"].update(zero_fraction=2.0),
    "negative norm": lambda m: m["tensors"][0]["stats"].update(norm=-1.0),
}


def _arrays(manifest) -> list[dict]:
    return [entry for entry in manifest["tensors"] if entry["array"]]


def _counted(manifest) -> dict:
    """A tensor entry whose histogram counts something."""
    return next(entry for entry in manifest["tensors"] if sum(entry["stats"]["histogram"]))


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_manifest(case, trace_bytes, tmp_path):
    manifest = copy.deepcopy(manifest_of(trace_bytes))
    MALFORMED[case](manifest)
    path = tmp_path / "bad.gstrace"
    path.write_bytes(with_manifest(trace_bytes, manifest))
    with pytest.raises(TraceFormatError, match="trace") as error:
        load_trace(path)
    assert str(path) in str(error.value)


# ------------------------------------------------------------------------------------ bad packed arrays
def _packed(m: dict) -> list[dict]:
    return [entry for entry in m["tensors"] if entry["array"] is not None]


def _float_slices(m: dict) -> list[dict]:
    return sorted((e for e in _packed(m) if e["dtype"] == "float32"), key=lambda e: e["offset"])


MALFORMED_PACKED = {
    "blob missing": lambda m: _packed(m)[0].update(array="arrays/float32-9.bin"),
    "offset leaves a gap": lambda m: _float_slices(m)[-1].update(offset=_float_slices(m)[-1]["offset"] + 1),
    "two tensors overlap": lambda m: _float_slices(m)[1].update(offset=0),
    "negative offset": lambda m: _packed(m)[0].update(offset=-1),
    "offset is text": lambda m: _packed(m)[0].update(offset="0"),
    "two dtypes in one blob": lambda m: _float_slices(m)[0].update(dtype="int32"),
    "complex dtype": lambda m: _float_slices(m)[0].update(dtype="complex64"),
    "unknown dtype": lambda m: _packed(m)[0].update(dtype="V0"),
    "negative dimension": lambda m: _packed(m)[0].update(shape=[-1]),
    "too many dimensions": lambda m: _packed(m)[0].update(shape=[1] * 65),
    "shape claims more than the blob": lambda m: _float_slices(m)[-1].update(shape=[2, 3]),
    "more elements than keep_values": lambda m: _float_slices(m)[-1].update(shape=[9]),
    "shape is text": lambda m: _packed(m)[0].update(shape="3"),
    "no dtype": lambda m: _packed(m)[0].pop("dtype"),
    "an empty array of a hundred million rows": lambda m: _float_slices(m)[0].update(shape=[10**8, 0]),
}


@pytest.mark.parametrize("case", MALFORMED_PACKED)
def test_malformed_packed_entries_are_refused_when_the_manifest_is_read(case, packed_bytes, tmp_path):
    manifest = copy.deepcopy(manifest_of(packed_bytes))
    MALFORMED_PACKED[case](manifest)
    path = tmp_path / "bad.gstrace"
    path.write_bytes(with_manifest(packed_bytes, manifest))
    with pytest.raises(TraceFormatError, match="trace") as error:
        load_trace(path)
    assert str(path) in str(error.value)


BAD_BLOBS = {
    "a byte short": lambda blob: blob[:-1],
    "a byte long": lambda blob: blob + b"\0",
    "empty": lambda blob: b"",
}


@pytest.mark.parametrize("case", BAD_BLOBS)
def test_blobs_of_the_wrong_size_are_refused(case, packed_bytes, tmp_path):
    contents = members(packed_bytes)
    contents["arrays/float32-0.bin"] = BAD_BLOBS[case](contents["arrays/float32-0.bin"])
    path = tmp_path / "bad.gstrace"
    path.write_bytes(build_zip(contents))
    with pytest.raises(TraceFormatError, match="float32-0.bin"):
        touch_everything(load_trace(path))


@pytest.mark.parametrize("honest", [True, False], ids=["honest headers", "lying headers"])
def test_a_blob_inflating_to_64_mib_is_never_inflated_past_its_tensors(honest, packed_bytes, tmp_path):
    contents = members(packed_bytes)
    name = "arrays/float32-0.bin"
    declared = len(contents[name])
    member = Member(name, deflate_padded(contents[name], b"\0", 64), zipfile.ZIP_DEFLATED, 0,
                    declared + 64 * MIB if honest else declared)
    others = [Member.of(n, data) for n, data in contents.items() if n != name]
    path = tmp_path / "bomb.gstrace"
    path.write_bytes(write_zip([*others, member]))
    def attempt():
        with pytest.raises(TraceFormatError, match="trace|float32-0.bin"):
            touch_everything(load_trace(path))

    assert _peak_memory(attempt) < 2 * MIB


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


def _npy_header_only(shape: tuple[int, ...], descr="<f8", fortran: bool = False) -> bytes:
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode()
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
    "one byte too many": lambda stats: _npy(np.zeros(stats["shape"], dtype=np.float32)) + b"\0",
    "fortran order": lambda stats: _npy_header_only(tuple(stats["shape"]), "<f4", fortran=True)
    + bytes(4 * stats["numel"]),
    "header length beyond the member": lambda stats: b"\x93NUMPY\x02\x00\xff\xff\xff\xff",
    "unknown .npy version": lambda stats: b"\x93NUMPY\x03\x00" + _npy(np.zeros(stats["shape"], np.float32))[8:],
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
    path = tmp_path / "evil.gstrace"
    for dtype in ("object", "float64"):  # what the array holds, or what the statistics say it should
        manifest = manifest_of(trace_bytes)
        entry = next(t for t in manifest["tensors"] if t["array"] == name)
        entry["stats"].update(shape=[1], numel=1, dtype=dtype, histogram=[0] * 16)
        contents = members(trace_bytes)
        contents[name] = _npy(object_array, allow_pickle=True)
        contents["manifest.json"] = json.dumps(manifest).encode()
        path.write_bytes(build_zip(contents))
        with pytest.raises(TraceFormatError, match="malformed trace manifest|corrupt array"):
            read_everything(path)
        assert not marker.exists()

    for evil in (pickle.dumps(_Payload(marker)), build_zip({"manifest.json": pickle.dumps(_Payload(marker))})):
        path.write_bytes(evil)
        with pytest.raises(TraceFormatError):
            load_trace(path)
        assert not marker.exists()




# ------------------------------------------------------------------------ only what gradscope writes
def read_everything(path: Path) -> None:
    """Load a trace, read every array, export it both ways."""
    trace = load_trace(path)
    touch_everything(trace)
    export.write_json(trace, io.StringIO())
    to_dot(trace)


def _with_array(trace_bytes: bytes, tmp_path: Path, npy: bytes, **stats) -> Path:
    """The sample with its first array member replaced by `npy`, and its statistics updated."""
    manifest = manifest_of(trace_bytes)
    entry = _arrays(manifest)[0]
    entry["stats"].update(stats)
    contents = members(trace_bytes)
    contents[entry["array"]] = npy
    contents["manifest.json"] = json.dumps(manifest).encode()
    path = tmp_path / "bad.gstrace"
    path.write_bytes(build_zip(contents))
    return path


UNSTORED_DTYPES = ["|V0", "|S0", "<U0", "<c8", "<c16", "|S8", "<U2", "<M8[s]", "<m8[s]", "<f16", [("a", "<f8")]]


@pytest.mark.parametrize("stated", ["stated", "unstated"], ids=["statistics say so", "statistics say float32"])
@pytest.mark.parametrize("descr", UNSTORED_DTYPES, ids=str)
def test_arrays_of_dtypes_gradscope_never_stores_are_refused(descr, stated, trace_bytes, tmp_path):
    dtype = np.dtype(descr)
    stats = _array_member(trace_bytes)[1]
    assert stats["dtype"] == "float32"
    npy = _npy_header_only(tuple(stats["shape"]), descr) + bytes(dtype.itemsize * stats["numel"])
    path = _with_array(trace_bytes, tmp_path, npy, **({"dtype": dtype.name} if stated == "stated" else {}))
    with pytest.raises(TraceFormatError):
        read_everything(path)


def test_a_billion_elements_of_nothing_are_refused(trace_bytes, tmp_path):
    path = _with_array(trace_bytes, tmp_path, _npy_header_only((10**9,), "|V0"), dtype="void", shape=[10**9],
                       numel=10**9)
    with pytest.raises(TraceFormatError):
        read_everything(path)


@pytest.mark.parametrize("descr", ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4",
                                   "<f8", ">f8", ">i4"])
def test_arrays_of_every_stored_dtype_load(descr, trace_bytes, tmp_path):
    dtype = np.dtype(descr)
    stats = _array_member(trace_bytes)[1]
    values = np.arange(stats["numel"]).astype(dtype).reshape(stats["shape"])
    path = _with_array(trace_bytes, tmp_path, _npy(values), dtype=dtype.name)
    read_everything(path)
    record = next(r for r in all_records(load_trace(path)) if r.has_values and r.stats.dtype == dtype.name)
    np.testing.assert_array_equal(record.values, values)


def test_an_empty_array_claiming_a_hundred_million_rows_is_refused(trace_bytes, tmp_path):
    path = _with_array(trace_bytes, tmp_path, _npy_header_only((10**8, 0), "<f4"), shape=[10**8, 0], numel=0)
    with pytest.raises(TraceFormatError, match="empty"):
        read_everything(path)


def test_an_array_larger_than_the_trace_keeps_is_refused(trace_bytes, tmp_path):
    values = np.zeros(40, dtype=np.float32)  # the sample keeps the values of tensors up to 8 elements
    path = _with_array(trace_bytes, tmp_path, _npy(values), shape=[40], numel=40)
    with pytest.raises(TraceFormatError, match="keep_values"):
        read_everything(path)


def test_an_array_above_the_size_cap_is_refused_before_reading(trace_bytes, tmp_path, monkeypatch):
    monkeypatch.setattr(tracefile, "MAX_ARRAY_BYTES", 64)
    manifest = manifest_of(trace_bytes)
    manifest["meta"]["keep_values"] = 100
    values = np.zeros(10, dtype=np.float64)
    path = _with_array(with_manifest(trace_bytes, manifest), tmp_path, _npy(values), dtype="float64", shape=[10],
                       numel=10)
    with pytest.raises(TraceFormatError, match="larger than"):
        read_everything(path)


def test_schema_versions_below_one_are_refused(trace_bytes, tmp_path):
    for version in (0, -1):
        manifest = manifest_of(trace_bytes)
        manifest["schema_version"] = version
        path = tmp_path / "old.gstrace"
        path.write_bytes(with_manifest(trace_bytes, manifest))
        with pytest.raises(TraceFormatError, match=f"schema version {version}"):
            load_trace(path)


@pytest.mark.parametrize("twin", ["manifest.json", "array"])
def test_duplicate_member_names_are_refused(twin, trace_bytes, tmp_path):
    listed = [Member.of(name, data) for name, data in members(trace_bytes).items()]
    name = twin if twin == "manifest.json" else _array_member(trace_bytes)[0]
    original = next(member for member in listed if member.name == name)
    path = tmp_path / "twins.gstrace"
    path.write_bytes(write_zip([*listed, Member.of(name, b"{}" if name == "manifest.json" else b"x"), original]))
    with pytest.raises(TraceFormatError, match="more than once"):
        load_trace(path)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
@pytest.mark.parametrize("member", ["manifest.json", "array"])
def test_members_compressed_unlike_gradscope_are_refused(method, member, trace_bytes, tmp_path):
    contents = members(trace_bytes)
    name = member if member == "manifest.json" else _array_member(trace_bytes)[0]
    listed = [Member.of(key, data, method if key == name else zipfile.ZIP_DEFLATED) for key, data in contents.items()]
    path = tmp_path / "bzip2.gstrace"
    path.write_bytes(write_zip(listed))
    with pytest.raises(TraceFormatError, match="compress"):
        read_everything(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_manifest_must_be_utf8_json(encoding, trace_bytes, tmp_path):
    text = json.dumps(manifest_of(trace_bytes))
    path = tmp_path / "encoded.gstrace"
    path.write_bytes(with_manifest(trace_bytes, text.encode(encoding)))
    with pytest.raises(TraceFormatError, match="manifest"):
        load_trace(path)


def _nested_meta(trace_bytes: bytes, depth: int) -> bytes:
    """The sample with `meta.deep` nested so the manifest is `depth` containers deep (the top level is 1)."""
    manifest = manifest_of(trace_bytes)
    manifest["meta"]["deep"] = "@deep"
    text = json.dumps(manifest).replace('"@deep"', "[" * (depth - 2) + "]" * (depth - 2))
    return with_manifest(trace_bytes, text.encode())


def test_json_nesting_is_bounded(trace_bytes, tmp_path):
    path = tmp_path / "deep.gstrace"
    path.write_bytes(_nested_meta(trace_bytes, 900))
    with pytest.raises(TraceFormatError, match="nested"):
        load_trace(path)
    path.write_bytes(_nested_meta(trace_bytes, tracefile.MAX_JSON_DEPTH + 1))
    with pytest.raises(TraceFormatError, match="nested"):
        load_trace(path)
    path.write_bytes(_nested_meta(trace_bytes, tracefile.MAX_JSON_DEPTH))
    read_everything(path)


# ---------------------------------------------------------------------- reads bounded by the file
class _Sink(io.TextIOBase):
    """A text stream that keeps nothing."""

    def write(self, text: str) -> int:
        return len(text)


def _peak_memory(action) -> int:
    """The most memory Python held at once while `action` ran, in bytes."""
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _refused_or_loaded(path: Path) -> None:
    try:
        read_everything(path)
    except TraceFormatError:
        pass


@pytest.mark.parametrize("honest", [True, False], ids=["honest header", "header claims the original size"])
def test_an_array_member_inflating_to_64_mib_is_never_inflated(honest, trace_bytes, tmp_path):
    name = _array_member(trace_bytes)[0]
    contents = members(trace_bytes)
    data = contents[name]
    size = len(data) + 64 * MIB if honest else len(data)
    bomb = Member(name, deflate_padded(data, b"\0", 64), zipfile.ZIP_DEFLATED, zlib.crc32(data), size)
    path = tmp_path / "bomb.gstrace"
    path.write_bytes(write_zip([bomb if key == name else Member.of(key, value) for key, value in contents.items()]))
    trace = load_trace(path)
    peak = _peak_memory(lambda: _refused_or_loaded(path))
    assert peak < 4 * MIB
    if honest:
        with pytest.raises(TraceFormatError, match=name):
            touch_everything(trace)


@pytest.mark.parametrize("honest", [True, False], ids=["honest header", "header claims the original size"])
def test_a_manifest_past_the_cap_is_never_inflated(honest, trace_bytes, tmp_path):
    contents = members(trace_bytes)
    data = contents["manifest.json"]
    size = len(data) + 300 * MIB if honest else len(data)
    huge = Member("manifest.json", deflate_padded(data, b" ", 300), zipfile.ZIP_DEFLATED, zlib.crc32(data), size)
    path = tmp_path / "huge.gstrace"
    path.write_bytes(write_zip([huge if key == "manifest.json" else Member.of(key, value)
                                for key, value in contents.items()]))
    peak = _peak_memory(lambda: _refused_or_loaded(path))
    assert peak < 4 * MIB
    if honest:
        with pytest.raises(TraceFormatError, match="manifest is larger than"):
            load_trace(path)


def test_export_holds_no_more_than_the_files_arrays(tmp_path):
    with Recorder(keep_values=1 << 20) as recorder:
        x = torch.randn(1 << 17, dtype=torch.float64, requires_grad=True)
        (x * x).sum().backward()
    path = tmp_path / "big.gstrace"
    save_trace(recorder.finish({"x": x}), path)
    with zipfile.ZipFile(path) as archive:
        stored = sum(info.file_size for info in archive.infolist() if info.filename != "manifest.json")
    trace = load_trace(path)
    assert _peak_memory(lambda: export.write_json(trace, _Sink())) < stored + 4 * MIB


# ------------------------------------------------------------------------------------ JSON export
def test_identical_tensors_share_their_statistics_computed_once():
    arrays = [np.zeros((2, 3), dtype=np.float32), np.zeros((2, 3), dtype=np.float32), np.full((2, 3), -0.0, np.float32),
              np.zeros((3, 2), dtype=np.float32), np.zeros((2, 3)), np.array([np.nan, 1.0]), np.array([np.nan, 1.0])]
    records = [TensorRecord(values=values) for values in arrays]
    TensorRecord.compute_all_stats(records)
    assert records[0].stats is records[1].stats  # the same dtype, shape and bytes
    assert records[5].stats is records[6].stats
    assert len({id(record.stats) for record in records}) == 5  # -0.0, another shape or dtype: not the same
    assert [repr(record.stats) for record in records] == [repr(compute_stats(values)) for values in arrays]


def _reference_json(trace: Trace) -> str:
    """The JSON export as it was first written: the whole document built, then dumped."""
    manifest, records = to_manifest(trace)
    manifest["tensors"] = [{"stats": _finite_json(r.stats.to_json()),
                            "values": None if r.values is None else _finite_json(r.values.tolist())} for r in records]
    return json.dumps(manifest, indent=1)


def _every_kind_of_array() -> Trace:
    arrays = {
        "scalar": np.array(2.5, dtype=np.float32), "empty": np.zeros(0), "no columns": np.zeros((2, 0)),
        "no rows": np.zeros((0, 3)), "cube": np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7,
        "non-finite": np.array([np.nan, np.inf, -np.inf, 1e308, -0.0, 5e-324]),
        "half": np.arange(5, dtype=np.float16), "flags": np.array([[True, False]]),
        "counts": np.array([-(2**63), 2**63 - 1]), "bytes": np.arange(3, dtype=np.uint8),
        "big endian": np.arange(3, dtype=">f8"),
        "float32 cube": np.arange(-12, 12, dtype=np.float32).reshape(2, 3, 4) / 7,
        "float32 of every scale": (np.random.default_rng(0).standard_normal((2, 1, 3, 4))
                                   * 10.0 ** np.arange(-21, 27, 2).reshape(2, 1, 3, 4)).astype(np.float32),
        "float32 powers of two": np.ldexp(np.float32(1), np.arange(-20, 20)).astype(np.float32),
    }
    alike = [np.zeros((2, 3), dtype=np.float32),
             np.array([[1.5, np.nan, -np.inf], [0.25, -0.0, 3e38]], dtype=np.float32),
             np.full((2, 3), -0.0, dtype=np.float32), np.zeros((2, 3), dtype=np.float32), np.ones((3,)),
             np.zeros((2, 3))]
    arrays.update({f"alike {index}": values for index, values in enumerate(alike * 3)})  # repeats, shapes interleaved
    matrices = [np.arange(12, dtype=np.float32).reshape(3, 4) / 7, alike[1], np.arange(5.0).reshape(1, 5),
                np.array([[np.nan, -0.0], [np.inf, 2.5]]), np.arange(6, dtype=np.int64).reshape(2, 3) - 2]
    arrays.update({f"matrix {index}": values  # and transposes: a linear layer's weight and its `t`
                   for index, values in enumerate([m for matrix in matrices for m in (matrix, matrix.T, matrix)])})
    return Trace(parameters=[Parameter(name, None, TensorRecord(values=values)) for name, values in arrays.items()],
                 meta={"nested": {"list": [1, [2, {"x": float("nan")}]], "text": "é\u2603"}})


@pytest.mark.parametrize("chunk", [None, 5], ids=["whole arrays", "arrays in chunks of 5"])
@pytest.mark.parametrize("which", ["sample", "every kind of array", "empty"])
@pytest.mark.parametrize("memory", ["plenty", "little"])
def test_json_export_is_the_same_document_as_before(which, chunk, memory, sample, tmp_path, monkeypatch):
    if chunk is not None:
        monkeypatch.setattr(export, "VALUES_CHUNK", chunk)
    if memory == "little":  # windows of a few tensors, texts of identical ones hardly kept
        monkeypatch.setattr(export, "WINDOW_VALUES", 10)
        monkeypatch.setattr(export, "RECENT_CHARS", 100)
    trace = {"sample": sample, "every kind of array": _every_kind_of_array(), "empty": Trace()}[which]
    expected = _reference_json(trace)
    assert to_json(trace) == expected
    stream = io.StringIO()
    export.write_json(trace, stream)
    assert stream.getvalue() == expected
    path = tmp_path / "saved.gstrace"
    save_trace(trace, path)
    assert to_json(load_trace(path)) == expected
