"""The rules about layers and depth: vanishing, dead-units, and exploding (across steps).

A *layer* is the module scope of parameters (`model.fc1` holds `model.fc1.weight` and
`model.fc1.bias`; a plain tensor is a layer of its own), in the order the model lists its
parameters, which is its depth order. A *unit* of a ReLU-family activation is one feature along
dim 1 (the feature of a Linear's `(N, F)` output, the channel of a conv's `(N, C, …)` output; each
element of a 1-d output), and it is *dead* when it is never positive over the whole batch, so its
gradient is zero (for LeakyReLU, only the leak). With one sample per unit (a batch of 1, a 1-d
output) there is no batch to judge by, and the rule skips: a unit off on one input isn't dead.
"""

from __future__ import annotations

import math

import numpy as np

from gradscope._format import format_number
from gradscope._stats import norm_sort_key
from gradscope.checks.config import CheckConfig
from gradscope.checks.results import FAIL, PASS, SKIP, CheckResult
from gradscope.checks.rules import describe_node, describe_parameter, node_result
from gradscope.checks.steps import Step
from gradscope.trace.model import NodeRecord, Parameter

RELU_FAMILY = ("relu", "leaky_relu")
DEAD_SHOWN = 8  # dead unit indices listed in a message


def layer_norms(step: Step) -> list[tuple[str, list[Parameter], float]]:
    """(layer, its parameters, the norm of all their gradients) in depth order, for layers with a gradient."""
    layers: dict[str, list[Parameter]] = {}
    for parameter in step.trace.parameters:
        layers.setdefault(parameter.module or parameter.name, []).append(parameter)
    found = []
    for layer, parameters in layers.items():
        norms = [grad.stats.norm for grad in map(step.grad, parameters) if grad is not None]
        if norms:
            found.append((layer, parameters, math.sqrt(sum(norm * norm for norm in norms))))
    return found


def _common_scope(names: list[str]) -> str:
    parts = [name.split(".") for name in names]
    common = []
    for pieces in zip(*parts, strict=False):  # up to the shortest name
        if len(set(pieces)) != 1:
            break
        common.append(pieces[0])
    return ".".join(common) or "layers"


# ---------------------------------------------------------------------------------------- vanishing
def check_vanishing(step: Step, config: CheckConfig) -> list[CheckResult]:
    """The smallest layer gradient norm is at least `min_layer_ratio` times the largest."""
    layers = [layer for layer in layer_norms(step) if math.isfinite(layer[2])]
    threshold = f">= {config.min_layer_ratio:g}"
    target = _common_scope([name for name, _, _ in layers]) if layers else "layers"
    if len(layers) < 2:
        return [CheckResult("vanishing", target, SKIP, None, "—", threshold, step=step.index,
                            message="fewer than two layers with a finite gradient: no depth to compare")]
    smallest = min(range(len(layers)), key=lambda i: layers[i][2])
    largest = max(range(len(layers)), key=lambda i: layers[i][2])
    low, high = layers[smallest][2], layers[largest][2]
    ratio = low / high if high > 0 else 0.0
    shown = f"{format_number(ratio)} ({layers[smallest][0]} / {layers[largest][0]})"
    scope = layers[smallest][0]
    if ratio >= config.min_layer_ratio:
        return [CheckResult("vanishing", target, PASS, ratio, shown, threshold, scope=scope, step=step.index)]
    names = ", ".join(parameter.name for parameter in layers[smallest][1])
    message = (f"layer {layers[smallest][0]} (depth {smallest + 1} of {len(layers)}; {names}) has gradient norm "
               f"{format_number(low)}, {format_number(ratio)} times that of layer {layers[largest][0]} (depth "
               f"{largest + 1}, {format_number(high)}); bound: ratio {threshold}")
    return [CheckResult("vanishing", target, FAIL, ratio, shown, threshold, message, scope=scope, step=step.index)]


# --------------------------------------------------------------------------------------- dead-units
def dead_units(values: np.ndarray) -> np.ndarray:
    """A boolean per unit (see the module docstring): True when it is never positive."""
    if values.ndim == 1:
        return ~(values > 0)
    axes = tuple(axis for axis in range(values.ndim) if axis != 1)
    return ~(values > 0).any(axis=axes)


def _activation_targets(step: Step) -> list[tuple[str, NodeRecord]]:
    """ReLU-family nodes of the pass, named by scope and op ("model.relu (relu)"), numbered when repeated."""
    named: list[tuple[str, NodeRecord]] = []
    seen: dict[str, int] = {}
    for node_id in step.record.order:
        node = step.trace.nodes[node_id]
        if node.op not in RELU_FAMILY or not node.outputs or node.outputs[0] is None:
            continue
        base = f"{node.scope or '(top level)'} ({node.op})"
        seen[base] = seen.get(base, 0) + 1
        named.append((base if seen[base] == 1 else f"{base} #{seen[base]}", node))
    return named


