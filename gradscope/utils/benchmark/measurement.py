"""What a Timer measured: the statement's description (TaskSpec) and the raw times of its blocks of runs, with the
statistics and the printed summary PyTorch's Measurement gives."""

from __future__ import annotations

import collections
import dataclasses
import math
import textwrap
from collections.abc import Iterable

import numpy as np

MAX_SIGNIFICANT_FIGURES = 4
MIN_CONFIDENCE_INTERVAL = 25e-9  # seconds: no measurement is trusted below 25 ns
IQR_WARN_THRESHOLD = 0.1
IQR_GROSS_WARN_THRESHOLD = 0.25


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What was timed (everything a Timer was given but its globals)."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        sub_label = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + sub_label
        if "\n" not in self.stmt:
            return self.stmt + sub_label
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self) -> str:
        if self.setup in ("", "pass"):
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """The title, description and setup, a multi-line one followed by a blank line."""
        sections = [section for section in (self.title, self.description or "", self.setup_str()) if section]
        return "\n".join(f"{section}\n" if "\n" in section else section for section in sections)


_TASK_SPEC_FIELDS = frozenset(field.name for field in dataclasses.fields(TaskSpec))


@dataclasses.dataclass(repr=False)
class Measurement:
    """Times of `number_per_run` runs each (`raw_times`); `times` are per run. TaskSpec's fields read through."""

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict | None = None

    def __post_init__(self) -> None:
        self._sorted_times: tuple[float, ...] = ()

    def __getattr__(self, name: str):
        if name in _TASK_SPEC_FIELDS:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self) -> list[float]:
        return [t / self.number_per_run for t in self.raw_times]

    def _statistics(self) -> None:
        """Sorted per-run times and their mean and quartiles (linear interpolation), once."""
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            values = np.array(self._sorted_times, dtype=np.float64)
            self._mean = float(values.mean())
            self._p25, self._median, self._p75 = (float(q) for q in np.quantile(values, [0.25, 0.5, 0.75]))

    @property
    def median(self) -> float:
        self._statistics()
        return self._median

    @property
    def mean(self) -> float:
        self._statistics()
        return self._mean

    @property
    def iqr(self) -> float:
        self._statistics()
        return self._p75 - self._p25

    @property
    def significant_figures(self) -> int:
        """Digits the interquartile points support (a rough 90% interval of their mean), 1 to 4."""
        self._statistics()
        n = len(self._sorted_times)
        middle = np.array(self._sorted_times[n // 4:math.ceil(3 * n / 4)])
        interval = max(1.645 * float(middle.std()) / math.sqrt(len(middle)), MIN_CONFIDENCE_INTERVAL)
        return min(max(math.floor(math.log10(self._median / interval)), 1), MAX_SIGNIFICANT_FIGURES)

    @property
    def _warnings(self) -> list[str]:
        if self.meets_confidence(IQR_GROSS_WARN_THRESHOLD):
            if self.meets_confidence(IQR_WARN_THRESHOLD):
                return []
            reason = "This could indicate system fluctuation."
        else:
            reason = "This suggests significant environmental influence."
        return [f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% of the median measurement.\n"
                f"           {reason}"]

    @property
    def has_warnings(self) -> bool:
        self._statistics()
        return bool(self._warnings)

    def meets_confidence(self, threshold: float = IQR_WARN_THRESHOLD) -> bool:
        return self.iqr / self.median < threshold

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        self._statistics()
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        lines = [object.__repr__(self), self.task_spec.summarize(),
                 f"  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}"]
        if n >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({self._p25 / scale:.2f} to "
                         f"{self._p75 / scale:.2f})")
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {self.num_threads} "
                     f"thread{'s' if self.num_threads > 1 else ''}")
        lines += self._warnings
        return "\n".join(line for line in "\n".join(lines).strip().splitlines())

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """Replicates of one task pooled into one Measurement of single runs (metadata dropped)."""
        pooled: dict[TaskSpec, list[float]] = collections.defaultdict(list)
        for measurement in measurements:
            pooled[measurement.task_spec].extend(measurement.times)
        return [Measurement(1, times, task_spec) for task_spec, times in pooled.items()]


def select_unit(t: float) -> tuple[str, float]:
    """The unit that shows `t` seconds with one to three integer digits, and its scale."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(math.floor(math.log10(t)) // 3, "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[unit]
