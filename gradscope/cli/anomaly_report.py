"""The anomalies and health warnings of the text report.

Anomalies: the first pass with one in full (culprits, where their values went, who passed them on),
later passes one line per group of repeats, every list capped; `--json` keeps everything.
"""

from __future__ import annotations

from collections import Counter

from rich.text import Text

from gradscope.checks.health import HealthWarning
from gradscope.trace.model import Anomaly, Trace
from gradscope.trace.passes import (
    PassGroup,
    consequences,
    first_anomalous_pass,
    listed,
    no_anomalies,
    pass_groups,
    same_culprits,
)

CULPRITS_SHOWN = 5  # culprits of the first anomalous pass shown in full
NAMES_SHOWN = 6  # node names listed per "passed on" line
GROUPS_SHOWN = 6  # later groups of passes, one line each


def where(trace: Trace, anomaly: Anomaly) -> str:
    """'LogBackward0 (log) at model.py:21 in model.head' / 'log at prep.py:30 in prep, outside the autograd graph'."""
    what = anomaly.op if anomaly.node is None else f"{trace.nodes[anomaly.node].name} ({anomaly.op})"
    if anomaly.source is not None:
        what += f" at {anomaly.source}"
    if anomaly.scope:
        what += f" in {anomaly.scope}"
    return what + (", outside the autograd graph" if anomaly.node is None else "")


def headline(trace: Trace) -> str | None:
    """The first pass with an anomaly and what started it, for the report's first lines."""
    first = first_anomalous_pass(trace)
    anomalies = [a for a in trace.anomalies if a.pass_index == first] or trace.anomalies
    if not anomalies:
        return None
    when = f"pass {first}" if first is not None else "after the last pass"
    culprits = [a for a in anomalies if a.role == "culprit"]
    if not culprits:
        return f"{when}: non-finite values came in (no op made them: an input, a parameter or .grad held them)"
    return f"{when}: {culprits[0].phase} culprit {where(trace, culprits[0])}"


def anomaly_list(trace: Trace) -> Text:
    """The anomalies section (see the module docstring)."""
    if not trace.anomalies:
        return Text(no_anomalies(trace), style="green")
    groups = pass_groups(trace)
    passes = sum(1 + (group.last - group.first) for group in groups if group.first is not None)
    text = Text(f"anomalies: {len(trace.anomalies)} in {passes} pass{'es' if passes != 1 else ''}\n", style="bold")
    _first_group(text, trace, groups[0])
    for previous, group in zip(groups, groups[1:GROUPS_SHOWN]):
        _later_group(text, trace, group, previous)
    if len(groups) > GROUPS_SHOWN:
        text.append(f"… and {len(groups) - GROUPS_SHOWN} more groups of passes (--json lists every anomaly)\n",
                    style="dim")
    text.rstrip()
    return text


def _first_group(text: Text, trace: Trace, group: PassGroup) -> None:
    repeats = " (the same in each)" if group.first != group.last else ""
    text.append(f"{group.span}{repeats}: the first with an anomaly\n", style="bold")
    culprits = group.culprits
    for index, anomaly in enumerate(culprits[:CULPRITS_SHOWN]):
        text.append(f"✗ culprit ({anomaly.phase}) ", style="bold red")
        text.append(where(trace, anomaly), style="bold")
        text.append(f"\n    {anomaly.message}\n")
        if index == 0:
            for line in consequences(trace, anomaly):
                text.append(f"    → {line}\n", style="yellow")
    if len(culprits) > CULPRITS_SHOWN:
        text.append(f"  … and {len(culprits) - CULPRITS_SHOWN} more culprits\n")
    if not culprits:
        text.append("  no op made them: non-finite values came in with an input, a parameter or .grad\n")
    for phase in ("forward", "backward"):
        names = [_name(trace, a) for a in group.anomalies if a.role == "propagator" and a.phase == phase]
        if names:
            text.append(f"  passed on ({phase}) by {_nodes(len(names))}: ", style="yellow")
            text.append(_counted(names) + "\n")


def _later_group(text: Text, trace: Trace, group: PassGroup, previous: PassGroup) -> None:
    """One line: the group's first culprit in full, unless the previous group had the same culprits."""
    if group.same_as is not None:
        text.append(f"{group.span}: the same as pass {group.same_as}\n")
        return
    text.append(f"{'the same propagation in ' if group.first != group.last else ''}{group.span}: ")
    culprits = group.culprits
    propagators = len(group.anomalies) - len(culprits)
    if culprits and same_culprits(group, previous):
        text.append(f"the same culprit{'s' if len(culprits) > 1 else ''} as {previous.span} "
                    f"({_name(trace, culprits[0])}), passed on by {_nodes(propagators)}\n")
    elif culprits:
        text.append("✗ ", style="bold red")
        text.append(f"{culprits[0].phase} culprit {where(trace, culprits[0])}: {culprits[0].message}")
        if len(culprits) > 1:
            text.append(f" (and {len(culprits) - 1} more culprits)")
        text.append(f"; passed on by {_nodes(propagators)}\n" if propagators else "\n")
    else:
        text.append(f"passed on by {_nodes(propagators)} (non-finite values came in)\n")


def _name(trace: Trace, anomaly: Anomaly) -> str:
    return trace.nodes[anomaly.node].name if anomaly.node is not None else anomaly.op


def _nodes(count: int) -> str:
    return f"{count} node{'s' if count != 1 else ''}"


def _counted(names: list[str]) -> str:
    """'AddmmBackward0 ×3, TBackward0 ×2, … and 4 more': names with their counts, capped."""
    counts = Counter(names)
    return listed([f"{name} ×{count}" if count > 1 else name for name, count in counts.items()], NAMES_SHOWN)


def warning_list(warnings: list[HealthWarning], strict: bool = False) -> Text:
    """One line per cause the check rules found (their default thresholds)."""
    if not warnings:
        return Text("no health warnings (connected, nonzero, grad-norm, vanishing, dead-units)", style="green")
    counted = f"{len(warnings)} health warning{'s' if len(warnings) != 1 else ''}"
    text = Text(f"{counted} (the check rules at their default thresholds"
                f"{'; --strict: they fail' if strict else ''})\n", style="bold")
    for warning in warnings:
        text.append(f"⚠ {warning.rule}: ", style="bold yellow")
        text.append(warning.text)
        when = warning.when()
        text.append(f" ({when})\n" if when else "\n", style="")
    text.rstrip()
    return text
