"""Issue 12 §1 (slice): a script that imports torch runs unchanged on gradscope's engine, and an API
gradscope lacks is named with the script's line."""

from __future__ import annotations

import json
import textwrap

import pytest
from cli_helpers import GRADSCOPE_DIR, gradscope, line_of, sample

NOTICE = "the script imports torch; it runs on gradscope's engine"

MODEL = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch import optim

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    x = torch.randn(16, 4)
    y = torch.randn(16, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)


    def loss():
        return F.mse_loss(model(x), y)
"""


def assert_unsupported(result, message: str) -> None:
    """Exit 2: the notice, then the error naming the API and the line, then the script's own frames."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    notice, error, *details = result.stderr.splitlines()
    assert NOTICE in notice and error == f"error: {message}"
    assert GRADSCOPE_DIR not in result.stderr


def write(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


@pytest.mark.parametrize("command", ["inspect", "check", "gradcheck"])
def test_a_pytorch_script_runs_unchanged_with_one_notice(tmp_path, command):
    script = write(tmp_path, "model.py", MODEL)
    result = gradscope(command, script, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count(NOTICE) == 1
    document = json.loads(result.stdout)
    if command == "inspect":
        assert {p["name"] for p in document["parameters"]} == {"model.0.weight", "model.0.bias", "model.2.weight",
                                                               "model.2.bias"}


def test_gradients_equal_the_same_script_written_against_gradscope(tmp_path):
    torch_style = write(tmp_path, "torch_style.py", MODEL)
    source = (MODEL.replace("import torch\n", "import gradscope as torch\n")
              .replace("import torch.nn as nn", "from gradscope import nn")
              .replace("import torch.nn.functional as F", "from gradscope.nn import functional as F")
              .replace("from torch import optim", "from gradscope import optim"))
    gradscope_style = write(tmp_path, "gradscope_style.py", source)
    norms = []
    for script in (torch_style, gradscope_style):
        result = gradscope("inspect", script, "--json")
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        tensors = document["tensors"]
        norms.append(sorted(tensors[ref]["stats"]["norm"] for p in document["passes"]
                            for ref in p["leaf_grads"].values()))
    assert norms[0] == norms[1] and len(norms[0]) == 4
    assert NOTICE not in gradscope("inspect", gradscope_style).stderr


@pytest.mark.parametrize("use, api", [("nn.Container()", "torch.nn.Container"),
                                      ("torch.not_a_function(1)", "torch.not_a_function")])
def test_an_api_gradscope_lacks_is_named_with_the_scripts_line(tmp_path, use, api):
    script = write(tmp_path, "model.py", f"""
        import torch
        import torch.nn as nn

        layer = {use}


        def loss():
            return layer.sum()
    """)
    result = gradscope("inspect", script)
    assert_unsupported(result, f"{script}:{line_of(script, use)} uses {api}, which gradscope does not implement")


def test_a_missing_torch_submodule_is_named_too(tmp_path):
    script = write(tmp_path, "model.py", "import torch\nimport torch.not_a_module\n")
    result = gradscope("inspect", script)
    assert_unsupported(result, f"{script}:2 uses torch.not_a_module, which gradscope does not implement")


# ----------------------------------------------------------------------------- the bundled PyTorch samples
TORCH_SAMPLES = {"torch_cnn": True, "torch_lstm_tagger": True, "torch_training_loop": False}  # → has loss()


@pytest.mark.parametrize("name", TORCH_SAMPLES)
def test_the_pytorch_samples_import_only_torch(name):
    source = sample(name).read_text()
    assert "import torch" in source and "gradscope" not in source.split('"""')[2]  # the code, past the docstring


@pytest.mark.parametrize("name", TORCH_SAMPLES)
def test_the_pytorch_samples_inspect_and_check_clean(name):
    inspected = gradscope("inspect", sample(name), "--json")
    assert inspected.exit_code == 0, inspected.stderr
    document = json.loads(inspected.stdout)
    assert document["parameters"] and not document["anomalies"]
    assert all(document["passes"][0]["leaf_grads"].get(str(p["node"])) is not None for p in document["parameters"])
    checked = gradscope("check", sample(name), "--json")
    assert checked.exit_code == 0, checked.stdout
    assert json.loads(checked.stdout)["summary"]["failed"] == 0


@pytest.mark.parametrize("name", [name for name, entry in TORCH_SAMPLES.items() if entry])
def test_the_pytorch_samples_pass_gradcheck(name):
    result = gradscope("gradcheck", sample(name), "--fast", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["passed"]


def test_the_training_loop_records_every_step():
    result = gradscope("inspect", sample("torch_training_loop"), "--json")
    assert len(json.loads(result.stdout)["passes"]) == 8  # 2 epochs × 4 batches of 16
    assert "epoch 1 loss" in result.stderr


# ----------------------------------------------------------------------------- devices
def test_a_portable_device_choice_runs_on_the_cpu(tmp_path):
    script = write(tmp_path, "model.py", """
        import torch
        import torch.nn as nn

        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = nn.Linear(3, 1).to(device)
        x = torch.randn(4, 3, device=device).cpu()


        def loss():
            return model(x.to(device)).sum()
    """)
    result = gradscope("inspect", script)
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("use", ["torch.randn(4, 3).cuda()", "torch.zeros(2, device='cuda')",
                                 "nn.Linear(3, 1).cuda()", "nn.Linear(3, 1).to('cuda:0')", "torch.ones(2).to('cuda')"])
def test_an_explicit_gpu_is_an_error_with_the_line_and_a_hint(tmp_path, use):
    script = write(tmp_path, "model.py", f"""
        import torch
        import torch.nn as nn

        thing = {use}


        def loss():
            return thing.sum()
    """)
    result = gradscope("inspect", script)
    assert result.exit_code == 2
    error = result.stderr.splitlines()[1]
    assert error.startswith(f"error: {script}:{line_of(script, use)}: gradscope runs on the CPU only")
    assert "torch.cuda.is_available()" in result.stderr
