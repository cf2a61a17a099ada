"""`gradscope inspect`: every sample model, the JSON schema, --save, --depth, --entry, and bad input."""

import json
import math
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from cli_helpers import (
    assert_input_error,
    documented_keys,
    gradscope,
    line_of,
    parameter_rows,
    sample,
    section,
    traceback_files,
)

from gradscope.trace.tracefile import load_trace

EXIT_CODES = {"mlp": 0, "tutorial": 0, "nan_log": 1, "exploding": 0, "vanishing": 0, "dead_relu": 0,
              "disconnected": 0, "bad_backward": 0, "td_lambda": 0, "rnn": 0,
              "torch_cnn": 0, "torch_lstm_tagger": 0, "torch_training_loop": 0, "nan_training_loop": 1,
              "watch_log_outside_graph": 1, "watch_growing_lr": 1, "torch_language_model": 0,
              "torch_mnist_adadelta": 0, "nan_backward": 1,
              "large_values": 0}


def inspect_json(name: str, *options) -> dict:
    result = gradscope("inspect", sample(name), "--json", *options)
    assert result.exit_code == EXIT_CODES[name], result.stderr
    return json.loads(result.stdout)


def tensor(document: dict, index: int) -> np.ndarray:
    values = document["tensors"][index]["values"]
    return np.array(values, dtype=np.float64)  # "nan"/"inf" strings convert too


def node_named(document: dict, leaf_name: str) -> dict:
    (node,) = [n for n in document["nodes"] if n["leaf_name"] == leaf_name]
    return node


def leaf_grad_norm(document: dict, leaf_name: str, pass_index: int = -1) -> float:
    node = node_named(document, leaf_name)
    index = document["passes"][pass_index]["leaf_grads"][str(node["id"])]
    return float(document["tensors"][index]["stats"]["norm"])


def test_every_sample_is_covered():
    assert {path.stem for path in sample("mlp").parent.glob("*.py")} == set(EXIT_CODES)


@pytest.mark.parametrize("name", EXIT_CODES)
def test_exit_code_and_report_sections(name):
    result = gradscope("inspect", sample(name))
    assert result.exit_code == EXIT_CODES[name], (result.stdout, result.stderr, result.exception)
    out = result.stdout
    assert f"{name}.py" in out
    assert re.search(r"^backward graph( of pass \d+)? \(from the loss\)$", out, re.MULTILINE)
    assert "parameters" in out and "norm" in out and "finite" in out  # the headers wrap ("grad" over "norm")
    assert ("no anomalies" in out) == (EXIT_CODES[name] == 0)
    assert "\x1b[" not in out  # no colour when the output is not a terminal


def test_nan_log_names_the_culprit_op_line_and_scope():
    path = sample("nan_log")
    result = gradscope("inspect", path)
    assert result.exit_code == 1
    line = line_of(path, "scores.log()")
    anomalies = section(result.stdout, "anomalies", None)
    culprits = [text for text in anomalies.splitlines() if "culprit" in text]
    assert culprits, anomalies
    for text in culprits:
        assert "LogBackward0 (log)" in text
        assert f"nan_log.py:{line}" in text
        assert text.rstrip().endswith("in model.head")
    assert sorted(re.search(r"culprit \((\w+)\)", text).group(1) for text in culprits) == ["backward", "forward"]
    assert "log of a value <= 0" in anomalies
    assert "◀ culprit" in section(result.stdout, "backward graph", "parameters")
    assert "(2 culprits)" in result.stdout
    rows = parameter_rows(result.stdout)
    assert int(rows["model.encoder.weight"][4]) == 6 * 8  # every gradient below the log is NaN


def test_mlp_parameters_have_finite_grad_norms():
    result = gradscope("inspect", sample("mlp"))
    rows = parameter_rows(result.stdout)
    assert list(rows) == ["model.fc1.weight", "model.fc1.bias", "model.fc2.weight", "model.fc2.bias"]
    assert rows["model.fc1.weight"][0] == "[16, 4]"
    for name, (_, norm, ratio, _, nonfinite) in rows.items():
        assert 0 < float(norm) < 10, name
        assert math.isfinite(float(ratio)), name
        assert nonfinite == "0", name


def test_disconnected_parameters_have_no_grad():
    rows = parameter_rows(gradscope("inspect", sample("disconnected")).stdout)
    assert rows["model.aux.weight"][1] == rows["model.aux.bias"][1] == "no grad"
    assert float(rows["model.body.weight"][1]) > 0
    document = inspect_json("disconnected")
    aux = [p for p in document["parameters"] if p["module"] == "model.aux"]
    assert [p["name"] for p in aux] == ["model.aux.weight", "model.aux.bias"]
    assert all(p["node"] is None for p in aux)


