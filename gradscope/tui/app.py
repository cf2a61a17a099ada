"""The browser app: opens what it is given (recording a script first when given one), re-runs, saves, helps, quits.

What the app shows is its `content`; each kind of content has its own screen, found in `VIEWS` (a trace
opens on `MainScreen`). Content comes in directly (`make_app(trace)`) or from a `source` loaded in the
background: a source has a `title`, a `loading_message`, a `loading_timeout`, `restartable` (r loads it
again), `protected` paths and a `save_name`, and `start()` returns a load whose `run()` gives the content
or a `LoadFailed` (see `source.py`). Adding a kind of input is a source and one entry in `VIEWS`.

A script is recorded in a child process (see `source.py`), so q and ctrl+c quit at once whatever the
script does: the recording is stopped when the app unmounts, before Textual waits for its worker thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from gradscope.compare import DiffReport
from gradscope.trace.isolate import ScriptCancelled
from gradscope.trace.model import Trace
from gradscope.trace.output import OutputError, check_output, is_trace_file, write_output
from gradscope.trace.tracefile import write_trace
from gradscope.tui.collector import IdleCollector
from gradscope.tui.screens.diff import DiffScreen
from gradscope.tui.screens.error import ErrorScreen
from gradscope.tui.screens.help import HelpScreen, HelpText, help_text
from gradscope.tui.screens.loading import LoadingScreen
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.screens.overwrite import OverwriteScreen
from gradscope.tui.screens.save import SaveScreen
from gradscope.tui.screens.timeline import TimelineScreen
from gradscope.tui.source import LoadFailed, TraceSource, describe_error
from gradscope.tui.theme import MONOCHROME_THEME, THEME, THEMES
from gradscope.watching.history import WatchRun

EXIT_INPUT = 2  # the CLI's code for a script or file that could not be used
EXIT_INTERRUPTED = 130  # the CLI's code for ctrl+c
HELP_AHEAD_AFTER = 0.2  # seconds after the first screen is drawn: the help's tables are drawn while the user reads it

View = Callable[[Any, Screen | None], Screen]
"""Makes the screen showing some content; the second argument is the screen that showed the previous load
of the same source (after `r`), if any, so that a screen of the same kind can keep the user's place."""

VIEWS: dict[type, View] = {Trace: MainScreen.opening, WatchRun: TimelineScreen.opening}
"""The screen for each kind of content."""


def view_for(content: Any, previous: Screen | None = None) -> Screen:
    """The screen showing `content` (TypeError for content no screen shows)."""
    for kind, view in VIEWS.items():
        if isinstance(content, kind):
            return view(content, previous)
    raise TypeError(f"the browser has no screen for {type(content).__name__}")


