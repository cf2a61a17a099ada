"""The header every screen shows: the title, then what the screen shows, shortened to fit from the title's side.

Textual's Header cuts the end of `title — sub_title` at its width: at 80 columns `gradscope · run.gstrace —
pass 3 of 8 · 12 nodes · 2 anomalies` lost the anomaly count, the part the screen is about. Here the title gives
way first (its leading parts, then the start of the file name), and the header keeps less room around the icon.
"""

from __future__ import annotations

from textual.app import ComposeResult, RenderResult
from textual.content import Content
from textual.events import Mount
from textual.widgets import Header
from textual.widgets._header import HeaderClockSpace, HeaderIcon, HeaderTitle

TITLE_PARTS = " · "  # between the parts of a title ("gradscope · run.gstrace")
SEPARATOR = " — "  # between the title and the sub-title
KEPT = 8  # characters kept of the title's last part (a file name), after "…", before the sub-title is cut


def fit_title(title: str, sub_title: str, width: int) -> tuple[str, str]:
    """The title and sub-title shortened to fit `width` columns together (with SEPARATOR between them): the title's
    leading parts go first, then the start of its last part, then the end of the sub-title.

    >>> fit_title("gradscope · nan_training_loop.gstrace", "pass 3 of 8 · 12 nodes · 4 anomalies", 60)
    ('…raining_loop.gstrace', 'pass 3 of 8 · 12 nodes · 4 anomalies')
    """
    if not sub_title:
        return (title if len(title) <= width else title[:max(width - 1, 0)] + "…"), ""
    room = width - len(SEPARATOR) - len(sub_title)
    parts = title.split(TITLE_PARTS)
    while len(parts) > 1 and len(TITLE_PARTS.join(parts)) > room:
        parts.pop(0)
    title = TITLE_PARTS.join(parts)
    if len(title) <= room:
        return title, sub_title
    if room >= KEPT + 1:
        return "…" + title[len(title) - room + 1:], sub_title
    title = "…" + title[-KEPT:]
    room = width - len(SEPARATOR) - len(title)
    return title, sub_title[:max(room - 1, 0)] + "…"


class FittedTitle(HeaderTitle):
    """The header's title and sub-title, fitted to the width the title has. A new title (each pass switch) is drawn
    again in this line only: Textual's Header set it here as content, with a layout of the whole screen, though the
    line's size is the header's whatever it says."""

    def render(self) -> RenderResult:
        header = self.parent
        if not isinstance(header, Header):
            return super().render()
        title, sub_title = fit_title(header.screen_title, header.screen_sub_title, self.content_size.width)
        if not sub_title:
            return Content(title)
        return Content.assemble(title, (SEPARATOR, "dim"), (sub_title, "dim"))


class TitleHeader(Header):
    """Textual's Header whose title fits: see the module's docstring."""

    DEFAULT_CSS = """
    TitleHeader HeaderIcon {
        width: 4;
    }
    TitleHeader HeaderClockSpace {
        width: 4;
    }
    """

    def compose(self) -> ComposeResult:
        yield HeaderIcon().data_bind(Header.icon)
        yield FittedTitle()
        yield HeaderClockSpace()

    def _on_mount(self, event: Mount) -> None:
        """Watch the app's and the screen's title and sub-title, as Textual's Header does, but for its failure when the
        title line is gone as they change (a screen mounted ahead, the app quitting meanwhile: NoMatches, the app's
        exit in error): the line, if still there, draws itself again (it reads them as it draws)."""
        event.prevent_default()  # not Header's watchers (nor Widget's handler: a header never scrolls)
        for owner in (self.app, self.screen):
            for name in ("title", "sub_title"):
                self.watch(owner, name, self._titles_changed)

    def _titles_changed(self) -> None:
        for title in self.query(FittedTitle):
            title.refresh()
