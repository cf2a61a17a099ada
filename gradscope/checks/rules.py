"""The per-parameter rules: finite, connected, nonzero, grad-norm.

Each rule takes one `Step` (a backward pass) and the config and returns one `CheckResult` per
target; a failing result names the parameter or node, its module scope, the user's line that used
it, and the measured value.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from gradscope._diagnosis import describe
from gradscope._format import format_number
from gradscope.checks.config import CheckConfig, CheckConfigError
from gradscope.checks.results import FAIL, PASS, CheckResult
from gradscope.checks.steps import Step
from gradscope.trace.model import NodeRecord, Parameter, Trace

INTERMEDIATE = "intermediate gradients"


def parameter_result(step: Step, parameter: Parameter, **fields) -> CheckResult:
    """A result about `parameter`, located at its module and the line that first used it."""
    source = step.first_uses.get(parameter.node) if parameter.node is not None else None
    return CheckResult(target=parameter.name, scope=parameter.module, step=step.index,
                       file=source.file if source else None, line=source.line if source else None, **fields)


def node_result(step: Step, node: NodeRecord, **fields) -> CheckResult:
    source = node.source
    return CheckResult(scope=node.scope, step=step.index, file=source.file if source else None,
                       line=source.line if source else None, **fields)


def describe_parameter(parameter: Parameter) -> str:
    return f"{parameter.name} (module {parameter.module})" if parameter.module else parameter.name


def describe_node(node: NodeRecord) -> str:
    where = f" at {node.source}" if node.source else ""
    scope = f" in {node.scope}" if node.scope else ""
    return f"{node.name} ({node.op}){scope}{where}"


# ------------------------------------------------------------------------------------------- finite
def _allowed(config: CheckConfig, *names: str | None) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in config.allow_nonfinite for name in names if name)


def _origin(step: Step) -> str:
    """Where the non-finite gradient started: the culprit of this pass (allowed or not: an allowed
    non-finite value that spreads is still where it started), with its forward anomaly."""
    trace = step.trace
    for anomaly in trace.culprits():
        if anomaly.phase == "backward" and anomaly.pass_index == step.pass_index:
            node = trace.nodes[anomaly.node]
            forward = [a.message for a in trace.culprits() if a.phase == "forward" and a.node == node.id]
            before = f" (forward: {forward[0]})" if forward else ""
            return f"first made by {describe_node(node)}: {anomaly.message}{before}"
    return "no node of this backward pass made it (it was in the gradient given to backward, or already in .grad)"


def check_finite(step: Step, config: CheckConfig) -> list[CheckResult]:
    """No NaN/Inf in any parameter's gradient, nor in any gradient flowing out of a node, except
    where `allow_nonfinite` globs match the parameter's name or module, or the node's op, name or scope."""
    threshold = "non-finite = 0"
    results = []
    for parameter in step.trace.parameters:
        grad = step.grad(parameter)
        stats = grad.stats if grad is not None else None
        if stats is None or stats.finite:
            shown = "finite" if stats is not None else "no gradient"
            results.append(parameter_result(step, parameter, rule="finite", status=PASS, value=0.0, shown=shown,
                                            threshold=threshold))
        elif _allowed(config, parameter.name, parameter.module):
            results.append(parameter_result(step, parameter, rule="finite", status=PASS, value=float(stats.nonfinite),
                                            shown=f"{describe(stats)} (allowed)", threshold=threshold))
        else:
            results.append(parameter_result(
                step, parameter, rule="finite", status=FAIL, value=float(stats.nonfinite), shown=describe(stats),
                threshold=threshold, message=f"{describe_parameter(parameter)} has a non-finite gradient "
                                             f"({describe(stats)} of {stats.numel}); {_origin(step)}"))
    record = step.record
    bad = []
    for node_id in record.order:
        node = step.trace.nodes[node_id]
        grads = record.grad_inputs.get(node_id) or []
        if node.kind != "leaf" and any(g is not None and not g.stats.finite for g in grads) \
                and not _allowed(config, node.op, node.name, node.scope):
            bad.append(node)
    if not bad:
        results.append(CheckResult("finite", INTERMEDIATE, PASS, 0.0, "finite", threshold, step=step.index))
        return results
    culprits = {a.node for a in step.trace.culprits() if a.phase == "backward" and a.pass_index == step.pass_index}
    first = next((node for node in bad if node.id in culprits), bad[0])
    nodes = f"{len(bad)} node{'s' if len(bad) != 1 else ''}"
    message = f"non-finite gradients flow out of {nodes}"
    message += f"; {_origin(step)}" if first.id in culprits else f", the first {describe_node(first)}; {_origin(step)}"
    results.append(node_result(step, first, rule="finite", target=INTERMEDIATE, status=FAIL, value=float(len(bad)),
                               shown=nodes, threshold=threshold, message=message))
    return results


# ---------------------------------------------------------------------------------------- connected
def check_connected(step: Step, config: CheckConfig) -> list[CheckResult]:
    """Every parameter gets a gradient (of the models the pass trained: `Step.parameters`)."""
    results = []
    for parameter in step.parameters:
        if step.grad(parameter) is not None:
            results.append(parameter_result(step, parameter, rule="connected", status=PASS, value=1.0,
                                            shown="gradient", threshold="gradient received"))
            continue
        why = ("it never took part in the graph of the loss (a layer built but not used in forward?)"
               if parameter.node is None else "backward never reached it")
        results.append(parameter_result(step, parameter, rule="connected", status=FAIL, value=0.0,
                                        shown="no gradient", threshold="gradient received",
                                        message=f"{describe_parameter(parameter)} received no gradient: {why}"))
    return results


# ------------------------------------------------------------------------------------------ nonzero
def check_nonzero(step: Step, config: CheckConfig) -> list[CheckResult]:
    """The fraction of nonzero entries of each gradient is above `min_nonzero` (by default: some entry
    is nonzero). A missing gradient counts as zero. Only the models the pass trained (`Step.parameters`)."""
    bound = config.min_nonzero
    threshold = f"nonzero > {bound:.0%}"
    results = []
    for parameter in step.parameters:
        grad = step.grad(parameter)
        nonzero = 0.0 if grad is None else 1.0 - grad.stats.zero_fraction
        shown = "no gradient" if grad is None else f"{nonzero:.1%}"
        if nonzero > bound:
            results.append(parameter_result(step, parameter, rule="nonzero", status=PASS, value=nonzero,
                                            shown=shown, threshold=threshold))
            continue
        what = "has no gradient at all" if grad is None else "has an entirely zero gradient" if nonzero == 0 else \
            f"has only {nonzero:.1%} nonzero gradient entries ({grad.stats.numel} in all)"
        results.append(parameter_result(step, parameter, rule="nonzero", status=FAIL, value=nonzero, shown=shown,
                                        threshold=threshold,
                                        message=f"{describe_parameter(parameter)} {what}; bound: {threshold}"))
    return results


# ---------------------------------------------------------------------------------------- grad-norm
def unmatched_bounds(trace: Trace, config: CheckConfig) -> None:
    """A bound whose glob matches no parameter is almost always a typo: say so (CheckConfigError)."""
    names = [parameter.name for parameter in trace.parameters]
    for bound in config.grad_norm:
        if not any(bound.matches(name) for name in names):
            listed = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
            raise CheckConfigError(f"grad-norm bound {str(bound)!r} matches no parameter (parameters: "
                                   f"{listed or 'none'})")


def check_grad_norm(step: Step, config: CheckConfig) -> list[CheckResult]:
    """The gradient norm of every parameter obeys each bound whose glob matches its name; a missing
    gradient has norm 0 (of the models the pass trained: `Step.parameters`)."""
    results = []
    for parameter in step.parameters:
        bounds = [bound for bound in config.grad_norm if bound.matches(parameter.name)]
        if not bounds:
            continue
        grad = step.grad(parameter)
        norm = 0.0 if grad is None else grad.stats.norm
        shown = format_number(norm) + (" (no gradient)" if grad is None else "")
        threshold = ", ".join(f"{bound.op} {bound.value:g}" for bound in bounds)
        broken = [bound for bound in bounds if not bound.holds(norm)]
        if not broken:
            results.append(parameter_result(step, parameter, rule="grad-norm", status=PASS, value=norm, shown=shown,
                                            threshold=threshold))
            continue
        results.append(parameter_result(
            step, parameter, rule="grad-norm", status=FAIL, value=norm, shown=shown, threshold=threshold,
            message=f"{describe_parameter(parameter)} has gradient norm {format_number(norm)}, breaking "
                    + " and ".join(repr(str(bound)) for bound in broken)))
    return results
