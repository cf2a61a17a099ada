"""`gradscope diff A B` on the sample pairs: exit codes, the first divergence with both lines, JSON,
scripts and trace files alike, tolerances, bad input."""

import json

import pytest
from diff_helpers import gradscope, line_of, pair

from gradscope.trace.script import run_script
from gradscope.trace.tracefile import save_trace


def test_equal_runs_exit_0():
    result = gradscope("diff", pair("base"), pair("base"))
    assert result.exit_code == 0, result.stderr
    assert "✓ equal within tolerance" in result.stdout


def test_float32_and_float64_runs_are_equal_at_the_default_tolerance():
    result = gradscope("diff", pair("base"), pair("float64"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "equal within tolerance" in result.stdout
    strict = gradscope("diff", pair("base"), pair("float64"), "--rtol", "1e-12", "--atol", "1e-12")
    assert strict.exit_code == 1 and "first divergence (numerical)" in strict.stdout


def test_one_op_changed_in_one_module_is_structural_with_both_lines():
    result = gradscope("diff", pair("base"), pair("changed_op"))
    assert result.exit_code == 1
    a_line = line_of(pair("base"), "return torch.tanh(self.fc(x))")
    b_line = line_of(pair("changed_op"), "return torch.sigmoid(self.fc(x))")
    assert "first divergence (structural) pass 0, forward, in model.encoder" in result.stdout
    assert f"A: tanh (TanhBackward0) at {pair('base')}:{a_line}" in result.stdout
    assert f"B: sigmoid (SigmoidBackward0) at {pair('changed_op')}:{b_line}" in result.stdout


def test_one_constant_changed_diverges_in_forward_first():
    result = gradscope("diff", pair("base"), pair("constant"))
    assert result.exit_code == 1
    assert "first divergence (numerical) pass 0, forward, in model.head" in result.stdout
    line = line_of(pair("base"), "* 0.5")
    assert f"output 0 of mul (MulBackward0) at {pair('base')}:{line}" in result.stdout
    assert "max rel error 0.2;" in result.stdout


def test_a_backward_constant_diverges_in_backward():
    result = gradscope("diff", pair("base"), pair("grad_scale"), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    first = data["first"]
    assert (first["kind"], first["phase"], first["scope"], first["what"]) == (
        "numerical", "backward", "model.head", "gradient to input 0")
    assert first["a"]["op"] == "ScaleGrad" and first["mismatch"]["max_rel"] == pytest.approx(0.1, rel=1e-5)
    status = {p["name"]: p["status"] for p in data["parameters"]}
    assert status == {"model.encoder.fc.weight": "differs", "model.encoder.fc.bias": "differs",
                      "model.head.fc.weight": "equal", "model.head.fc.bias": "equal"}
    modules = {m["scope"]: m["first"] for m in data["modules"]}
    assert modules["model.head.fc"] is None and modules["model.encoder"]["phase"] == "backward"


def test_traces_and_scripts_mix(tmp_path):
    trace = tmp_path / "base.gstrace"
    save_trace(run_script(pair("base")).trace, trace)
    assert gradscope("diff", trace, pair("base")).exit_code == 0
    result = gradscope("diff", trace, pair("constant"), "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["first"]["a"]["op"] == "mul"


def test_entry_option(tmp_path):
    script = tmp_path / "model.py"
    script.write_text("import gradscope as torch\nw = torch.ones(3, requires_grad=True)\n"
                      "def objective():\n    return (w * 2).sum()\n")
    result = gradscope("diff", script, script, "--entry", "objective", "--json")
    assert result.exit_code == 0, result.stderr
    assert [p["name"] for p in json.loads(result.stdout)["parameters"]] == ["w"]


def test_bad_input_exits_2(tmp_path):
    missing = gradscope("diff", tmp_path / "missing.py", pair("base"))
    assert missing.exit_code == 2 and "error:" in missing.stderr
    not_a_trace = tmp_path / "notes.gstrace"
    not_a_trace.write_text("hello")
    result = gradscope("diff", pair("base"), not_a_trace)
    assert result.exit_code == 2 and "not a gradscope trace file" in result.stderr
    negative = gradscope("diff", pair("base"), pair("base"), "--rtol", "-1")
    assert negative.exit_code == 2 and "--rtol" in negative.stderr


def test_browse_of_two_runs_reports_bad_input_before_opening(tmp_path):
    missing = gradscope("browse", pair("base"), tmp_path / "missing.gstrace")
    assert missing.exit_code == 2 and "missing.gstrace" in missing.stderr


def test_keep_values_decides_what_is_compared():
    stats = gradscope("diff", pair("base"), pair("constant"), "--keep-values", "0", "--json")
    assert stats.exit_code == 1
    first = json.loads(stats.stdout)["first"]
    assert first["mismatch"]["compared"] == "statistics" and first["a"]["op"] == "mul"
    assert "statistics only, the values were not kept" in first["message"]
    assert gradscope("diff", pair("base"), pair("base"), "--keep-values", "0").exit_code == 0


def test_long_tables_are_capped_with_the_differing_rows_first(tmp_path):
    script = tmp_path / "many.py"
    script.write_text("import gradscope as torch\nfrom gradscope import nn\ntorch.manual_seed(0)\n"
                      "model = nn.Sequential(*[nn.Linear(2, 2) for _ in range(15)])\nx = torch.randn(3, 2)\n"
                      "SCALE = 1.0\ndef loss():\n    return (model(x) * SCALE).sum()\n")
    changed = tmp_path / "changed.py"
    changed.write_text(script.read_text().replace("SCALE = 1.0", "SCALE = 1.0\nmodel[14].bias.data += 1"))
    result = gradscope("diff", script, changed)
    assert result.exit_code == 1
    parameter_rows = [line for line in result.stdout.splitlines()
                      if line.startswith("│ model.") and line.split("│")[1].strip().endswith(("weight", "bias"))]
    assert len(parameter_rows) == 20 and "model.14.bias" in parameter_rows[0]  # the one that differs, first
    assert "… 10 more parameters (--json lists all)" in result.stdout
    assert len(json.loads(gradscope("diff", script, changed, "--json").stdout)["parameters"]) == 30


def test_runs_that_start_from_different_weights_are_told_to_seed(tmp_path):
    """An unseeded script differs from itself first in a parameter's value: say why, not only where."""
    unseeded = tmp_path / "unseeded.py"
    unseeded.write_text("import gradscope as torch\n\nmodel = torch.nn.Linear(3, 1)\n"
                        "model(torch.ones(2, 3)).sum().backward()\n")
    result = gradscope("diff", unseeded, unseeded)
    assert result.exit_code == 1
    first = result.stdout.split("parameters (gradients", 1)[0]
    assert "first divergence (numerical) pass 0, forward, in model" in first
    assert "→ the runs start from different values: seed both the same way" in first
    other = gradscope("diff", pair("base"), pair("constant"))  # same weights, a different constant
    assert "seed both" not in other.stdout
