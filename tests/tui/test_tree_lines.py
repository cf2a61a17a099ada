"""The graph tree draws its lines as Textual's Tree does, cell for cell (styles, mouse metadata and all), looking up
the styles the lines share once per repaint and keeping the labels' cells for lines drawn again in another guide
style."""

import pytest
from synthetic import synthetic_trace
from textual.widgets import Tree
from tui_helpers import NAN_MODEL, drive, recorded, screen_lines

from gradscope.tui import make_app
from gradscope.tui.items import MoreItem
from gradscope.tui.screens import main
from gradscope.tui.widgets.graph_tree import UNMADE, GraphTree


def assert_drawn_as_tree_draws(graph: GraphTree, what: str) -> None:
    """Every line on the screen (and a blank one past the last), drawn by GraphTree and by Textual's Tree from
    nothing cached, and by GraphTree again from its kept labels: the same segments."""
    width, first = graph.size.width, graph.scroll_offset.y
    for y in range(first, min(first + graph.size.height, graph.last_line + 2)):
        graph._line_cache.clear()
        graph._labels.clear()
        ours = graph._render_line(y, 0, width, graph.rich_style)
        graph._line_cache.clear()
        kept = graph._render_line(y, 0, width, graph.rich_style)
        graph._line_cache.clear()
        textuals = Tree._render_line(graph, y, 0, width, graph.rich_style)
        assert list(ours) == list(textuals), (what, y)
        assert list(kept) == list(textuals), (what, y)
        assert ours.cell_length == textuals.cell_length == width, (what, y)