def test_dead_relu_shows_a_large_zero_fraction():
    rows = parameter_rows(gradscope("inspect", sample("dead_relu")).stdout)
    assert int(rows["model.hidden.weight"][3].rstrip("%")) >= 50
    document = inspect_json("dead_relu")
    node = node_named(document, "model.hidden.weight")
    grad = document["tensors"][document["passes"][0]["leaf_grads"][str(node["id"])]]
    assert grad["stats"]["zero_fraction"] >= 0.5
    rows_of_zeros = (tensor(document, document["passes"][0]["leaf_grads"][str(node["id"])]) == 0).all(axis=1)
    assert rows_of_zeros.mean() >= 0.5  # whole units are dead, not scattered elements


def test_vanishing_first_layer_grad_is_orders_of_magnitude_smaller():
    document = inspect_json("vanishing")
    weights = [p["name"] for p in document["parameters"] if p["name"].endswith(".weight")]
    first, last = weights[0], weights[-1]
    assert (first, last) == ("model.0.weight", "model.38.weight")
    assert 0 < leaf_grad_norm(document, first) < 1e-6 * leaf_grad_norm(document, last)


def test_exploding_first_layer_grad_is_huge():
    document = inspect_json("exploding")
    assert leaf_grad_norm(document, "model.0.weight") > 1e6
    assert leaf_grad_norm(document, "model.22.bias") < 1e3  # the last layer is still sane


def test_tutorial_runs_as_main_and_records_one_pass():
    result = gradscope("inspect", sample("tutorial"))
    assert result.exit_code == 0
    assert "(run as __main__)" in result.stdout
    assert "passes 1 " in result.stdout
    # the script's own prints go to stderr, away from the report
    assert "tensor([[4.5000, 4.5000]" in result.stderr and "tensor(" not in result.stdout
    document = inspect_json("tutorial")
    assert document["meta"]["entry"] is None
    (record,) = document["passes"]
    x = node_named(document, "x")
    np.testing.assert_array_equal(tensor(document, record["leaf_grads"][str(x["id"])]), np.full((2, 2), 4.5))


def test_td_lambda_records_every_backward():
    path = sample("td_lambda")
    result = gradscope("inspect", path)
    assert result.exit_code == 0
    assert "passes 5 " in result.stdout  # one v.backward() per step, len(states) - 1 steps
    document = inspect_json("td_lambda")
    assert [p["index"] for p in document["passes"]] == [0, 1, 2, 3, 4]
    roots = [p["roots"][0] for p in document["passes"]]
    assert len(set(roots)) == 5  # a new graph each step
    assert {p["name"] for p in document["parameters"]} == {"model.weight", "model.bias"}
    bias = node_named(document, "model.bias")
    for record in document["passes"]:
        np.testing.assert_allclose(tensor(document, record["leaf_grads"][str(bias["id"])]), [1.0])  # dv/db = 1


def test_rnn_shows_shared_weights_once():
    result = gradscope("inspect", sample("rnn"), "--depth", "100")
    tree = section(result.stdout, "backward graph", "parameters")
    for name in ("cell.recurrent.weight", "cell.input.weight"):
        full = [line for line in tree.splitlines() if f"{name} [" in line]
        links = [line for line in tree.splitlines() if f"↑ {name} (shared" in line]
        assert len(full) == 1, name
        assert len(links) == 6, name  # 7 steps: shown once, linked from the other six
    document = inspect_json("rnn")
    recurrent = node_named(document, "cell.recurrent.weight")
    users = [n for n in document["nodes"] if any(child == recurrent["id"] for child, _ in n["next"])]
    assert len(users) == 7
    assert [p["name"] for p in document["parameters"]].count("cell.recurrent.weight") == 1


def test_bad_backward_is_recorded_without_anomalies():
    result = gradscope("inspect", sample("bad_backward"))
    assert result.exit_code == 0  # finding the wrong gradient is gradcheck's job
    assert "ScaledSoftplusBackward" in section(result.stdout, "backward graph", "parameters")
    document = inspect_json("bad_backward")
    (node,) = [n for n in document["nodes"] if n["name"] == "ScaledSoftplusBackward"]
    assert (node["kind"], node["op"], node["scope"]) == ("function", "ScaledSoftplus", "model")
    assert document["anomalies"] == []


