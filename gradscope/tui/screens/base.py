"""The browser's screens: Textual's Screen, laid out and painted once where Textual does it twice.

Opening a screen, Textual lays it out and paints it; the layout tells the screen its size, and the screen, told,
lays itself out again at that same size and paints again, and lays out the screen below it too, though nothing of
that one shows. Then its first tick lays it out once more (a scroll bar appears) and paints what moved, and paints
the whole screen again, as the opening asked for. ? took four layouts of the help, one of the main screen and four
paints of 120×40; a screen opened is now laid out once per change and painted once per tick.
"""

from __future__ import annotations

from textual import _time, events, messages
from textual.geometry import Size
from textual.screen import Screen, ScreenResultType
from textual.widget import Widget


class BrowserScreen(Screen[ScreenResultType]):
    """A screen that covers the terminal (every browser screen but the save and overwrite dialogs, which let the one
    below show through)."""

    def _screen_resized(self, size: Size) -> None:
        """Lay out at a new size: not at the size just laid out at (the layout's own report of the screen's size), and
        not while hidden below a screen that covers it (it lays itself out as it shows again, its size changed)."""
        if self.app.screen is self:
            if self._compositor.size == size:
                return
        elif self.app.screen.styles.background.a == 1:
            return
        super()._screen_resized(size)

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        """Lay out; shown, not once more for the widgets this layout gave a new size that have no scroll bar to show:
        each asks for another layout and paint as Textual tells it its new virtual size, which only decides whether a
        scroll bar shows (overflow auto). A tensor screen opened on another tensor was laid out twice. (Hidden, laid
        out ahead, a screen settles as Textual has it: its widgets answer their new sizes meanwhile.) Shown, the
        widgets whose scroll bars this layout showed or hid are laid out again before the paint (`_lay_out_again`)."""
        shown = self.app.screen is self
        before = {widget: (widget.size, widget._layout_required or widget._repaint_required)
                  for widget in self.walk_children(with_self=False)} if shown else {}
        whole = not (scroll and not self._layout_widgets)  # (else Textual moves the widgets a scroll showed)
        began = _time.get_time()
        self._paint_held = shown and whole and not self.app._batch_count
        try:
            super()._refresh_layout(size, scroll)
        finally:
            held, self._paint_held = self._paint_held is None, False
        if held:
            self._lay_out_again(size, [widget for widget in self._compositor.widgets
                                       if widget._layout_required and not before.get(widget, (None, True))[1]])
        if whole and (self.outer_size if size is None else size):
            self._laid_out_at = began
        for widget in self._compositor.widgets if shown else ():
            size_before, asked = before.get(widget, (None, True))
            if (widget._layout_required and not asked and widget.size != size_before
                    and "auto" not in (widget.styles.overflow_x, widget.styles.overflow_y)):
                widget._layout_required = widget._repaint_required = False  # (this layout painted it at its size)

    _paint_held: bool | None = False  # a layout's paint put off (None once it was: `_lay_out_again` paints)

    def _lay_out_again(self, size: Size | None, resized: list[Widget]) -> None:
        """Lay out again the widgets the layout just made asked for (`resized`: a table that gained or lost its scroll
        bar as it was told its size, and the bar), and paint once: they asked for another layout and paint in the
        next tick (j onto a module, whose table of parameters scrolls, and off it; pagedown; g)."""
        scrolling = [widget for widget in resized if "auto" in (widget.styles.overflow_x, widget.styles.overflow_y)]
        scrolling += [bar for widget in scrolling  # (not the screen's children: Textual keeps them apart)
                      for bar in (widget._vertical_scrollbar, widget._horizontal_scrollbar, widget._scrollbar_corner)
                      if bar is not None and bar._layout_required]
        if scrolling:
            for widget in scrolling:  # what the widget would ask of the screen as idle (Widget._check_refresh)
                widget._layout_required = False
                for ancestor in widget.ancestors:
                    if not isinstance(ancestor, Widget):
                        break
                    ancestor._clear_arrangement_cache()
                    ancestor._layout_updates += 1
                    if not ancestor.styles.auto_dimensions:
                        break
            super()._refresh_layout(size)
        else:
            self._compositor_refresh()

    # ------------------------------------------------------------------------------ requests met already
    # A widget tells the screen it changed by a message, sent as it has nothing else to do: a screen asked to lay out
    # as it opens (`TensorScreen.show`) gets the requests of the widgets that changed only after its first tick, and
    # laid out and painted once more for them
    _laid_out_at = _painted_whole_at = float("-inf")

    async def _on_layout(self, message: messages.Layout) -> None:
        # (Textual's Screen handles it next, unless this one does)
        if message.time < self._laid_out_at:  # the widget's ancestors forgot their arrangement before that layout
            message.stop()
            message.prevent_default()

    async def _on_update(self, message: messages.Update) -> None:
        if message.time < self._painted_whole_at:  # the widget was marked to draw again before that paint
            message.stop()
            message.prevent_default()

    def _compositor_refresh(self) -> None:
        """Paint; the widgets waiting to be drawn again that this paint draws whole are drawn: not once more (a layout
        tells the tree and the pane's table their sizes, and their scroll bars ask to be drawn again, inside the
        regions the layout paints: one more paint, in the next tick)."""
        if self._paint_held:
            self._paint_held = None
            return
        compositor = self._compositor
        painted, waiting = self.app.screen is self, []
        if painted:
            dirty = compositor._dirty_regions
            if compositor.size.region in dirty:
                self._painted_whole_at = _time.get_time()
            waiting = [widget for widget, (region, clip) in compositor.visible_widgets.items()
                       if widget._repaint_required and not widget._layout_required
                       and any(area.contains_region(clip.intersection(region)) for area in dirty)]
        super()._compositor_refresh()
        for widget in waiting:  # (it asked before this paint)
            widget._repaint_required = False
            widget._exchange_repaint_regions()

    def _on_timer_update(self) -> None:
        """A tick with a layout to do and the whole screen to paint paints once: Textual paints what the layout moved,
        then everything again. A tick waits for the requests of widgets that changed (`_post_requests`)."""
        if not self._waited and self.is_current and not self.app._batch_count:
            if self._post_requests() or not self._message_queue.empty():
                self._waited = True  # (once: requests coming without end wait for no tick)
                self._update_timer.pause()  # resumed as the screen is idle again, its requests read
                self.check_idle()  # (the screen's queue may be empty: the requests may have been for no paint)
                return
        self._waited = False
        if self._layout_required and self._repaint_required and self.outer_size.region in self._repaint_regions:
            self._repaint_required = False
            self._dirty_widgets.add(self)  # the layout paints the screen's regions with its own (the whole screen)
        super()._on_timer_update()

    _waited = False  # whether this tick waited for requests once already

    def _post_requests(self) -> bool:
        """Have the widgets that changed and are yet to say so ask the screen to lay them out or draw them now;
        whether any did. A widget asks once it has nothing else to do, and the screen's tick may come first: a key
        that fills the detail pane as the tree's cursor moves (j, n, a search keystroke) drew the tree in one tick
        and the pane in the next, then laid it out in a third."""
        posted = False
        for widget in self.walk_children(Widget, with_self=False):
            if widget.is_mounted and (widget._layout_required or widget._repaint_required or widget._scroll_required):
                widget._check_refresh()
                posted = posted or not (widget._layout_required or widget._repaint_required)
        return posted

    # ------------------------------------------------------------------------------ mounted ahead
    ahead = False
    """Composed, mounted and laid out before it is first shown (`mount_ahead`)."""

    def mount_ahead(self, name: str) -> None:
        """Install this screen as `name`, then compose, mount and lay it out now, hidden, at the app's size: shown later
        (`push_screen(name)`), it opens with one paint. Composed as it opens, a screen is mounted, styled and laid
        out two or three times as its widgets settle (a scroll bar appears, a table measures itself): first opens
        were the slowest keys (?, p, a and P on a 50,000-node trace)."""
        app = self.app
        app.install_screen(self, name)
        self.ahead = True
        app._register(app, self)  # what push_screen does first to a screen not yet running

    @property
    def laid_out_ahead(self) -> bool:
        """Mounted ahead and laid out at the app's size, with no layout asked for since."""
        return self.ahead and self.is_mounted and not self._layout_required and self._compositor.size == self.app.size

    def _on_idle(self, event: events.Idle) -> None:
        # (Textual calls Screen's own handler after this one)
        if self.ahead and self.is_mounted and self.app.screen is not self and not self.app._batch_count:
            size = self.app.size
            if self._layout_required or self._compositor.size != size:  # laid out hidden: nothing painted
                self._layout_required = False
                self._refresh_layout(size)
