"""The footer every screen shows: its keys, redrawn only where the keys it shows change."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

Key = tuple[Binding, bool, str]  # a key shown: its binding, whether it is enabled, its tooltip


class KeyFooter(Footer):
    """Textual's compact Footer (without the command palette key) that keeps its keys while they stay the same,
    and changes the ones that differ in place.

    Textual's Footer takes itself apart and composes a widget per key again whenever the screen's bindings
    *may* have changed: at every focus change and every return to the screen. That is new widgets to style, a
    new layout and a repaint of the whole screen (~20-50 ms on tab, / and escape, and each switch of screens)
    for a line that, most of the time, says what it said before, or a few keys more or less.
    """

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)
        self._shown: list[Key] | None = None  # the keys drawn, once composed

    def bindings_changed(self, screen: Screen) -> None:
        if self._shown is None or any(binding.group is not None for binding, _, _ in self._keys(screen)):
            super().bindings_changed(screen)  # the first time, or keys in groups (drawn as one): composed
            if self._bindings_ready and self.is_attached:
                self.call_after_refresh(self._composed)
        elif screen.app.app_focus and self.is_attached and screen is self.screen:  # when Footer would compose
            self.call_after_refresh(self._update)

    def _composed(self) -> None:
        if self.is_attached:  # not if its screen closed meanwhile
            self._shown = self._keys(self.screen)

    def _keys(self, screen: Screen) -> list[Key]:
        """The keys Footer.compose draws, in its order: the first binding shown of each action."""
        keys: dict[str, Key] = {}
        for _, binding, enabled, tooltip in screen.active_bindings.values():
            if binding.show:
                keys.setdefault(binding.action, (binding, enabled, tooltip))
        return list(keys.values())

    def _update(self) -> None:
        """Draw the keys shown now: each widget drawn again only if its key changed, widgets added or removed
        at the end when there are more or fewer keys."""
        if not self.is_attached:  # its screen closed meanwhile
            return
        keys = self._keys(self.screen)
        if keys == self._shown:
            return
        widgets = list(self.query_children(FooterKey))
        for widget, (old, new) in zip(widgets, zip(self._shown, keys)):
            if old != new:
                self._set_key(widget, new)
        for widget in widgets[len(keys):]:
            widget.remove()
        if len(keys) > len(widgets):
            self.mount_all([self._new_key(key) for key in keys[len(widgets):]])
        self._shown = keys

    def _new_key(self, key: Key) -> FooterKey:
        binding, enabled, tooltip = key
        return FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                         disabled=not enabled, tooltip=tooltip).data_bind(compact=Footer.compact)

    def _set_key(self, widget: FooterKey, key: Key) -> None:
        """Make `widget` show `key`, as if it had been made for it (`_new_key`)."""
        binding, enabled, tooltip = key
        widget.key, widget.key_display = binding.key, self.app.get_key_display(binding)
        widget.description, widget.action = binding.description, binding.action
        widget._disabled = not enabled
        widget.set_class(not enabled, "-disabled")
        widget.tooltip = tooltip or None
        widget.refresh(layout=True)  # its width may change
