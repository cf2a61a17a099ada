"""docs/ci.md stays true: every rule and config key documented, the documented config valid, every
documented flag a real option, and the GitHub Actions workflow well-formed YAML."""

import re

import pytest
import typer.main
from check_helpers import ROOT

from gradscope.checks import RULES, build_config
from gradscope.checks.config import FIELDS, SECTION
from gradscope.cli import app

DOC = (ROOT / "docs" / "ci.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


def test_every_rule_and_key_is_documented():
    for rule in RULES:
        assert f"| `{rule}` |" in DOC, rule
    (toml,) = blocks("toml")
    assert {line.split(" = ")[0] for line in toml.splitlines() if " = " in line} == set(FIELDS)


def test_the_documented_config_is_valid():
    tomllib = pytest.importorskip("tomllib")
    (toml,) = blocks("toml")
    table = tomllib.loads(toml)
    for part in SECTION.split("."):
        table = table[part]
    config = build_config(table)
    assert config.steps == 3 and "exploding" in config.selected_rules


def test_documented_flags_exist():
    options = {name for param in typer.main.get_command(app).commands["check"].params for name in param.opts}
    pytest_flags = {"--junitxml", "--gradscope-update-baselines"}  # pytest's own, and the plugin's
    documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", DOC)) - pytest_flags
    assert documented <= options, documented - options


def test_the_workflow_is_valid_yaml_running_the_gate():
    yaml = pytest.importorskip("yaml")
    (workflow,) = blocks("yaml")
    document = yaml.safe_load(workflow)
    steps = document["jobs"]["gradients"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    assert "gradscope check models/net.py --steps 3 --junit-xml reports/gradients.xml" in commands
    assert steps[-1]["with"]["report_paths"] == "reports/*.xml"
