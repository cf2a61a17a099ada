"""The footer every screen shows: its keys, drawn again only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's compact Footer (without the command palette key) that keeps its keys while they stay the same.

    Textual's Footer takes itself apart and composes a widget per key again whenever the screen's bindings
    *may* have changed: at every focus change and every return to the screen. That is a new layout and a
    repaint of the whole screen (~30-50 ms on tab, escape and each switch of screens) for a line that, most
    of the time, says what it said before.
    """

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)
        self._shown: tuple[Any, ...] | None = None  # what the keys drawn stand for

    def bindings_changed(self, screen: Screen) -> None:
        shown = self._keys(screen)
        if shown == self._shown and self._bindings_ready:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:  # when Footer composes again
            self._shown = shown
        super().bindings_changed(screen)

    @staticmethod
    def _keys(screen: Screen) -> tuple[Any, ...]:
        """Everything Footer.compose draws the keys from: each key shown, whether it is enabled, its tooltip."""
        return tuple((binding, enabled, tooltip) for _, binding, enabled, tooltip in screen.active_bindings.values()
                     if binding.show)
