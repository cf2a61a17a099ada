"""The bundled unmodified PyTorch scripts open in the browser (issue 12: checked under every command)."""

import pytest
from typer.testing import CliRunner

from gradscope.cli import app as cli
from gradscope.tui.screens.main import MainScreen


@pytest.mark.parametrize("name", ["torch_cnn", "torch_lstm_tagger", "torch_training_loop"])
def test_a_pytorch_sample_is_recorded_and_browsed(keys, name):
    pressed, seen = keys
    pressed.append("q")
    result = CliRunner().invoke(cli, ["browse", f"sample_models/{name}.py"])
    assert result.exit_code == 0, result.output
    assert seen == [MainScreen]
