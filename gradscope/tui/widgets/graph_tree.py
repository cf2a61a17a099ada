"""The backward graph as a lazily expanded tree (the layout is `Outline`'s; this widget draws it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.segment import Segment
from rich.text import Text, TextType
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Tree
from textual.widgets._tree import _TreeLine
from textual.widgets.tree import TreeNode

from gradscope.tui.items import TOP, Item, LinkItem, MoreItem
from gradscope.tui.keys import movement
from gradscope.tui.outline import Outline
from gradscope.tui.present import Labeller
from gradscope.tui.scrollbars import PlacedScrollView
from gradscope.tui.widgets.graph_lines import LABELS_KEPT, DrawnLines, LineLook

UNMADE = Text()  # the label of a line not drawn (nor read) yet: `GraphLine` makes it when it is

LINE_BUDGET = 80  # on opening, folds are expanded breadth-first until about this many lines show
EXPAND_ALL_BUDGET = 2000  # `e` stops expanding after about this many new lines (a huge graph would take seconds)


class GraphLine(TreeNode[Item]):
    """A line of the graph tree, labelled when its label is first wanted (drawn, or read): `e` adds up to 2,000
    lines and showing a pass ~400 (a page of 200 around the node revealed), of which a screenful is drawn."""

    _made: Text | None = None

    @property
    def _label(self) -> Text:
        if self._made is None:
            self._made = self._tree.label_item(self.data)
        return self._made

    @_label.setter
    def _label(self, label: Text) -> None:
        self._made = None if label is UNMADE else label

    @classmethod
    def unlabelled(cls, tree: Tree[Item], parent: TreeNode[Item], id: int, item: Item,
                   allow_expand: bool) -> GraphLine:
        """A folded line not labelled yet, with what TreeNode.__init__ sets (it passes the label through the tree's
        `process_label` and the setter above: a fifth of the tree's own work for the 2,000 lines e adds)."""
        line = cls.__new__(cls)  # (its attributes set in TreeNode's order: instances of a class share their keys)
        line._tree, line._parent, line._id, line._made, line.data = tree, parent, id, None, item
        line._expanded, line._children, line._hover_, line._selected_ = False, [], False, False
        line._allow_expand, line._updates, line._line = allow_expand, 0, -1
        return line


class GraphTree(DrawnLines, PlacedScrollView, Tree[Item]):
    """Walks one pass of a trace from the loss down to the leaves.

    Children are added only when an item is expanded, so opening a huge trace costs one level.
    """

    BINDINGS = [
        *movement("cursor_up", "cursor_down", "scroll_home", "scroll_end"),
        Binding("l,right", "open_item", "Expand, or go to the first input", show=False),
        Binding("h,left", "close_item", "Collapse, or go to the parent", show=False),
        Binding("enter", "select_cursor", "Expand/collapse; follow a link ↗; show more …", show=False),
        Binding("space", "toggle_node", "Expand/collapse", show=False),
        Binding("e", "expand_all", "Expand everything under the line (up to 2,000 lines)", show=False),
        Binding("c", "collapse_all", "Collapse everything under the line", show=False),
        Binding("shift+space", "toggle_all", "Expand or collapse everything under the line", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to `item`; `node` is the graph node it stands for (a fold's first node), if any."""

        def __init__(self, item: Item, node: int | None) -> None:
            super().__init__()
            self.item = item
            self.node = node

    def __init__(self, outline: Outline, *, id: str | None = None) -> None:
        self._batched = False  # folding many lines at once (see _invalidate), set before Tree calls it
        self._stale = False
        super().__init__("graph", TOP, id=id)
        self.show_root = False
        self.guide_depth = 2
        self.outline = outline
        self._labeller: Labeller | None = None  # made by show_outline, on mount
        self._populated: set[int] = set()
        self._drawn_focused = False  # whether the lines drawn show the tree focused
        self._drawn_look: tuple[object, ...] | None = None  # what else decides how they look (`_look`)
        self._line_look: LineLook | None = None  # set while the tree's lines are drawn (`render_lines`)
        self._labels: LRUCache[tuple[object, ...], tuple[Text, list[Segment], int]] = LRUCache(LABELS_KEPT)

    # ---------------------------------------------------------------------------- building
    def on_mount(self) -> None:
        self.show_outline(self.outline)

    def show_outline(self, outline: Outline, select: int | None = None) -> None:
        """Show another outline (another pass); reveal `select` if it is in it, else the first line."""
        self.outline = outline
        self.border_title = "graph" if outline.pass_index is None else f"graph · pass {outline.pass_index}"
        self._labeller = self.make_labeller(outline)
        self._populated.clear()
        with self._one_layout():
            self.clear()
            self._populate(self.root)
            self.root.expand()
            self._expand_to_budget()
            if select is not None and select in outline:
                self.reveal(select)
            elif self.root.children:
                self.move_cursor(self.root.children[0])
            else:
                self._tell_highlighted(TOP)  # no line to put the cursor on: the screen says why

    def process_label(self, label: TextType) -> Text:
        """A label as the labeller made it, when it is one line of Text (Tree parses and splits it, copying it); a line
        not labelled yet (`UNMADE`, twice for each line added: thousands after e) as it is."""
        if label is UNMADE or isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)

    def get_label_width(self, node: TreeNode[Item]) -> int:
        """Nothing: the tree never scrolls sideways (a line too long for the pane is cut), so its lines are as wide
        as the pane whatever their labels. Textual's Tree measures every line's label (drawing it) each time a line
        is added, expanded or collapsed, for a width to scroll to."""
        return 0

    def _build(self) -> None:
        """List the lines shown (Tree's `_build`: every expanded line's children, depth first), the widest line's
        width from the depth alone: a label's width is nothing here (`get_label_width`), and Tree asked it of every
        line listed (2,000 more after e) and added its guides' width, line by line. A level's lines are listed
        in one loop, left for the level below an expanded line and taken up again after it."""
        lines: list[_TreeLine[Item]] = []
        append, make_line = lines.append, _TreeLine
        deepest, show_root = 0, self.show_root  # (a reactive: slow to read, for every level)
        top = [self.root] if show_root else self.root._children
        levels: list[tuple[list[TreeNode[Item]], list[TreeNode[Item]], int]] = [([], top, 0)]  # path, lines, next
        while levels:
            path, children, index = levels.pop()
            end = len(children)
            each_last = not show_root and not path  # (Tree's: the root's children, when it is hidden)
            if index < end:
                deepest = max(deepest, len(path) + 1)
            while index < end:
                node = children[index]
                index += 1
                child_path = [*path, node]
                node._line = len(lines)
                append(make_line(child_path, each_last or index == end))
                if node._expanded and node._children:
                    levels.append((path, children, index))
                    levels.append((child_path, node._children, 0))
                    break
        self._tree_lines_cached = lines
        width = max(0, deepest - 1) * self.guide_depth if lines else self.size.width
        self.virtual_size = Size(width, len(lines))
        if self.cursor_line != -1:
            if self.cursor_node is not None:
                self.cursor_line = self.cursor_node._line
            if self.cursor_line >= len(lines):
                self.cursor_line = -1

    def _add_node(self, parent: TreeNode[Item] | None, label: Text, data: Item | None,
                  expand: bool = False) -> TreeNode[Item]:
        """A `GraphLine`: labelled when first drawn (Tree's own method, but for the class of its lines)."""
        node = GraphLine(self, parent, self._new_id(), label, data, expanded=expand)
        self._tree_nodes[node._id] = node
        self._updates += 1
        return node

    def label_item(self, item: Item) -> Text:
        """The label of a line for `item`, in the outline shown."""
        return self._labeller(item)

    def _on_resize(self, event: events.Resize) -> None:
        """Keep the lines: a new size changes none of them (those drawn are cached by width, so a new width draws
        them anew). Tree forgets and lists them all again (thousands once a few pages are open), draws them again
        and asks for one more layout of the screen, each time the search line opens or closes (the tree gives it a
        line of its height) and the terminal is resized."""
        event.prevent_default()  # Tree's handler

    def make_labeller(self, outline: Outline) -> Labeller:
        """What labels the items (a subclass marks more, e.g. the diff screen's differing nodes)."""
        return Labeller(outline)

    def _populate(self, tree_node: TreeNode[Item]) -> None:
        """Add the lines of `tree_node`'s items, the first time it is expanded."""
        if tree_node._id in self._populated:
            return
        self._populated.add(tree_node._id)
        items = self.outline.children(tree_node.data)
        if items:
            tree_node._children += self._new_lines(tree_node, items)
            tree_node._updates += 1
            self._invalidate()

    def _new_lines(self, parent: TreeNode[Item], items: list[Item]) -> list[GraphLine]:
        """Lines for `items` under `parent`, folded, for the caller to insert among its children at once: what
        TreeNode.add makes line by line (it also asks the tree to lay itself out after each; `e` adds 2,000)."""
        expandable, tree_nodes, lines = self.outline.expandable, self._tree_nodes, []
        for item in items:
            line = GraphLine.unlabelled(self, parent, self._current_id, item, expandable(item))
            self._current_id += 1  # (Tree's _new_id)
            tree_nodes[line._id] = line
            lines.append(line)
        self._updates += 1  # (Tree's _add_node counts each)
        return lines

    def _expand_to_budget(self) -> None:
        self._expand_breadth_first(list(self.root.children), LINE_BUDGET - len(self.root.children))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Item]) -> None:
        self._populate(event.node)

    def _replace_more(self, tree_node: TreeNode[Item], items: list[Item]) -> None:
        """Put `items` where a "… more" line was."""
        parent = tree_node.parent
        with self._one_layout():
            index = parent._children.index(tree_node)
            parent._children[index:index] = self._new_lines(parent, items)
            parent._updates += 1
            tree_node.remove()

    # ---------------------------------------------------------------------------- moving
    @property
    def cursor_item(self) -> Item | None:
        """The item under the cursor, if any."""
        cursor = self.cursor_node
        return None if cursor is None else cursor.data

    @property
    def current_node(self) -> int | None:
        """The graph node under the cursor (a fold's first node), if any."""
        cursor = self.cursor_node
        return None if cursor is None else self.outline.first_node(cursor.data)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Item]) -> None:
        item = event.node.data
        if isinstance(item, LinkItem):
            self.reveal(item.node)
        elif isinstance(item, MoreItem):
            line = event.node.line
            self._replace_more(event.node, self.outline.children(item))
            self.move_cursor_to_line(line)

    def reveal(self, node_id: int) -> bool:
        """Expand the items down to `node_id`'s home and put the cursor on it; False if it isn't in this pass."""
        if node_id not in self.outline:
            return False
        tree_node = self.root
        with self._one_layout():
            for item in self.outline.path(node_id):
                self._populate(tree_node)
                tree_node.expand()
                tree_node = self._find_child(tree_node, item)
        self.move_cursor(tree_node)
        self.scroll_to_node(tree_node, animate=False)
        return True

    def _find_child(self, parent: TreeNode[Item], item: Item) -> TreeNode[Item]:
        for child in parent.children:
            if child.data == item:
                return child
        offset = self.outline.offset_in(parent.data, item)
        for child in parent.children:
            more = child.data
            if isinstance(more, MoreItem) and offset is not None and more.offset <= offset < more.stop:
                self._replace_more(child, self.outline.split(more, offset))
                return next(child for child in parent.children if child.data == item)
        raise LookupError(f"{item} is not listed under {parent.data}")

    def move_cursor(self, node: TreeNode[Item] | None, animate: bool = False) -> None:
        _ = self.last_line  # lay out the lines first: nodes added since the last refresh have no line yet
        super().move_cursor(node, animate)

    def scroll_to_line(self, line: int, animate: bool = False) -> None:
        """Scroll to a line at once, whatever asks (Tree animates g, G and the page keys): an animated jump draws
        the tree again at each of its frames (~5 for a page or more, each a screen of lines never looked at) and
        lands later."""
        super().scroll_to_line(line, animate=False)

    def action_open_item(self) -> None:
        cursor = self.cursor_node
        if cursor is None:
            return
        if cursor.allow_expand and not cursor.is_expanded:
            cursor.expand()
        elif cursor.allow_expand and cursor.children:
            self.move_cursor(cursor.children[0])

    def action_close_item(self) -> None:
        cursor = self.cursor_node
        if cursor is None:
            return
        if cursor.allow_expand and cursor.is_expanded:
            cursor.collapse()
        elif cursor.parent is not None and cursor.parent is not self.root:
            self.move_cursor(cursor.parent)

    def action_expand_all(self) -> None:
        """Expand the items under the cursor breadth-first, up to EXPAND_ALL_BUDGET new lines."""
        cursor = self.cursor_node
        if cursor is None:
            return
        added = self._expand_breadth_first([cursor], EXPAND_ALL_BUDGET)
        if added >= EXPAND_ALL_BUDGET:
            self.notify(f"expanded {added:,} lines; deeper items stay folded (e on one of them goes on)")

    def _invalidate(self) -> None:
        """Tree forgets its lines, the lines it drew and lays itself out again after each line added, expanded or
        collapsed; while many are (`_one_layout`), it lists them again when asked, and the rest happens once at
        the end."""
        if self._batched:
            self._tree_lines_cached = None
            self._stale = True
        else:
            super()._invalidate()

    def post_message(self, message: Message) -> bool:
        """Post a message, but not the one Textual's Tree posts for each line expanded or collapsed while many
        are (`_one_layout`): whoever expands them there populates them, and nothing else listens (thousands of
        messages after e, most of its time). The cursor's move goes to the screen at once, as `Highlighted`:
        Textual's NodeHighlighted went through this widget's queue, then its parents', and the screen heard of it
        after the tree's own request to be drawn again. It drew the tree, then filled the detail pane for the line
        and drew that in another tick (j, n, a search keystroke)."""
        if self._batched and isinstance(message, (Tree.NodeExpanded, Tree.NodeCollapsed)):
            return True
        if isinstance(message, Tree.NodeHighlighted):
            if self.is_attached:  # (else it is Tree's move onto its hidden root as it is made: `show_outline` tells)
                self._tell_highlighted(message.node.data)
            return True
        return super().post_message(message)

    def _tell_highlighted(self, item: Item) -> None:
        self.screen.post_message(self.Highlighted(item, self.outline.first_node(item)).set_sender(self))

    @contextmanager
    def _one_layout(self) -> Iterator[None]:
        """Add, expand and collapse many lines, laying the lines out once afterwards (once for the outermost)."""
        if self._batched:
            yield
            return
        self._batched, self._stale = True, False
        try:
            yield
        finally:
            self._batched = False
            if self._stale:
                self._invalidate()

    def _expand_breadth_first(self, level: list[TreeNode[Item]], budget: int) -> int:
        """Expand `level` and the levels below until `budget` lines were added; how many were added."""
        with self._one_layout():
            return self._expand_levels(level, budget)

    def _expand_levels(self, level: list[TreeNode[Item]], budget: int) -> int:
        """Expand the lines as TreeNode.expand does, but for its message, which nothing would read here
        (`post_message`), and the layout, laid out once at the end (`_one_layout`)."""
        added, expanded = 0, False
        while level and added < budget:
            following: list[TreeNode[Item]] = []
            for tree_node in level:
                if added >= budget:
                    break
                if tree_node._allow_expand:
                    self._populate(tree_node)
                    if not tree_node._expanded:
                        tree_node._expanded = True
                        tree_node._updates += 1
                        added += len(tree_node._children)
                        expanded = True
                    following += tree_node._children
            level = following
        if expanded:
            self._invalidate()
        return added

    def action_toggle_all(self) -> None:
        """shift+space, in the terminals that send it (most send a plain space)."""
        cursor = self.cursor_node
        if cursor is not None and cursor.is_expanded:
            self.action_collapse_all()
        else:
            self.action_expand_all()

    def action_collapse_all(self) -> None:
        """Collapse the item under the cursor and everything under it: the expanded ones (Textual's
        collapse_all posts a message for every line under it, thousands after e)."""
        cursor = self.cursor_node
        if cursor is None or not cursor.allow_expand:
            return
        with self._one_layout():
            below = [cursor]
            while below:
                tree_node = below.pop()
                below += tree_node.children  # a folded line may hide expanded ones
                if tree_node.is_expanded:
                    tree_node.collapse()