# ------------------------------------------------------------------------------------ --json, --save
def test_json_follows_the_documented_schema():
    keys = documented_keys()
    document = inspect_json("nan_log")
    assert set(document) == keys["Top level"] | {"warnings"}
    for warning in document["warnings"]:
        assert set(warning) == keys["Health warnings"]
    assert (document["format"], document["schema_version"]) == ("gradscope-trace", 3)
    assert set(document["meta"]) == keys["Meta"]
    assert document["meta"]["entry"] == "loss"
    for node in document["nodes"]:
        assert set(node) == keys["Node"]
        if node["source"] is not None:
            assert set(node["source"]) == keys["Source"]
    for record in document["passes"]:
        assert set(record) == keys["Pass"]
    for parameter in document["parameters"]:
        assert set(parameter) == keys["Parameter"]
    for anomaly in document["anomalies"]:
        assert set(anomaly) == keys["Anomaly"]
    for entry in document["tensors"]:
        assert set(entry) == {"stats", "values"} and "stats" in keys["Tensor entry"]
        assert set(entry["stats"]) == keys["Statistics"]
    names = {n["name"] for n in document["nodes"]}
    assert {"MeanBackward0", "MulBackward0", "LogBackward0", "SigmoidBackward0", "AddmmBackward0", "TanhBackward0",
            "TBackward0", "AccumulateGrad"} == names
    ids = {n["id"] for n in document["nodes"]}
    for node in document["nodes"]:
        assert all(child is None or child in ids for child, _ in node["next"])
    (record,) = document["passes"]
    for parameter in document["parameters"]:
        grad = document["tensors"][record["leaf_grads"][str(parameter["node"])]]
        value = document["tensors"][parameter["value"]]
        assert grad["stats"]["shape"] == value["stats"]["shape"]
        # NaN in every encoder gradient; in the head only in the gated-off score's row
        expected = grad["stats"]["numel"] if "encoder" in parameter["name"] else grad["stats"]["numel"] // 4
        assert grad["stats"]["nan"] == expected
        assert "nan" in set(np.ravel(grad["values"]))  # written as strings: JSON has no NaN
    (log,) = [n for n in document["nodes"] if n["name"] == "LogBackward0"]
    line = line_of(sample("nan_log"), "scores.log()")
    assert log["source"] == {"file": str(sample("nan_log")), "line": line, "function": "forward"}
    assert log["scope"] == "model.head"
    assert {(a["phase"], a["role"]) for a in document["anomalies"] if a["node"] == log["id"]} == {
        ("forward", "culprit"), ("backward", "culprit")}


