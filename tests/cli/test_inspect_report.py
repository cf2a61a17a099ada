"""`gradscope inspect` on realistic runs: a training loop that goes NaN at one step (the first bad
pass leads, repeats are summarised, lists are capped), passes made by torch.func/autograd.functional,
and the health warnings of the check rules."""

import json
import textwrap

import pytest
from cli_helpers import gradscope, line_of, parameter_rows, sample, section

LOOP = sample("nan_training_loop")


@pytest.fixture(scope="module")
def loop_report():
    result = gradscope("inspect", LOOP)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    return result.stdout


def test_the_first_lines_name_the_step_and_the_line_where_nan_began(loop_report):
    first_lines = "\n".join(loop_report.splitlines()[:6])
    assert "first anomaly pass 3: forward culprit log at " in first_lines
    assert f"nan_training_loop.py:{line_of(LOOP, 'torch.log(raw)')}, outside the autograd graph" in first_lines


def test_the_first_bad_pass_is_shown_and_connected_to_what_it_caused(loop_report):
    assert "backward graph of pass 3 (from the loss)" in loop_report
    assert "parameters (gradients after pass 3)" in loop_report
    rows = parameter_rows(loop_report)
    assert rows["model.0.weight"][1] == "nan" and rows["model.2.weight"][1] != "nan"  # at step 3 only layer 0
    anomalies = section(loop_report, "anomalies", "no health warnings")
    assert anomalies.splitlines()[1] == "pass 3: the first with an anomaly"
    assert "→ it reached model.0.weight's gradient as 8 nan in the same pass" in anomalies
    assert "→ the loss of pass 3 was still finite, 1.1\n" in anomalies
    assert "→ 4 of 4 parameters end the recording non-finite" in anomalies


def test_later_passes_are_summarised_not_repeated(loop_report):
    anomalies = section(loop_report, "anomalies", "no health warnings")
    assert "the same propagation in passes 5–7: the same culprit as pass 4 (PowBackward0)" in anomalies
    assert anomalies.count("PowBackward0 returned") == 1
    assert len(anomalies.splitlines()) <= 16


@pytest.mark.parametrize(("chosen", "shown"), [("0", 0), ("last", 7), ("5", 5)])
def test_pass_option_picks_the_pass_shown(chosen, shown):
    result = gradscope("inspect", LOOP, "--pass", chosen)
    assert result.exit_code == 1
    assert f"backward graph of pass {shown} (from the loss)" in result.stdout
    assert f"showing pass {shown} of 0–7" in result.stdout
    assert "first anomaly pass 3" in result.stdout  # the lead stays the first bad pass


@pytest.mark.parametrize(("chosen", "message"), [("8", "--pass 8: the recording has passes 0–7"),
                                                 ("first", "give a pass number")])
def test_a_pass_that_does_not_exist_is_a_usage_error(chosen, message):
    result = gradscope("inspect", LOOP, "--pass", chosen)
    assert result.exit_code == 2
    assert message in result.stderr


def test_json_gives_each_anomaly_its_pass_op_line_and_scope():
    result = gradscope("inspect", LOOP, "--json")
    anomalies = json.loads(result.stdout)["anomalies"]
    first = anomalies[0]
    assert {key: first[key] for key in ("pass", "phase", "role", "node", "node_name", "op", "line", "scope")} == {
        "pass": 3, "phase": "forward", "role": "culprit", "node": None, "node_name": None, "op": "log",
        "line": line_of(LOOP, "torch.log(raw)"), "scope": None}
    assert first["file"].endswith("nan_training_loop.py")
    backward = next(a for a in anomalies if a["phase"] == "backward")
    assert (backward["pass"], backward["node_name"], backward["op"], backward["scope"]) == (
        3, "AddmmBackward0", "addmm", "model.0")
    assert len(anomalies) > 40  # the JSON keeps every one


def test_every_list_is_capped(tmp_path):
    script = tmp_path / "chain.py"
    script.write_text(textwrap.dedent("""\
        import gradscope as torch
        w = torch.tensor([0.0, 1.0], requires_grad=True)
        y = w.log()
        for name in ["neg", "sin", "cos", "tanh", "abs", "atan", "sinh", "cosh", "expm1", "exp", "sigmoid"]:
            y = getattr(y, name)()
        y.sum().backward()
    """))
    result = gradscope("inspect", script)
    assert result.exit_code == 1
    passed_on = [line for line in result.stdout.splitlines() if line.startswith("  passed on")]
    assert passed_on and all("… and " in line and "more" in line for line in passed_on)
    assert max(map(len, result.stdout.splitlines())) < 200


def test_passes_made_by_transforms_are_not_the_users(tmp_path):
    script = tmp_path / "transforms.py"
    script.write_text(textwrap.dedent("""\
        import gradscope as torch
        from gradscope import nn
        torch.manual_seed(0)
        model = nn.Linear(3, 2)
        x = torch.randn(4, 3)
        jac = torch.autograd.functional.jacobian(lambda inputs: model(inputs).sum(0), x)
        model(x).pow(2).mean().backward()
        g = torch.func.grad(lambda w: (w ** 2).sum())(torch.ones(3))
    """))
    result = gradscope("inspect", script)
    assert result.exit_code == 0, result.stderr
    assert "passes 4 (3 made by torch.autograd.functional, torch.func)" in result.stdout
    rows = parameter_rows(result.stdout)
    assert list(rows) == ["model.weight", "model.bias"]  # no copies a transform made of its inputs
    assert all(float(row[1]) > 0 for row in rows.values())  # the gradients of the script's own backward()
    document = json.loads(gradscope("inspect", script, "--json").stdout)
    assert [record["made_by"] for record in document["passes"]] == [
        "torch.autograd.functional", "torch.autograd.functional", None, "torch.func"]


