"""`gradscope check`: exit codes, the table, --json, --junit-xml, pyproject.toml config with flags
winning, and exit 2 with a clear message for bad rules, thresholds, configs and scripts."""

import json
import textwrap
import xml.etree.ElementTree as ET

import pytest
from cli_helpers import assert_input_error, gradscope, sample

EXIT_CODES = {"mlp": 0, "rnn": 0, "tutorial": 0, "td_lambda": 0, "bad_backward": 0, "disconnected": 1,
              "nan_log": 1, "dead_relu": 1, "vanishing": 1, "exploding": 1}


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    """Run from an empty directory, so no pyproject.toml is found unless a test writes one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check_json(*args, exit_code=None):
    result = gradscope("check", *args, "--json")
    if exit_code is not None:
        assert result.exit_code == exit_code, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def failures(document):
    return {(r["rule"], r["target"]) for r in document["results"] if r["status"] == "fail"}


@pytest.mark.parametrize("name", EXIT_CODES)
def test_exit_codes_with_the_default_rules(name):
    result = gradscope("check", sample(name))
    assert result.exit_code == EXIT_CODES[name], (result.stdout, result.stderr, result.exception)
    summary = result.stdout.strip().splitlines()[-1]
    assert ("0 failed" in summary) == (EXIT_CODES[name] == 0)


def test_table_rows_failures_and_summary():
    result = gradscope("check", sample("disconnected"), "--rule", "connected", "-r", "finite")
    assert result.exit_code == 1
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines()
            if line.startswith("│")]
    assert ["connected", "model.aux.weight", "✗ FAIL", "no gradient", "gradient received", "model.aux"] in rows
    assert ["finite", "model.body.weight", "✓ pass", "finite", "non-finite = 0",
            "model.body at line 21"] in rows  # the script's own lines: the title names it
    assert len(rows) == 2 * 6 + 1  # finite: 6 parameters and the intermediate gradients; connected: 6
    assert "✗ connected model.aux.bias: model.aux.bias (module model.aux) received no gradient" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("11 passed, 2 failed, 0 skipped in ")


def test_json_output_is_the_only_thing_on_stdout():
    document = check_json(sample("tutorial"), exit_code=0)  # the script prints: that goes to stderr
    assert document["entry"] is None and document["steps"] == 1
    assert document["summary"] == {"passed": 5, "failed": 0, "skipped": 2}
    document = check_json(sample("dead_relu"), exit_code=1)
    assert failures(document) == {("dead-units", "model.relu (relu)")}
    (dead,) = [r for r in document["results"] if r["rule"] == "dead-units"]
    assert dead["value"] == 0.875 and dead["threshold"] == "<= 0.5"
    assert dead["location"] == {"scope": "model.relu", "file": str(sample("dead_relu")), "line": 25}


def test_junit_xml_file(elsewhere):
    report = elsewhere / "reports" / "gradients.xml"
    report.parent.mkdir()
    result = gradscope("check", sample("nan_log"), "--junit-xml", report)
    assert result.exit_code == 1
    suite = ET.parse(report).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) == result.stdout.count("│ ") // 6
    failed = {(case.get("classname"), case.get("name")): case.find("failure") for case in cases
              if case.find("failure") is not None}
    assert int(suite.get("failures")) == len(failed) == 9
    failure = failed[("gradscope.check.finite", "intermediate gradients")]
    assert failure.get("message") == ("finite intermediate gradients: measured 8 nodes, threshold non-finite = 0, "
                                      f"at model.head at {sample('nan_log')}:23")


def test_junit_xml_into_a_missing_directory_is_an_input_error(elsewhere):
    result = gradscope("check", sample("mlp"), "--junit-xml", elsewhere / "missing" / "out.xml")
    assert_input_error(result, "out.xml", "does not exist")


def test_thresholds_from_flags():
    document = check_json(sample("mlp"), "-r", "grad-norm", "--grad-norm", "model.fc2.*<=0.5", "--grad-norm",
                          "*>=1e-9", exit_code=1)
    assert failures(document) == {("grad-norm", "model.fc2.weight")}
    thresholds = {r["target"]: r["threshold"] for r in document["results"]}
    assert thresholds["model.fc2.weight"] == "<= 0.5, >= 1e-09" and thresholds["model.fc1.weight"] == ">= 1e-09"
    assert check_json(sample("dead_relu"), "--max-dead-fraction", "0.9", exit_code=0)["passed"] is True
    assert check_json(sample("nan_log"), "-r", "finite", "--allow-nonfinite", "model*", exit_code=0)["passed"]


def test_pyproject_config_and_flags_win(elsewhere):
    (elsewhere / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "my-model"

        [tool.gradscope.check]
        rules = ["dead-units", "nonzero"]
        max-dead-fraction = 0.9
        min-nonzero = 0.5
    """))
    document = check_json(sample("dead_relu"), exit_code=1)
    assert document["rules"] == ["dead-units", "nonzero"]
    assert failures(document) == {("nonzero", "model.hidden.weight"), ("nonzero", "model.hidden.bias"),
                                  ("nonzero", "model.out.weight")}
    document = check_json(sample("dead_relu"), "--min-nonzero", "0", "--max-dead-fraction", "0.5", exit_code=1)
    assert failures(document) == {("dead-units", "model.relu (relu)")}
    # a subdirectory finds the same file, as pytest and ruff find theirs
    (elsewhere / "sub").mkdir()
    assert check_json(sample("dead_relu"), "-r", "dead-units", exit_code=0)["passed"]


