"""`gradscope check` never turns a configuration that checks nothing, or a misshapen or non-finite
setting, into a pass: each is exit 2 with a message naming the flag, or the file and key."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))  # the CLI tests' in-process runner
from cli_helpers import assert_input_error, gradscope, sample  # noqa: E402

ONE_PARAMETER = "import gradscope as torch\n\nw = torch.ones(3, requires_grad=True)\n\n\ndef loss():\n" \
                "    return (w * w).sum()\n"


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    """Run from an empty directory, so no pyproject.toml is found unless a test writes one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("toml", "fragments"), [
    ("[tool.gradscope.check]\nrules = []\n", ["[tool.gradscope.check] rules: no rules to check"]),
    ("[tool.gradscope.check]\ngrad-norm = []\n",
     ["[tool.gradscope.check] grad-norm: no bounds to check: the grad-norm rule is selected but has no bounds"]),
    ('[tool.gradscope.check]\nrules = ["grad-norm"]\ngrad-norm = []\n', ["grad-norm: no bounds to check"]),
])
def test_a_config_that_checks_nothing_is_an_input_error(elsewhere, toml, fragments):
    (elsewhere / "pyproject.toml").write_text(toml)
    assert_input_error(gradscope("check", sample("mlp")), str(elsewhere / "pyproject.toml"), *fragments)


def test_rules_that_all_skip_are_an_input_error(elsewhere):
    script = elsewhere / "one.py"
    script.write_text(ONE_PARAMETER)
    result = gradscope("check", script, "-r", "vanishing", "-r", "dead-units")
    assert_input_error(result, "nothing was checked: every selected rule skipped",
                       "vanishing w: fewer than two layers")
    assert "0 passed" not in result.stdout


@pytest.mark.parametrize(("toml", "fragments"), [
    ("tool = 5\n", ["pyproject.toml: [tool] must be a table, not 5"]),
    ('[tool]\ngradscope = "yes"\n', ["pyproject.toml: [tool.gradscope] must be a table, not 'yes'"]),
    ("[tool.gradscope]\ncheck = 3\n", ["pyproject.toml: [tool.gradscope.check] must be a table, not 3"]),
    ('[tool.gradscope.check]\nrules = "finite"\n',
     ["[tool.gradscope.check] rules: must be a list of strings, not 'finite'"]),
    ('[tool.gradscope.check]\ngradcheck-eps = "1e-6"\n', ["[tool.gradscope.check] gradcheck-eps: must be a number"]),
    ("[tool.gradscope.check]\nmax-growth = true\n", ["[tool.gradscope.check] max-growth: must be a number"]),
    ("[tool.gradscope.check.lr]\nvalue = 0.1\n", ["[tool.gradscope.check] lr: must be a number > 0, not {"]),
    ("[tool.gradscope.check]\ngradcheck-eps = inf\n",
     ["[tool.gradscope.check] gradcheck-eps: must be a finite number > 0, not inf"]),
    ("[tool.gradscope.check]\nlr = 1e400\n", ["[tool.gradscope.check] lr: must be a finite number > 0, not inf"]),
    ('[tool.gradscope.check]\ngrad-norm = ["*<=nan"]\n', ["grad-norm: '*<=nan' is not a bound"]),
])
def test_misshapen_and_non_finite_config_values_are_input_errors(elsewhere, toml, fragments):
    (elsewhere / "pyproject.toml").write_text(toml)
    assert_input_error(gradscope("check", sample("mlp")), *fragments)


@pytest.mark.parametrize(("args", "fragments"), [
    (["--gradcheck-eps", "inf"], ["--gradcheck-eps: must be a finite number > 0, not inf"]),
    (["--gradcheck-rtol", "nan"], ["--gradcheck-rtol: must be a finite number > 0, not nan"]),
    (["--lr", "1e400"], ["--lr: must be a finite number > 0, not inf"]),
    (["--max-growth", "inf"], ["--max-growth: must be a finite number > 0, not inf"]),
    (["--grad-norm", "*<=inf"], ["--grad-norm: '*<=inf' is not a bound: its number must be finite"]),
    (["--grad-norm", "*>=-inf"], ["--grad-norm: '*>=-inf' is not a bound"]),
    (["--grad-norm", ""], ["--grad-norm: '' is not a bound"]),
    (["--rule", ""], ["--rule: unknown rule ''"]),
])
def test_non_finite_and_empty_flags_are_input_errors(args, fragments):
    assert_input_error(gradscope("check", sample("mlp"), *args), *fragments)
