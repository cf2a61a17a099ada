"""Health warnings for `gradscope inspect`: the `check` rules with their default thresholds, run on a
recorded trace (no second run of the script), one warning per cause.

A layer built but never used fails `connected`, `nonzero` and the lower `grad-norm` bound for each of
its parameters: that is one cause, one warning naming the module and its parameters. So is a gradient
entirely zero, which also breaks grad-norm's lower bound and `vanishing`: one `nonzero` warning. Gradients that
explode or vanish across many layers are one warning per bound, naming the worst parameter. Non-finite
gradients are left to the anomaly report.

>>> [warning.text for warning in health_warnings(trace)]
['model.aux (model.aux.weight, model.aux.bias) received no gradient: it never took part in the graph ...']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gradscope._format import format_number
from gradscope.checks.config import CheckConfig
from gradscope.checks.layers import check_dead_units, check_vanishing
from gradscope.checks.results import CheckResult
from gradscope.checks.rules import check_connected, check_grad_norm, check_nonzero
from gradscope.checks.runner import merge_steps
from gradscope.checks.steps import Step
from gradscope.trace.model import Trace

HEALTH_RULES = {"connected": check_connected, "nonzero": check_nonzero, "grad-norm": check_grad_norm,
                "vanishing": check_vanishing, "dead-units": check_dead_units}
LISTED = 3  # parameters named in one warning


@dataclass
class HealthWarning:
    """One cause: the rule that found it, what it says, the parameters and module it is about."""

    rule: str
    text: str
    parameters: list[str] = field(default_factory=list)
    module: str | None = None
    pass_index: int | None = None
    causes: list[tuple] = field(default_factory=list)  # its failures' `_cause`s
    passes: list[int] = field(default_factory=list)  # every pass where one of them failed
    checked: int = 1  # how many passes were checked

    def when(self) -> str:
        """'' for a one-pass run; else where it held: 'in pass 0', 'in 12 of 3000 passes, first pass 4'."""
        if self.checked <= 1 or not self.passes:
            return ""
        if len(self.passes) == 1:
            return f"in pass {self.passes[0]}"
        if len(self.passes) == self.checked:
            return f"in every pass ({self.checked})"
        return f"in {len(self.passes)} of {self.checked} passes, first pass {self.passes[0]}"

    def to_json(self) -> dict:
        return {"rule": self.rule, "message": self.text, "parameters": self.parameters, "module": self.module,
                "pass": self.pass_index, "passes": self.passes}


def health_warnings(trace: Trace, passes: list[int] | None = None,
                    config: CheckConfig | None = None) -> list[HealthWarning]:
    """The rules' failures over `passes` (default: every pass the script asked for itself), one per cause."""
    config = config or CheckConfig()
    if passes is None:
        passes = trace.user_passes() or list(range(len(trace.passes)))
    if not passes:
        return []
    steps = [Step(index, trace, index) for index in passes]
    failures, failing_passes = {}, {}
    for rule, check in HEALTH_RULES.items():
        per_step = [[result for result in check(step, config) if not _zero_gradient_again(result)] for step in steps]
        failures[rule] = [result for result in merge_steps(per_step) if result.failed and _finite(result)]
        for results in per_step:
            for result in results:
                if result.failed and _finite(result):
                    failing_passes.setdefault(_cause(result), set()).add(result.step)
    modules = {parameter.name: parameter.module for parameter in trace.parameters}
    warnings = _without_gradient(failures["connected"], modules)
    no_gradient = {name for warning in warnings for name in warning.parameters}
    warnings += _zero_gradient([r for r in failures["nonzero"] if r.target not in no_gradient], modules)
    warnings += _norm_bounds([r for r in failures["grad-norm"] if r.target not in no_gradient], modules)
    warnings += [HealthWarning(r.rule, r.message, module=r.scope, pass_index=r.step, causes=[_cause(r)])
                 for r in failures["vanishing"] + failures["dead-units"]]
    for warning in warnings:
        warning.passes = sorted(set().union(*(failing_passes[cause] for cause in warning.causes)))
        warning.checked = len(passes)
    return warnings


def _zero_gradient_again(result: CheckResult) -> bool:
    """A gradient norm of 0 below grad-norm's bound, or a layer of norm 0 failing vanishing: the `nonzero`
    warning's cause ("gradient entirely zero"), not one more."""
    return result.failed and result.value == 0 and result.rule in ("grad-norm", "vanishing")


def _bound(result: CheckResult) -> str:
    """The grad-norm bound a result broke ("'*<=10000'"); '' for other rules."""
    return result.message.rpartition("breaking ")[2] if result.rule == "grad-norm" else ""


def _cause(result: CheckResult) -> tuple:
    """What makes failures of several passes one warning: the rule, its target and (grad-norm) the bound."""
    return result.rule, result.target, _bound(result)


def _finite(result: CheckResult) -> bool:
    """Non-finite gradients are the anomaly report's: a NaN norm is no health warning."""
    return result.value is None or math.isfinite(result.value)


def _by_module(results: list[CheckResult], modules: dict) -> dict[str | None, list[CheckResult]]:
    grouped: dict[str | None, list[CheckResult]] = {}
    for result in results:
        grouped.setdefault(modules.get(result.target), []).append(result)
    return grouped


def _named(module: str | None, names: list[str]) -> str:
    listed = ", ".join(names[:LISTED]) + (f" … and {len(names) - LISTED} more" if len(names) > LISTED else "")
    return f"{module} ({listed})" if module else listed


def _without_gradient(results: list[CheckResult], modules: dict) -> list[HealthWarning]:
    warnings = []
    for module, group in _by_module(results, modules).items():
        names = [result.target for result in group]
        why = group[0].message.partition("received no gradient: ")[2] or "backward never reached it"
        warnings.append(HealthWarning("connected", f"{_named(module, names)} received no gradient: {why}", names,
                                      module, group[0].step, [_cause(result) for result in group]))
    return warnings


def _zero_gradient(results: list[CheckResult], modules: dict) -> list[HealthWarning]:
    warnings = []
    for module, group in _by_module(results, modules).items():
        names = [result.target for result in group]
        warnings.append(HealthWarning("nonzero", f"{_named(module, names)}: gradient entirely zero", names, module,
                                      group[0].step, [_cause(result) for result in group]))
    return warnings


def _norm_bounds(results: list[CheckResult], modules: dict) -> list[HealthWarning]:
    """One warning per broken bound ('*<=10000'), naming the worst parameter and how many more broke it."""
    by_bound: dict[str, list[CheckResult]] = {}
    for result in results:
        by_bound.setdefault(_bound(result), []).append(result)
    warnings = []
    for bound, group in by_bound.items():
        above = "<" in bound
        group.sort(key=lambda result: -result.value if above else result.value)
        worst = group[0]
        names = [result.target for result in group]
        more = f" and {len(names) - 1} more parameter{'s' if len(names) > 2 else ''}" if len(names) > 1 else ""
        text = (f"gradient norm {'above' if above else 'below'} the default bound {bound}: {worst.target} "
                f"{format_number(worst.value)}" + (f" (module {worst.scope})" if worst.scope else "") + more)
        warnings.append(HealthWarning("grad-norm", text, names, worst.scope, worst.step,
                                      [_cause(result) for result in group]))
    return warnings
