"""Rules and thresholds: defaults, `[tool.gradscope.check]` in pyproject.toml, flags winning, and a
clear CheckConfigError naming the key for every bad value."""

import math

import pytest

from gradscope.checks import (
    DEFAULT_RULES,
    PASS,
    SKIP,
    CheckConfig,
    CheckConfigError,
    NormBound,
    build_config,
    run_checks,
)
from gradscope.checks.config import DEFAULT_GRAD_NORM, find_pyproject, read_pyproject


def test_defaults():
    config = build_config()
    assert config == CheckConfig()
    assert config.selected_rules == DEFAULT_RULES
    assert config.grad_norm == DEFAULT_GRAD_NORM
    assert build_config(flag_values={"steps": 2}).selected_rules == (*DEFAULT_RULES, "exploding")


def test_flags_win_over_the_file_and_lists_are_replaced():
    file_values = {"rules": ["finite", "grad-norm"], "steps": 3, "grad-norm": ["*<=1e3"], "max-dead-fraction": 0.2,
                   "allow-nonfinite": ["model.attention.*"]}
    config = build_config(file_values, {"grad-norm": ["model.fc1.*>=1e-8"], "steps": None, "max-dead-fraction": 0.7})
    assert config.rules == ("finite", "grad-norm") and config.steps == 3
    assert config.grad_norm == (NormBound("model.fc1.*", ">=", 1e-8),)
    assert config.max_dead_fraction == 0.7
    assert config.allow_nonfinite == ("model.attention.*",)


def test_repeated_rules_keep_their_first_place():
    assert build_config(flag_values={"rules": ["connected", "finite", "connected"]}).rules == ("connected", "finite")


@pytest.mark.parametrize(("text", "expected"), [
    ("model.fc1.*<=1e3", NormBound("model.fc1.*", "<=", 1000.0)),
    ("*>=1e-8", NormBound("*", ">=", 1e-8)),
    (" encoder.* < 5 ", NormBound("encoder.*", "<", 5.0)),
    ("w>0", NormBound("w", ">", 0.0)),
])
def test_bound_syntax(text, expected):
    assert NormBound.parse(text) == expected


@pytest.mark.parametrize("text", ["model.fc1", "<=1e3", "*<=", "*<=abc", "*=>3", "*==3", ""])
def test_bad_bound_syntax(text):
    with pytest.raises(CheckConfigError, match="is not a bound: write GLOB<=NUMBER or GLOB>=NUMBER"):
        NormBound.parse(text)


def test_bounds_hold_and_nan_obeys_none():
    upper, strict = NormBound("*", "<=", 1.0), NormBound("*", "<", 1.0)
    assert upper.holds(1.0) and not strict.holds(1.0) and strict.holds(0.5)
    assert not upper.holds(math.inf) and NormBound("*", ">=", 1.0).holds(math.inf)
    assert not upper.holds(math.nan) and not NormBound("*", ">=", 0.0).holds(math.nan)
    assert upper.matches("model.fc1.weight") and not NormBound("model.fc2.*", "<=", 1).matches("model.fc1.weight")


@pytest.mark.parametrize(("values", "message"), [
    ({"rules": ["finite", "nonfinite"]}, "--rule: unknown rule 'nonfinite' (rules: finite, connected,"),
    ({"rules": 3}, "--rule: must be a list of strings"),
    ({"grad-norm": ["fc1<=x"]}, "--grad-norm: 'fc1<=x' is not a bound"),
    ({"steps": 0}, "--steps: must be a whole number >= 1, not 0"),
    ({"steps": True}, "--steps: must be a whole number >= 1"),
    ({"max-dead-fraction": 1.5}, "--max-dead-fraction: must be a number between 0 and 1, not 1.5"),
    ({"min-layer-ratio": "x"}, "--min-layer-ratio: must be a number between 0 and 1"),
    ({"max-growth": -1}, "--max-growth: must be a number > 0, not -1"),
    ({"gradcheck-mode": "medium"}, "--gradcheck-mode: must be 'fast' or 'slow', not 'medium'"),
    ({"entry": "my loss"}, "--entry: must be a function name, not 'my loss'"),
    ({"grad_norm": ["*<=1"]}, "--grad_norm: unknown key (known: rules, entry, steps,"),
])
def test_bad_flag_values_name_the_flag(values, message):
    with pytest.raises(CheckConfigError) as error:
        build_config(flag_values=values)
    assert str(error.value).startswith(message)


