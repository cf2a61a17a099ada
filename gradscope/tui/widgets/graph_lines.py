"""How the graph tree draws its lines: as Textual's Tree draws them, cell for cell, with the styles the lines share
looked up once per repaint, the labels' cells kept, and no line drawn again for a change of focus elsewhere."""

from __future__ import annotations

from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets._tree import _TreeLine
from textual.widgets.tree import TreeNode

from gradscope.tui.items import Item

LABELS_KEPT = 1024  # labels drawn, kept for lines drawn again with another guide style (a few screens' worth)


class LineLook(NamedTuple):
    """What every line drawn in one repaint of the tree shares: its width and the styles of its parts (Textual's
    Tree looks each of them up again for every line it draws)."""

    width: int
    base: Style  # the widget's own style
    hover_line: Style  # a line under the mouse
    guides: Style  # the guides' three looks (one of them dimmed), and whether each is hidden
    guides_hover: Style
    guides_selected: Style
    guides_hidden: bool
    hover_hidden: bool
    selected_hidden: bool
    label: Style  # a label's, under the mouse, and the cursor's
    highlight: Style
    cursor: Style
    focused: bool
    drawn_guides: dict[tuple[Style, bool], tuple[str, str, str, str]]  # get_guides' strings, per style


class DrawnLines:
    """Mixin (before Tree in the bases) drawing the lines of a Tree[Item] (the graph tree's); the tree sets
    `_drawn_focused`, `_drawn_look`, `_line_look` and `_labels` (an LRUCache of LABELS_KEPT) as it is made."""

    def notify_style_update(self) -> None:
        """Draw the lines whose look changed again. Textual calls this whenever styles *may* have changed (as focus
        moves anywhere on the screen, for every widget), and its Tree then lists, measures and draws every line
        again: thousands once a few pages are open. Here a change of focus draws the lines that show it again
        (the cursor's, and the guides below it), another change of look all the lines on the screen."""
        Widget.notify_style_update(self)
        look = self._look()
        if look != self._drawn_look:
            self._drawn_look = look
            self._updates += 1  # part of the key of every line in Tree's line cache
            self.refresh()
        elif self.has_focus != self._drawn_focused and self.cursor_node is not None:
            self.cursor_node.refresh()  # part of the key of its line and those below it in Tree's line cache
            self.refresh()
        self._drawn_focused = self.has_focus

    def _look(self) -> tuple[object, ...]:
        """What decides how the lines look, but for the focus: the theme and the other pseudo-classes."""
        return self.app.theme, self.get_pseudo_class_state()._replace(focus=False)

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in `crop`, from Tree's cache of drawn lines where they are in it. Tree keys them by each of
        the widget's pseudo-classes (and sets them here): after a focus change every line missed the cache and was
        drawn again (tab; `/` and escape also resize the tree, after which Tree draws every line anyway). The focus
        is left out of the key: `notify_style_update` draws the lines that show it again."""
        self._pseudo_class_state = self.get_pseudo_class_state()._replace(focus=False)
        self._line_look = self._make_line_look()
        try:
            return ScrollView.render_lines(self, crop)
        finally:
            self._line_look = None

    def _make_line_look(self) -> LineLook:
        guides = self.get_component_rich_style("tree--guides", partial=True)
        hidden = [self.get_component_styles(name).color.a == 0
                  for name in ("tree--guides", "tree--guides-hover", "tree--guides-selected")]
        return LineLook(self.size.width, self.rich_style, self.get_component_rich_style("tree--highlight-line"),
                        guides, guides + self.get_component_rich_style("tree--guides-hover", partial=True),
                        guides + self.get_component_rich_style("tree--guides-selected", partial=True), *hidden,
                        self.get_component_rich_style("tree--label", partial=True),
                        self.get_component_rich_style("tree--highlight", partial=True),
                        self.get_component_rich_style("tree--cursor", partial=False), self.has_focus, {})

    def render_line(self, y: int) -> Strip:
        """Line `y` of the widget (Tree's, with the styles it shares with the other lines looked up once)."""
        look = self._line_look or self._make_line_look()
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(y + scroll_y, scroll_x, scroll_x + look.width, look.base)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """Tree line `y`, from Tree's cache of drawn lines (with Tree's key) or drawn (`_draw_line`)."""
        look = self._line_look or self._make_line_look()
        tree_lines = self._tree_lines
        if y >= len(tree_lines):
            return Strip.blank(look.width, base_style)
        line = tree_lines[y]
        is_hover = self.hover_line >= 0 and any(node._hover for node in line.path)
        key = (y, is_hover, look.width, self._updates, self._pseudo_class_state,
               tuple(node._updates for node in line.path))
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._line_cache[key] = self._draw_line(line, y, is_hover, base_style, look)
        return strip.crop(x1, x2)

    def _draw_line(self, line: _TreeLine[Item], y: int, is_hover: bool, base_style: Style, look: LineLook) -> Strip:
        """Draw a tree line as Textual's Tree does, cell for cell: its guides (their look follows the mouse and the
        cursor's line above them), the label (the expand icon and the item's label, as `render_label` makes them)
        and blanks to the widget's width. The label's cells are kept (`_labels`) for the next time the line is drawn
        with the same label look: the cursor moving onto or off a module draws every line under it again, their
        guides in another style, their labels the same."""
        line_style = (look.hover_line if is_hover else base_style) + Style(meta={"line": y})
        path = line.path
        segments: list[Segment] = []
        hover = path[0]._hover
        selected = path[0]._selected and look.focused
        guide_style, hidden = look.guides, True
        if len(path) > 1:
            end = path[-1]
            for node in path[1:]:
                hidden = look.guides_hidden
                if hover:
                    guide_style, hidden = look.guides_hover, look.hover_hidden
                if selected:
                    guide_style, hidden = look.guides_selected, look.selected_hidden
                if node is not end:
                    space, vertical, _, _ = self._guide_strings(look, guide_style, hidden)
                    segments.append(Segment(space if node.is_last else vertical, line_style + guide_style))
                hover = hover or node._hover
                selected = (selected or node._selected) and look.focused
            _, _, terminator, cross = self._guide_strings(look, guide_style, hidden)
            segments.append(Segment(terminator if line.last else cross, line_style + guide_style))
        guides_width = sum(segment.cell_length for segment in segments)
        label_style = look.label
        if self.hover_line == y:
            label_style += look.highlight
        if self.cursor_line == y:
            label_style += look.cursor
        label, label_width = self._label_segments(line.node, y, line_style, label_style)
        segments += label
        width = guides_width + label_width
        pad_width = max(self.virtual_size.width, look.width)
        if pad_width > width:
            segments.append(Segment(" " * (pad_width - width), line_style))
        return Strip(segments, max(pad_width, width))

    def _guide_strings(self, look: LineLook, style: Style, hidden: bool) -> tuple[str, str, str, str]:
        """The space, vertical, terminator and cross of the guides in `style` (as Tree's `get_guides`)."""
        strings = look.drawn_guides.get((style, hidden))
        if strings is None:
            if self.show_guides and not hidden:
                lines = self.LINES["bold" if style.bold else "double" if style.underline2 else "default"]
            else:
                lines = ("  ", "  ", "  ", "  ")
            depth = max(0, self.guide_depth - 2)
            strings = look.drawn_guides[style, hidden] = tuple(f"{ends[0]}{ends[1] * depth} " for ends in lines)
        return strings

    def _label_segments(self, node: TreeNode[Item], y: int, line_style: Style,
                        label_style: Style) -> tuple[list[Segment], int]:
        """The cells of a line's label, drawn as Tree draws them after the guides, or as they were drawn last time."""
        key = (node._id, y, node._allow_expand, node.is_expanded, line_style, label_style)
        kept = self._labels.get(key)
        made = node._label
        if kept is not None and kept[0] is made:
            return kept[1], kept[2]
        label = self.render_label(node, line_style, label_style).copy()
        label.stylize(Style(meta={"node": node._id}))
        text = Text(style=line_style)
        text.append(label)
        segments = list(text.render(self.app.console))
        self._labels[key] = made, segments, text.cell_len
        return segments, text.cell_len
