"""Every key binding of the browser, gathered from the screens and widgets themselves so it never drifts."""

from __future__ import annotations

import dataclasses

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.strip import Strip
from textual.widgets import Static, Tree

from gradscope.tui.keys import KeyScroll
from gradscope.tui.lines import Lines
from gradscope.tui.screens.anomalies import AnomaliesScreen
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.screens.diff import DiffScreen
from gradscope.tui.screens.loading import LoadingScreen
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.screens.overwrite import OverwriteScreen
from gradscope.tui.screens.parameters import ParametersScreen
from gradscope.tui.screens.passes import PassesScreen
from gradscope.tui.screens.save import SaveScreen
from gradscope.tui.screens.tensor import TensorScreen
from gradscope.tui.widgets.anomaly_list import AnomalyList
from gradscope.tui.widgets.graph_tree import GraphTree
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.line_table import LineTable
from gradscope.tui.widgets.parameters_table import ParametersTable
from gradscope.tui.widgets.pass_list import PassList
from gradscope.tui.widgets.search_bar import SearchBar
from gradscope.tui.widgets.tensor_table import TensorTable
from gradscope.tui.widgets.title_header import TitleHeader

LAYOUT = (
    "The tree starts at the loss. Each node's main input (its longest chain) is listed right below it at the "
    "same level; its other inputs (parameters, side branches) are nested under it. Consecutive nodes of one "
    "module are folded under the module's name. A node used in several places is listed once; the other places "
    "link to it (↗, enter follows the link). ‖x‖ is the norm of the gradient that flowed into a node, ✗ counts "
    "non-finite values, ◀ culprit marks the node that made the first non-finite value; a module's line shows "
    "the module (its parameters and their gradients) in the detail pane. The focused pane has a heavy top rule. "
    "A trace with several backward passes opens on the first pass with an anomaly; passes count from 0."
)
MOUSE = [("click", "select a line, a row or a tab; click a column header to sort"),
         ("wheel", "scroll")]


class Drawn:
    """A Rich renderable drawn at its natural width when the pane has room for it (once, whatever the pane's width,
    and possibly ahead: `prepare`), else at the pane's width: a Rich Table measures all its cells each time it is
    drawn."""

    UNBOUNDED = 1 << 16

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._natural: Measurement | None = None  # its widths given all the room it wants
        self._lines: dict[int, list[Strip]] = {}

    def _natural_width(self, console: Console, options: ConsoleOptions) -> Measurement:
        if self._natural is None:
            self._natural = Measurement.get(console, options.update_width(self.UNBOUNDED), self.renderable)
        return self._natural

    def lines(self, console: Console, options: ConsoleOptions) -> list[Strip]:
        """Its lines at `options`' width, whatever the height asked for."""
        width = min(options.max_width, self._natural_width(console, options).maximum)
        lines = self._lines.get(width)
        if lines is None:
            lines = self._lines[width] = [Strip(line) for line in console.render_lines(
                self.renderable, options.update(width=width, height=None), pad=False)]
        return lines

    def prepare(self, console: Console, room: int) -> None:
        """Draw it at its natural width if that is at most `room`."""
        options = console.options.update(highlight=False)
        if self._natural_width(console, options).maximum <= room:
            self.lines(console, options.update_width(room))


class HelpText(Lines):
    """The help's blocks one below the other, a blank line after each, drawn once for each width (see `Lines`: the
    help opens with four layouts, ~150 lines each, at two widths: before its scroll bar shows and after)."""

    def __init__(self, blocks: list[RenderableType]) -> None:
        self.blocks = [Drawn(block) for block in blocks]
        super().__init__(lambda width: Group(*(part for block in self.blocks for part in (block.renderable, Text()))))

    def draw_lines(self, console: Console, options: ConsoleOptions) -> list[Strip]:
        return [line for block in self.blocks for line in (*block.lines(console, options), Strip([]))]

    def prepare(self, console: Console, room: int) -> None:
        """Draw the blocks that fit in `room` columns (the tables, in a pane as wide as the terminal) ahead, so that
        the help opens with only the paragraph left to wrap: a thread may run this while the user reads the first
        screen (the tables are ~60% of the time ? takes, the first time)."""
        for block in self.blocks:
            block.prepare(console, room)


