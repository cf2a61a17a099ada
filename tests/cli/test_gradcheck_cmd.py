"""`gradscope gradcheck SCRIPT`: exit codes, the report naming the worst element and the culprit node, the
options, JSON, float64 promotion and bad input."""

from __future__ import annotations

import json
import runpy
import textwrap

import numpy as np
import pytest
from cli_helpers import assert_input_error, gradscope, line_of, sample

import gradscope as torch
from gradscope.checks import CheckConfig
from gradscope.checks.runner import check_gradcheck
from gradscope.trace.gradcheck import check_script

BAD_PARAMETERS = ["model.fc1.weight", "model.fc1.bias", "model.fc2.weight", "model.fc2.bias"]


def gradcheck_json(*args) -> tuple[int, dict]:
    result = gradscope("gradcheck", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def write(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


@pytest.fixture(scope="module")
def true_fc1_gradient() -> np.ndarray:
    """d loss / d fc1.weight of bad_backward.py computed with built-in ops only (a correct softplus), in
    float64 as the command runs it: the ground truth the report is checked against."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        namespace = runpy.run_path(str(sample("bad_backward")))
    finally:
        torch.set_default_dtype(previous)
    model, x = namespace["model"], namespace["x"]
    model.fc2((1 + (2.0 * model.fc1(x)).exp()).log()).pow(2).mean().backward()
    return model.fc1.weight.grad.numpy()


# ------------------------------------------------------------------------------------ bad_backward.py
def test_bad_backward_fails_naming_the_worst_element_and_the_culprit():
    path = sample("bad_backward")
    result = gradscope("gradcheck", path)
    assert result.exit_code == 1, result.stderr
    out = result.stdout
    line = line_of(path, "ScaledSoftplus.apply(")
    # 2 evaluations per element, and 2 more per element of fc1.weight for the noise at a second step
    assert out.startswith("✗ gradcheck failed  (slow mode, float64, 82 evaluations, 4 parameters)\n")
    assert "worst element  model.fc1.weight[4, 2]: numerical " in out
    assert "(abs error 0.1676, rel error 0.5, " in out  # the backward forgets beta = 2
    (culprit,) = [text for text in out.splitlines() if text.startswith("culprit")]
    assert culprit == f"culprit        ScaledSoftplusBackward (op ScaledSoftplus) at {path}:{line} in model"
    assert "\x1b[" not in out


def test_bad_backward_json_against_the_true_gradient(true_fc1_gradient):
    path = sample("bad_backward")
    code, report = gradcheck_json(path)
    assert code == 1
    assert (report["passed"], report["fast_mode"], report["second_order"]) == (False, False, None)
    assert report["parameters"] == BAD_PARAMETERS
    assert (report["verdict"], report["nonfinite"], report["suggested_eps"]) == ("failed", None, None)
    assert report["evaluations"] == 2 * (15 + 5 + 5 + 1) + 2 * 15  # and the noise of fc1.weight's Jacobian
    worst = report["worst"]
    assert (worst["parameter"], worst["output_index"], worst["input_index"], worst["output_element"]) == (
        "model.fc1.weight", 0, 0, [])
    # the analytical gradient is half the true one everywhere in fc1, so the worst element is the largest
    index = np.unravel_index(np.argmax(np.abs(true_fc1_gradient)), true_fc1_gradient.shape)
    assert worst["input_element"] == [int(i) for i in index]
    assert worst["numerical"] == pytest.approx(true_fc1_gradient[index], rel=1e-6)
    assert worst["analytical"] == pytest.approx(true_fc1_gradient[index] / 2, rel=1e-9)
    assert worst["abs_error"] == pytest.approx(abs(worst["numerical"] - worst["analytical"]))
    assert worst["rel_error"] == pytest.approx(0.5, rel=1e-6)
    assert 0 < worst["noise"] < 1e-6 * worst["abs_error"]  # a real failure: far beyond the noise
    culprit = report["culprit"]
    assert (culprit["node"], culprit["op"], culprit["scope"]) == ("ScaledSoftplusBackward", "ScaledSoftplus", "model")
    assert culprit["location"] == f"{path}:{line_of(path, 'ScaledSoftplus.apply(')}"
    assert culprit["analytical"] == pytest.approx(culprit["numerical"] / 2, rel=1e-6)
    assert report["message"].startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:tensor(")


def test_fast_mode_finds_the_same_element_and_culprit():
    slow_code, slow = gradcheck_json(sample("bad_backward"), "--slow")
    fast_code, fast = gradcheck_json(sample("bad_backward"), "--fast")
    assert slow_code == fast_code == 1
    assert (slow["fast_mode"], fast["fast_mode"]) == (False, True)
    assert fast["worst"] == slow["worst"]  # fast mode recomputes slow mode for the failing pair
    assert fast["culprit"]["node"] == "ScaledSoftplusBackward"
    assert "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876" in fast["message"]
    assert fast["evaluations"] < slow["evaluations"]


def test_tolerances_are_passed_on():
    assert gradscope("gradcheck", sample("bad_backward"), "--atol", "1").exit_code == 0
    code, report = gradcheck_json(sample("bad_backward"), "--rtol", "0.6", "--atol", "1e-9")
    assert (code, report["passed"]) == (0, True)  # a factor of 2 is a relative error of 0.5
    code, report = gradcheck_json(sample("mlp"), "--eps", "0.5")
    assert (code, report["passed"]) == (1, False)  # finite differences that coarse miss the curvature


# ------------------------------------------------------------------------------------ healthy scripts
def test_mlp_passes():
    result = gradscope("gradcheck", sample("mlp"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "✓ gradcheck passed  (slow mode, float64, 194 evaluations, 4 parameters)\n"
    code, report = gradcheck_json(sample("mlp"))
    assert code == 0
    assert (report["passed"], report["worst"], report["culprit"], report["message"]) == (True, None, None, "")
    assert report["parameters"] == BAD_PARAMETERS


def test_second_order(tmp_path):
    result = gradscope("gradcheck", sample("mlp"), "--second-order")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "second order   passed"
    code, report = gradcheck_json(sample("mlp"), "--second-order", "--fast")
    assert (code, report["passed"], report["second_order"]) == (0, True, True)

    path = write(tmp_path, "detached.py", """
        import gradscope as torch

        w = torch.tensor([1.0, 2.0], requires_grad=True)


        class Cube(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x.detach() ** 2  # right, but not differentiable again


        def loss():
            return Cube.apply(w).sum()
    """)
    assert gradscope("gradcheck", path).exit_code == 0
    result = gradscope("gradcheck", path, "--second-order")
    assert result.exit_code == 1
    assert "second order   failed: Jacobian mismatch for output 0 with respect to input 0," in result.stdout
    code, report = gradcheck_json(path, "--second-order")
    assert (code, report["passed"], report["second_order"]) == (1, False, False)


PROMOTION = """
    import gradscope as torch

    torch.manual_seed(0)
    w = torch.randn(3{dtype}, requires_grad=True)
    print("dtype", w.dtype)


    def loss():
        return (w.sin() * w.exp()).sum()
"""


def test_scripts_are_checked_in_double_precision(tmp_path):
    """Tensors made without a dtype are float64 while the script runs, so finite differences are exact
    enough; the same script pinned to float32 is inconclusive (its gradient is right, but finite
    differences in single precision can't tell)."""
    default = write(tmp_path, "default_dtype.py", PROMOTION.format(dtype=""))
    result = gradscope("gradcheck", default)
    assert result.exit_code == 0, result.stdout
    assert result.stderr == "dtype torch.float64\n"  # the script's prints go to stderr
    assert result.stdout == "✓ gradcheck passed  (slow mode, float64, 6 evaluations, 1 parameter)\n"
    assert torch.get_default_dtype() == torch.float32  # restored after the run

    pinned = write(tmp_path, "pinned.py", PROMOTION.format(dtype=", dtype=torch.float32"))
    result = gradscope("gradcheck", pinned)
    assert result.exit_code == 3, result.stdout
    assert result.stdout.startswith("? gradcheck inconclusive at this scale  (slow mode, float32,")
    assert result.stderr.startswith("dtype torch.float32\n")  # then gradcheck's warning, as PyTorch's
    assert "UserWarning: Input #0 requires gradient and is not a double precision floating point" in result.stderr


def test_a_single_precision_parameter_is_not_reported_as_float64(tmp_path):
    pinned = write(tmp_path, "pinned.py", PROMOTION.format(dtype=", dtype=torch.float32"))
    result = gradscope("gradcheck", pinned)
    assert result.exit_code == 3
    assert "float64" not in result.stdout.splitlines()[0], result.stdout
    assert "float32" in result.stdout, result.stdout  # say why: single precision is too coarse to judge


def test_entry_option(tmp_path):
    path = write(tmp_path, "two_entries.py", """
        import gradscope as torch

        w = torch.tensor([0.5, 1.5], requires_grad=True)


        class Wrong(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 3


        def good():
            return (w * 2).sum()


        def bad():
            return Wrong.apply(w).sum()
    """)
    assert gradscope("gradcheck", path, "--entry", "good").exit_code == 0
    code, report = gradcheck_json(path, "--entry", "bad")
    assert code == 1
    assert (report["worst"]["parameter"], report["worst"]["numerical"], report["worst"]["analytical"]) == (
        "w", pytest.approx(2.0), 3.0)
    assert report["culprit"]["node"] == "WrongBackward"
    assert report["culprit"]["location"] == f"{path}:{line_of(path, 'Wrong.apply(w)')}"
    assert_input_error(gradscope("gradcheck", path), "loss")


def test_check_script_reports_progress():
    calls = []
    outcome = check_script(sample("mlp"), progress=lambda done, total: calls.append((done, total)))
    assert outcome.passed
    assert calls == [(done, 194) for done in range(1, 195)]


# ------------------------------------------------------------------------------------ bad input
def test_a_script_without_an_entry_is_refused():
    path = sample("tutorial")
    result = gradscope("gradcheck", path)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    printed, message = result.stderr.split("error: ")  # the script's own prints go to stderr first
    assert printed.startswith("tensor([[1., 1.],")
    assert " ".join(message.split()) == (f"{path}: gradcheck needs an entry function (define loss() returning the "
                                         "scalar to check)")


def test_missing_file(tmp_path):
    assert_input_error(gradscope("gradcheck", tmp_path / "nope.py"), "nope.py", "no such file")


def test_an_entry_using_no_parameter(tmp_path):
    path = write(tmp_path, "constant.py", """
        import gradscope as torch

        def loss():
            return torch.ones(3).sum()
    """)
    assert_input_error(gradscope("gradcheck", path), "nothing requires grad")


# ------------------------------------------------------------------------------------ the truth (issue 13 §4)
def _strict_json(text: str) -> dict:
    """JSON as other tools read it: NaN and Infinity are not JSON."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_a_nan_backward_is_reported_as_non_finite_with_the_node_and_line_that_made_it():
    path = sample("nan_backward")
    result = gradscope("gradcheck", path)
    assert result.exit_code == 1, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✗ gradcheck failed  (slow mode, float64, ")
    assert lines[1].startswith("non-finite     analytical gradient of model.fc.weight[0, 0] is nan (numerical ")
    assert lines[2] == f"made by        SqrtBackward0 (op sqrt) at {path}:{line_of(path, '.sqrt()')} in model"
    assert "run `gradscope inspect`" in lines[-1]
    assert "no single node" not in result.stdout and "--eps" not in result.stdout


def test_a_nan_backward_in_json_is_non_finite_not_a_reentrancy_failure():
    path = sample("nan_backward")
    for mode in ("--slow", "--fast"):
        result = gradscope("gradcheck", path, mode, "--json")
        assert result.exit_code == 1
        report = _strict_json(result.stdout)
        assert (report["passed"], report["verdict"]) == (False, "failed")
        assert "reentrant" not in report["message"]
        assert report["message"].startswith("Jacobian mismatch for output 0 with respect to input 0,")
        nonfinite = report["nonfinite"]
        assert (nonfinite["side"], nonfinite["parameter"], nonfinite["node"], nonfinite["scope"]) == (
            "analytical", "model.fc.weight", "SqrtBackward0", "model")
        assert nonfinite["analytical"] == "nan" and isinstance(nonfinite["numerical"], float)
        assert nonfinite["location"] == f"{path}:{line_of(path, '.sqrt()')}"


def test_a_correct_model_near_1e11_is_inconclusive_with_exit_3():
    path = sample("large_values")
    result = gradscope("gradcheck", path)
    assert result.exit_code == 3, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("? gradcheck inconclusive at this scale  (slow mode, float64, ")
    assert lines[1].startswith("worst element  model.offset[0]: numerical 0, analytical -15.5 ")
    assert "finite-difference noise inf" in lines[1]
    assert "(try --eps 2000)" in result.stdout and "culprit" not in result.stdout
    code, report = gradcheck_json(path, "--fast")
    assert (code, report["passed"], report["verdict"], report["culprit"]) == (3, False, "inconclusive", None)
    assert report["worst"]["noise"] == "inf" and report["suggested_eps"] == 2000
    assert gradscope("gradcheck", path, "--eps", "2000").exit_code == 0


def test_help_documents_the_exit_codes():
    result = gradscope("gradcheck", "--help")
    assert "3 inconclusive (within finite-difference noise)" in " ".join(result.stdout.split())


def test_the_check_rule_skips_an_inconclusive_gradcheck():
    (result,) = check_gradcheck(sample("large_values"), CheckConfig(rules=("gradcheck",)))
    assert result.status == "skip"
    assert result.message.startswith("gradcheck inconclusive at this scale: worst element model.offset[0]: ")
    (result,) = check_gradcheck(sample("nan_backward"), CheckConfig(rules=("gradcheck",)))
    assert (result.status, result.shown) == ("fail", "non-finite")
    assert "made by SqrtBackward0 (op sqrt)" in result.message and result.line == line_of(
        sample("nan_backward"), ".sqrt()")
