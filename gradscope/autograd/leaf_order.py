"""The order in which PyTorch's engine runs the leaves one node makes ready together.

PyTorch's ready queue is a binary heap (std::priority_queue) keyed by sequence number, and every leaf's
AccumulateGrad has the same one, the largest: the leaves a node makes ready run before anything else, but among
themselves in the order the heap's sift-up and sift-down leave them in. That depends only on how many nodes were
waiting and on the order of the node's pushes (each ready input, leaf or not, in edge order), not on the waiting
nodes' own numbers: a leaf never sits below another node, so the waiting ones only ever move among themselves.
Python's heapq sifts exactly as libstdc++'s heap does (ties go to the right child on the way down; nothing moves
up past an equal entry), so it replays the queue given entries that compare by priority alone.

    >>> order(waiting=0, pushes=["a", "b", "c", "d"])
    ['a', 'c', 'b', 'd']
"""

from __future__ import annotations

import heapq

from gradscope.autograd.node import AccumulateGrad


class _Entry:
    """A queued node: a leaf (`leaf` set) or any other, which a leaf always precedes; equal otherwise."""

    __slots__ = ("leaf",)

    def __init__(self, leaf) -> None:
        self.leaf = leaf

    def __lt__(self, other: _Entry) -> bool:  # heapq's "pops first"
        return self.leaf is not None and other.leaf is None


def order(waiting: int, pushes: list) -> list:
    """The leaves among `pushes` (in push order; None for a node that is not a leaf) in the order PyTorch's
    ready queue, holding `waiting` other nodes before them, hands them out."""
    heap = [_Entry(None) for _ in range(waiting)]
    for pushed in pushes:
        heapq.heappush(heap, _Entry(pushed))
    leaves = []
    while heap and heap[0].leaf is not None:
        leaves.append(heapq.heappop(heap).leaf)
    return leaves


def reordered(node, leaves: list, ready: list, following, buffers: dict, needed, parents: dict) -> list:
    """`leaves` ((AccumulateGrad, gradients, leaf) entries `node` made ready, in edge order, less a first one that
    already took its gradient) in PyTorch's order. The engine's heap (`ready`, its last entry a sentinel) and
    `following` (the node it runs next) hold every node reached, ready or not; PyTorch's queue only those whose
    parents (`parents`: each reachable node's) have all run, which, as nodes run newest first, are those whose
    parents are no newer than `node`. `buffers` holds the leaves still waiting for gradients."""
    newest = node._seq

    def runnable(waiting) -> bool:
        return all(parent._seq >= newest for parent in parents.get(waiting, ()) if needed is None or parent in needed)

    last = {}  # each input's last edge: where it became ready
    for index, (child, _) in enumerate(node._next):
        if child is not None and (needed is None or child in needed):
            last[id(child)] = index
    listed = {id(entry[0]): entry for entry in leaves}
    pushes = []
    for index, (child, _) in enumerate(node._next):
        if child is None or last.get(id(child)) != index:
            continue
        if type(child) is AccumulateGrad:
            if child not in buffers:  # a leaf not listed was made ready too, and took its gradient first
                pushes.append(listed.get(id(child), (child, None, None)))
        elif runnable(child):
            pushes.append(None)
    reached = [entry[2] for entry in ready if entry[2] is not None] + ([following] if following is not None else [])
    waiting = sum(1 for other in reached if id(other) not in last and runnable(other))
    return [entry for entry in order(waiting, pushes) if entry[1] is not None]
