"""Training steps: the entry called N times with an optimizer step between (the script's optimizer()
or SGD), one step per backward for __main__ scripts, and how per-step results merge."""

import dataclasses
import textwrap

import numpy as np
import pytest
from check_helpers import sample, write_script

from gradscope.checks import FAIL, PASS, SKIP, CheckResult
from gradscope.checks.runner import merge_steps
from gradscope.checks.steps import record_steps
from gradscope.trace import ScriptError

LINEAR = textwrap.dedent("""
    import gradscope as torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x = torch.randn(8, 3)


    def loss():
        print("called")  # goes to stderr, so --json stays parseable
        return model(x).pow(2).mean()
""")


def values(step, name):
    (parameter,) = [p for p in step.trace.parameters if p.name == name]
    return parameter.value.values, step.grad(parameter).values


def test_default_sgd_between_steps(tmp_path, capsys):
    recorded = record_steps(write_script(tmp_path, "linear", LINEAR), steps=3, lr=0.1)
    assert [step.index for step in recorded.steps] == [0, 1, 2]
    assert capsys.readouterr().out == ""
    for before, after in zip(recorded.steps, recorded.steps[1:], strict=False):
        weight, grad = values(before, "model.weight")
        next_weight, next_grad = values(after, "model.weight")
        np.testing.assert_allclose(next_weight, weight - 0.1 * grad, rtol=1e-6)
        assert not np.allclose(next_grad, grad)  # a fresh gradient each step, not an accumulated one


def test_the_scripts_optimizer_function_is_used(tmp_path):
    own = "\ndef optimizer():\n    return torch.optim.SGD(model.parameters(), lr=0.5)\n"
    script = write_script(tmp_path, "own", LINEAR + own)
    first, second = record_steps(script, steps=2, lr=0.1).steps
    weight, grad = values(first, "model.weight")
    np.testing.assert_allclose(values(second, "model.weight")[0], weight - 0.5 * grad, rtol=1e-6)


def test_an_optimizer_object_named_optimizer_is_used(tmp_path):
    script = write_script(tmp_path, "object", LINEAR + "\noptimizer = torch.optim.SGD([model.bias], lr=1.0)\n")
    recorded = record_steps(script, steps=2)
    first, second = recorded.steps
    np.testing.assert_allclose(values(second, "model.weight")[0], values(first, "model.weight")[0])
    # the untrained weight's gradient is this step's d mean((xWᵀ + b)²) / dW, not one accumulated over steps
    x = recorded.run.namespace["x"].numpy()
    (weight, weight_grad), (bias, _) = values(second, "model.weight"), values(second, "model.bias")
    np.testing.assert_allclose(weight_grad, 2 * (x @ weight.T + bias).T @ x / len(x), rtol=1e-5)
    bias, grad = values(first, "model.bias")
    np.testing.assert_allclose(values(second, "model.bias")[0], bias - grad, rtol=1e-6)


@pytest.mark.parametrize(("extra", "message"), [
    ("\ndef optimizer():\n    return 3\n", "optimizer() must return a gradscope.optim optimizer, got int"),
    ("\ndef optimizer():\n    raise KeyError('lr')\n", "optimizer() raised KeyError"),
])
def test_bad_optimizer_functions(tmp_path, extra, message):
    with pytest.raises(ScriptError, match=message.replace("(", r"\(").replace(")", r"\)")):
        record_steps(write_script(tmp_path, "bad", LINEAR + extra), steps=2)


def test_main_scripts_give_one_step_per_backward():
    recorded = record_steps(sample("td_lambda"))
    assert len(recorded.steps) == len(recorded.run.trace.passes) == 5
    assert [step.pass_index for step in recorded.steps] == [0, 1, 2, 3, 4]
    assert recorded.entry is None
    with pytest.raises(ScriptError, match="--steps needs an entry function"):
        record_steps(sample("td_lambda"), steps=2)


def test_an_entry_failing_at_a_later_step_is_a_script_error(tmp_path):
    script = write_script(tmp_path, "later", """
        import gradscope as torch

        w = torch.ones(2, requires_grad=True)
        calls = []


        def loss():
            calls.append(1)
            if len(calls) == 2:
                raise ValueError("second call")
            return (w * w).sum()
    """)
    with pytest.raises(ScriptError, match=r"loss\(\) raised ValueError"):
        record_steps(script, steps=2)


def result(status, step, target="w"):
    return CheckResult("finite", target, status, 0.0, "", "", step=step)


def test_merge_keeps_the_first_failure_else_the_last_pass():
    merged = merge_steps([[result(PASS, 0), result(SKIP, 0, "v")],
                          [result(FAIL, 1), result(PASS, 1, "v")],
                          [result(FAIL, 2), result(SKIP, 2, "v")]])
    assert [(r.target, r.status, r.step) for r in merged] == [("w", FAIL, 1), ("v", PASS, 1)]


def test_the_steps_of_a_run_share_one_table_of_first_uses(tmp_path):
    """A __main__ script's 3000 steps made `inspect` build the table once per step over every node of
    every step (quadratic: 57 s and 4.3 GB for the PyTorch tutorial's DynamicNet); it is the trace's."""
    script = write_script(tmp_path, "loop", """
        import gradscope as torch

        w = torch.ones(3, requires_grad=True)
        for step in range(3):
            (w * w).sum().backward()
    """)
    steps = record_steps(script, steps=1).steps
    assert len(steps) == 3
    assert steps[0].first_uses is steps[2].first_uses
    (leaf,) = [node.id for node in steps[0].trace.nodes.values() if node.kind == "leaf"]
    lines = script.read_text().splitlines()
    assert steps[0].first_uses[leaf].line == lines.index("    (w * w).sum().backward()") + 1
    trace, before = steps[0].trace, steps[0].first_uses
    node = next(iter(trace.nodes.values()))
    trace.nodes[max(trace.nodes) + 1] = dataclasses.replace(node, id=max(trace.nodes) + 1)
    assert trace.first_uses() is not before  # nodes added since: computed again