@pytest.mark.parametrize("no_color", [False, True])
def test_tree_lines_are_drawn_as_textuals_tree_draws_them(monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(synthetic_trace(2_000, passes=2))

    async def scenario(pilot):
        graph = app.screen.query_one(GraphTree)
        assert_drawn_as_tree_draws(graph, "opened")
        # the cursor on a module whose lines are open below it (their guides drawn selected), then deeper
        for keys in (["j"], ["e"], ["j", "j", "j"], ["n"], ["G"], ["g", "l"], ["right_square_bracket"]):
            await pilot.press(*keys)
            await pilot.pause()
            assert_drawn_as_tree_draws(graph, keys)
        await pilot.press("tab")  # the tree without focus: its cursor dimmed, no guide selected
        await pilot.pause()
        assert_drawn_as_tree_draws(graph, "unfocused")
        await pilot.press("shift+tab")
        await pilot.hover(graph, offset=(4, 3))  # a line under the mouse
        await pilot.pause()
        assert graph.hover_line >= 0
        assert_drawn_as_tree_draws(graph, "hover")

    drive(app, scenario)


def test_a_cursor_move_draws_again_only_the_labels_whose_look_changed():
    """Off a module and onto the next, the cursor draws every line under them again (their guides show the
    selection), but no label but the cursor's: the line it left shows its label as before; back again, no label."""
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        graph = app.screen.query_one(GraphTree)
        await pilot.press("j", "j", "e")  # everything open under the model's line
        await pilot.pause()
        assert graph.last_line > 10
        lines, labels = [], []
        draw_line, render_label = graph._draw_line, graph.render_label

        def counted_draw_line(line, *arguments):
            lines.append(line.node)
            return draw_line(line, *arguments)

        def counted_render_label(node, *arguments):
            labels.append(node)
            return render_label(node, *arguments)

        graph._draw_line, graph.render_label = counted_draw_line, counted_render_label
        await pilot.press("j")
        await pilot.pause()
        after = graph.cursor_node
        assert len(lines) > 10  # the lines under the model's line, their guides drawn anew
        assert labels == [after]  # the cursor's label; the one it left is as it was drawn before it came
        lines.clear()
        labels.clear()
        await pilot.press("k")
        await pilot.pause()
        assert len(lines) > 10
        assert labels == []  # both labels as they were drawn before

    drive(app, scenario)


def assert_listed_as_tree_lists(graph: GraphTree, what: str) -> None:
    """GraphTree's list of lines is Textual Tree's: the same paths, last flags, line numbers, width and cursor."""
    graph._build()
    ours = [(tuple(map(id, line.path)), line.last) for line in graph._tree_lines_cached]
    size, cursor = graph.virtual_size, graph.cursor_line
    numbers = [line.node._line for line in graph._tree_lines_cached]
    Tree._build(graph)
    assert ours == [(tuple(map(id, line.path)), line.last) for line in graph._tree_lines_cached], what
    assert numbers == [line.node._line for line in graph._tree_lines_cached] == list(range(len(ours))), what
    assert (size, cursor) == (graph.virtual_size, graph.cursor_line), what


def test_tree_lines_are_listed_as_textuals_tree_lists_them():
    app = make_app(synthetic_trace(2_000, passes=2))

    async def scenario(pilot):
        graph = app.screen.query_one(GraphTree)
        assert_listed_as_tree_lists(graph, "opened")
        for keys in (["j", "e"], ["G"], ["g", "j", "c"], ["n"], ["right_square_bracket"], ["j", "l", "j", "l"]):
            await pilot.press(*keys)
            await pilot.pause()
            assert_listed_as_tree_lists(graph, keys)
        graph.show_root = True  # (the browser never shows the invisible root; Tree's width counts its guides then)
        await pilot.pause()
        assert_listed_as_tree_lists(graph, "root shown")

    drive(app, scenario)


class AddedLineByLine(GraphTree):
    """The graph tree as it was: its lines added with Textual's TreeNode.add, one by one, and expanded by
    TreeNode.expand (GraphTree makes and expands a fold's lines all at once)."""

    def _populate(self, tree_node):
        if tree_node.id in self._populated:
            return
        self._populated.add(tree_node.id)
        for item in self.outline.children(tree_node.data):
            tree_node.add(UNMADE, item, allow_expand=self.outline.expandable(item))

    def _replace_more(self, tree_node, items):
        parent = tree_node.parent
        with self._one_layout():
            for item in items:
                parent.add(UNMADE, item, before=tree_node, allow_expand=self.outline.expandable(item))
            tree_node.remove()

    def _expand_levels(self, level, budget):
        added = 0
        while level and added < budget:
            following = []
            for tree_node in level:
                if added >= budget:
                    break
                if tree_node.allow_expand:
                    self._populate(tree_node)
                    if not tree_node.is_expanded:
                        tree_node.expand()
                        added += len(tree_node.children)
                    following += tree_node.children
            level = following
        return added


def every_line(graph: GraphTree) -> list[tuple]:
    """Each line made, depth first (folded ones too), as it stands: its id, its parent's, its item, its label,
    whether it can expand and is expanded, its place among the lines shown, and the attributes it has."""
    lines = []
    below = [graph.root]
    while below:
        node = below.pop()
        made = {name: value for name, value in vars(node).items()
                if name not in ("_tree", "_parent", "_children", "_label", "_made", "_updates")}  # (the label is
        # compared by its text; _updates is a count of changes, part of the key of drawn lines kept)
        made["attributes"] = sorted(vars(node))
        lines.append((node.id, None if node.parent is None else node.parent.id, node.data, node.label.plain,
                      node.allow_expand, node.is_expanded, node.line, [child.id for child in node.children],
                      sorted(made.items(), key=repr)))
        below += reversed(node.children)
    return lines


def test_lines_made_in_one_go_are_those_treenode_add_makes(monkeypatch):
    """e, c, `… more` and a jump deep down (n) make and expand their lines at once: the same lines, in the same order,
    with the same ids, labels and expand states as TreeNode.add and TreeNode.expand make them one by one; the same
    lines listed and drawn."""
    keys = (["j", "e"], ["c"], ["G"], ["enter"], ["g", "j", "e"], ["n"], ["right_square_bracket"], ["G", "enter"])

    def made(tree_class) -> list:
        monkeypatch.setattr(main, "GraphTree", tree_class)
        app = make_app(synthetic_trace(2_000, passes=2))

        async def scenario(pilot):
            graph = app.screen.query_one(GraphTree)
            assert type(graph) is tree_class
            states = []
            for pressed in keys:
                await pilot.press(*pressed)
                await pilot.pause()
                states.append((every_line(graph), graph.cursor_line, screen_lines(app)))
            return states

        return drive(app, scenario)

    line_by_line, in_one_go = made(AddedLineByLine), made(GraphTree)
    assert len(line_by_line[0][0]) > 1_000  # e made many lines
    assert any(isinstance(line[2], MoreItem) for line in line_by_line[2][0])  # `… more` among them
    for pressed, old, new in zip(keys, line_by_line, in_one_go):
        assert old == new, pressed
