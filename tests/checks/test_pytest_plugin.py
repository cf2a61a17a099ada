"""The pytest plugin, run inside pytester: the `grad_recorder` fixture and the helpers pass and fail
as documented, and pytest's report names the parameter or node, its scope and the measured value."""

import importlib.metadata
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

USER_TESTS = '''
import gradscope as torch
from gradscope import nn
from gradscope.pytest_plugin import (
    assert_all_params_receive_grad, assert_grad_norm, assert_gradcheck, assert_grads_finite,
)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 4)
        self.unused = nn.Linear(4, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(torch.tanh(self.body(x)))


class WrongDouble(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 3


def make():
    torch.manual_seed(0)
    return Net(), torch.randn(5, 3)


def test_finite_passes(grad_recorder):
    model, x = make()
    assert_grads_finite(grad_recorder(lambda: model(x).sum()))


def test_finite_fails(grad_recorder):
    model, x = make()
    assert_grads_finite(grad_recorder(lambda: (model(x) - 10).sqrt().sum()))


def test_connected_passes():
    model, x = make()
    head = model.head
    assert_all_params_receive_grad(lambda: head(torch.tanh(model.body(x))).sum(), names={"head": head})


def test_connected_fails():
    model, x = make()
    assert_all_params_receive_grad(lambda: model(x).sum())


def test_grad_norm_passes(grad_recorder):
    model, x = make()
    assert_grad_norm(grad_recorder(lambda: model(x).sum()), max=10.0, params="model.head.*")


def test_grad_norm_fails(grad_recorder):
    model, x = make()
    assert_grad_norm(grad_recorder(lambda: model(x).sum()), max=1.0, params="model.head.*")


def test_gradcheck_passes():
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert_gradcheck(torch.tanh, (x,))


def test_gradcheck_fails():
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert_gradcheck(WrongDouble.apply, (x,))


def test_recorder_as_a_block(grad_recorder):
    model, x = make()
    with grad_recorder:
        model(x).sum().backward()
    assert len(grad_recorder.trace.passes) == 1
    assert_grads_finite(grad_recorder.trace)
'''


@pytest.fixture
def user_tests(pytester, monkeypatch):
    # only the plugin under test, loaded by name: the result doesn't depend on what else is installed
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


def run(pytester, *args):
    # in process, the plugin module is imported once for many runs: pytest can't rewrite it again (it has no asserts)
    return pytester.runpytest("-p", "gradscope.pytest_plugin", "-p", "no:cacheprovider",
                              "-W", "ignore::pytest.PytestAssertRewriteWarning", *args)


def line_of(pytester, text):
    (number,) = [n for n, line in enumerate((pytester.path / "test_user.py").read_text().splitlines(), 1)
                 if text in line]
    return number


def test_helpers_pass_and_fail_as_documented(user_tests):
    result = run(user_tests)
    result.assert_outcomes(passed=5, failed=4)
    assert {report.head_line for report in result.reprec.getreports("pytest_runtest_logreport")
            if report.when == "call" and report.failed} == \
           {"test_finite_fails", "test_connected_fails", "test_grad_norm_fails", "test_gradcheck_fails"}


def test_failure_reports_name_parameter_scope_line_and_value(user_tests):
    result = run(user_tests, "-k", "fails")
    result.assert_outcomes(failed=4, deselected=5)
    sqrt_line = line_of(user_tests, "(model(x) - 10).sqrt()")
    forward_line = line_of(user_tests, "return self.head(torch.tanh(self.body(x)))")
    result.stdout.fnmatch_lines_random([
        "E *GradientAssertionError: non-finite gradients:",
        f"E *model.head.weight (module model.head) has a non-finite gradient (4 nan of 4); first made by "
        f"SqrtBackward0 (sqrt) at *test_user.py:{sqrt_line}: *[[]model.head at *test_user.py:{forward_line}]",
        "E *GradientAssertionError: parameters without a gradient:",
        "E *model.unused.weight (module model.unused) received no gradient: it never took part in the graph *"
        "[[]model.unused]",
        "E *GradientAssertionError: gradient norms out of bounds:",
        f"E *model.head.bias (module model.head) has gradient norm 5, breaking 'model.head.[*]<=1' "
        f"[[]model.head at *test_user.py:{forward_line}]",
        "E *GradientAssertionError: gradcheck of WrongDouble.apply failed (fast mode, atol 1e-05, rtol 0.001):",
        "E *worst element: d output 0[[]*] / d input 0[[]*]: numerical 2, analytical 3 *",
        "E *culprit: WrongDoubleBackward (op WrongDouble) at *test_user.py:*: its backward gives *",
    ])
    # the helpers hide their own frames: the report points at the user's line
    assert "gradscope/checks/assertions.py" not in result.stdout.str()


def test_the_fixture_is_documented(user_tests):
    result = run(user_tests, "--fixtures")
    result.stdout.fnmatch_lines(["grad_recorder*", "*Records backward passes*"])


def test_pyproject_registers_the_plugin():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    document = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert document["project"]["entry-points"]["pytest11"] == {"gradscope": "gradscope.pytest_plugin"}


def _installed_with_entry_point() -> bool:
    return any(entry.value == "gradscope.pytest_plugin" for dist in importlib.metadata.distributions()
               if dist.metadata["Name"] == "gradscope" for entry in dist.entry_points if entry.group == "pytest11")


def test_installed_plugin_loads_by_itself(pytester):
    if not _installed_with_entry_point():
        pytest.skip("the installed gradscope predates the pytest11 entry point: reinstall with `pip install -e .`")
    pytester.makepyfile(test_auto="def test_fixture_is_there(grad_recorder):\n    assert grad_recorder.traces == []\n")
    # a fresh interpreter started elsewhere sees only the installed metadata
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
