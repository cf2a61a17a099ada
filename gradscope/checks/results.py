"""What a check found: one result per rule and target, and the report that collects them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gradscope._format import format_number

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass
class CheckResult:
    """The verdict of one rule on one target (a parameter, a layer, an activation, the entry).

    `value` is the measured number (None when the measurement is not a number), `shown` the same
    for people ("0.875 (28 of 32 units)"), `threshold` the bound it was held to ("<= 0.5").
    `scope`, `file` and `line` locate the target: its module and the user's line that used it.
    """

    rule: str
    target: str
    status: str
    value: float | None
    shown: str
    threshold: str
    message: str = ""
    scope: str | None = None
    file: str | None = None
    line: int | None = None
    step: int | None = None
    duration: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    @property
    def location(self) -> str:
        """'model.head at nan_log.py:21', 'model.aux', or '' when nothing is known."""
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file or ""
        parts = [self.scope or "", f"at {where}" if where and self.scope else where]
        return " ".join(part for part in parts if part)

    def to_json(self) -> dict:
        value = self.value
        if value is not None and not math.isfinite(value):
            value = format_number(value)  # JSON has no nan/inf: "nan", "inf", "-inf" as in trace files
        return {"rule": self.rule, "target": self.target, "status": self.status, "value": value,
                "shown": self.shown, "threshold": self.threshold, "message": self.message,
                "location": {"scope": self.scope, "file": self.file, "line": self.line},
                "step": self.step, "duration": round(self.duration, 6)}


@dataclass
class CheckReport:
    """Every result of `gradscope check` on one script, in rule order."""

    script: str
    entry: str | None
    steps: int
    rules: tuple[str, ...]
    results: list[CheckResult] = field(default_factory=list)
    duration: float = 0.0

    def count(self, status: str) -> int:
        return sum(result.status == status for result in self.results)

    @property
    def passed(self) -> bool:
        return not any(result.failed for result in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if result.failed]
