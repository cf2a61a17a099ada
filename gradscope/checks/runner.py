"""`run_checks`: record a script's steps, apply the selected rules, collect one report.

>>> report = run_checks("model.py", build_config(flag_values={"rules": ["finite", "connected"]}))
>>> report.passed, [r.target for r in report.failures]
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from gradscope._format import format_number
from gradscope.autograd.gradcheck import INCONCLUSIVE
from gradscope.checks.baseline import check_baseline, read_baseline, write_baseline
from gradscope.checks.config import CheckConfig, CheckConfigError, require_something_to_check
from gradscope.checks.layers import check_dead_units, check_exploding, check_vanishing
from gradscope.checks.results import FAIL, PASS, SKIP, CheckReport, CheckResult
from gradscope.checks.rules import check_connected, check_finite, check_grad_norm, check_nonzero, unmatched_bounds
from gradscope.checks.steps import Step, record_steps
from gradscope.trace.gradcheck import check_script
from gradscope.trace.script import DEFAULT_ENTRY, ScriptError

STEP_RULES: dict[str, Callable[[Step, CheckConfig], list[CheckResult]]] = {
    "finite": check_finite,
    "connected": check_connected,
    "nonzero": check_nonzero,
    "grad-norm": check_grad_norm,
    "vanishing": check_vanishing,
    "dead-units": check_dead_units,
}


def merge_steps(per_step: list[list[CheckResult]]) -> list[CheckResult]:
    """One result per target over all steps: its first failure, else its last pass, else its last skip."""
    rank = {FAIL: 2, PASS: 1, SKIP: 0}
    merged: dict[str, CheckResult] = {}
    for results in per_step:
        for result in results:
            current = merged.get(result.target)
            if current is None or (not current.failed and rank[result.status] >= rank[current.status]):
                merged[result.target] = result
    return list(merged.values())


def check_gradcheck(script: str | os.PathLike, config: CheckConfig) -> list[CheckResult]:
    """The entry passes gradcheck against every parameter it uses, in float64 (a fresh run of the script)."""
    fast = config.gradcheck_mode == "fast"
    outcome = check_script(script, config.entry, eps=config.gradcheck_eps, atol=config.gradcheck_atol,
                           rtol=config.gradcheck_rtol, fast_mode=fast)
    result = outcome.result
    target = f"{outcome.run.trace.meta.get('entry')}()"
    threshold = f"atol {config.gradcheck_atol:g}, rtol {config.gradcheck_rtol:g} ({config.gradcheck_mode})"
    if outcome.passed:
        return [CheckResult("gradcheck", target, PASS, 0.0, f"passed ({len(outcome.parameters)} parameters)",
                            threshold)]
    worst, culprit, nonfinite = result.worst, result.culprit, result.nonfinite
    lines = []
    if nonfinite is not None:
        lines.append(str(nonfinite).replace("\n", "; "))
    elif worst is not None:
        name = result.extra.get("input_name", f"input {worst.input_index}")
        noise = "" if worst.noise is None else f", finite-difference noise {format_number(worst.noise)}"
        lines.append(f"worst element {name}{list(worst.input_element)}: numerical {worst.numerical:.6g}, "
                     f"analytical {worst.analytical:.6g} (abs error {format_number(worst.abs_error)}{noise})")
    if culprit is not None:
        lines.append(str(culprit))
    if not lines:
        lines.append(result.message.strip().splitlines()[0])
    located = culprit or nonfinite
    file, _, line = (located.location or "").rpartition(":") if located is not None else ("", "", "")
    value = worst.abs_error if worst is not None and nonfinite is None else None
    shown = "non-finite" if nonfinite is not None else format_number(value) if value is not None else "failed"
    # inconclusive: every mismatch is within finite-difference noise, neither a pass nor a failure
    status, verdict = (SKIP, "gradcheck inconclusive at this scale: ") if outcome.verdict == INCONCLUSIVE else \
        (FAIL, "gradcheck failed: ")
    return [CheckResult("gradcheck", target, status, value, shown, threshold, verdict + "; ".join(lines),
                        scope=located.scope if located else None, file=file or None,
                        line=int(line) if line.isdigit() else None)]


def run_checks(script: str | os.PathLike, config: CheckConfig | None = None, *,
               baseline_out: str | os.PathLike | None = None) -> CheckReport:
    """Run the script's steps and every selected rule; with `baseline_out`, the baseline rule writes the
    run's golden gradients there instead of comparing with `config.baseline`. Raises ScriptError for a
    script that can't run (or has no entry to gradcheck) and CheckConfigError, before the script runs,
    for a config that checks nothing (no rules, or grad-norm without bounds) or a baseline that can't be
    read, then for a grad-norm glob that matches no parameter or for `exploding` with a single step (a
    script run as __main__ gives one step per backward), and, after the run, when every result is a skip
    (nothing was checked)."""
    config = config or CheckConfig()
    require_something_to_check(config)
    started = time.perf_counter()
    rules = config.selected_rules
    golden = read_baseline(config.baseline) if "baseline" in rules and baseline_out is None else None
    recorded = record_steps(script, config.entry, config.steps, config.lr, config.keep_values)
    if "exploding" in rules and len(recorded.steps) < 2:
        raise CheckConfigError("the exploding rule compares training steps: run with --steps 2 or more "
                               "(steps = N in the config)")
    if "grad-norm" in rules:
        unmatched_bounds(recorded.steps[0].trace, config)
    if "gradcheck" in rules and recorded.run.entry is None:
        raise ScriptError(f"{script}: the gradcheck rule needs an entry function: the script defines no "
                          f"{config.entry or DEFAULT_ENTRY}() returning the scalar to check")
    report = CheckReport(str(script), recorded.entry, len(recorded.steps), rules)
    for rule in rules:
        rule_started = time.perf_counter()
        if rule in STEP_RULES:
            found = merge_steps([STEP_RULES[rule](step, config) for step in recorded.steps])
        elif rule == "exploding":
            found = check_exploding(recorded.steps, config)
        elif rule == "baseline":
            found = (write_baseline(recorded.steps, config, baseline_out) if baseline_out is not None
                     else check_baseline(recorded.steps, config, golden))
        else:
            found = check_gradcheck(script, config)
        for result in found:
            result.duration = (time.perf_counter() - rule_started) / len(found)
            if len(recorded.steps) == 1:
                result.step = None
        report.results.extend(found)
    if not any(result.status != SKIP for result in report.results):
        skipped = "; ".join(f"{result.rule} {result.target}: {result.message}" for result in report.results)
        raise CheckConfigError("nothing was checked: " + (f"every selected rule skipped ({skipped})" if skipped
                                                          else f"{', '.join(rules)} found nothing to judge"))
    report.duration = time.perf_counter() - started
    return report

