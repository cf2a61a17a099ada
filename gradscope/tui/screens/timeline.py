"""A watched training run over time (`gradscope browse DIR`, DIR written by `gradscope watch --out`):
the loss and the gradient norms of the parameters per step, anomalous steps marked, the selected
step's figures below (↑/↓ and the page keys scroll them when they don't fit); enter opens the step's
trace when one was kept.

>>> app.push_screen(TimelineScreen(read_run("watch")))
"""

from __future__ import annotations

import math
import os

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from gradscope._format import format_number
from gradscope.trace.tracefile import TraceFormatError, load_trace
from gradscope.tui.flow import Flow, words
from gradscope.tui.present import counted, shown_file
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.step_plot import StepPlot
from gradscope.tui.widgets.title_header import TitleHeader
from gradscope.watching.history import WatchRun
from gradscope.watching.metrics import StepRecord

PLOTTED = 6  # parameters in the gradient plot
LISTED = 8  # parameters in the step's details


class TimelineScreen(BrowserScreen[None]):
    """The run's timeline; the cursor starts on the first anomalous step (else the last step)."""

    CSS_PATH = "timeline.tcss"
    BINDINGS = [
        Binding("left,h", "move(-1)", "Step", key_display="←/→"),
        Binding("right,l", "move(1)", "Step", show=False),
        Binding("shift+left,H", "move(-10)", "10 steps", show=False),
        Binding("shift+right,L", "move(10)", "10 steps", show=False),
        Binding("home,g", "move_to(0)", "First", show=False),
        Binding("end,G", "move_to(-1)", "Last", show=False),
        Binding("n", "anomaly(1)", "Next ✗", tooltip="Next anomalous step"),
        Binding("N", "anomaly(-1)", "Previous ✗", show=False, tooltip="Previous anomalous step"),
        Binding("enter", "open", "Open trace", tooltip="Browse the step's recording (kept steps only)"),
        # the step's figures scroll without taking the focus: their pane's own keys (←/→, home/end) are the steps'
        Binding("k,up", "scroll_figures(-1)", "Scroll", key_display="↑/↓", tooltip="Scroll the step's figures"),
        Binding("j,down", "scroll_figures(1)", "Scroll", show=False),
        Binding("pageup", "page_figures(-1)", "Page up", show=False),
        Binding("pagedown", "page_figures(1)", "Page down", show=False),
    ]
    SCROLLING = {"scroll_figures", "page_figures"}

    def __init__(self, run: WatchRun) -> None:
        super().__init__()
        self.run = run
        anomalous = run.anomalous
        self.step = anomalous[0] if anomalous else max(len(run.steps) - 1, 0)

    @classmethod
    def opening(cls, run: WatchRun, previous: Screen | None = None) -> TimelineScreen:
        screen = cls(run)
        if isinstance(previous, TimelineScreen):
            screen.step = min(previous.step, max(len(run.steps) - 1, 0))
        return screen

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(self._caption(), classes="caption")
        steps, anomalous = len(self.run.steps), self.run.anomalous
        yield StepPlot("loss", [("loss", [r.loss for r in self.run.steps])], anomalous=anomalous, steps=steps,
                       id="loss")
        yield StepPlot("gradient norm", gradient_series(self.run.steps), anomalous=anomalous, steps=steps,
                       id="grads")
        with VerticalScroll(id="figures", can_focus=False):
            yield Static(id="step")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = f"watch · {self.run.directory}"
        self._show()

    def _caption(self) -> Flow:
        anomalous = self.run.anomalous
        found = "no anomaly"
        if anomalous:
            count = counted(len(anomalous), "anomalous step", "anomalous steps")
            found = f"first anomaly at step {anomalous[0]} ({count})"
        traces = counted(len(self.run.traces), "trace", "traces")
        return Flow.phrases(counted(len(self.run.steps), "step", "steps"), found, f"{traces} kept", "←/→ step",
                            "n next ✗", "enter: open the trace")

    # ------------------------------------------------------------------------------ moving
    def action_move(self, delta: int) -> None:
        self._go(self.step + delta)

    def action_move_to(self, step: int) -> None:
        self._go(step if step >= 0 else len(self.run.steps) - 1)

    def action_anomaly(self, direction: int) -> None:
        anomalous = self.run.anomalous
        ahead = [s for s in anomalous if (s - self.step) * direction > 0]
        if not ahead:
            self.notify("no further anomalous step" if anomalous else "no anomalous step in this run")
            return
        self._go(ahead[0] if direction > 0 else ahead[-1])

    def _go(self, step: int) -> None:
        self.step = min(max(step, 0), max(len(self.run.steps) - 1, 0))
        self._show()

    def _show(self) -> None:
        for plot in self.query(StepPlot):
            plot.cursor = self.step
        if self.run.steps:
            details = step_details(self.run.steps[self.step], self.step in self.run.traces)
            self.query_one("#step", Static).update(details)
            self.query_one("#figures").scroll_home(animate=False)  # a new step's figures from their first line
        self.call_after_refresh(self.refresh_bindings)  # ↑/↓ in the footer only when the figures scroll

    # ------------------------------------------------------------------------------ scrolling the figures
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.SCROLLING:
            return self.query_one("#figures").max_scroll_y > 0
        return True

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_bindings)

    def action_scroll_figures(self, lines: int) -> None:
        self.query_one("#figures").scroll_relative(y=lines, animate=False)

    def action_page_figures(self, pages: int) -> None:
        figures = self.query_one("#figures")
        figures.scroll_relative(y=pages * figures.scrollable_content_region.height, animate=False)

    # ------------------------------------------------------------------------------ opening a step
    def action_open(self) -> None:
        path = self.run.traces.get(self.step)
        if path is None:
            kept = ", ".join(map(str, sorted(self.run.traces))) or "none"
            self.notify(f"no trace was kept for step {self.step} (kept: {kept})", severity="warning")
            return
        try:
            trace = load_trace(path)
        except (TraceFormatError, OSError) as error:
            self.notify(f"can't open {path}: {error}", severity="error")
            return
        self.app.push_screen(MainScreen.opening(trace))