def test_bad_file_values_name_the_file_section_and_key():
    with pytest.raises(CheckConfigError, match=r"^ci/pyproject.toml \[tool.gradscope.check\] max-growth: must be"):
        build_config({"max-growth": "lots"}, source="ci/pyproject.toml")


def test_read_pyproject(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n\n[tool.gradscope.check]\nrules = ["finite"]\ngrad-norm = ["*<=1e3"]\n')
    assert read_pyproject(path) == {"rules": ["finite"], "grad-norm": ["*<=1e3"]}
    path.write_text('[project]\nname = "x"\n')
    assert read_pyproject(path) == {}


@pytest.mark.parametrize(("text", "message"), [
    ("[tool.gradscope.check\nrules = 1", "not valid TOML"),
])
def test_bad_pyproject(tmp_path, text, message):
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    with pytest.raises(CheckConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        read_pyproject(path)


def test_missing_pyproject(tmp_path):
    with pytest.raises(CheckConfigError, match="no such file"):
        read_pyproject(tmp_path / "nope.toml")


def test_find_pyproject_looks_upward(tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    assert find_pyproject(nested) == tmp_path / "pyproject.toml"
    (tmp_path / "a" / "pyproject.toml").write_text("")
    assert find_pyproject(nested) == tmp_path / "a" / "pyproject.toml"


# ------------------------------------------------------------------ a selection that checks nothing
@pytest.mark.parametrize(("file_values", "flag_values", "message"), [
    ({"rules": []}, {}, "pyproject.toml [tool.gradscope.check] rules: no rules to check"),
    ({}, {"rules": []}, "--rule: no rules to check"),
    ({"grad-norm": []}, {}, "pyproject.toml [tool.gradscope.check] grad-norm: no bounds to check: "
                            "the grad-norm rule is selected but has no bounds"),
    ({"rules": ["grad-norm"]}, {"grad-norm": []}, "--grad-norm: no bounds to check: the grad-norm rule is selected"),
    ({"rules": ["finite"], "grad-norm": []}, {"rules": ["grad-norm"]}, "pyproject.toml [tool.gradscope.check] "
                                                                        "grad-norm: no bounds to check"),
])
def test_a_selection_that_checks_nothing_is_an_error(file_values, flag_values, message):
    with pytest.raises(CheckConfigError) as error:
        build_config(file_values, flag_values)
    assert str(error.value).startswith(message)


def test_empty_lists_that_check_nothing_less_are_fine():
    assert build_config({"rules": []}, {"rules": ["finite"]}).selected_rules == ("finite",)  # flags win
    assert build_config({"rules": ["finite"], "grad-norm": []}).grad_norm == ()  # grad-norm not selected
    assert build_config({"allow-nonfinite": []}).allow_nonfinite == ()


@pytest.mark.parametrize("config", [CheckConfig(rules=()), CheckConfig(rules=("grad-norm",), grad_norm=())],
                         ids=["no rules", "grad-norm without bounds"])
def test_run_checks_refuses_a_config_that_checks_nothing_before_running_the_script(tmp_path, config):
    script = tmp_path / "model.py"
    script.write_text("raise SystemExit('the script must not run')\n")
    with pytest.raises(CheckConfigError, match="^no (rules|bounds) to check"):
        run_checks(script, config)


ONE_PARAMETER = "import gradscope as torch\n\nw = torch.ones(3, requires_grad=True)\n\n\ndef loss():\n" \
                "    return (w * w).sum()\n"


def test_a_run_where_every_rule_skipped_checked_nothing(tmp_path):
    script = tmp_path / "one.py"
    script.write_text(ONE_PARAMETER)
    with pytest.raises(CheckConfigError) as error:
        run_checks(script, build_config(flag_values={"rules": ["vanishing", "dead-units"]}))
    assert str(error.value).startswith("nothing was checked: every selected rule skipped")
    assert "vanishing w: fewer than two layers" in str(error.value)
    assert "dead-units activations: no ReLU-family activation" in str(error.value)
    report = run_checks(script, build_config(flag_values={"rules": ["vanishing", "connected"]}))
    assert [(r.rule, r.status) for r in report.results] == [("vanishing", SKIP), ("connected", PASS)]


# ------------------------------------------------------------------------- shapes and non-finite numbers
def config_from(tmp_path, text: str) -> CheckConfig:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return build_config(read_pyproject(path), source=str(path))


@pytest.mark.parametrize(("text", "message"), [
    ("tool = 5\n", "[tool] must be a table, not 5"),
    ('tool = "gradscope"\n', "[tool] must be a table, not 'gradscope'"),
    ('[tool]\ngradscope = "yes"\n', "[tool.gradscope] must be a table, not 'yes'"),
    ("[tool]\ngradscope = [1, 2]\n", "[tool.gradscope] must be a table, not [1, 2]"),
    ("[tool.gradscope]\ncheck = 3\n", "[tool.gradscope.check] must be a table, not 3"),
    ("[[tool.gradscope.check]]\nrules = ['finite']\n", "[tool.gradscope.check] must be a table, not [{"),
])
def test_sections_that_are_not_tables_name_the_key(tmp_path, text, message):
    with pytest.raises(CheckConfigError) as error:
        config_from(tmp_path, text)
    assert str(error.value).startswith(f"{tmp_path / 'pyproject.toml'}: {message}")


@pytest.mark.parametrize(("line", "message"), [
    ('rules = "finite"', "rules: must be a list of strings, not 'finite'"),
    ('allow-nonfinite = "model.*"', "allow-nonfinite: must be a list of strings, not 'model.*'"),
    ('grad-norm = "*<=1e3"', "grad-norm: must be a list of strings, not '*<=1e3'"),
    ("rules = [\"finite\", 3]", "rules: must be a list of strings, not ['finite', 3]"),
    ('gradcheck-eps = "1e-6"', "gradcheck-eps: must be a number > 0, not '1e-6'"),
    ("gradcheck-eps = true", "gradcheck-eps: must be a number > 0, not True"),
    ('min-nonzero = "0.5"', "min-nonzero: must be a number between 0 and 1, not '0.5'"),
    ("max-growth = {value = 3}", "max-growth: must be a number > 0, not {'value': 3}"),
    ("lr = [0.1]", "lr: must be a number > 0, not [0.1]"),
    ("steps = 2.0", "steps: must be a whole number >= 1, not 2.0"),
    ("lr = 1979-05-27", "lr: must be a number > 0, not datetime.date(1979, 5, 27)"),
    ("gradcheck-eps = inf", "gradcheck-eps: must be a finite number > 0, not inf"),
    ("gradcheck-eps = nan", "gradcheck-eps: must be a finite number > 0, not nan"),
    ("lr = 1e400", "lr: must be a finite number > 0, not inf"),
    ("max-growth = +inf", "max-growth: must be a finite number > 0, not inf"),
    ("gradcheck-atol = -inf", "gradcheck-atol: must be a finite number > 0, not -inf"),
    ("min-layer-ratio = nan", "min-layer-ratio: must be a number between 0 and 1, not nan"),
    ('grad-norm = ["*<=nan"]', "grad-norm: '*<=nan' is not a bound: its number must be finite"),
    ('grad-norm = ["*<=inf"]', "grad-norm: '*<=inf' is not a bound: its number must be finite"),
    ('grad-norm = ["*>=-inf"]', "grad-norm: '*>=-inf' is not a bound: its number must be finite"),
    ('grad-norm = ["*<=1e400"]', "grad-norm: '*<=1e400' is not a bound: its number must be finite"),
])
def test_bad_file_values_name_the_file_and_key(tmp_path, line, message):
    with pytest.raises(CheckConfigError) as error:
        config_from(tmp_path, f"[tool.gradscope.check]\n{line}\n")
    assert str(error.value).startswith(f"{tmp_path / 'pyproject.toml'} [tool.gradscope.check] {message}")


@pytest.mark.parametrize(("values", "message"), [
    ({"gradcheck-eps": math.inf}, "--gradcheck-eps: must be a finite number > 0, not inf"),
    ({"gradcheck-atol": math.nan}, "--gradcheck-atol: must be a finite number > 0, not nan"),
    ({"lr": float("1e400")}, "--lr: must be a finite number > 0, not inf"),
    ({"lr": 10 ** 400}, "--lr: must be a finite number > 0, not 1000"),
    ({"max-growth": math.inf}, "--max-growth: must be a finite number > 0, not inf"),
    ({"grad-norm": ["*<=inf"]}, "--grad-norm: '*<=inf' is not a bound: its number must be finite"),
    ({"rules": "finite"}, "--rule: must be a list of strings, not 'finite'"),
])
def test_non_finite_and_misshapen_flags_name_the_flag(values, message):
    with pytest.raises(CheckConfigError) as error:
        build_config(flag_values=values)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_bound_must_be_finite(value):
    with pytest.raises(CheckConfigError, match="its number must be finite"):
        NormBound("*", "<=", value)