def _feeding_layer(step: Step, node: NodeRecord) -> str:
    """'fed by model.hidden (model.hidden.weight, model.hidden.bias)': the layer that made the input."""
    for child in step.trace.children(node.id):
        scope = step.trace.nodes[child].scope
        if scope and scope != node.scope:
            names = [parameter.name for parameter in step.trace.parameters if parameter.module == scope]
            listed = f" ({', '.join(names)})" if names else ""
            return f"; fed by {scope}{listed}"
    return ""


def check_dead_units(step: Step, config: CheckConfig) -> list[CheckResult]:
    """For each ReLU-family activation, the fraction of dead units is at most `max_dead_fraction`."""
    threshold = f"<= {config.max_dead_fraction:g}"
    activations = _activation_targets(step)
    if not activations:
        return [CheckResult("dead-units", "activations", SKIP, None, "—", threshold, step=step.index,
                            message="no ReLU-family activation in the graph")]
    results = []
    for target, node in activations:
        record = node.outputs[0]
        values = record.values
        if values is None or values.ndim == 0:
            why = "a scalar output has no units" if values is not None else \
                f"its output ({record.stats.numel} elements) is above the keep limit: raise --keep-values"
            results.append(node_result(step, node, rule="dead-units", target=target, status=SKIP, value=None,
                                       shown="—", threshold=threshold, message=why))
            continue
        dead = dead_units(values)
        if values.size == dead.size:
            batch = "1-d output" if values.ndim == 1 else "batch of 1"
            results.append(node_result(
                step, node, rule="dead-units", target=target, status=SKIP, value=None, shown="—",
                threshold=threshold, message=f"one sample per unit ({batch}): a unit not positive on a single "
                                             "input may fire on the next one; record a batch to judge"))
            continue
        fraction = float(dead.mean())
        shown = f"{format_number(fraction)} ({int(dead.sum())} of {dead.size} units)"
        if fraction <= config.max_dead_fraction:
            results.append(node_result(step, node, rule="dead-units", target=target, status=PASS, value=fraction,
                                       shown=shown, threshold=threshold))
            continue
        indices = np.flatnonzero(dead)
        listed = ", ".join(map(str, indices[:DEAD_SHOWN])) + (", …" if indices.size > DEAD_SHOWN else "")
        message = (f"{int(dead.sum())} of {dead.size} units of {describe_node(node)} are never positive over the "
                   f"batch of {values.shape[0]} ({fraction:.1%}, bound {threshold}){_feeding_layer(step, node)}; "
                   f"dead units: {listed}")
        results.append(node_result(step, node, rule="dead-units", target=target, status=FAIL, value=fraction,
                                   shown=shown, threshold=threshold, message=message))
    return results


# ---------------------------------------------------------------------------------------- exploding
def _total_norm(step: Step) -> float:
    norms = [grad.stats.norm for grad in map(step.grad, step.trace.parameters) if grad is not None]
    return math.sqrt(sum(norm * norm for norm in norms))


def check_exploding(steps: list[Step], config: CheckConfig) -> list[CheckResult]:
    """The gradient norm (over all parameters) at any later step is at most `max_growth` times its
    norm at step 0; a failure names the parameter with the largest gradient at the worst step."""
    threshold = f"<= {config.max_growth:g}"
    target = "gradient norm"
    first = _total_norm(steps[0])
    if not first > 0 or not math.isfinite(first):
        return [CheckResult("exploding", target, SKIP, None, format_number(first), threshold, step=0,
                            message=f"the gradient norm at step 0 is {format_number(first)}: nothing to compare to")]
    ratios = [_total_norm(step) / first for step in steps[1:]]
    worst = min(range(len(ratios)), key=lambda i: norm_sort_key(ratios[i]))  # NaN is the worst growth there is
    ratio, step = ratios[worst], steps[worst + 1]
    shown = f"{format_number(ratio)} (step {step.index})"
    if not math.isnan(ratio) and ratio <= config.max_growth:
        return [CheckResult("exploding", target, PASS, ratio, shown, threshold, step=step.index)]
    graded = [(grad.stats.norm, parameter) for parameter in step.trace.parameters
              if (grad := step.grad(parameter)) is not None]
    nonfinite = [(norm, parameter) for norm, parameter in graded if not math.isfinite(norm)]
    if nonfinite:
        norm, parameter = nonfinite[0]
        message = (f"the gradient turned non-finite at step {step.index} (norm at step 0: {format_number(first)}): "
                   f"{len(nonfinite)} parameter{'s' if len(nonfinite) != 1 else ''}, the first "
                   f"{describe_parameter(parameter)} (norm {format_number(norm)})")
    else:
        norm, parameter = min(graded, key=lambda item: norm_sort_key(item[0]))
        message = (f"the gradient norm grew {format_number(ratio)}× from step 0 ({format_number(first)}) to step "
                   f"{step.index} (bound {threshold}); the largest gradient there is "
                   f"{describe_parameter(parameter)}'s, norm {format_number(norm)}")
    return [CheckResult("exploding", target, FAIL, ratio, shown, threshold, message, scope=parameter.module,
                        step=step.index)]
