"""How one backward pass is laid out as a foldable tree (no Textual here: the graph tree widget draws it).

A backward graph is a DAG; the browser shows it as a tree from the loss down to the leaves:

- **Main lines.** Each node's *main input* is its tallest non-leaf input (the longest chain to the
  leaves). A node's main input is listed right below it at the same level, so a deep network reads
  as a column instead of a staircase; its other inputs (parameters, side branches) are nested under it.
- **Shared nodes appear once.** A node reached again is shown as a link to where it lives (its
  *home*). Homes are assigned so that main lines are claimed before side branches, which keeps the
  trunk of a residual network in one column.
- **Folds.** Consecutive nodes of a main line that belong to the same module scope are folded into
  one item (`model.encoder`), nested by scope depth.
- **Pages.** No level lists more than `PAGE` items at once; a `MoreItem` stands for the rest, and
  can be split to list a page deep inside it. With lazy expansion this is what lets a 50,000-node
  trace open instantly.

The items (gradscope.tui.items) are small frozen dataclasses, so a tree node's item identifies it,
and `path(node)` gives the items to expand to reveal a node.
"""

from __future__ import annotations

import functools
from bisect import bisect_right

from gradscope.trace.model import Trace
from gradscope.tui.items import BranchItem, FoldItem, Item, LinkItem, MoreItem, NodeItem, TopItem, fold_scope

PAGE = 200


