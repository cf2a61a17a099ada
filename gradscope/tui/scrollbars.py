"""Scroll bars that take the place a layout gives them without asking for another layout of the screen.

Textual's scroll bars are widgets, and a widget whose size a layout changes asks for the screen to be laid out
again (its virtual size is a reactive that lays out the screen when set). Nothing is laid out from a scroll bar's
size, so that second layout changes nothing, then its repaint asks for a third when another bar moved: the detail
pane's tensor table gains or loses its bars as the cursor moves between a module (many rows, wide) and a node (a
few rows), and each cursor move laid out the screen three times instead of once.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarCorner
from textual.widget import Widget


class PlacedScrollBar(ScrollBar):
    """A scroll bar that takes a new size from a layout without asking for another."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class PlacedScrollBarCorner(ScrollBarCorner):
    """The corner between two `PlacedScrollBar`s, placed the same way."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class PlacedScrollBars:
    """Mixin (before the widget class in the bases) for a scrolling widget whose scroll bars are `PlacedScrollBar`s,
    made when first wanted, hidden, as Textual makes its own."""

    @property
    def vertical_scrollbar(self: Widget) -> ScrollBar:
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = bar = PlacedScrollBar(vertical=True, name="vertical",
                                                             thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    @property
    def horizontal_scrollbar(self: Widget) -> ScrollBar:
        if self._horizontal_scrollbar is None:
            self._horizontal_scrollbar = bar = PlacedScrollBar(vertical=False, name="horizontal",
                                                               thickness=self.scrollbar_size_horizontal)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._horizontal_scrollbar

    @property
    def scrollbar_corner(self: Widget) -> ScrollBarCorner:
        if self._scrollbar_corner is None:
            self._scrollbar_corner = corner = PlacedScrollBarCorner()
            self.app._start_widget(self, corner)
        return self._scrollbar_corner


class PlacedScrollView(PlacedScrollBars):
    """Mixin for a ScrollView (a widget drawing its own lines: the graph tree, the tables): its bars are updated when
    a layout changes its size, or its content's size changed since, not at every layout of the screen. Textual's
    ScrollView compares the size of its content with the one the layout arranged (never the same), so that each
    layout of the screen updated and redrew its bars, and asked for one more repaint of the screen."""

    _bars_for: tuple[object, ...] | None = None

    def _size_updated(self: ScrollView, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        styles = self.styles
        looked_at = (size, self.virtual_size, container_size, styles.gutter, styles.overflow_x, styles.overflow_y,
                     self.scrollbar_size_vertical, self.scrollbar_size_horizontal)
        if looked_at == self._bars_for:
            return False  # what ScrollView's would do, less redrawing its bars the same
        self._bars_for = looked_at
        return super()._size_updated(size, virtual_size, container_size, layout)