def gradient_series(steps: list[StepRecord]) -> list[tuple[str, list[float | None]]]:
    """The parameters worth plotting: those whose gradient went non-finite first, then the largest norms."""
    names = list(dict.fromkeys(name for record in steps for name in record.parameters))

    def rank(name: str) -> tuple[int, float]:
        norms = [r.parameters[name].grad_norm for r in steps if name in r.parameters]
        broken = next((i for i, n in enumerate(norms) if n is not None and not math.isfinite(n)), None)
        largest = max((n for n in norms if n is not None and math.isfinite(n)), default=0.0)
        return (0 if broken is not None else 1, -largest)

    chosen = sorted(names, key=rank)[:PLOTTED]
    return [(name, [r.parameters[name].grad_norm if name in r.parameters else None for r in steps])
            for name in chosen]


def step_details(record: StepRecord, has_trace: bool) -> Group:
    """The step's loss, anomalies and per-parameter figures (non-finite ones first), each line broken between whole
    phrases (a `Flow`): a finding's words after its phase, a parameter's figures under its name."""
    kept = Text("trace kept (enter opens it)") if has_trace else Text("no trace kept", style="dim")
    lines = [Flow([Text(f"step {record.step}", style="bold"), f"loss {format_number(record.loss)}",
                   f"{counted(record.optimizer_steps, 'optimizer step', 'optimizer steps')} so far", kept],
                  separator=" · ", hang=2)]
    for finding in record.findings:
        # the file as the user names it (present.place): watch writes it absolute
        where = [Text(f"at {shown_file(finding.file, os.getcwd())}:{finding.line}", style="bold red")
                 ] if finding.file else []
        lines.append(Flow([Text(f"✗ {finding.phase}:", style="bold red"), *words(finding.message, style="bold red"),
                           *where], separator=" ", hang=2))
    rows = sorted(record.parameters.items(),
                  key=lambda item: (-(item[1].grad_nonfinite + item[1].value_nonfinite), -(item[1].grad_norm or 0)))
    for name, measured in rows[:LISTED]:
        bad = measured.grad_nonfinite + measured.value_nonfinite
        figures = [Text(f"  {name}:"), Text(f"grad norm {format_number(measured.grad_norm)}")]
        if measured.update_ratio is not None:
            figures.append(Text(f"update/weight {format_number(measured.update_ratio)}"))
        if bad:
            figures += [Text(f"{measured.grad_nonfinite} non-finite in the gradient", style="bold red"),
                        Text(f"{measured.value_nonfinite} in the value", style="bold red")]
        for figure in figures[1:-1]:
            figure.append(",")
        lines.append(Flow(figures, separator=" ", hang=4))
    if len(rows) > LISTED:
        lines.append(Text(f"  … and {len(rows) - LISTED} more parameters", style="dim"))
    return Group(*lines)
