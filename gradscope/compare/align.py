"""Aligning two recordings node by node: by pass, module scope, op, and order of execution within
the scope.

Within one pass and one scope the two runs' ops form two sequences of (op, node name) keys in the
order they were created; a shortest edit script between them (Myers' diff: the fewest ops inserted or
removed) pairs them up, so an op inserted or removed in one module is that module's one difference and
leaves every other pairing intact. A removal next to an insertion is a different op at that place.
Leaves pair by parameter name, unnamed ones in order of use.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
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
        keys = [op_key(a.nodes[i]) for i in left], [op_key(b.nodes[i]) for i in right]
        i = j = 0
        for i2, j2, size in [*matching_runs(*keys), (len(left), len(right), 0)]:
            # between two runs of equal ops: what A alone and B alone have there, a different op at each
            # place the two have one (paired as such), the rest only in one run
            pairs += [Pair(x, y) for x, y in zip(left[i:i2], right[j:j2])]
            skip = min(i2 - i, j2 - j)
            pairs += [Pair(x, None) for x in left[i + skip:i2]] + [Pair(None, y) for y in right[j + skip:j2]]
            pairs += [Pair(x, y) for x, y in zip(left[i2:i2 + size], right[j2:j2 + size])]
            i, j = i2 + size, j2 + size
    return pairs


# Beyond this many edits a minimal script costs more than it tells (its cost grows with the square of the
# edits): two runs that different are paired by difflib's longest-match heuristic instead.
MAX_EDITS = 2000


def matching_runs(a: Sequence[Hashable], b: Sequence[Hashable],
                  max_edits: int = MAX_EDITS) -> list[tuple[int, int, int]]:
    """(i, j, size) for each run of a[i:i + size] == b[j:j + size] of a shortest edit script turning `a`
    into `b` (Myers 1986, "An O(ND) difference algorithm"), in order; time O((n + m) D) for D edits."""
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a, end_b = end_a - 1, end_b - 1
    middle = _middle_runs(a[start:end_a], b[start:end_b], max_edits)
    runs = [(start + i, start + j, size) for i, j, size in middle]
    if start:
        runs.insert(0, (0, 0, start))
    if end_a < len(a):
        runs.append((end_a, end_b, len(a) - end_a))
    return runs


def _middle_runs(a: Sequence[Hashable], b: Sequence[Hashable], max_edits: int) -> list[tuple[int, int, int]]:
    n, m = len(a), len(b)
    if not n or not m:
        return []
    # furthest[k + offset]: how far along `a` the best path ending on diagonal k = x - y has come
    offset = min(n + m, max_edits) + 1
    furthest = [0] * (2 * offset + 1)
    history = []
    for d in range(min(n + m, max_edits) + 1):
        history.append(furthest[offset - d - 1:offset + d + 2])
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and furthest[offset + k - 1] < furthest[offset + k + 1]):
                x = furthest[offset + k + 1]  # a step down: b[y - 1] inserted
            else:
                x = furthest[offset + k - 1] + 1  # a step right: a[x - 1] removed
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            furthest[offset + k] = x
            if x >= n and y >= m:
                return _runs_back(history, n, m)
    blocks = SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    return [(block.a, block.b, block.size) for block in blocks if block.size]


def _runs_back(history: list[list[int]], x: int, y: int) -> list[tuple[int, int, int]]:
    """The diagonal runs of the path that reached (x, y) after len(history) - 1 edits, read back from the
    `furthest` row saved before each edit count (row d covers diagonals -d - 1 … d + 1)."""
    runs = []
    for d in range(len(history) - 1, 0, -1):
        row = history[d]  # before d edits: the state after d - 1, diagonals -d - 1 … d + 1 at 0 … 2d + 2
        k = x - y
        down = k == -d or (k != d and row[k - 1 + d + 1] < row[k + 1 + d + 1])
        previous_k = k + 1 if down else k - 1
        previous_x = row[previous_k + d + 1]
        previous_y = previous_x - previous_k
        start_x = previous_x if down else previous_x + 1  # where the snake after this edit began
        if x > start_x:
            runs.append((start_x, start_x - k, x - start_x))
        x, y = previous_x, previous_y
    if x > 0:  # the snake before any edit, from (0, 0)
        runs.append((0, 0, x))
    return runs[::-1]


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
