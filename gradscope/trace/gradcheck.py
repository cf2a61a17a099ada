"""gradcheck of a model script's entry against every parameter, in float64 (`gradscope gradcheck`)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import gradscope
from gradscope.autograd.gradcheck import (
    FAILED,
    INCONCLUSIVE,
    PASSED,
    GradcheckError,
    GradcheckResult,
    check,
    gradgradcheck,
)
from gradscope.trace.recorder import named_parameters, rename_scope
from gradscope.trace.script import DEFAULT_ENTRY, ScriptError, ScriptRun, call_entry, run_script, user_code


@dataclass
class ScriptGradcheck:
    """A gradcheck of a script: the result and the names of the parameters it was checked against."""

    run: ScriptRun
    parameters: list[str]
    result: GradcheckResult
    second_order_verdict: str | None = None  # None when not asked for (or the first order didn't pass)

    @property
    def second_order(self) -> bool | None:
        return None if self.second_order_verdict is None else self.second_order_verdict == PASSED

    @property
    def verdict(self) -> str:
        """Failed if either order failed, else inconclusive if either was, else passed."""
        verdicts = {self.result.verdict, self.second_order_verdict or PASSED}
        return FAILED if FAILED in verdicts else INCONCLUSIVE if INCONCLUSIVE in verdicts else PASSED

    @property
    def passed(self) -> bool:
        return self.verdict == PASSED


def check_script(script: str | os.PathLike | ScriptRun, entry: str | None = None, *, eps: float = 1e-6,
                 atol: float = 1e-5, rtol: float = 1e-3, fast_mode: bool = False, second_order: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> ScriptGradcheck:
    """Gradcheck the script's entry (a scalar) with respect to every parameter it uses.

    A path is run with float64 as the default dtype, so parameters the script creates without an
    explicit dtype are double precision (float32 finite differences are too coarse to judge).
    """
    run = script if isinstance(script, ScriptRun) else run_script(script, entry, default_dtype=gradscope.float64)
    if run.entry is None:
        raise ScriptError(f"{run.path}: gradcheck needs an entry function (define {entry or DEFAULT_ENTRY}() "
                          "returning the scalar to check)")
    name = entry or run.trace.meta.get("entry") or DEFAULT_ENTRY
    found = [(n, t) for n, _, t in named_parameters(run.namespace)]
    used = {p.name for p in run.trace.parameters if p.node is not None}
    parameters = [(n, t) for n, t in found if n in used] or found
    if not parameters:
        raise ScriptError(f"{run.path}: {name}() uses no tensor that requires grad")
    tensors = tuple(t for _, t in parameters)
    dtypes = sorted({t.dtype.name for t in tensors})

    def entry_of_parameters(*_):  # gradcheck perturbs the parameters in place; the entry reads them
        return call_entry(run.entry, run.path, name)

    with user_code(run.path, f"gradcheck of {name}() failed: the script's code raised {{error}}"):
        result = check(entry_of_parameters, tensors, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode,
                       progress=progress)
    result.extra["dtypes"] = dtypes
    if result.worst is not None:
        result.extra["input_name"] = parameters[result.worst.input_index][0]
    if result.nonfinite is not None:
        result.nonfinite.input_name = parameters[result.nonfinite.input_index][0]
        result.nonfinite.scope = rename_scope(result.nonfinite.scope, run.namespace)
    if result.culprit is not None:
        result.culprit.scope = rename_scope(result.culprit.scope, run.namespace)
    second = None
    if second_order and result.passed:
        try:
            gradgradcheck(entry_of_parameters, tensors, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode)
            second = PASSED
        except GradcheckError as error:
            result.extra["second_order_message"] = str(error)
            second = error.result.verdict if error.result is not None else FAILED
    return ScriptGradcheck(run, [n for n, _ in parameters], result, second)


def _number(value: float) -> float | str:
    """JSON has no NaN or infinity: "nan", "inf", "-inf" instead, as in trace files."""
    return value if math.isfinite(value) else str(value)


def summarize(outcome: ScriptGradcheck) -> dict:
    """The outcome as JSON-able data: what `gradscope gradcheck --json` prints and its report shows."""
    result, worst, culprit = outcome.result, outcome.result.worst, outcome.result.culprit
    nonfinite = result.nonfinite
    return {
        "passed": outcome.passed, "verdict": outcome.verdict, "fast_mode": result.fast_mode,
        "evaluations": result.evaluations, "dtypes": result.extra.get("dtypes"),
        "parameters": outcome.parameters, "second_order": outcome.second_order,
        "second_order_verdict": outcome.second_order_verdict,
        "second_order_message": result.extra.get("second_order_message"),
        "worst": None if worst is None else {
            "parameter": result.extra.get("input_name"), "output_index": worst.output_index,
            "input_index": worst.input_index, "input_element": list(worst.input_element),
            "output_element": list(worst.output_element), "numerical": _number(worst.numerical),
            "analytical": _number(worst.analytical), "abs_error": _number(worst.abs_error),
            "rel_error": _number(worst.rel_error), "noise": None if worst.noise is None else _number(worst.noise)},
        "nonfinite": None if nonfinite is None else {
            "side": nonfinite.side, "parameter": nonfinite.input_name,
            "output_index": nonfinite.output_index, "input_index": nonfinite.input_index,
            "input_element": list(nonfinite.input_element), "output_element": list(nonfinite.output_element),
            "numerical": _number(nonfinite.numerical), "analytical": _number(nonfinite.analytical),
            "count": nonfinite.count, "node": nonfinite.node, "op": nonfinite.op, "scope": nonfinite.scope,
            "location": nonfinite.location, "reason": nonfinite.reason},
        "suggested_eps": result.suggested_eps,
        "culprit": None if culprit is None else {
            "node": culprit.name, "op": culprit.op, "scope": culprit.scope, "location": culprit.location,
            "numerical": _number(culprit.numerical), "analytical": _number(culprit.analytical)},
        "message": result.message,
    }


def gradcheck_job(args: dict, work, report) -> dict:
    """In a child process (`gradscope.trace.isolate`): gradcheck the script, reporting progress."""
    outcome = check_script(args["script"], args.get("entry"), eps=args["eps"], atol=args["atol"], rtol=args["rtol"],
                           fast_mode=args["fast_mode"], second_order=args["second_order"],
                           progress=lambda done, total: report({"done": done, "total": total}))
    return summarize(outcome)
