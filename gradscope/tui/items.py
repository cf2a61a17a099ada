"""The items of the graph tree (what each line stands for), and how module scopes fold.

Items are frozen dataclasses: equal items are the same line, which is how a node is found again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class TopItem:
    """The invisible root of the tree."""


@dataclass(frozen=True)
class NodeItem:
    """A graph node shown where it lives; `base` is the module scope of the level it is listed in."""

    node: int
    base: str | None


@dataclass(frozen=True)
class LinkItem:
    """An input that is shown elsewhere (a shared node); `parent` and `index` place this mention."""

    node: int
    parent: int
    index: int


@dataclass(frozen=True)
class FoldItem:
    """Positions `start:stop` of the main line headed by `head`, all inside module `scope`."""

    scope: str
    head: int
    start: int
    stop: int


@dataclass(frozen=True)
class BranchItem:
    """A side input whose main line has several nodes, listed under this item."""

    head: int
    base: str | None


@dataclass(frozen=True)
class MoreItem:
    """Children `offset:stop` of `container`, not listed yet (positions on a main line, or list indices)."""

    container: TopItem | NodeItem | FoldItem | BranchItem
    offset: int
    stop: int


Item = TopItem | NodeItem | LinkItem | FoldItem | BranchItem | MoreItem
TOP = TopItem()


def fold_scope(scope: str | None, base: str | None) -> str | None:
    """The fold a node with `scope` goes into at a level listing `base`, or None when it is listed directly.

    >>> fold_scope("model.head.proj", "model"), fold_scope("model", "model"), fold_scope("model.x", None)
    ('model.head', None, 'model')
    """
    if scope is None or scope == base:
        return None
    # NOTE: the usual case, a scope inside the level's own, without splitting (a 50,000-node trace asks
    # this for every node, most of them in scopes seen once)
    if base is None:
        return scope.partition(".")[0]
    if scope.startswith(base) and scope[len(base):len(base) + 1] == ".":
        return base + "." + scope[len(base) + 1:].partition(".")[0]
    return _fold_scope_elsewhere(scope, base)


@functools.lru_cache(maxsize=1 << 12)
def _fold_scope_elsewhere(scope: str, base: str) -> str | None:
    """`fold_scope` for a scope that is not inside `base`: folded where their paths part."""
    parts = scope.split(".")
    base_parts = base.split(".")
    common = 0
    while common < min(len(parts), len(base_parts)) and parts[common] == base_parts[common]:
        common += 1
    if common == len(parts):
        return None
    return ".".join(parts[:common + 1])