def test_explicit_config_path(elsewhere):
    config = elsewhere / "ci.toml"
    config.write_text('[tool.gradscope.check]\nrules = ["exploding"]\nsteps = 2\n')
    document = check_json(sample("mlp"), "--config", config, exit_code=0)
    assert document["rules"] == ["exploding"] and document["steps"] == 2
    (growth,) = document["results"]
    assert growth["target"] == "gradient norm" and growth["step"] == 1


def test_steps_and_the_exploding_rule():
    result = gradscope("check", sample("exploding"), "--steps", "2", "-r", "exploding", "-r", "grad-norm")
    assert result.exit_code == 1
    header = next(line for line in result.stdout.splitlines() if line.startswith("┃"))
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == ["rule", "target", "result", "measured",
                                                                  "threshold", "step", "location"]
    assert "✗ exploding gradient norm: the gradient turned non-finite at step 1" in result.stdout


def test_gradcheck_rule():
    result = gradscope("check", sample("bad_backward"), "-r", "gradcheck")
    assert result.exit_code == 1
    assert "culprit: ScaledSoftplusBackward (op ScaledSoftplus)" in " ".join(result.stdout.split())  # however wrapped
    assert check_json(sample("mlp"), "-r", "gradcheck", "--gradcheck-mode", "slow", exit_code=0)["passed"]


@pytest.mark.parametrize(("args", "fragments"), [
    (["-r", "nonfinite"], ["--rule: unknown rule 'nonfinite' (rules: finite, connected"]),
    (["--grad-norm", "fc1<=x"], ["--grad-norm: 'fc1<=x' is not a bound: write GLOB<=NUMBER or GLOB>=NUMBER"]),
    (["--grad-norm", "encoder.*<=1"], ["grad-norm bound 'encoder.*<=1' matches no parameter (parameters: model.fc1"]),
    (["--max-dead-fraction", "2"], ["--max-dead-fraction: must be a number between 0 and 1, not 2.0"]),
    (["--steps", "0"], ["--steps: must be a whole number >= 1, not 0"]),
    (["-r", "exploding"], ["the exploding rule compares training steps: run with --steps 2"]),
    (["--gradcheck-mode", "medium"], ["--gradcheck-mode: must be 'fast' or 'slow'"]),
    (["--entry", "nope"], ["the script defines no function nope()"]),
])
def test_bad_flags_are_input_errors(args, fragments):
    assert_input_error(gradscope("check", sample("mlp"), *args), *fragments)


def test_bad_config_files_are_input_errors(elsewhere):
    (elsewhere / "pyproject.toml").write_text("[tool.gradscope.check]\nmax-growth = 'lots'\n")
    assert_input_error(gradscope("check", sample("mlp")),
                       "pyproject.toml [tool.gradscope.check] max-growth: must be a number > 0, not 'lots'")
    (elsewhere / "pyproject.toml").write_text("[tool.gradscope.check]\nrule = ['finite']\n")
    assert_input_error(gradscope("check", sample("mlp")), "[tool.gradscope.check] rule: unknown key (known: rules,")
    (elsewhere / "pyproject.toml").write_text("[tool.gradscope.check\n")
    assert_input_error(gradscope("check", sample("mlp")), "pyproject.toml: not valid TOML")
    assert_input_error(gradscope("check", sample("mlp"), "--config", elsewhere / "absent.toml"),
                       "absent.toml: no such file")


def test_script_problems_are_input_errors(elsewhere):
    assert_input_error(gradscope("check", elsewhere / "absent.py"), "absent.py: no such file")
    tutorial_style = elsewhere / "no_entry.py"  # no loss(): run as __main__, one step per backward
    tutorial_style.write_text("import gradscope as torch\n\nw = torch.ones(2, requires_grad=True)\n"
                              "(w * w).sum().backward()\n")
    assert check_json(tutorial_style, exit_code=0)["entry"] is None
    assert_input_error(gradscope("check", tutorial_style, "-r", "gradcheck"),
                       "the gradcheck rule needs an entry function: the script defines no loss()")
    assert_input_error(gradscope("check", tutorial_style, "--steps", "2"), "--steps needs an entry function")
    broken = elsewhere / "broken.py"
    broken.write_text("import gradscope as torch\n\ndef loss():\n    raise KeyError('x')\n")
    assert_input_error(gradscope("check", broken), "loss() raised KeyError")


def test_help_lists_the_rules():
    result = gradscope("check", "--help")
    assert result.exit_code == 0
    for rule in ("finite", "connected", "nonzero", "grad-norm", "vanishing", "dead-units", "exploding", "gradcheck"):
        assert rule in result.stdout


@pytest.mark.parametrize("width", ["80", "100"])
def test_the_table_fits_a_narrow_terminal_without_breaking_rule_names(width):
    from cli_helpers import _runner

    from gradscope.cli import app

    result = _runner().invoke(app, ["check", str(sample("dead_relu"))], env={"COLUMNS": width})
    lines = result.stdout.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert table and all(len(line) <= int(width) and line.rstrip()[-1] in "┓┃┩│┘" for line in table)  # not cut
    rules = {line.split("│")[1].strip() for line in table if line.startswith("│")} - {""}
    assert rules <= {"finite", "connected", "nonzero", "grad-norm", "vanishing", "dead-units"}  # never split