def help_text(app: App) -> HelpText:
    """The help's paragraph and tables, in order, for `app`'s bindings and key names."""
    mouse = Table(title="mouse", title_justify="left", box=None, show_header=False, title_style="bold")
    for key, description in MOUSE:
        mouse.add_row(Text(key, style="bold"), description)
    tables = [_table(app, title, bindings) for title, bindings in sections(app)]
    return HelpText([Text(LAYOUT), *tables, mouse])


def sections(app: App) -> list[tuple[str, list[BindingType]]]:
    focus = [Binding("tab", "", "Move focus: tree → detail pane → tensor table"),
             Binding("shift+tab", "", "Move focus back")]
    return [
        ("everywhere", [*app.BINDINGS, Binding(app.COMMAND_PALETTE_BINDING, "", "Command palette"), *focus]),
        ("graph browser", MainScreen.BINDINGS),
        ("graph tree", [*Tree.BINDINGS, *GraphTree.BINDINGS]),
        ("search line", [Binding("enter", "", "Next match"), *SearchBar.BINDINGS]),
        ("detail pane", KeyScroll.BINDINGS),
        ("tensor table (in the detail pane)",
         [*LineTable.BINDINGS, *TensorTable.BINDINGS]),
        ("parameters", [*ParametersScreen.BINDINGS, *LineTable.BINDINGS, *ParametersTable.BINDINGS]),
        ("anomalies", [*AnomaliesScreen.BINDINGS, *AnomalyList.BINDINGS,
                       Binding("enter", "", "Go to the anomaly's node")]),
        ("passes", [*PassesScreen.BINDINGS, *PassList.BINDINGS, Binding("enter", "", "Show the pass")]),
        ("tensor", [*TensorScreen.BINDINGS, *KeyScroll.BINDINGS]),
        ("differences (browse A B)", DiffScreen.BINDINGS),
        ("while recording", LoadingScreen.BINDINGS),
        ("saving", [Binding("enter", "", "Save; over an existing file only if you answer y, never over the script"),
                    *SaveScreen.BINDINGS]),
        ("file exists: overwrite it?", OverwriteScreen.BINDINGS),
    ]


ARROWS = frozenset("↑↓←→")


def _table(app: App, title: str, bindings: list[BindingType]) -> Table:
    table = Table(title=title, title_justify="left", box=None, show_header=False, title_style="bold")
    table.add_column(min_width=14)
    table.add_column()
    described: dict[str, str] = {}  # a later binding of the same key overrides (as in a subclass)
    for binding in Binding.make_bindings(bindings):
        key = app.get_key_display(dataclasses.replace(binding, key_display=None))
        described[key] = binding.tooltip or binding.description
    rows: dict[str, list[str]] = {}
    for key, description in described.items():
        rows.setdefault(description, []).append(key)
    for description, keys in rows.items():
        # the arrows after the letters, in every table alike ("k / ↑": Textual's tree binds ↑ before our k)
        keys.sort(key=lambda key: key in ARROWS)
        table.add_row(Text(" / ".join(keys), style="bold"), description)
    return table


class HelpScreen(BrowserScreen[None]):
    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape,question_mark", "dismiss", "Close help")]

    def __init__(self, text: HelpText) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with KeyScroll(id="help"):
            # NOTE: one widget for all of it: a widget per table made each layout (six as the help opens) measure
            # sixteen widgets' heights, and the screen's first paint ~30 ms longer
            yield Static(self.text, id="help-text")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "help"

    def on_screen_suspend(self) -> None:
        """Back to the top as the help closes, so that it opens there next time (the app keeps this screen); a
        scroll still running (end scrolls for a second) stops here, instead of going on when it opens again."""
        self.query_one(KeyScroll).scroll_home(animate=False)
