"""`gradscope export SCRIPT|TRACE --format dot|json [-o FILE]`, Graphviz rendering, and bad trace files."""

import json
import re
import shutil
import subprocess
import zipfile

import pytest
from cli_helpers import assert_input_error, documented_keys, gradscope, sample

from gradscope.trace.export import to_dot
from gradscope.trace.script import run_script

SAMPLE_NAMES = sorted(path.stem for path in sample("mlp").parent.glob("*.py"))


def dot_nodes(dot: str) -> dict[str, str]:
    """DOT node id → its attribute text, for `nX [...]` statements."""
    return dict(re.findall(r"^\s*(n\d+) \[(.*)\];$", dot, flags=re.MULTILINE))


def node_with_label(dot: str, label: str) -> str:
    matches = [attrs for attrs in dot_nodes(dot).values() if f'label="{label}\\n' in attrs]
    assert len(matches) == 1, (label, matches)
    return matches[0]


@pytest.fixture(scope="module")
def nan_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "nan.gstrace"
    assert gradscope("inspect", sample("nan_log"), "--save", path).exit_code == 1
    return path


def test_dot_from_a_script_marks_culprit_leaves_saved_tensors_and_loss():
    result = gradscope("export", sample("nan_log"), "--format", "dot")
    assert result.exit_code == 0, result.stderr
    dot = result.stdout
    assert dot.startswith("digraph gradscope {") and dot.rstrip().endswith("}")
    assert 'fillcolor="red"' in node_with_label(dot, "LogBackward0")
    assert 'shape="ellipse"' in node_with_label(dot, "model.encoder.weight")
    assert 'shape="doubleoctagon"' in node_with_label(dot, "MeanBackward0")
    assert 'fillcolor="pink"' in node_with_label(dot, "SigmoidBackward0")  # only passed the NaN on
    assert all('fillcolor="white"' not in node for node in dot_nodes(dot) if "MulBackward0" in node)
    assert re.search(r"shape=note, style=filled, fillcolor=orange, fontsize=8, label=\"self \[16, 4\]\"", dot)
    assert 'subgraph "cluster_model.head"' in dot
    ids = dot_nodes(dot)
    edges = re.findall(r"^\s*(n\d+) -> (n\d+);$", dot, flags=re.MULTILINE)
    assert edges and all(a in ids and b in ids for a, b in edges)


def test_dot_from_a_trace_matches_the_script(nan_trace):
    from_trace = gradscope("export", nan_trace, "--format", "dot")
    from_script = gradscope("export", sample("nan_log"), "--format", "dot")
    assert from_trace.exit_code == 0, from_trace.stderr
    assert from_trace.stdout == from_script.stdout


def test_json_from_a_trace_equals_inspect_json(nan_trace):
    result = gradscope("export", nan_trace, "--format", "json")
    assert result.exit_code == 0, result.stderr
    exported = json.loads(result.stdout)
    inspected = json.loads(gradscope("inspect", sample("nan_log"), "--json").stdout)
    assert inspected.pop("warnings") == []  # inspect's own addition: the health warnings
    assert exported == inspected


def test_json_from_a_script_follows_the_schema():
    result = gradscope("export", sample("mlp"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == documented_keys()["Top level"]
    assert {p["name"] for p in document["parameters"]} == {
        "model.fc1.weight", "model.fc1.bias", "model.fc2.weight", "model.fc2.bias"}


def test_saved_manifest_follows_the_schema(nan_trace):
    keys = documented_keys()
    with zipfile.ZipFile(nan_trace) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
    assert set(manifest) == keys["Top level"]
    for entry in manifest["tensors"]:
        if entry["array"] is None:  # statistics only
            assert set(entry) == {"array", "stats"} and set(entry["stats"]) == keys["Statistics"]
        else:  # values packed into a blob
            assert set(entry) == {"array", "offset", "shape", "dtype"} and entry["array"] in names
        assert set(entry) <= keys["Tensor entry"]
    for node in manifest["nodes"]:
        assert set(node) == keys["Node"]


@pytest.mark.parametrize("fmt", ["dot", "json"])
def test_output_file(tmp_path, fmt):
    target = tmp_path / f"graph.{fmt}"
    result = gradscope("export", sample("mlp"), "--format", fmt, "-o", target)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    text = target.read_text()
    if fmt == "dot":
        assert text.startswith("digraph gradscope {")
        assert "model.fc1.weight" in text
    else:
        assert json.loads(text)["format"] == "gradscope-trace"


def test_large_graphs_fold_by_module_scope():
    trace = run_script(sample("vanishing")).trace
    folded = to_dot(trace, fold=10)
    assert 'shape=box3d, label="model.0 (2 ops)"' in folded  # addmm + t of the first Linear
    assert "AddmmBackward0" not in folded
    assert '"scope:model.0" -> "scope:model.1";' in folded
    assert "model.0.weight" in folded  # leaves stay visible
    assert "AddmmBackward0" in to_dot(trace)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_graphviz_renders_every_sample(name):
    dot = gradscope("export", sample(name), "--format", "dot").stdout
    rendered = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.lstrip().startswith("<?xml") and "</svg>" in rendered.stdout
    if name == "nan_log":
        assert "LogBackward0" in rendered.stdout


# ------------------------------------------------------------------------------------- bad traces
def _corrupt_compressed_manifest(path):
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("manifest.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 2:start + 40] = bytes(range(38))
    return bytes(data)


BAD_TRACES = {
    "not a zip": (lambda good: b"certainly not a zip file", "not a gradscope trace file"),
    "truncated": (lambda good: good.read_bytes()[:300], "not a gradscope trace file"),
    "newer version": (None, "newer than this gradscope supports"),
    "corrupt compressed manifest": (_corrupt_compressed_manifest, "corrupt"),
}


@pytest.mark.parametrize("case", BAD_TRACES)
def test_bad_trace_exits_2(case, nan_trace, tmp_path):
    make, message = BAD_TRACES[case]
    bad = tmp_path / "bad.gstrace"
    if make is None:
        with zipfile.ZipFile(nan_trace) as source, zipfile.ZipFile(bad, "w") as target:
            manifest = json.loads(source.read("manifest.json"))
            manifest["schema_version"] = 99
            target.writestr("manifest.json", json.dumps(manifest))
    else:
        bad.write_bytes(make(nan_trace))
    for fmt in ("dot", "json"):
        result = gradscope("export", bad, "--format", fmt)
        assert_input_error(result, str(bad), message)
        assert "Traceback" not in result.stderr


def test_missing_source(tmp_path):
    assert_input_error(gradscope("export", tmp_path / "nope.gstrace"), "nope.gstrace", "no such file")


def test_directory_source(tmp_path):
    assert_input_error(gradscope("export", tmp_path), str(tmp_path))


def test_bad_format_is_a_usage_error():
    result = gradscope("export", sample("mlp"), "--format", "png")
    assert result.exit_code == 2
    assert "png" in result.stderr
