"""The footer every screen shows: the keys of what has focus, on one line drawn by one widget."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

MARGIN = 1  # columns between two keys


@dataclass(frozen=True)
class ShownKey:
    """A key shown: its binding, how it is written, whether it is enabled, its tooltip."""

    binding: Binding
    display: str
    enabled: bool
    tooltip: str

    @property
    def width(self) -> int:
        return cell_len(f"{self.display} {self.binding.description}" if self.binding.description else self.display)


class KeyFooter(Widget, can_focus=False):
    """The keys Textual's compact Footer shows (the first binding shown of each of the screen's active actions, in
    its order), looking as they do there: a click presses one, the pointer on one shows its tooltip, the wheel
    scrolls keys that don't fit.

    Textual's Footer is a widget per key, composed again whenever the screen's bindings *may* have changed (every
    focus change, every return to a screen): each key is styled, measured at every layout of the screen and drawn
    on its own, ~15-25 ms of each screen opened (p, a, P, enter on a tensor; a few percent of a cursor move).
    Here a change of keys is a repaint of one line, and an unchanged set of keys is nothing.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-footer--item", "key-footer--hover", "key-footer--key", "key-footer--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyFooter > .key-footer--item {
        background: $footer-item-background;
    }
    KeyFooter > .key-footer--hover {
        color: $footer-key-foreground;
        background: $block-hover-background;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyFooter > .key-footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[ShownKey] = []
        self._hovered: int | None = None  # the key under the pointer
        self._scroll_x = 0

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if not (screen.app.app_focus and self.is_attached and screen is self.screen):
            return  # as Textual's Footer: its keys wait while the app has no focus
        keys = self._keys(screen)
        if keys != self.keys:
            self.keys, self._hovered, self._scroll_x = keys, None, 0
            self.tooltip = None
            self.refresh()

    def _keys(self, screen: Screen) -> list[ShownKey]:
        keys: dict[str, ShownKey] = {}
        for _, binding, enabled, tooltip in screen.active_bindings.values():
            if binding.show and binding.action not in keys:
                keys[binding.action] = ShownKey(binding, self.app.get_key_display(binding), enabled, tooltip)
        return list(keys.values())

    # ------------------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        blank = Style(bgcolor=self.rich_style.bgcolor)  # between and after the keys, as Textual paints a gap
        segments = []
        for index, key in enumerate(self.keys):
            item = self.get_component_rich_style("key-footer--hover" if index == self._hovered else "key-footer--item")
            if not key.enabled:
                item += Style(dim=True)
            segments.append(Segment(key.display, item + self.get_component_rich_style("key-footer--key", partial=True)))
            if key.binding.description:
                description = self.get_component_rich_style("key-footer--description", partial=True)
                segments.append(Segment(f" {key.binding.description}", item + description))
            segments.append(Segment(" " * MARGIN, blank))
        width = self.size.width
        return Strip(segments).crop(self._scroll_x, self._scroll_x + width).extend_cell_length(width, blank)

    def _key_at(self, x: int) -> int | None:
        start = -self._scroll_x
        for index, key in enumerate(self.keys):
            end = start + key.width
            if start <= x < end:
                return index
            start = end + MARGIN
        return None

    # ------------------------------------------------------------------------------ the mouse
    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self._key_at(event.x))

    def on_leave(self) -> None:
        self._hover(None)

    def _hover(self, index: int | None) -> None:
        if index != self._hovered:
            self._hovered = index
            self.tooltip = None if index is None else self.keys[index].tooltip or None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._key_at(event.x)
        if index is None:
            return
        key = self.keys[index]
        if key.enabled:
            self.app.simulate_key(key.binding.key)
        else:
            self.app.bell()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll(event, 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll(event, -1)

    def _scroll(self, event: events.MouseEvent, direction: int) -> None:
        """Keys that don't fit come into view with the wheel, as in Textual's Footer."""
        overflow = sum(key.width + MARGIN for key in self.keys) - MARGIN - self.size.width
        scroll_x = max(0, min(overflow, self._scroll_x + direction * 2))
        if scroll_x != self._scroll_x:
            self._scroll_x = scroll_x
            self.refresh()
            event.stop()
