"""What happened over the passes of a recording: the first pass with an anomaly, where its values
went, and the passes after it grouped by what repeated (a training loop that went NaN at step 3 of
100 is one story, not 97).

>>> first = first_anomalous_pass(trace)          # 3
>>> [(g.first, g.last, g.same_as) for g in pass_groups(trace)]
[(3, 3, None), (4, 4, None), (5, 7, 4)]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from gradscope._diagnosis import describe
from gradscope.trace.model import Anomaly, SourceLocation, Trace

MASK_PLACES_SHOWN = 3  # op lines named when masks were not counted (see no_anomalies)


def anomalies_by_pass(trace: Trace) -> dict[int | None, list[Anomaly]]:
    """Anomalies keyed by pass index (None: a forward anomaly after the last pass), in recording order."""
    found: dict[int | None, list[Anomaly]] = {}
    for anomaly in trace.anomalies:
        found.setdefault(anomaly.pass_index, []).append(anomaly)
    return found


def first_anomalous_pass(trace: Trace) -> int | None:
    passes = [index for index in anomalies_by_pass(trace) if index is not None]
    return min(passes) if passes else None


def default_pass(trace: Trace) -> int | None:
    """The pass a report shows unless told otherwise: the first with an anomaly, else the last the script
    asked for itself, else the last."""
    if not trace.passes:
        return None
    first = first_anomalous_pass(trace)
    if first is not None:
        return first
    user = trace.user_passes()
    return user[-1] if user else len(trace.passes) - 1


def _signature(anomaly: Anomaly) -> tuple:
    """What makes two anomalies of different passes 'the same': everything but the node ids and numbers."""
    source = anomaly.source and (anomaly.source.file, anomaly.source.line)
    return anomaly.phase, anomaly.role, anomaly.op, anomaly.node is None, source, anomaly.scope


@dataclass
class PassGroup:
    """Consecutive passes `first`..`last` with the same anomalies; `same_as` is an earlier pass whose
    anomalies these repeat, if any. `anomalies` are those of pass `first`."""

    first: int | None
    last: int | None
    anomalies: list[Anomaly]
    same_as: int | None = None

    @property
    def culprits(self) -> list[Anomaly]:
        return [a for a in self.anomalies if a.role == "culprit"]

    @property
    def span(self) -> str:
        if self.first is None:
            return "after the last pass"
        return f"pass {self.first}" if self.first == self.last else f"passes {self.first}–{self.last}"


def pass_groups(trace: Trace) -> list[PassGroup]:
    """The passes with anomalies, consecutive repeats folded into one group (see the module docstring)."""
    groups: list[PassGroup] = []
    seen: dict[frozenset, int] = {}
    for index, anomalies in sorted(anomalies_by_pass(trace).items(), key=lambda item: (item[0] is None, item[0])):
        signature = frozenset(map(_signature, anomalies))
        previous = groups[-1] if groups else None
        if (previous is not None and index is not None and previous.last == index - 1
                and frozenset(map(_signature, previous.anomalies)) == signature):
            previous.last = index
            continue
        groups.append(PassGroup(index, index, anomalies, same_as=seen.get(signature)))
        if index is not None:
            seen.setdefault(signature, index)
    return groups


def same_culprits(group: PassGroup, other: PassGroup) -> bool:
    return {_signature(a) for a in group.culprits} == {_signature(a) for a in other.culprits}


def loss_of(trace: Trace, pass_index: int) -> float | None:
    """The value backward started from in a pass, when it was one number."""
    roots = trace.passes[pass_index].roots
    outputs = [r for r in trace.nodes[roots[0]].outputs if r is not None] if roots else []
    if not outputs:
        return None
    values = outputs[0].values
    return float(values.reshape(-1)[0]) if values is not None and values.size == 1 else None


def consequences(trace: Trace, anomaly: Anomaly) -> list[str]:
    """What a culprit's non-finite values led to: the first parameter gradient they reached (in its pass
    or a later one), the loss of its pass, and the parameters left non-finite at the end."""
    said = []
    reached = _first_nonfinite_gradient(trace, anomaly.pass_index)
    if reached is not None:
        name, pass_index, stats = reached
        when = "in the same pass" if pass_index == anomaly.pass_index else f"in pass {pass_index}"
        said.append(f"it reached {name}'s gradient as {describe(stats)} {when}")
    if anomaly.pass_index is not None:
        loss = loss_of(trace, anomaly.pass_index)
        if loss is not None:
            finite = "still finite, " if math.isfinite(loss) else ""
            said.append(f"the loss of pass {anomaly.pass_index} was {finite}{loss:.4g}")
    broken = [p.name for p in trace.parameters if not p.value.stats.finite]
    if broken:
        said.append(f"{len(broken)} of {len(trace.parameters)} parameters end the recording non-finite "
                    f"({listed(broken, 3)})")
    return said


def _first_nonfinite_gradient(trace: Trace, start: int | None):
    """(parameter name, pass, stats) of the first parameter gradient that is non-finite from pass `start` on."""
    if start is None:
        return None
    names = {p.node: p.name for p in trace.parameters if p.node is not None}
    for record in trace.passes[start:]:
        for node_id in record.order:
            grad = record.leaf_grads.get(node_id)
            if grad is not None and not grad.stats.finite and node_id in names:
                return names[node_id], record.index, grad.stats
    return None


def listed(names: list[str], limit: int) -> str:
    """'a, b, c … and 4 more': every list a text report shows is capped."""
    shown = ", ".join(names[:limit])
    return shown + (f" … and {len(names) - limit} more" if len(names) > limit else "")


def no_anomalies(trace: Trace, place: Callable[[SourceLocation], str] = str) -> str:
    """What a trace without anomalies can say: every value and gradient is finite, unless some forward
    values held mask infinities (`Trace.masks`): then how many op outputs held them and where, grouped by
    op and line (`place` writes a line).

    >>> no_anomalies(trace)
    'no anomalies: every gradient is finite; mask infinities in 4 op outputs not counted: masked_fill at
    model.py:31 in model.attn ×3, add at model.py:32'
    """
    if not trace.masks:
        return "no anomalies: every value and gradient is finite"
    places = Counter(
        mask.op + (f" at {place(mask.source)}" if mask.source is not None else "")
        + (f" in {mask.scope}" if mask.scope else "") for mask in trace.masks)
    named = [f"{where} ×{count}" if count > 1 else where for where, count in places.items()]
    outputs = len(trace.masks)
    return (f"no anomalies: every gradient is finite; mask infinities in {outputs} op output"
            f"{'s' if outputs != 1 else ''} not counted: {listed(named, MASK_PLACES_SHOWN)}")
