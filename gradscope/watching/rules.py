"""The opt-in rules of `gradscope watch` (`--rule`). A non-finite value anywhere is always an anomaly;
these rules add more:

- `grad-spike[=FACTOR]`: a parameter's gradient norm above FACTOR (default 10) times its median over
  the previous steps (at most the last 50; from the 5th step on);
- `loss-spike[=FACTOR]`: the loss's magnitude above FACTOR (default 10) times its median so far;
- `grad-norm[=GLOB<=NUMBER]`: `gradscope check`'s bounds on gradient norms (default `*<=1e4` and
  `*>=1e-7`); the option may be repeated with several bounds.

>>> rules = parse_rules(["grad-spike=20", "grad-norm=model.fc1.*<=1e3"])
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass

from gradscope.checks.config import DEFAULT_GRAD_NORM, CheckConfigError, NormBound
from gradscope.watching.metrics import Finding, StepRecord

DEFAULT_SPIKE = 10.0
WINDOW = 50  # steps the running medians look back over
MIN_HISTORY = 4  # steps needed before a spike can be judged
RULE_NAMES = ("grad-spike", "loss-spike", "grad-norm")


class WatchRuleError(ValueError):
    """A `--rule` that makes no sense (exit 2)."""


@dataclass(frozen=True)
class Rules:
    grad_spike: float | None = None
    loss_spike: float | None = None
    bounds: tuple[NormBound, ...] = ()


def parse_rules(texts) -> Rules:
    """Rules from `NAME` or `NAME=VALUE` strings; WatchRuleError for anything else."""
    grad_spike = loss_spike = None
    bounds: list[NormBound] = []
    for text in texts:
        name, has_value, value = text.partition("=")
        name = name.strip()
        if name in ("grad-spike", "loss-spike"):
            factor = _factor(text, value) if has_value else DEFAULT_SPIKE
            if name == "grad-spike":
                grad_spike = factor
            else:
                loss_spike = factor
        elif name == "grad-norm":
            try:
                bounds.extend([NormBound.parse(value)] if has_value else DEFAULT_GRAD_NORM)
            except CheckConfigError as error:
                raise WatchRuleError(str(error)) from None
        else:
            raise WatchRuleError(f"unknown rule {text!r}: the rules are {', '.join(RULE_NAMES)} (NAME or NAME=VALUE)")
    return Rules(grad_spike, loss_spike, tuple(bounds))


def _factor(text: str, value: str) -> float:
    try:
        factor = float(value)
    except ValueError:
        factor = math.nan
    if not (math.isfinite(factor) and factor > 1):
        raise WatchRuleError(f"{text!r}: the factor must be a number above 1")
    return factor


class RuleState:
    """The running history the spike rules compare each step against."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._losses: deque[float] = deque(maxlen=WINDOW)
        self._norms: dict[str, deque[float]] = {}

    def check(self, record: StepRecord) -> list[Finding]:
        """The rule findings of `record`, then its figures join the history."""
        findings = self._loss_spike(record) + self._grad_findings(record)
        if record.loss is not None and math.isfinite(record.loss):
            self._losses.append(abs(record.loss))
        for name, parameter in record.parameters.items():
            if parameter.grad_norm is not None and math.isfinite(parameter.grad_norm):
                self._norms.setdefault(name, deque(maxlen=WINDOW)).append(parameter.grad_norm)
        return findings

    def _loss_spike(self, record: StepRecord) -> list[Finding]:
        factor, loss = self.rules.loss_spike, record.loss
        if factor is None or loss is None or not math.isfinite(loss) or len(self._losses) < MIN_HISTORY:
            return []
        median = statistics.median(self._losses)
        if abs(loss) <= factor * median:
            return []
        return [Finding(record.step, "forward", "loss-spike",
                        f"loss {loss:.4g} is {_ratio(abs(loss), median)}x its median {median:.4g} over the last "
                        f"{len(self._losses)} steps (rule: above {factor:g}x)")]

    def _grad_findings(self, record: StepRecord) -> list[Finding]:
        findings = []
        for name, parameter in record.parameters.items():
            norm = parameter.grad_norm
            if norm is None or not math.isfinite(norm):
                continue  # non-finite gradients are findings of their own
            spike = self._grad_spike(record.step, name, norm)
            findings += [spike] if spike else []
            findings += [Finding(record.step, "backward", "grad-norm",
                                 f"gradient norm of {name} is {norm:.4g}, breaking the bound {bound}", parameter=name)
                         for bound in self.rules.bounds if bound.matches(name) and not bound.holds(norm)]
        return findings

    def _grad_spike(self, step: int, name: str, norm: float) -> Finding | None:
        factor, history = self.rules.grad_spike, self._norms.get(name)
        if factor is None or history is None or len(history) < MIN_HISTORY:
            return None
        median = statistics.median(history)
        if norm <= factor * median:
            return None
        return Finding(step, "backward", "grad-spike",
                       f"gradient norm of {name} is {norm:.4g}, {_ratio(norm, median)}x its median {median:.4g} over "
                       f"the last {len(history)} steps (rule: above {factor:g}x)", parameter=name)


def _ratio(value: float, median: float) -> str:
    return f"{value / median:.3g}" if median else "inf"
