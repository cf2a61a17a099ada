"""`gradscope watch`: debug a training run. Every step (one backward pass) is measured cheaply; the run
stops at the end of its first anomalous step, keeping full recordings of that step and the few before
it, plus a per-step history.

>>> with gradscope.watch(model, out="watch"):
...     train()
"""

from gradscope.watching.api import Watch, watch
from gradscope.watching.history import read_history
from gradscope.watching.metrics import Finding, ParameterStep, StepRecord
from gradscope.watching.monitor import Monitor, WatchStop
from gradscope.watching.recordings import StepRecordings
from gradscope.watching.report import WatchReport, build_report
from gradscope.watching.rules import Rules, WatchRuleError, parse_rules

__all__ = ["Finding", "Monitor", "ParameterStep", "Rules", "StepRecord", "StepRecordings", "Watch", "WatchReport",
           "WatchRuleError", "WatchStop", "build_report", "parse_rules", "read_history", "watch"]
