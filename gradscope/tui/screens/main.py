"""The main screen: the graph tree beside the selected node's details, search, anomalies, passes."""

from __future__ import annotations

import functools
from typing import TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from gradscope.trace.model import Anomaly, Trace
from gradscope.trace.passes import no_anomalies
from gradscope.tui.items import FoldItem, Item, MoreItem, NodeItem
from gradscope.tui.outline import Outline
from gradscope.tui.parameter_index import ParameterIndex
from gradscope.tui.present import counted, first_anomalous_pass, ordered_anomalies, place
from gradscope.tui.screens.anomalies import AnomaliesScreen
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.screens.parameters import ParametersScreen
from gradscope.tui.screens.passes import PassesScreen
from gradscope.tui.screens.tensor import TensorScreen
from gradscope.tui.widgets.graph_tree import GraphTree
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.node_detail import NodeDetail
from gradscope.tui.widgets.search_bar import SearchBar
from gradscope.tui.widgets.tensor_table import TensorTable
from gradscope.tui.widgets.title_header import TitleHeader

NOTHING = object()
OUTLINES_KEPT = 4  # layouts kept for switching back and forth (each ~0.1 s for 50,000 nodes): the pass shown, the
# one shown before, and the two one key away (] and [) laid out ahead
LAYOUT_AHEAD_AFTER = 0.2  # seconds after a pass is drawn: its neighbours are laid out while the user reads it
ListScreen = TypeVar("ListScreen", AnomaliesScreen, ParametersScreen, PassesScreen, TensorScreen)
EMPTY = "nothing recorded: no tensor that requires grad took part in an op, so no autograd node was made"
LEGEND = "‖·‖ gradient norm · ✗ non-finite · ◀ culprit · ↗ shared node, shown elsewhere"


