"""Aligning two recordings node by node: by pass, module scope, op, and order of execution within
the scope.

Within one pass and one scope the two runs' ops form two sequences of (op, node name) keys in the
order they were created; a sequence alignment (difflib's, without its "junk" heuristic, which would
ignore ops repeated often, exactly the ones a loop or an RNN produces) pairs them up, so an op
inserted or removed in one module leaves every other pairing intact. Leaves pair by parameter name,
unnamed ones in order of use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from gradscope.trace.model import NodeRecord, Trace

# the recorder names a leaf no variable holds "leaf{node id}[shape]": a name that differs between runs
_UNNAMED_LEAF = re.compile(r"^leaf\d+\[")


@dataclass(frozen=True)
class Pair:
    """A node of A and its counterpart in B; one side is None when the other run has no such node."""

    a: int | None
    b: int | None


def pass_groups(trace: Trace) -> list[tuple[int | None, list[int]]]:
    """(pass index, node ids) for each backward pass: the nodes first run in that pass; last, under
    None, the nodes no pass ran (a forward without backward)."""
    seen: set[int] = set()
    groups: list[tuple[int | None, list[int]]] = []
    for record in trace.passes:
        fresh = [node for node in record.order if node not in seen]
        seen.update(fresh)
        groups.append((record.index, fresh))
    rest = [node for node in trace.nodes if node not in seen]
    if rest or not groups:
        groups.append((None, rest))
    return groups


def forward_order(trace: Trace, ids: Iterable[int]) -> list[int]:
    """`ids` in the order the forward pass made them (node ids count up as nodes are created), each
    leaf placed just before the first op that used it: a parameter's value is read before its use."""
    chosen = set(ids)
    order: list[int] = []
    placed: set[int] = set()
    for node_id in sorted(chosen):
        node = trace.nodes[node_id]
        if node.kind == "leaf" and node_id in placed:
            continue
        for child, _ in node.next:
            if child in chosen and child not in placed and trace.nodes[child].kind == "leaf":
                order.append(child)
                placed.add(child)
        if node_id not in placed:
            order.append(node_id)
            placed.add(node_id)
    return order


def op_key(node: NodeRecord) -> tuple[str, str]:
    return node.op, node.name


def is_named_leaf(node: NodeRecord) -> bool:
    return node.kind == "leaf" and node.leaf_name is not None and not _UNNAMED_LEAF.match(node.leaf_name)


def align(a: Trace, a_order: list[int], b: Trace, b_order: list[int]) -> list[Pair]:
    """Pair the nodes of `a_order` (in A) with those of `b_order` (in B), both in forward order; the
    pairs come back in one execution order that keeps each run's own order."""
    pairs = _pair_ops(a, a_order, b, b_order) + _pair_leaves(a, a_order, b, b_order)
    return _merged(pairs, a_order, b_order)


def _by_scope(trace: Trace, order: list[int]) -> dict[str | None, list[int]]:
    scopes: dict[str | None, list[int]] = {}
    for node_id in order:
        node = trace.nodes[node_id]
        if node.kind != "leaf":
            scopes.setdefault(node.scope, []).append(node_id)
    return scopes


def _pair_ops(a: Trace, a_order: list[int], b: Trace, b_order: list[int]) -> list[Pair]:
    a_scopes, b_scopes = _by_scope(a, a_order), _by_scope(b, b_order)
    pairs = []
    for scope in dict.fromkeys([*a_scopes, *b_scopes]):
        left, right = a_scopes.get(scope, []), b_scopes.get(scope, [])
        matcher = SequenceMatcher(None, [op_key(a.nodes[i]) for i in left], [op_key(b.nodes[i]) for i in right],
                                  autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("equal", "replace"):  # replace: a different op at the same place, paired as such
                pairs += [Pair(x, y) for x, y in zip(left[i1:i2], right[j1:j2])]
                i1, j1 = i1 + min(i2 - i1, j2 - j1), j1 + min(i2 - i1, j2 - j1)
            pairs += [Pair(x, None) for x in left[i1:i2]] + [Pair(None, y) for y in right[j1:j2]]
    return pairs


def _pair_leaves(a: Trace, a_order: list[int], b: Trace, b_order: list[int]) -> list[Pair]:
    a_leaves = [i for i in a_order if a.nodes[i].kind == "leaf"]
    b_leaves = [i for i in b_order if b.nodes[i].kind == "leaf"]
    b_named = {b.nodes[i].leaf_name: i for i in b_leaves if is_named_leaf(b.nodes[i])}
    pairs, used = [], set()
    for node_id in a_leaves:
        if is_named_leaf(a.nodes[node_id]):
            match = b_named.get(a.nodes[node_id].leaf_name)
            pairs.append(Pair(node_id, match))
            used.add(match)
    pairs += [Pair(None, i) for i in b_named.values() if i not in used]
    left = [i for i in a_leaves if not is_named_leaf(a.nodes[i])]
    right = [i for i in b_leaves if not is_named_leaf(b.nodes[i])]
    pairs += [Pair(x, y) for x, y in zip(left, right)]
    pairs += [Pair(x, None) for x in left[len(right):]] + [Pair(None, y) for y in right[len(left):]]
    return pairs


def _merged(pairs: list[Pair], a_order: list[int], b_order: list[int]) -> list[Pair]:
    """Sort the pairs into one execution order: A's order, with each node B alone has placed right
    after the A node paired with the B node that ran before it."""
    a_rank = {node: rank for rank, node in enumerate(a_order)}
    b_rank = {node: rank for rank, node in enumerate(b_order)}
    partner = {pair.b: pair.a for pair in pairs if pair.a is not None and pair.b is not None}
    anchor, last = {}, -1
    for node in b_order:
        if node in partner:
            last = a_rank[partner[node]]
        anchor[node] = last

    def rank(pair: Pair) -> tuple[int, int, int]:
        if pair.a is not None:
            return a_rank[pair.a], 0, 0
        return anchor[pair.b], 1, b_rank[pair.b]

    return sorted(pairs, key=rank)