# ------------------------------------------------------------------------------------- health warnings
def warnings_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("⚠ ")]


def test_an_unused_module_is_one_warning_and_strict_fails_on_it():
    result = gradscope("inspect", sample("disconnected"))
    assert result.exit_code == 0
    (warning,) = warnings_of(result.stdout)
    assert warning.startswith("⚠ connected: model.aux (model.aux.weight, model.aux.bias) received no gradient")
    assert gradscope("inspect", sample("disconnected"), "--strict").exit_code == 1
    document = json.loads(gradscope("inspect", sample("disconnected"), "--json").stdout)
    (entry,) = document["warnings"]
    assert (entry["rule"], entry["parameters"], entry["module"]) == (
        "connected", ["model.aux.weight", "model.aux.bias"], "model.aux")


@pytest.mark.parametrize(("name", "expected"), [
    ("exploding", ["⚠ grad-norm: gradient norm above the default bound '*<=10000': model.12.weight 3.188e+10 "
                   "(module model.12) and 18 more parameters"]),
    ("vanishing", ["⚠ grad-norm: gradient norm below the default bound '*>=1e-07': model.0.bias 4.249e-18 "
                   "(module model.0) and 24 more parameters",
                   "⚠ vanishing: layer model.0 (depth 1 of 20; model.0.weight, model.0.bias) has gradient norm"]),
    ("dead_relu", ["⚠ dead-units: 28 of 32 units of ReluBackward0 (relu) in model.relu at "]),
])
def test_health_warnings_name_the_parameter_and_module(name, expected):
    result = gradscope("inspect", sample(name))
    assert result.exit_code == 0
    found = warnings_of(result.stdout)
    assert len(found) == len(expected), found
    for line, start in zip(found, expected):
        assert line.startswith(start)
    assert gradscope("inspect", sample(name), "--strict").exit_code == 1


@pytest.mark.parametrize("name", ["mlp", "nan_training_loop", "nan_log"])
def test_no_warning_for_healthy_gradients_nor_for_non_finite_ones(name):
    """Non-finite gradients are the anomaly report's, not a grad-norm warning."""
    result = gradscope("inspect", sample(name), "--strict")
    assert "no health warnings" in result.stdout
    assert result.exit_code == (0 if name == "mlp" else 1)


def test_a_warning_of_a_training_run_names_the_passes_where_it_held(tmp_path):
    """Over many passes a warning says where it held: a table of the last pass may look healthy."""
    script = tmp_path / "loop.py"
    script.write_text(textwrap.dedent("""
        import gradscope as torch

        w = torch.ones(3, requires_grad=True)
        b = torch.zeros((), requires_grad=True)
        for step in range(5):
            scale = 0.0 if step in (1, 3) else 1.0  # b's gradient is exactly zero in passes 1 and 3
            loss = (w * 2).sum() + b * scale
            loss.backward()
            w.grad = b.grad = None
    """))
    result = gradscope("inspect", str(script))
    (warning,) = warnings_of(result.stdout)
    assert warning == "⚠ nonzero: b: gradient entirely zero (in 2 of 5 passes, first pass 1)"
    document = json.loads(gradscope("inspect", str(script), "--json").stdout)
    (entry,) = document["warnings"]
    assert (entry["pass"], entry["passes"]) == (1, [1, 3])


def test_forward_ads_own_ops_and_passes_are_not_recorded(tmp_path):
    script = tmp_path / "forward_ad.py"
    script.write_text(textwrap.dedent("""\
        import gradscope as torch
        import gradscope.autograd.forward_ad as fwAD
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
        x = torch.randn(5, 4)
        with fwAD.dual_level():
            jvp = fwAD.unpack_dual(model(fwAD.make_dual(x, torch.ones_like(x)))).tangent
        model(x).pow(2).mean().backward()
    """))
    result = gradscope("inspect", script)
    assert result.exit_code == 0, result.stderr
    assert "passes 1 " in result.stdout
    assert list(parameter_rows(result.stdout)) == ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"]
    assert "no health warnings" in result.stdout


def test_no_anomalies_says_where_masks_were_not_counted(tmp_path):
    """Masks' -inf that a softmax turns into zeros are no anomaly; the report does not claim every value was
    finite, it says how many op outputs held them and where."""
    script = tmp_path / "masked.py"
    script.write_text(textwrap.dedent("""\
        import gradscope as torch
        w = torch.ones(3, 3, requires_grad=True)
        causal = torch.tril(torch.ones(3, 3))
        for _ in range(2):
            torch.softmax(w.masked_fill(causal == 0, float("-inf")), -1)[:, 0].sum().backward()
        torch.softmax(w + causal.log(), -1)[:, 0].sum().backward()
    """))
    result = gradscope("inspect", script)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    said = " ".join(section(result.stdout, "no anomalies", "no health warnings").split())
    fill, log = line_of(script, "masked_fill"), line_of(script, "causal.log()")
    assert said == (f"no anomalies: every gradient is finite; mask infinities in 4 op outputs not counted: "
                    f"masked_fill at {script}:{fill} ×2, log at {script}:{log}, add at {script}:{log}")