class MainScreen(BrowserScreen):
    """Browses one trace; `select` and `pass_index` restore a position (after a re-run)."""

    CSS_PATH = "main.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("slash", "search", "Search", tooltip="Search node names, ops, scopes and parameter names"),
        Binding("n", "anomaly(1)", "Next ✗", tooltip="Next anomaly (culprits first)"),
        Binding("N", "anomaly(-1)", "Previous ✗", show=False, tooltip="Previous anomaly"),
        Binding("p", "parameters", "Params", tooltip="Parameters table (sortable; enter goes to the node)"),
        Binding("a", "anomalies", "Anomalies", tooltip="Anomaly list (enter goes to the node)"),
        Binding("P", "passes", "Passes", tooltip="Pass selector: every backward pass, its loss and anomalies"),
        Binding("right_square_bracket", "switch_pass(1)", "Next pass", show=False, tooltip="Next backward pass"),
        Binding("left_square_bracket", "switch_pass(-1)", "Previous pass", show=False,
                tooltip="Previous backward pass"),
        Binding("s", "app.save", "Save", tooltip="Save the trace to a file"),
        Binding("r", "app.rerun", "Re-run", tooltip="Run the script again and record it (scripts only)"),
    ]

    sub_title: Reactive[str | None] = Reactive(None, compute=False, repaint=False)
    """Textual's Screen.sub_title, but for the repaint of the whole screen when it changes (each pass switch, ~4 ms
    at 120×40): the one line showing it, the title's, draws itself again (it watches it)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """Textual's Screen.focused, but for the repaint of the whole screen at every focus change (tab, / and escape):
    Textual restyles the widgets that gained and lost focus, and they draw themselves again."""

    pass_index: reactive[int | None] = reactive(None, init=False, repaint=False)
    """The pass shown (None when the trace holds no backward pass). The widgets showing it draw themselves again
    when it changes (`watch_pass_index`), not the whole screen."""

    def __init__(self, trace: Trace, *, select: int | None = None, pass_index: int | None = None) -> None:
        super().__init__()
        self.trace = trace
        self.parameters = ParameterIndex(trace)
        self.anomalies = ordered_anomalies(trace)
        self.anomaly_index: int | None = None
        self.matches: list[int] = []
        self.match_index = 0
        self._select = select
        self._status_about: int | None = None
        self._highlighted: Item | None | object = NOTHING  # the line the detail pane is yet to show
        self._filled_for: Item | None | object = NOTHING  # the line a pass switch showed before the tree said so
        if pass_index is None:
            pass_index = first_anomalous_pass(trace)
        self.set_reactive(MainScreen.pass_index, None if pass_index is None else pass_index % len(trace.passes))
        self._outlines: dict[int | None, Outline] = {}  # pass → its layout, the most recently shown last
        self._laying_out: dict[Worker, int] = {}  # the passes being laid out ahead, each in a thread
        self._figuring: Worker | None = None  # the parameters' figures in the pass shown, worked out ahead
        self._kept_screens: dict[type, Screen] = {}  # the lists opened from here, kept for the next time
        self._lists_ahead = False  # whether they were mounted ahead
        self.outline = self._outline(self.pass_index)

    @classmethod
    def opening(cls, trace: Trace, previous: Screen | None = None) -> MainScreen:
        """The screen for `trace`, on its first anomalous pass; after a re-run (`previous` showed the last
        recording) on the node and pass that were shown."""
        if isinstance(previous, MainScreen):
            return cls(trace, select=previous.current_node, pass_index=previous.pass_index)
        return cls(trace)

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with Horizontal(id="body"):
            yield GraphTree(self.outline, id="graph")
            yield NodeDetail(self.trace, self.parameters, id="detail")
        yield SearchBar(id="search")
        yield Static(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._describe()
        tree = self.query_one(GraphTree)
        if self._select is not None:
            tree.reveal(self._select)
        tree.focus()
        self._lay_out_neighbours_soon()

    # ------------------------------------------------------------------------------ state
    @property
    def current_node(self) -> int | None:
        return self.query_one(GraphTree).current_node

    def _describe(self) -> None:
        trace = self.trace
        passes = len(trace.passes)
        shown = "no backward pass" if self.pass_index is None else f"pass {self.pass_index} of {passes}"
        anomalies = counted(len(trace.anomalies), "anomaly", "anomalies") if trace.anomalies else "no anomalies"
        self.sub_title = f"{shown} · {len(self.outline):,} nodes · {anomalies}"
        self.status()

    def status(self, text: str | None = None, about: int | None = None) -> None:
        """Show a message under the panes (about node `about`: it goes when the cursor leaves that node,
        or at the next move when about none); without one, the legend of the tree's marks."""
        self._status_about = about
        line, shown = self.query_one("#status", Static), LEGEND if text is None else text
        if line.content != shown:  # the legend again at most cursor moves: nothing to draw
            line.update(shown, layout=False)  # one line high whatever it says: no new layout of the screen

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("switch_pass", "passes"):
            return len(self.trace.passes) > 1  # hidden from the footer for single-pass traces
        return True

    def on_graph_tree_highlighted(self, event: GraphTree.Highlighted) -> None:
        # the line the cursor is on now: typed fast, a search moves it on before the last move's event comes
        cursor = self.query_one(GraphTree).cursor_item
        if not (isinstance(cursor, NodeItem) and cursor.node == self._status_about):
            self.status()  # the message was about another line
        self._highlighted = event.item
        self.call_later(self._show_highlighted)

    def _show_highlighted(self) -> None:
        """Fill the detail pane for the line the cursor is on now. When keys come faster than the pane
        fills (a held j), the highlights queue up, and the lines passed over are never shown."""
        if self._highlighted is not NOTHING:
            item, self._highlighted = self._highlighted, NOTHING
            filled, self._filled_for = self._filled_for, NOTHING
            if item != filled:
                self._show_item(item)

    def _show_item(self, item: Item | None) -> None:
        """Fill the detail pane with what a tree line stands for: a module, a node, or more lines to list."""
        detail, outline = self.query_one(NodeDetail), self.outline
        if isinstance(item, FoldItem):
            detail.show_module(item.scope, outline.count(item), outline.first_node(item), self.pass_index)
        elif isinstance(item, MoreItem):
            what = "nodes" if outline.lists_nodes(item.container) else "inputs"
            detail.show(None, self.pass_index, note=f"{outline.count(item):,} more {what} here: enter lists them")
        elif not len(outline):
            detail.show(None, self.pass_index, note=EMPTY)
        else:
            detail.show(None if item is None else outline.first_node(item), self.pass_index)

    def on_tensor_table_row_chosen(self, event: TensorTable.RowChosen) -> None:
        if event.opened:
            row = event.row
            screen = self._kept(TensorScreen)
            screen.show(row.name, row.record, row.partner_name, row.partner)
            self.app.push_screen(screen)

    def _outline(self, pass_index: int | None) -> Outline:
        """The layout of pass `pass_index`, laid out again only when it is not among the last few shown."""
        outline = self._outlines.get(pass_index)
        if outline is None:
            outline = Outline(self.trace, pass_index if pass_index is not None else -1)
        self._keep(pass_index, outline)
        return outline

    def _lay_out_neighbours_soon(self) -> None:
        """Lay out the neighbours of the pass shown a moment after it is drawn, when the work of showing it is
        done (a thread laying out competes with the app for the interpreter)."""
        self.call_after_refresh(self.set_timer, LAYOUT_AHEAD_AFTER, self._lay_out_neighbours)

    def _lay_out_neighbours(self) -> None:
        """Lay out the passes one key away from the one shown (] and [, and j/k in the pass selector) in a
        thread, while the user looks at this one: showing a pass then fills a tree from a ready layout instead
        of laying out 50,000 nodes first (~0.1 s, and their paths to the culprits, ~40 ms, more). The parameters'
        figures in the pass shown and in those (a module's line lists them, p sorts them) are worked out there too."""
        if self.pass_index is None:
            return
        if not self.parameters.ready(self.pass_index):
            self._figuring = self.run_worker(
                functools.partial(self.parameters.prepare, self.pass_index), name="parameters",
                description=f"the parameters' figures in pass {self.pass_index}", thread=True, exit_on_error=False)
        for step in (1, -1):
            index = (self.pass_index + step) % len(self.trace.passes)
            if index not in self._outlines and index not in self._laying_out.values():
                # NOTE: a description, or Textual makes one from the partial's repr: the whole trace's, ~0.4 s
                worker = self.run_worker(functools.partial(self._lay_out, self.trace, self.parameters, index),
                                         name="layout", description=f"laying out pass {index}", thread=True,
                                         exit_on_error=False)  # a damaged pass fails when shown, as it did
                self._laying_out[worker] = index
        self._mount_lists_ahead()

    @staticmethod
    def _lay_out(trace: Trace, parameters: ParameterIndex, pass_index: int) -> Outline:
        """Pass `pass_index`'s layout, ready to show, and its parameters' figures (run in a worker thread: it reads
        the trace, nothing else)."""
        outline = Outline(trace, pass_index)
        _ = outline.culprit_ancestors  # the tree's labels mark the way to the culprits
        parameters.prepare(pass_index)
        return outline

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if not event.worker.is_finished:
            return
        if event.worker is self._figuring:
            event.stop()
            self._figuring = None
        elif event.worker in self._laying_out:
            event.stop()
            pass_index = self._laying_out.pop(event.worker)
            if event.state is WorkerState.SUCCESS and pass_index not in self._outlines:  # else shown meanwhile
                self._keep(pass_index, event.worker.result, shown=False)
        else:
            return
        self._mount_lists_ahead()

    def _keep(self, pass_index: int | None, outline: Outline, shown: bool = True) -> None:
        """Keep a pass's layout: the one shown as the most recent, one laid out ahead just before it."""
        self._outlines.pop(pass_index, None)
        self._outlines[pass_index] = outline
        if not shown and self.pass_index in self._outlines:
            self._outlines[self.pass_index] = self._outlines.pop(self.pass_index)
        while len(self._outlines) > OUTLINES_KEPT:
            del self._outlines[next(iter(self._outlines))]

    def watch_pass_index(self, pass_index: int | None) -> None:
        current = self.current_node
        self.outline = self._outline(pass_index)
        self.query_one(GraphTree).show_outline(self.outline, select=current)
        self._describe()
        item = self.query_one(GraphTree).cursor_item
        self._show_item(item)
        self._filled_for = item  # the tree's event for its new cursor line comes after: it fills nothing again
        self._lay_out_neighbours_soon()

    # ------------------------------------------------------------------------------ actions
    def action_switch_pass(self, step: int) -> None:
        self.pass_index = (self.pass_index + step) % len(self.trace.passes)

    def jump_to(self, node_id: int | None) -> bool:
        """Show a node, switching to a pass it took part in when the current one doesn't hold it."""
        if node_id is None:
            return False
        if node_id not in self.outline:
            ran = [index for index, record in enumerate(self.trace.passes) if node_id in record.order]
            if not ran:
                self.status(f"{self.trace.nodes[node_id].label} is in no backward pass")
                return False
            self.pass_index = ran[0]
        return self.query_one(GraphTree).reveal(node_id)

    def action_anomaly(self, step: int) -> None:
        if not self.anomalies:
            self.status(no_anomalies(self.trace, place))
            return
        if self.anomaly_index is None:
            self.anomaly_index = 0 if step > 0 else len(self.anomalies) - 1
        else:
            self.anomaly_index = (self.anomaly_index + step) % len(self.anomalies)
        self._show_anomaly(self.anomalies[self.anomaly_index])

    def _show_anomaly(self, anomaly: Anomaly) -> None:
        self.anomaly_index = self.anomalies.index(anomaly)
        if anomaly.node is None:  # an op outside the graph: no line in the tree, the detail pane shows it
            self._filled_for = NOTHING
            self.query_one(NodeDetail).show_anomaly(anomaly)
            where = f" at {place(anomaly.source)}" if anomaly.source is not None else ""
            self.status(f"anomaly {self.anomaly_index + 1}/{len(self.anomalies)}: {anomaly.role} ({anomaly.phase}) "
                        f"outside the autograd graph{where}: {anomaly.message}")
            return
        self.jump_to(anomaly.node)
        self.status(f"anomaly {self.anomaly_index + 1}/{len(self.anomalies)}: {anomaly.role} ({anomaly.phase}): "
                    f"{anomaly.message}", about=anomaly.node)

    def action_parameters(self) -> None:
        screen = self._kept(ParametersScreen)
        screen.show(self.pass_index)
        self.app.push_screen(screen)

    def action_passes(self) -> None:
        screen = self._kept(PassesScreen)
        screen.show(self.pass_index)
        self.app.push_screen(screen)

    def _choose_pass(self, index: int) -> None:
        self.pass_index = index

    def action_anomalies(self) -> None:
        self.app.push_screen(self._kept(AnomaliesScreen))

    def _list_screen(self, kind: type[ListScreen]) -> ListScreen:
        if kind is ParametersScreen:
            return ParametersScreen(self.parameters, self.pass_index, self.jump_to)
        if kind is PassesScreen:
            return PassesScreen(self.trace, self.pass_index, self._choose_pass)
        if kind is TensorScreen:
            return TensorScreen()
        return AnomaliesScreen(self.trace, self._show_anomaly)

    def _kept(self, kind: type[ListScreen], ahead: bool = False) -> ListScreen:
        """The screen of a list (`p`, `a`, `P`), made the first time it opens, or ahead, and kept installed after: a
        screen composed anew each time, and removed as it closes, costs two more layouts and paints of this screen
        (the removal refreshes it) on every return here. Its choice calls back here before it closes, so that this
        screen, hidden, shows the choice when it comes back: one paint instead of one of the old state and one of
        the new."""
        screen = self._kept_screens.get(kind)
        if screen is None:
            screen = self._kept_screens[kind] = self._list_screen(kind)
            name = f"{kind.__name__}-{id(self)}"
            if ahead:
                screen.mount_ahead(name)
            else:
                self.app.install_screen(screen, name)
        return screen

    def _mount_lists_ahead(self) -> None:
        """Once the work ahead in threads is done (the parameters' figures, which the parameters list shows, and the
        passes laid out), mount the lists hidden, laid out, while the user reads this screen: p, a and P then open
        with one paint (`BrowserScreen.mount_ahead`)."""
        if self._figuring is None and not self._laying_out and self.is_attached:
            for kind in (ParametersScreen, AnomaliesScreen, PassesScreen, TensorScreen):
                if kind is not PassesScreen or self.check_action("passes", ()):
                    self._kept(kind, ahead=True)
            self._lists_ahead = True

    @property
    def drawn_ahead(self) -> bool:
        """Whether the lists are mounted ahead and laid out (bench/tui.py waits for it before its keys, as for the
        passes laid out ahead: the user reads the first screen)."""
        kept = self._kept_screens.values()
        return self._lists_ahead and all(screen.laid_out_ahead for screen in kept if screen.ahead)

    def on_unmount(self) -> None:
        for screen in self._kept_screens.values():  # after a re-run, the lists of the recording shown before go
            if screen not in self.app.screen_stack:
                self.app.uninstall_screen(screen)
                if screen.is_attached:
                    screen.remove()

    # ------------------------------------------------------------------------------ search
    def action_search(self) -> None:
        search = self.query_one(SearchBar)
        search.add_class("-open")
        search.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.matches = self.outline.search(event.value)
        self.match_index = 0
        self._show_match()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._step_match(1)

    def on_search_bar_step(self, event: SearchBar.Step) -> None:
        self._step_match(event.step)

    def _step_match(self, step: int) -> None:
        if self.matches:
            self.match_index = (self.match_index + step) % len(self.matches)
        self._show_match()

    def _show_match(self) -> None:
        query = self.query_one(SearchBar).value.strip()
        if not query:
            self.status()
        elif not self.matches:
            self.status(f"no node matches {query!r}")
        else:
            self.query_one(GraphTree).reveal(self.matches[self.match_index])
            self.status(f"match {self.match_index + 1}/{len(self.matches)} for {query!r}",
                        about=self.matches[self.match_index])

    def on_search_bar_closed(self, event: SearchBar.Closed) -> None:
        search = self.query_one(SearchBar)
        search.remove_class("-open")
        if self._status_about is None:  # "no node matches …" is over
            self.status()
        self.query_one(GraphTree).focus()
