"""What a watched run comes to: the first anomalous step, where it began, and what led up to it.

>>> report = build_report(monitor)
>>> report.headline()
'step 57: log produced 1 -inf: log of a value <= 0 (input min 0)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gradscope._format import format_number
from gradscope.watching.metrics import Finding, StepRecord, json_number, read_number

TREND_STEPS = 10  # how far back "what came before" looks
MAX_LISTED = 100  # anomalies listed in the JSON beyond the first step's


@dataclass
class WatchReport:
    steps_run: int
    reason: str  # "anomaly" (stopped there), "max-steps", or "finished" (the script ended)
    first_anomaly: Finding | None = None
    loss: float | None = None  # the loss of the first anomalous step
    first_parameter: Finding | None = None  # the first parameter whose gradient or value went non-finite
    backward_culprit: str | None = None  # from the step's recording, when one was kept
    before: list[str] = field(default_factory=list)  # what the steps before it looked like
    anomalies: list[Finding] = field(default_factory=list)
    anomalous_steps: list[int] = field(default_factory=list)
    optimizer_steps: int = 0
    traces: list[str] = field(default_factory=list)
    history: str | None = None

    @property
    def stopped(self) -> bool:
        return self.reason == "anomaly"

    def headline(self) -> str:
        if self.first_anomaly is None:
            ended = "stopped at --max-steps" if self.reason == "max-steps" else "ended"
            return f"no anomaly in {self.steps_run} steps (the run {ended})"
        return f"step {self.first_anomaly.step}: {self.first_anomaly.message}"

    def to_json(self) -> dict:
        first = self.first_anomaly
        return {
            "steps_run": self.steps_run, "stopped": self.stopped, "reason": self.reason,
            "first_anomaly": None if first is None else first.to_json(),
            "loss": json_number(self.loss),
            "first_nonfinite_parameter": None if self.first_parameter is None else self.first_parameter.to_json(),
            "backward_culprit": self.backward_culprit, "before": self.before,
            "anomalous_steps": self.anomalous_steps, "anomalies": [a.to_json() for a in self.anomalies],
            "optimizer_steps": self.optimizer_steps, "traces": self.traces, "history": self.history,
        }

    @classmethod
    def from_json(cls, data: dict) -> WatchReport:
        def finding(item):
            return None if item is None else Finding.from_json(item)
        return cls(data["steps_run"], data["reason"], finding(data["first_anomaly"]), read_number(data["loss"]),
                   finding(data["first_nonfinite_parameter"]), data["backward_culprit"], list(data["before"]),
                   [Finding.from_json(a) for a in data["anomalies"]], list(data["anomalous_steps"]),
                   data["optimizer_steps"], list(data["traces"]), data["history"])


def build_report(monitor, traces=(), history: str | None = None) -> WatchReport:
    """The report of a monitor's run so far (see `gradscope.watching.monitor.Monitor`)."""
    reason = monitor.stopped_by or "finished"
    report = WatchReport(monitor.steps_run, reason, optimizer_steps=monitor.optimizer_steps,
                         traces=[str(path) for path in traces], history=history,
                         anomalous_steps=[record.step for record in monitor.anomalous])
    if not monitor.anomalous:
        return report
    first = monitor.anomalous[0]
    report.first_anomaly = _origin(first.findings)
    report.loss = first.loss
    report.first_parameter = next((f for f in first.findings if f.parameter and f.rule == "nonfinite"), None)
    report.anomalies = [f for record in monitor.anomalous for f in record.findings][:len(first.findings) + MAX_LISTED]
    earlier = [record for record in monitor.recent if record.step < first.step][-TREND_STEPS:]
    report.before = what_came_before(earlier, first)
    if monitor.recordings is not None:
        report.backward_culprit = backward_culprit(monitor.recordings, first.step)
    return report


def _origin(findings: list[Finding]) -> Finding:
    """The finding that explains the step best: the forward culprit, else the first one."""
    return next((f for f in findings if f.role == "culprit"), findings[0])


def what_came_before(earlier: list[StepRecord], anomalous: StepRecord) -> list[str]:
    """Sentences on the steps before the anomalous one: the loss, and the parameter whose gradient
    norm grew most ("gradient norm of model.0.weight grew 40x over the last 10 steps")."""
    if not earlier:
        return [f"step {anomalous.step} was the first step"]
    lines = []
    span = f"the last {len(earlier)} step{'s' if len(earlier) > 1 else ''}"
    losses = [r.loss for r in earlier if r.loss is not None]
    if losses:
        lines.append(f"loss over {span}: {format_number(losses[0])} → {format_number(losses[-1])}")
    growth = _largest_growth(earlier)
    if growth is not None:
        name, first, last = growth
        shown = f"{format_number(first)} → {format_number(last)}"
        lines.append(f"gradient norm of {name} {_change(first, last)} over {span} ({shown})")
    previous = earlier[-1]
    ratios = [(p.update_ratio, name) for name, p in previous.parameters.items() if p.update_ratio is not None]
    if ratios:
        ratio, name = max(ratios)
        lines.append(f"largest update/weight ratio at step {previous.step}: {format_number(ratio)} ({name})")
    return lines


def _largest_growth(records: list[StepRecord]) -> tuple[str, float, float] | None:
    best = None
    for name in records[-1].parameters:
        norms = [r.parameters[name].grad_norm for r in records if name in r.parameters]
        norms = [n for n in norms if n is not None and math.isfinite(n)]
        if len(norms) < 2:
            continue
        first, last = norms[0], norms[-1]
        score = abs(math.log(last / first)) if first > 0 and last > 0 else 0.0
        if best is None or score > best[0]:
            best = (score, name, first, last)
    return None if best is None else best[1:]


def _change(first: float, last: float) -> str:
    if first > 0 and last >= first * 1.5:
        return f"grew {last / first:.3g}×"
    if last > 0 and first >= last * 1.5:
        return f"shrank {first / last:.3g}×"
    return "stayed steady"


def backward_culprit(recordings, step: int) -> str | None:
    """'AddmmBackward0 returned 16 nan from a finite gradient: … (at model.py:41)', the first backward
    culprit in the step's recording."""
    trace = recordings.evidence.get(step) or next((t for s, t in recordings.recent() if s == step), None)
    if trace is None:
        return None
    for anomaly in trace.culprits():
        if anomaly.phase == "backward":
            source = trace.nodes[anomaly.node].source
            return anomaly.message + (f" (at {source})" if source else "")
    return None
