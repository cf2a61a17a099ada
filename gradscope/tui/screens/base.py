"""The browser's screens: Textual's Screen, laid out and painted once where Textual does it twice.

Opening a screen, Textual lays it out and paints it; the layout tells the screen its size, and the screen, told,
lays itself out again at that same size and paints again, and lays out the screen below it too, though nothing of
that one shows. Then its first tick lays it out once more (a scroll bar appears) and paints what moved, and paints
the whole screen again, as the opening asked for. ? took four layouts of the help, one of the main screen and four
paints of 120×40; a screen opened is now laid out once per change and painted once per tick.
"""

from __future__ import annotations

from textual import events
from textual.geometry import Size
from textual.screen import Screen, ScreenResultType


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

    def _on_timer_update(self) -> None:
        """A tick with a layout to do and the whole screen to paint paints once: Textual paints what the layout moved,
        then everything again."""
        if self._layout_required and self._repaint_required and self.outer_size.region in self._repaint_regions:
            self._repaint_required = False
            self._dirty_widgets.add(self)  # the layout paints the screen's regions with its own (the whole screen)
        super()._on_timer_update()

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