def test_save_writes_a_trace_that_loads_back_equal(tmp_path):
    path = tmp_path / "nan.gstrace"
    result = gradscope("inspect", sample("nan_log"), "--save", path, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    trace = load_trace(path)
    assert sorted((n["id"], n["name"]) for n in document["nodes"]) == sorted((i, n.name)
                                                                            for i, n in trace.nodes.items())
    for node in document["nodes"]:
        assert [tuple(edge) for edge in node["next"]] == trace.nodes[node["id"]].next
    assert [(a["phase"], a["role"], a["node"], a["pass"], a["message"]) for a in document["anomalies"]] == [
        (a.phase, a.role, a.node, a.pass_index, a.message) for a in trace.anomalies]
    assert [p["name"] for p in document["parameters"]] == [p.name for p in trace.parameters]
    for data, parameter in zip(document["parameters"], trace.parameters, strict=True):
        saved = trace.parameter_grad(parameter).values
        np.testing.assert_array_equal(saved, tensor(document, document["passes"][0]["leaf_grads"][str(data["node"])]))
        np.testing.assert_array_equal(parameter.value.values, tensor(document, data["value"]))
    root = trace.nodes[trace.passes[0].roots[0]]
    assert math.isnan(float(root.outputs[0].values))  # the loss itself


def test_save_report_mentions_the_file(tmp_path):
    path = tmp_path / "mlp.gstrace"
    result = gradscope("inspect", sample("mlp"), "--save", path)
    assert result.exit_code == 0
    assert "trace written to" in result.stdout and path.name in result.stdout
    assert len(load_trace(path).parameters) == 4


def test_depth_limits_the_tree():
    shallow = section(gradscope("inspect", sample("mlp"), "--depth", "1").stdout, "backward graph", "parameters")
    deep = section(gradscope("inspect", sample("mlp")).stdout, "backward graph", "parameters")
    assert "MseLossBackward0" in shallow
    assert "… 1 more below (raise --depth)" in shallow
    assert "AddmmBackward0" not in shallow and "model.fc1.weight" not in shallow
    assert "model.fc1.weight" in deep and "more below" not in deep
    two = section(gradscope("inspect", sample("mlp"), "--depth", "2").stdout, "backward graph", "parameters")
    assert "AddmmBackward0" in two and "TanhBackward0" not in two


def test_depth_must_be_positive():
    result = gradscope("inspect", sample("mlp"), "--depth", "0")
    assert result.exit_code == 2


def test_entry_option_names_the_function(tmp_path):
    script = tmp_path / "custom.py"
    script.write_text(textwrap.dedent("""
        import gradscope as torch
        w = torch.tensor([1.0, 2.0], requires_grad=True)

        def objective():
            return (w * w).sum()
    """))
    result = gradscope("inspect", script, "--entry", "objective", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["meta"]["entry"] == "objective"
    w = node_named(document, "w")
    np.testing.assert_array_equal(tensor(document, document["passes"][0]["leaf_grads"][str(w["id"])]), [2, 4])


def test_sibling_module_import(tmp_path):
    (tmp_path / "layers_for_test.py").write_text("import gradscope as torch\nSCALE = torch.tensor(3.0)\n")
    script = tmp_path / "model.py"
    script.write_text(textwrap.dedent("""
        import gradscope as torch
        from layers_for_test import SCALE
        w = torch.ones(2, requires_grad=True)

        def loss():
            return (w * SCALE).sum()
    """))
    result = gradscope("inspect", script)
    assert result.exit_code == 0, result.stderr
    assert float(parameter_rows(result.stdout)["w"][1]) == pytest.approx(3 * math.sqrt(2), rel=1e-3)


# --------------------------------------------------------------------------------------- bad input
def write(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def test_missing_file(tmp_path):
    assert_input_error(gradscope("inspect", tmp_path / "nope.py"), "nope.py", "no such file")


def test_directory(tmp_path):
    assert_input_error(gradscope("inspect", tmp_path), "is a directory")


def test_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "broken.py", """
        import gradscope as torch

        def loss(:
            return torch.ones(1).sum()
    """)
    result = gradscope("inspect", path)
    assert_input_error(result, "broken.py", "syntax error at line 3")
    assert "SyntaxError" in result.stderr
    assert set(traceback_files(result.stderr)) == {str(path)}  # only the script, no parser internals


def test_exception_at_import_shows_the_scripts_frame(tmp_path):
    path = write(tmp_path, "explodes.py", """
        import gradscope as torch

        x = torch.ones(3, requires_grad=True)
        y = x.view(7)

        def loss():
            return x.sum()
    """)
    result = gradscope("inspect", path)
    assert_input_error(result, "explodes.py", "RuntimeError")
    assert f'File "{path}", line 4, in <module>' in result.stderr
    assert "y = x.view(7)" in result.stderr
    assert "shape '[7]' is invalid for input of size 3" in result.stderr
    assert set(traceback_files(result.stderr)) == {str(path)}


def test_exception_in_the_entry(tmp_path):
    path = write(tmp_path, "entry_fails.py", """
        import gradscope as torch

        def helper():
            raise KeyError("no such layer")

        def loss():
            return helper()
    """)
    result = gradscope("inspect", path)
    assert_input_error(result, "loss() raised KeyError")
    assert f'File "{path}", line 7, in loss' in result.stderr
    assert f'File "{path}", line 4, in helper' in result.stderr
    assert "KeyError: 'no such layer'" in result.stderr


@pytest.mark.parametrize(("body", "message"), [
    ("return 3.0", "loss() must return a scalar tensor, got float"),
    ("return torch.ones(3, requires_grad=True) * 2", "got shape [3]"),
    ("return torch.ones(3).sum()", "nothing requires grad"),
    ("return None", "got NoneType"),
])
def test_bad_entry_results(tmp_path, body, message):
    path = write(tmp_path, "bad_result.py", f"""
        import gradscope as torch

        def loss():
            {body}
    """)
    assert_input_error(gradscope("inspect", path), message)


def test_missing_entry(tmp_path):
    path = write(tmp_path, "plain.py", """
        import gradscope as torch

        def loss():
            return torch.ones(1, requires_grad=True).sum()
    """)
    assert_input_error(gradscope("inspect", path, "--entry", "nope"), "defines no function nope()")


def test_no_backward_and_no_loss(tmp_path):
    path = write(tmp_path, "idle.py", """
        import gradscope as torch

        x = torch.ones(3, requires_grad=True)
        y = (x * 2).sum()
    """)
    assert_input_error(gradscope("inspect", path), "no backward happened", "loss()")


def test_version():
    result = gradscope("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("gradscope ")


def test_python_dash_m_runs_the_same_cli(tmp_path):
    missing = tmp_path / "missing.py"
    completed = subprocess.run([sys.executable, "-m", "gradscope", "inspect", str(missing)], capture_output=True,
                               text=True, timeout=60, env=dict(os.environ, COLUMNS="80"))  # whatever the caller's
    assert completed.returncode == 2
    assert completed.stdout == ""
    # rich wraps at 80 columns, at a space or inside a path longer than a line (a long tmp path)
    assert "".join(completed.stderr.split()) == "".join(f"error: {missing}: no such file".split())
