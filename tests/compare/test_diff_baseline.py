"""Golden gradients: `gradscope check --update-baseline` writes a small trace, `--baseline` adds a
rule that fails naming the first divergence (in the table, JSON and JUnit), and the pytest plugin's
`assert_grads_match_baseline` with `--gradscope-update-baselines`, run in pytester."""

import json
import os
import xml.etree.ElementTree as ET

import pytest
from diff_helpers import gradscope, line_of, pair

from gradscope.checks import CheckConfigError, build_config, run_checks
from gradscope.compare import BASELINE
from gradscope.trace.tracefile import load_trace

pytest_plugins = ["pytester"]


@pytest.fixture
def golden(tmp_path):
    path = tmp_path / "golden.gstrace"
    result = gradscope("check", pair("base"), "--update-baseline", path, "--json")
    assert result.exit_code == 0, result.stderr
    row = next(r for r in json.loads(result.stdout)["results"] if r["rule"] == "baseline")
    assert row["status"] == "pass" and row["shown"].startswith("written (4 parameters")
    return path


def test_the_baseline_is_a_small_trace_of_parameters(golden):
    trace = load_trace(golden)
    assert trace.meta["baseline"] == BASELINE and trace.meta["steps"] == 1
    assert {node.kind for node in trace.nodes.values()} == {"leaf"}
    assert [p.name for p in trace.parameters] == ["model.encoder.fc.weight", "model.encoder.fc.bias",
                                                  "model.head.fc.weight", "model.head.fc.bias"]
    assert all(trace.parameter_grad(p).has_values for p in trace.parameters)
    assert golden.stat().st_size < 8000


def test_the_same_model_passes_the_baseline_rule(golden):
    result = gradscope("check", pair("base"), "--baseline", golden, "--rule", "baseline")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "1 passed, 0 failed" in result.stdout
    assert gradscope("check", pair("float64"), "--baseline", golden, "-r", "baseline").exit_code == 0


def test_a_changed_backward_fails_naming_the_first_divergence_in_junit(golden, tmp_path):
    junit = tmp_path / "report.xml"
    result = gradscope("check", pair("grad_scale"), "--baseline", golden, "-r", "finite", "--junit-xml", junit)
    assert result.exit_code == 1
    assert "first divergence: pass 0, backward, in model.encoder.fc: .grad of model.encoder.fc.bias" in \
        " ".join(result.stdout.split())  # the report wraps after a long path
    cases = ET.parse(junit).getroot().iter("testcase")
    case = next(c for c in cases if c.get("classname") == "gradscope.check.baseline")
    failure = case.find("failure")
    assert failure.get("type") == "baseline" and "first: .grad of model.encoder.fc.bias" in failure.get("message")
    assert "first divergence: pass 0, backward, in model.encoder.fc" in failure.text
    assert "model.head.fc.weight" not in failure.text  # the head's gradients did not change
    # located at the first line that used the parameter
    assert case.get("line") == str(line_of(pair("grad_scale"), "return torch.tanh(self.fc(x))"))


def test_a_changed_forward_constant_fails_and_tolerances_apply(golden):
    result = gradscope("check", pair("constant"), "--baseline", golden, "-r", "baseline", "--json")
    assert result.exit_code == 1
    (row,) = json.loads(result.stdout)["results"]
    assert row["status"] == "fail" and "model.head.fc.weight (gradient differs)" in row["message"]
    loose = gradscope("check", pair("constant"), "--baseline", golden, "-r", "baseline", "--rtol", "10", "--atol", "1")
    assert loose.exit_code == 0, loose.stdout


def test_baseline_errors_exit_2(tmp_path, golden):
    missing = gradscope("check", pair("base"), "--baseline", tmp_path / "none.gstrace")
    assert missing.exit_code == 2 and "--update-baseline" in missing.stderr
    both = gradscope("check", pair("base"), "--baseline", golden, "--update-baseline", golden)
    assert both.exit_code == 2
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    refused = gradscope("check", pair("base"), "--update-baseline", notes)
    assert refused.exit_code == 2 and notes.read_text() == "mine"
    with pytest.raises(CheckConfigError, match="no baseline"):
        build_config(flag_values={"rules": ["baseline"]})


def test_a_baseline_path_in_pyproject_is_relative_to_it(tmp_path, golden):
    config = build_config({"baseline": "golden.gstrace", "baseline-rtol": 0.05}, None, str(tmp_path / "pyproject.toml"))
    assert config.baseline == str(golden) and config.baseline_rtol == 0.05 and "baseline" in config.selected_rules
    report = run_checks(pair("constant"), config)
    assert [r.status for r in report.results if r.rule == "baseline"] == ["fail"]


PLUGIN_TESTS = '''
import gradscope as torch
from gradscope import nn
from gradscope.pytest_plugin import assert_grads_match_baseline

SCALE = 0.5


def test_model_gradients():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = torch.randn(6, 3)
    assert_grads_match_baseline(lambda: (model(x) * SCALE).pow(2).mean(), "baselines/model.gstrace")
'''


def _run(pytester, *args):
    return pytester.runpytest("-p", "gradscope.pytest_plugin", "-p", "no:cacheprovider",
                              "-W", "ignore::pytest.PytestAssertRewriteWarning", *args)


def test_pytest_option_writes_then_checks_baselines(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_user=PLUGIN_TESTS)
    missing = _run(pytester)
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(["*baseline*model.gstrace does not exist*--gradscope-update-baselines*"])

    _run(pytester, "--gradscope-update-baselines").assert_outcomes(passed=1)
    written = pytester.path / "baselines" / "model.gstrace"
    assert [p.name for p in load_trace(written).parameters] == ["model.0.weight", "model.0.bias", "model.2.weight",
                                                                 "model.2.bias"]
    _run(pytester).assert_outcomes(passed=1)

    changed_file = pytester.makepyfile(test_user=PLUGIN_TESTS.replace("SCALE = 0.5", "SCALE = 0.6"))
    # Cached bytecode (Python's and pytest's rewritten modules) is trusted while the source's mtime, in whole
    # seconds, and size are unchanged; this rewrite keeps the size and can fall in the same second.
    later = changed_file.stat().st_mtime + 10
    os.utime(changed_file, (later, later))
    changed = _run(pytester)
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(["*gradients differ from baseline*model.gstrace*",
                                  "*first divergence: pass 0, backward*",
                                  # (0.6 / 0.5)² - 1
                                  "*model.2.weight: differs (gradient differs), gradient relative error 0.44*"])
    _run(pytester, "--gradscope-update-baselines").assert_outcomes(passed=1)  # accepted as the new baseline
    _run(pytester).assert_outcomes(passed=1)


def test_pytest_update_refuses_to_replace_other_files(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_user=PLUGIN_TESTS)
    (pytester.path / "baselines").mkdir()
    (pytester.path / "baselines" / "model.gstrace").write_text("not a trace")
    result = _run(pytester, "--gradscope-update-baselines")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*refusing to overwrite*"])
    assert (pytester.path / "baselines" / "model.gstrace").read_text() == "not a trace"