class GradscopeApp(App[None]):
    """Browses `content` (a `Trace`, or anything in `VIEWS`); with only a `source`, loads it first.

    After a failed first load the app exits with return code 2 and keeps the error in `error`. With
    `compared` (run B and the comparison of `content` with it) it opens on the diff screen.
    Colours are the terminal's own (ANSI); with NO_COLOR set, focus and selection are bold and reverse.
    """

    # NOTE: every screen's stylesheet too, read once as the app starts: the first time a screen brings a
    # stylesheet Textual hasn't read, it parses all its CSS again and restyles every widget (~100 ms landing
    # on the key that opens the screen)
    CSS_PATH = ["app.tcss", "screens/main.tcss", "screens/lists.tcss", "screens/tensor.tcss", "screens/dialogs.tcss",
                "screens/diff.tcss", "screens/timeline.tcss"]
    TITLE = "gradscope"
    BINDINGS = [Binding("q", "quit", "Quit"),
                Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True,
                        tooltip="Quit (exit code 130, as ctrl+c anywhere in gradscope)"),
                Binding("question_mark", "help", "Help", tooltip="This help")]

    def __init__(self, content: Any = None, source: TraceSource | None = None,
                 compared: tuple[Trace, DiffReport] | None = None) -> None:
        if content is None and source is None:
            raise ValueError("make_app needs a trace or a source to load it from")
        # ansi_color: the terminal's palette, so that NO_COLOR drops colours (Textual's NoColor filter)
        # instead of mapping them all to black (its Monochrome filter, for truecolor themes)
        super().__init__(ansi_color=True)
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = MONOCHROME_THEME.name if self.no_color else THEME.name
        self.content = content
        self.source = source
        self.error: Exception | None = None
        self.compared = compared
        self.collector = IdleCollector()
        self._help_text: HelpText | None = None
        if source is not None:
            self.title = f"gradscope · {source.title}"

    @property
    def trace(self) -> Trace | None:
        """The trace shown, if the content is one."""
        return self.content if isinstance(self.content, Trace) else None

    def on_mount(self) -> None:
        self.collector.start(self)  # the content given is frozen: it lives as long as the app
        if self.trace is not None and self.compared is not None:
            self.push_screen(DiffScreen(self.trace, *self.compared))
        elif self.content is not None:
            self.push_screen(view_for(self.content))
        else:
            self._load()
        self.call_after_refresh(self.set_timer, HELP_AHEAD_AFTER, self._draw_help_ahead)

    def on_unmount(self) -> None:
        if self.source is not None:  # a script still running must not keep the app (and its threads) alive
            self.source.cancel()
        self.collector.stop()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.collector.postpone()  # no garbage collection while keys come
        await super().on_event(event)

    # ------------------------------------------------------------------------------ loading
    def _load(self) -> None:
        source = self.source
        loading = LoadingScreen(source.loading_message, timeout=source.loading_timeout,
                                restartable=source.restartable)
        if isinstance(self.screen, LoadingScreen):  # started again while loading
            self.switch_screen(loading)
        else:
            self.push_screen(loading)
        self.run_worker(source.start().run, name="load", group="load", thread=True, exclusive=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "load" and event.state is WorkerState.SUCCESS:
            result = event.worker.result
            if not (isinstance(result, LoadFailed) and isinstance(result.error, ScriptCancelled)):  # superseded
                self._loaded(result)
        elif event.worker.name == "help" and event.state is WorkerState.SUCCESS:
            if not self.is_screen_installed("help"):  # (else ? came first)
                HelpScreen(self.help_text).mount_ahead("help")
        elif event.worker.name == "save" and event.state is WorkerState.SUCCESS:
            path, error = event.worker.result
            if error is None:
                self.notify(f"trace saved to {path}")
            else:
                self.notify(f"not saved: {describe_error(error)[0]}", severity="error")

    def _loaded(self, result: Any) -> None:
        self.pop_screen()  # the loading screen
        previous = self.screen if self.content is not None else None
        if isinstance(result, LoadFailed):
            message, details = describe_error(result.error)
            if previous is None:
                self.error = result.error
                self.push_screen(ErrorScreen(message, details, "quit", output=result.output),
                                 lambda _: self.exit(return_code=EXIT_INPUT))
            else:
                self.push_screen(ErrorScreen(message, details, "keep browsing the previous recording",
                                             output=result.output))
            return
        replaced, self.content = self.content, result
        if previous is None:
            self.collector.freeze()
            self.push_screen(view_for(result))
        else:
            self.switch_screen(view_for(result, previous))
            self.collector.thaw(previous, replaced)  # they go at a quiet moment, then this recording is frozen
            self.notify("script re-run and recorded again")

    # ------------------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rerun":
            return self.source is not None and self.source.restartable  # only a script can be run again
        if action == "save":
            return self.trace is not None
        if action == "help":  # the loading screen must stay on top, to be replaced when loading ends
            return not isinstance(self.screen, (LoadingScreen, ErrorScreen))
        return True

    def action_rerun(self) -> None:
        self._load()

    def action_interrupt(self) -> None:
        self.exit(return_code=EXIT_INTERRUPTED)

    # ------------------------------------------------------------------------------ saving
    def action_save(self) -> None:
        default = Path("trace.gstrace") if self.source is None else self.source.save_name
        self.push_screen(SaveScreen(default), self._save_to)

    def _save_to(self, path: Path | None) -> None:
        """Save to `path`, asking first if it exists; never over the script, whatever the answer."""
        if path is None:
            return
        try:
            check_output(path, "trace", force=True, protect=self._protected())  # the script, a directory
        except OutputError as error:
            self.notify(f"not saved: {error}", severity="error")
            return
        if not (path.exists() or path.is_symlink()):
            self._write(path, overwrite=False)
            return
        what = "a gradscope trace" if is_trace_file(path) else "not a gradscope trace"

        def answered(overwrite: bool | None) -> None:
            if overwrite:
                self._write(path, overwrite=True)
            else:
                self.notify(f"not saved: {path} kept as it was")

        self.push_screen(OverwriteScreen(path, what), answered)

    def _protected(self) -> list[Path]:
        return self.source.protected if self.source is not None else []

    def _write(self, path: Path, overwrite: bool) -> None:
        trace, protect = self.trace, self._protected()

        def write() -> tuple[Path, OSError | None]:
            try:  # checked again as it is written: without `overwrite`, a file that appeared since is kept
                write_output(path, "trace", lambda stream: write_trace(trace, stream), force=overwrite,
                             protect=protect)
            except OSError as error:
                return path, error
            return path, None

        self.run_worker(write, name="save", thread=True)

    @property
    def help_text(self) -> HelpText:
        """The help's text, made the first time it is asked for."""
        if self._help_text is None:
            self._help_text = help_text(self)
        return self._help_text

    def _draw_help_ahead(self) -> None:
        """Draw the help's tables in a thread while the user reads the first screen (~40% of what ? took), then mount
        the help, hidden, laid out: ? shows it with one paint."""
        self.run_worker(functools.partial(self.help_text.prepare, self.console, self.size.width), name="help",
                        description="drawing the help ahead", thread=True, exit_on_error=False)

    def action_help(self) -> None:
        """Show the help, composed once (ahead, or at the first ?): a screen of some twenty tables costs ~0.1 s to lay
        out and draw, and reads the same every time (it is kept installed, off the screen stack, when closed)."""
        if not self.is_screen_installed("help"):
            self.install_screen(HelpScreen(self.help_text), "help")
        if self.get_screen("help") not in self.screen_stack:
            self.push_screen("help")


def make_app(trace: Any = None, source: Path | TraceSource | None = None,
             compared: tuple[Trace, DiffReport] | None = None) -> GradscopeApp:
    """The browser on `trace` (or other content in `VIEWS`), or on what `source` (a model script or a trace
    file) holds; with `compared`, the differences between `trace` and another run.

    >>> make_app(run_script("model.py").trace).run()
    >>> make_app(source=Path("run.gstrace")).run()   # reads the file in the background
    >>> make_app(a, compared=(b, compare_traces(a, b))).run()
    """
    if isinstance(source, Path):
        source = TraceSource(source)
    return GradscopeApp(trace, source, compared)
