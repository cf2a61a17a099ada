"""`gradscope watch SCRIPT` on the sample training loops: the step, the op and its line, the files,
--keep-going, --json, and bad input."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import gradscope, line_of, sample  # noqa: E402

from gradscope.trace.tracefile import load_trace  # noqa: E402
from gradscope.watching import read_history  # noqa: E402

LOG_SAMPLE = sample("watch_log_outside_graph")
LR_SAMPLE = sample("watch_growing_lr")
BAD_STEP = 37


@pytest.fixture(scope="module")
def log_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("watch") / "run"
    result = gradscope("watch", LOG_SAMPLE, "--out", out, "--json")
    return result, json.loads(result.stdout), out


def test_json_names_the_step_the_op_and_its_line(log_run):
    result, data, out = log_run
    assert result.exit_code == 1
    assert set(data) >= {"steps_run", "stopped", "first_anomaly", "traces", "history"}
    assert data["steps_run"] == BAD_STEP + 1 and data["stopped"] is True
    first = data["first_anomaly"]
    assert set(first) >= {"step", "phase", "op", "node", "file", "line", "scope", "message"}
    assert (first["step"], first["phase"], first["op"], first["node"]) == (BAD_STEP, "forward", "log", None)
    assert Path(first["file"]).samefile(LOG_SAMPLE) and first["line"] == line_of(LOG_SAMPLE, "torch.log(counts)")
    assert math.isfinite(data["loss"])
    assert data["first_nonfinite_parameter"]["parameter"] == "model.0.weight"
    assert data["history"] == str(out / "history.jsonl")


def test_the_traces_and_the_history_are_written(log_run):
    _, data, out = log_run
    assert data["traces"] == [str(out / f"step-{step:06d}.gstrace") for step in (BAD_STEP - 1, BAD_STEP)]
    assert sorted(p.name for p in out.iterdir()) == ["history.jsonl", "step-000036.gstrace", "step-000037.gstrace"]
    assert load_trace(data["traces"][1]).meta["step"] == BAD_STEP
    history = read_history(out / "history.jsonl")
    assert [r.step for r in history] == list(range(BAD_STEP + 1))
    assert not any(r.findings for r in history[:-1]) and history[-1].findings[0].op == "log"
    assert list(history[0].parameters) == ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"]


def test_the_text_report_leads_with_the_step_loss_and_line(tmp_path):
    result = gradscope("watch", LOG_SAMPLE, "--out", tmp_path / "run", "--no-traces")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"stopped at step {BAD_STEP} ")
    assert lines[1].startswith("  loss that step: ") and "nan" not in lines[1]
    assert lines[2] == "  forward: log produced 1 -inf: log of a value <= 0 (input min 0)"
    line = line_of(LOG_SAMPLE, "torch.log(counts)")
    assert lines[3].endswith(f"watch_log_outside_graph.py:{line}, outside the autograd graph")
    assert "gradient norm of" in result.stdout and "over the last 10 steps" in result.stdout
    assert "trace:" not in result.stdout  # --no-traces
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["history.jsonl"]


def test_keep_going_runs_to_the_end(tmp_path):
    result = gradscope("watch", LOG_SAMPLE, "--out", tmp_path, "--keep-going", "--json", "--no-traces")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["stopped"] is False and data["steps_run"] == 100
    assert data["first_anomaly"]["step"] == BAD_STEP and data["anomalous_steps"][:2] == [BAD_STEP, BAD_STEP + 1]
    assert len(read_history(tmp_path / "history.jsonl")) == 100


def test_a_diverging_learning_rate_stops_at_the_first_overflow(tmp_path):
    result = gradscope("watch", LR_SAMPLE, "--out", tmp_path, "--json", "--keep", "0")
    data = json.loads(result.stdout)
    first = data["first_anomaly"]
    assert result.exit_code == 1 and first["role"] == "culprit" and first["phase"] == "forward"
    history = read_history(tmp_path / "history.jsonl")
    norms = [r.parameters["model.0.weight"].grad_norm for r in history[:-1]]
    assert norms[-1] > 100 * norms[0]  # it grew before it broke
    assert data["traces"] == [str(tmp_path / f"step-{first['step']:06d}.gstrace")]
    spiked = json.loads(gradscope("watch", LR_SAMPLE, "--out", tmp_path, "--json", "--rule", "grad-spike").stdout)
    assert spiked["first_anomaly"]["rule"] == "grad-spike" and spiked["first_anomaly"]["step"] < first["step"]


def test_a_clean_pytorch_loop_exits_0(tmp_path):
    result = gradscope("watch", sample("torch_training_loop"), "--out", tmp_path, "--max-steps", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("no anomaly in 3 steps (stopped at --max-steps)")


def test_a_closure_optimizer_counts_its_backward_passes_and_its_optimizer_steps_apart(tmp_path):
    script = tmp_path / "lbfgs.py"
    script.write_text(
        "import torch\n"
        "torch.manual_seed(0)\n"
        "w = torch.randn(3, requires_grad=True)\n"
        "x, y = torch.randn(8, 3), torch.randn(8)\n"
        "opt = torch.optim.LBFGS([w], max_iter=4)\n"
        "def closure():\n"
        "    opt.zero_grad()\n"
        "    loss = ((x @ w - y) ** 2).mean()\n"
        "    loss.backward()\n"
        "    return loss\n"
        "for _ in range(2):\n"
        "    opt.step(closure)\n")
    result = gradscope("watch", script, "--out", tmp_path / "run", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["optimizer_steps"] == 2 and data["steps_run"] > 2
    text = gradscope("watch", script, "--out", tmp_path / "again").stdout
    assert text.startswith(f"no anomaly in {data['steps_run']} steps (2 optimizer steps; the run ended)")


@pytest.mark.parametrize(("args", "message"), [
    (["missing.py"], "no such file"),
    ([LOG_SAMPLE, "--rule", "nonsense"], "unknown rule"),
    ([LOG_SAMPLE, "--keep", "-1"], "'--keep'"),
])
def test_bad_input_exits_2(args, message, tmp_path):
    result = gradscope("watch", *args, "--out", tmp_path / "out")
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_output_path_that_is_a_file_exits_2(tmp_path):
    (tmp_path / "file").write_text("mine")
    result = gradscope("watch", LOG_SAMPLE, "--out", tmp_path / "file")
    assert result.exit_code == 2 and "is a file, not a directory" in result.stderr
    assert (tmp_path / "file").read_text() == "mine"


def test_help_shows_the_rules_unmangled():
    result = gradscope("watch", "--help")
    assert result.exit_code == 0
    assert "grad-spike[=FACTOR], loss-spike[=FACTOR], grad-norm[=GLOB<=NUMBER]" in " ".join(result.stdout.split())


SCALED = '''"""Features divided in place by a scale outside the graph; at step 4 the scale is 0."""
import gradscope as torch
from gradscope import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for step in range(10):
    features = torch.rand(16, 4) + 0.1
    scale = 0.0 if step == 4 else 2.0
    features.div_(scale)  # THE DIVISION
    loss = ((model(features) - 1) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
'''


@pytest.mark.parametrize("traces", [[], ["--no-traces"]])
def test_a_scalar_division_in_place_outside_the_graph_is_the_culprit_named(tmp_path, traces):
    """The loss goes NaN at step 4: watch names the `x.div_(0)` that made the inf on data that requires no grad,
    at its line, whether it keeps recordings (a process-wide observer) or only monitors (a watcher). It named the
    first op in the graph that passed the inf on ('addmm passed on non-finite values') when only monitoring."""
    script = tmp_path / "scaled.py"
    script.write_text(SCALED)
    result = gradscope("watch", script, "--out", tmp_path / "run", "--json", *traces)
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["steps_run"] == 5 and data["loss"] == "nan"
    first = data["first_anomaly"]
    assert (first["step"], first["phase"], first["op"], first["node"]) == (4, "forward", "div", None)
    assert first["message"] == "div produced 64 +inf: division by zero (100% of the divisor is 0)"
    assert Path(first["file"]).samefile(script) and first["line"] == line_of(script, "THE DIVISION")
    text = gradscope("watch", script, "--out", tmp_path / "again", *traces).stdout.splitlines()
    assert text[2] == "  forward: div produced 64 +inf: division by zero (100% of the divisor is 0)"
    where, _, rest = text[3].strip().removeprefix("at ").rpartition(":")  # the path shown relative to the cwd
    assert Path(where).resolve() == script.resolve() and rest == f"{first['line']}, outside the autograd graph"