class Outline:
    """The tree layout of pass `pass_index` of `trace` (see the module docstring).

    >>> outline = Outline(trace)
    >>> outline.children(TOP)      # the items listed at the top level
    >>> outline.path(culprit_id)   # the items to expand, top-down, to reach a node
    """

    def __init__(self, trace: Trace, pass_index: int = -1) -> None:
        self.trace = trace
        self.pass_index = pass_index % len(trace.passes) if trace.passes else None
        self.roots = self._roots()
        # NOTE: per-node sequences are tuples of ints, which the garbage collector stops tracking: a
        # 50,000-node layout held in lists would be walked by every full collection, tens of milliseconds
        # landing on random keypresses
        self._children: dict[int, tuple[int, ...]] = {}
        self._main: dict[int, int | None] = {}  # node → its tallest non-leaf input
        self._measure()
        self.home: dict[int, int | None] = {}  # node → the node it is listed under (None for roots)
        self.place: dict[int, tuple[int, int]] = {}  # node → (head of its main line, position on it)
        self.runs: dict[int, tuple[int, ...]] = {}  # head → its main line
        self._claim()
        self._cumulative = self._weights()
        self._order: list[int] | None = None
        self._bounds_cache: dict[tuple[int, int, int, str | None], list[int]] = {}
        self._haystack: dict[int, str] | None = None  # node → its searchable text, in display order
        self._last_search: tuple[str, list[int]] = ("", [])

    # ------------------------------------------------------------------------------ building
    def _roots(self) -> list[int]:
        if self.pass_index is not None:
            return list(dict.fromkeys(self.trace.passes[self.pass_index].roots))
        used = {child for node in self.trace.nodes.values() for child, _ in node.next if child is not None}
        return sorted((node_id for node_id in self.trace.nodes if node_id not in used), reverse=True)

    def _measure(self) -> None:
        """Find each node's inputs and its main input (the one with the longest chain to a leaf).

        Heights are computed without recursion, seeded in the order backward ran (inputs after the
        nodes that use them), so each node is usually done in a single step.
        """
        nodes, children, main = self.trace.nodes, self._children, self._main
        height: dict[int, int] = {}
        waiting: set[int] = set()  # nodes put off until their inputs are done; in a damaged trace file
        # an input can be one of them (a cycle), and that edge is ignored
        ran = self.trace.passes[self.pass_index].order if self.pass_index is not None else []
        for seed in [*reversed(ran), *self.roots]:
            if seed in height:
                continue
            stack = [seed]
            while stack:
                node = stack[-1]
                if node in height:  # reached twice before it was done
                    stack.pop()
                    continue
                inputs = children.get(node)
                if inputs is None:
                    inputs = children[node] = tuple([child for child, _ in nodes[node].next if child is not None])
                best, best_height, pending = None, 0, False
                for child in inputs:
                    child_height = height.get(child)
                    if child_height is None:
                        if child not in waiting:
                            stack.append(child)
                            pending = True
                    elif child_height > best_height:  # leaves have height 0, so they are never the main input
                        best, best_height = child, child_height
                if pending:
                    waiting.add(node)
                    continue
                stack.pop()
                height[node] = best_height + 1 if inputs else 0
                main[node] = best

    def _claim(self) -> None:
        """Give every node its home: whole main lines first, then side inputs in display order."""
        place, home, runs, main, children = self.place, self.home, self.runs, self._main, self._children
        for root in self.roots:
            stack: list[tuple[int, int | None]] = [(root, None)]
            while stack:
                head, parent = stack.pop()
                if head in place:
                    continue
                home[head] = parent
                place[head] = (head, 0)
                run = [head]
                previous, following = head, main[head]
                while following is not None and following not in place:
                    home[following] = previous
                    place[following] = (head, len(run))
                    run.append(following)
                    previous, following = following, main[following]
                runs[head] = tuple(run)
                successor = None
                for node in reversed(run):  # pushed last to first, so the first node's inputs come off first
                    stack.extend((child, node) for child in reversed(children[node])
                                 if child != successor and child not in place)
                    successor = node

    def _weights(self) -> dict[int, tuple[int, ...]]:
        """For each main line, cumulative counts of the nodes listed at or under each position."""
        side_total: dict[int, int] = {}
        cumulative: dict[int, tuple[int, ...]] = {}
        for head in reversed(list(self.runs)):  # side lines were claimed after the line they hang from
            sums = [0]
            for node in self.runs[head]:
                sums.append(sums[-1] + 1 + side_total.get(node, 0))
            cumulative[head] = tuple(sums)
            parent = self.home[head]
            if parent is not None:
                side_total[parent] = side_total.get(parent, 0) + sums[-1]
        return cumulative

    @property
    def order(self) -> list[int]:
        """Every node in the order the fully expanded tree lists it (computed on first use)."""
        if self._order is None:
            order = []
            stack = [root for root in reversed(self.roots) if self.place[root] == (root, 0) and self.home[root] is None]
            while stack:
                node = stack.pop()
                order.append(node)
                head, position = self.place[node]
                run = self.runs[head]
                if position + 1 < len(run):
                    stack.append(run[position + 1])
                stack.extend(reversed(self.side_heads(node)))
            self._order = order
        return self._order

    # ------------------------------------------------------------------------------ queries
    def __contains__(self, node_id: int) -> bool:
        return node_id in self.place

    def __len__(self) -> int:
        return len(self.place)

    def scope(self, node_id: int) -> str | None:
        return self.trace.nodes[node_id].scope

    def side_heads(self, node_id: int) -> list[int]:
        """The inputs listed under `node_id` that live there (each heads its own main line)."""
        return list(dict.fromkeys(child for child in self._children[node_id]
                                  if self.home.get(child) == node_id and self.place[child] == (child, 0)))

    def count(self, item: Item) -> int:
        """How many nodes live at or under `item`."""
        if isinstance(item, FoldItem):
            sums = self._cumulative[item.head]
            return sums[item.stop] - sums[item.start]
        if isinstance(item, BranchItem):
            return self._cumulative[item.head][-1]
        if isinstance(item, NodeItem):
            head, position = self.place[item.node]
            sums = self._cumulative[head]
            return sums[position + 1] - sums[position]
        if isinstance(item, TopItem):
            return len(self.place)
        if isinstance(item, MoreItem):
            segment = self._segment(item.container)
            if segment is None:
                return item.stop - item.offset
            sums = self._cumulative[segment[0]]
            return sums[item.stop] - sums[item.offset]
        return 0

    def expandable(self, item: Item) -> bool:
        if isinstance(item, NodeItem):  # it lists its inputs but its main one, which is listed below it
            head, position = self.place[item.node]
            main_input_below = position + 1 < len(self.runs[head])
            return len(self._children[item.node]) > main_input_below
        return isinstance(item, (TopItem, FoldItem, BranchItem))

    def _segment(self, container: Item) -> tuple[int, int, int, str | None] | None:
        """(head, start, stop, base) when `container` lists part of a main line, else None (it lists inputs)."""
        if isinstance(container, TopItem) and len(self.roots) == 1:
            return self.roots[0], 0, len(self.runs[self.roots[0]]), None
        if isinstance(container, FoldItem):
            return container.head, container.start, container.stop, container.scope
        if isinstance(container, BranchItem):
            return container.head, 0, len(self.runs[container.head]), container.base
        return None

    def lists_nodes(self, container: Item) -> bool:
        """Whether `container` lists part of a main line (so a MoreItem in it counts nodes, not inputs)."""
        return self._segment(container) is not None

    def children(self, item: Item) -> list[Item]:
        """The items listed under `item`: at most PAGE of them, then a MoreItem for the rest."""
        offset, stop = 0, None
        if isinstance(item, MoreItem):
            item, offset, stop = item.container, item.offset, item.stop
        segment = self._segment(item)
        if segment is not None:
            head, start, end, base = segment
            bounds = self._boundaries(head, start, end, base)
            stop = end if stop is None else stop
            index = bisect_right(bounds, max(offset, start)) - 1
            items: list[Item] = []
            while bounds[index] < stop:
                if len(items) == PAGE:
                    items.append(MoreItem(item, bounds[index], stop))
                    break
                items.append(self._group(head, bounds[index], bounds[index + 1], base))
                index += 1
            return items
        entries = self._list_entries(item)
        stop = len(entries) if stop is None else stop
        page = entries[offset:min(stop, offset + PAGE)]
        if offset + PAGE < stop:
            page.append(MoreItem(item, offset + PAGE, stop))
        return page

    def offset_in(self, container: Item, item: Item) -> int | None:
        """Where `item` sits among `container`'s children (a position or an index), or None."""
        segment = self._segment(container)
        if segment is None:
            entries = self._list_entries(container)
            return entries.index(item) if item in entries else None
        if isinstance(item, FoldItem):
            return item.start if item.head == segment[0] else None
        if isinstance(item, NodeItem):
            head, position = self.place[item.node]
            return position if head == segment[0] else None
        return None

    def split(self, more: MoreItem, offset: int) -> list[Item]:
        """The items replacing `more` so that the child at `offset` is listed: a gap before it, a page from it."""
        before = [MoreItem(more.container, more.offset, offset)] if offset > more.offset else []
        return before + self.children(MoreItem(more.container, offset, more.stop))

    def _list_entries(self, item: TopItem | NodeItem) -> list[Item]:
        """Inputs under a node (or the roots, when there are several): where they live, or links."""
        if isinstance(item, TopItem):
            parent, base, inputs = -1, None, self.roots
        else:
            parent, base, inputs = item.node, item.base, self._children[item.node]
            head, position = self.place[item.node]
            run = self.runs[head]
            successor = run[position + 1] if position + 1 < len(run) else None
            inputs = list(inputs)
            if successor is not None:
                inputs.remove(successor)
        entries: list[Item] = []
        listed = set()
        for index, child in enumerate(inputs):
            lives_here = self.place[child] == (child, 0) and self.home[child] == (None if parent == -1 else parent)
            if lives_here and child not in listed:
                listed.add(child)
                entries.append(self.entry(child, base))
            else:
                entries.append(LinkItem(child, parent, index))
        return entries

    def entry(self, head: int, base: str | None) -> NodeItem | FoldItem | BranchItem:
        """How a side line (or one of several roots) is listed: a node, a fold covering it, or a branch."""
        length = len(self.runs[head])
        if length == 1:
            return NodeItem(head, base)
        group = self._group(head, 0, self._boundaries(head, 0, length, base)[1], base)
        return group if isinstance(group, FoldItem) and group.stop == length else BranchItem(head, base)

    def _boundaries(self, head: int, start: int, stop: int, base: str | None) -> list[int]:
        """Where each group of positions start:stop of a main line begins (and `stop`): consecutive nodes
        folding into the same scope form one group, a node listed directly is a group of its own."""
        segment = (head, start, stop, base)
        bounds = self._bounds_cache.get(segment)
        if bounds is None:
            nodes, run = self.trace.nodes, self.runs[head]
            bounds = [start]
            scope = nodes[run[start]].scope if start < stop else None
            key = fold_scope(scope, base)
            for position in range(start + 1, stop):
                following = nodes[run[position]].scope
                if following != scope:  # neighbours usually share a scope: no need to fold it again
                    scope, previous = following, key
                    key = fold_scope(scope, base)
                    if key is None or key != previous:
                        bounds.append(position)
                elif key is None:
                    bounds.append(position)
            bounds.append(stop)
            self._bounds_cache[segment] = bounds
        return bounds

    def _group(self, head: int, start: int, stop: int, base: str | None) -> NodeItem | FoldItem:
        run = self.runs[head]
        key = fold_scope(self.scope(run[start]), base)
        sums = self._cumulative[head]
        if key is None or sums[stop] - sums[start] == 1:
            return NodeItem(run[start], base)
        return FoldItem(key, head, start, stop)

    def path(self, node_id: int) -> list[Item]:
        """The items from the top level down to `node_id`'s own item (pages not included)."""
        segments = []
        node = node_id
        while True:
            head, position = self.place[node]
            segments.append((head, position))
            parent = self.home[head]
            if parent is None:
                break
            node = parent
        segments.reverse()
        items: list[Item] = []
        base = None
        for index, (head, position) in enumerate(segments):
            if index == 0 and len(self.roots) == 1:
                items += self._path_in_line(head, position, None, 0, len(self.runs[head]))
            else:
                entry = self.entry(head, base)
                if isinstance(entry, BranchItem):
                    items.append(entry)
                if isinstance(entry, NodeItem):
                    items.append(entry)
                else:
                    items += self._path_in_line(head, position, base, 0, len(self.runs[head]))
            base = items[-1].base
        return items

    def _path_in_line(self, head: int, position: int, base: str | None, start: int, stop: int) -> list[Item]:
        run = self.runs[head]
        items: list[Item] = []
        while True:
            bounds = self._boundaries(head, start, stop, base)
            index = bisect_right(bounds, position) - 1
            group = self._group(head, bounds[index], bounds[index + 1], base)
            if not isinstance(group, FoldItem):
                items.append(NodeItem(run[position], base))
                return items
            items.append(group)
            base, start, stop = group.scope, group.start, group.stop

    @functools.cached_property
    def culprit_ancestors(self) -> frozenset[Item]:
        """The items above a culprit node of this pass: the folds and branches to expand to reach one (their
        lines are marked). Laid out with the pass when it is prepared ahead (`MainScreen`): the paths down a
        50,000-node trunk cost tens of milliseconds."""
        culprits = [anomaly.node for anomaly in self.trace.culprits() if anomaly.node in self]
        return frozenset(item for culprit in culprits for item in self.path(culprit)[:-1])

    def first_node(self, item: Item) -> int | None:
        """The node an item starts with (what its gradient indicator shows)."""
        if isinstance(item, (NodeItem, LinkItem)):
            return item.node
        if isinstance(item, FoldItem):
            return self.runs[item.head][item.start]
        if isinstance(item, BranchItem):
            return item.head
        return None

    def search(self, query: str) -> list[int]:
        """Nodes whose name, op, scope or parameter name contains `query` (any case), in display order."""
        needle = query.strip().lower()
        if not needle:
            return []
        if self._haystack is None:
            nodes = self.trace.nodes
            self._haystack = {node_id: "\n".join((nodes[node_id].name, nodes[node_id].op, nodes[node_id].scope or "",
                                                  nodes[node_id].leaf_name or "")).lower()
                              for node_id in self.order}
        last_needle, last_matches = self._last_search
        candidates = last_matches if last_needle and needle.startswith(last_needle) else self._haystack
        matches = [node_id for node_id in candidates if needle in self._haystack[node_id]]
        self._last_search = (needle, matches)
        return matches
