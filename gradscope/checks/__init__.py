"""Gradient checks for CI: named rules with thresholds, run over a model script's training steps
(`gradscope check`), and assertion helpers for tests (the pytest plugin).

>>> from gradscope.checks import build_config, run_checks, to_junit_xml
>>> report = run_checks("model.py", build_config(flag_values={"grad-norm": ["model.encoder.*<=1e3"]}))
>>> report.passed
True

Rules: finite, connected, nonzero, grad-norm, vanishing, dead-units, exploding (across steps),
gradcheck, baseline (golden gradients); see docs/ci.md for what each measures and its threshold.
"""

from gradscope.checks.assertions import (
    GradientAssertionError,
    GradRecorder,
    assert_all_params_receive_grad,
    assert_grad_norm,
    assert_gradcheck,
    assert_grads_finite,
    record_backward,
)
from gradscope.checks.config import (
    DEFAULT_RULES,
    RULES,
    CheckConfig,
    CheckConfigError,
    NormBound,
    build_config,
    find_pyproject,
    read_pyproject,
)
from gradscope.checks.results import FAIL, PASS, SKIP, CheckReport, CheckResult
from gradscope.checks.runner import run_checks
from gradscope.checks.writers import to_json, to_junit_xml

__all__ = [
    "DEFAULT_RULES", "FAIL", "PASS", "RULES", "SKIP", "CheckConfig", "CheckConfigError", "CheckReport", "CheckResult",
    "GradRecorder", "GradientAssertionError", "NormBound", "assert_all_params_receive_grad", "assert_grad_norm",
    "assert_gradcheck", "assert_grads_finite", "build_config", "find_pyproject", "read_pyproject", "record_backward",
    "run_checks", "to_json", "to_junit_xml",
]
