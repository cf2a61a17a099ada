"""`gradscope compat SCRIPT` (issue 12 §1): the torch APIs a script uses, read without running it."""

from __future__ import annotations

import json
import textwrap

from cli_helpers import assert_input_error, gradscope


def write(tmp_path, source: str):
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(source).lstrip())
    return path


SCRIPT = """
    import torch
    import torch.nn as nn
    from torch import optim
    from torch.nn import functional as F

    raise SystemExit("compat must never run the script")

    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Container())
    opt = optim.SGD(model.parameters(), lr=0.1)
    y = F.relu(torch.randn(3)) + torch.nn.functional.not_a_function(3)
"""


def test_every_torch_api_is_listed_with_its_lines_and_support(tmp_path):
    result = gradscope("compat", write(tmp_path, SCRIPT), "--json")
    assert result.exit_code == 1, result.stderr
    found = {entry["api"]: (entry["lines"], entry["supported"]) for entry in json.loads(result.stdout)["apis"]}
    assert found == {
        "torch": ([1], True), "torch.nn": ([2], True), "torch.optim": ([3], True),
        "torch.nn.functional": ([4], True), "torch.nn.Sequential": ([8], True), "torch.nn.Linear": ([8], True),
        "torch.nn.Tanh": ([8], True), "torch.nn.Container": ([8], False), "torch.optim.SGD": ([9], True),
        "torch.nn.functional.relu": ([10], True), "torch.randn": ([10], True),
        "torch.nn.functional.not_a_function": ([10], False),
    }


def test_the_table_names_what_is_missing(tmp_path):
    result = gradscope("compat", write(tmp_path, SCRIPT))
    assert result.exit_code == 1
    assert "2 of 12 APIs not implemented: torch.nn.Container, torch.nn.functional.not_a_function" in result.stdout


def test_a_script_gradscope_fully_supports_exits_0(tmp_path):
    result = gradscope("compat", write(tmp_path, "import torch\nx = torch.ones(3).sum()\n"))
    assert result.exit_code == 0, result.stdout
    assert "all 2 APIs are implemented" in result.stdout


def test_bad_input_is_exit_2(tmp_path):
    assert_input_error(gradscope("compat", tmp_path / "missing.py"), "no such file")
    assert_input_error(gradscope("compat", write(tmp_path, "import torch\nx = (\n")), "syntax error at line 2")
