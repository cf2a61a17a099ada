"""Comparing two recordings of a model: where they start to differ (`gradscope diff`, the
`baseline` rule of `gradscope check`, `assert_grads_match_baseline`).

>>> from gradscope.compare import Tolerance, compare_traces
>>> report = compare_traces(trace_before, trace_after, Tolerance(rtol=1e-5))
>>> print(report.summary())
first divergence: pass 0, forward, in model.fc2: output 0 of addmm (AddmmBackward0) at model.py:20 differs: …
"""

from gradscope.compare.baseline import baseline_trace
from gradscope.compare.divergence import BASELINE, compare_parameters, compare_traces
from gradscope.compare.report import Difference, DiffReport, ModuleDiff, ParameterDiff
from gradscope.compare.tolerance import DEFAULT_TOLERANCES, Mismatch, Tolerance, compare_records

__all__ = [
    "BASELINE", "DEFAULT_TOLERANCES", "DiffReport", "Difference", "Mismatch", "ModuleDiff", "ParameterDiff",
    "Tolerance", "baseline_trace", "compare_parameters", "compare_records", "compare_traces",
]
