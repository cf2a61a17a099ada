"""The browser app: opens a trace (recording a script first when given one), re-runs, saves, helps, quits.

A script is recorded in a child process (see `source.py`), so q and ctrl+c quit at once whatever the
script does: the recording is stopped when the app unmounts, before Textual waits for its worker thread.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from gradscope.compare import DiffReport
from gradscope.trace.isolate import ScriptCancelled
from gradscope.trace.model import Trace
from gradscope.trace.output import OutputError, check_output, is_trace_file, write_output
from gradscope.trace.tracefile import write_trace
from gradscope.tui.screens.diff import DiffScreen
from gradscope.tui.screens.error import ErrorScreen
from gradscope.tui.screens.help import HelpScreen
from gradscope.tui.screens.loading import LoadingScreen
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.screens.overwrite import OverwriteScreen
from gradscope.tui.screens.save import SaveScreen
from gradscope.tui.source import LoadFailed, TraceSource, describe_error

EXIT_INPUT = 2  # the CLI's code for a script or file that could not be used
EXIT_INTERRUPTED = 130  # the CLI's code for ctrl+c


class GradscopeApp(App[None]):
    """Browses `trace`; with only a `source`, records the script (or reads the trace file) first.

    After a failed first load the app exits with return code 2 and keeps the error in `error`. With
    `compared` (run B and the comparison of `trace` with it) it opens on the diff screen.
    """

    CSS_PATH = "app.tcss"
    TITLE = "gradscope"
    BINDINGS = [Binding("q", "quit", "Quit"),
                Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True,
                        tooltip="Quit (exit code 130, as ctrl+c anywhere in gradscope)"),
                Binding("question_mark", "help", "Help", tooltip="This help")]

    def __init__(self, trace: Trace | None = None, source: TraceSource | None = None,
                 compared: tuple[Trace, DiffReport] | None = None) -> None:
        if trace is None and source is None:
            raise ValueError("make_app needs a trace or a source to load it from")
        super().__init__()
        self.theme = "ansi-dark"  # the terminal's own colours
        self.trace = trace
        self.source = source
        self.error: Exception | None = None
        self.compared = compared
        if source is not None:
            self.title = f"gradscope · {source.path.name}"

    def on_mount(self) -> None:
        if self.trace is not None and self.compared is not None:
            self.push_screen(DiffScreen(self.trace, *self.compared))
        elif self.trace is not None:
            self.push_screen(MainScreen(self.trace))
        else:
            self._load()

    def on_unmount(self) -> None:
        if self.source is not None:  # a script still running must not keep the app (and its threads) alive
            self.source.cancel()

    # ------------------------------------------------------------------------------ loading
    def _load(self) -> None:
        source = self.source
        verb = "recording" if source.is_script else "reading"
        loading = LoadingScreen(f"{verb} {source.path} …", timeout=source.timeout if source.is_script else None,
                                restartable=source.is_script)
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
        elif event.worker.name == "save" and event.state is WorkerState.SUCCESS:
            path, error = event.worker.result
            if error is None:
                self.notify(f"trace saved to {path}")
            else:
                self.notify(f"not saved: {describe_error(error)[0]}", severity="error")

    def _loaded(self, result: Trace | LoadFailed) -> None:
        self.pop_screen()  # the loading screen
        previous = self.screen if isinstance(self.screen, MainScreen) else None
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
        self.trace = result
        if previous is None:
            self.push_screen(MainScreen(result))
        else:
            pass_index = previous.pass_index if previous.pass_index is not None else -1
            self.switch_screen(MainScreen(result, select=previous.current_node, pass_index=pass_index))
            self.notify("script re-run and recorded again")

    # ------------------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rerun":
            return self.source is not None and self.source.is_script  # only a script can be run again
        if action == "help":  # the loading screen must stay on top, to be replaced when loading ends
            return not isinstance(self.screen, (LoadingScreen, ErrorScreen))
        return True

    def action_rerun(self) -> None:
        self._load()

    def action_interrupt(self) -> None:
        self.exit(return_code=EXIT_INTERRUPTED)

    # ------------------------------------------------------------------------------ saving
    def action_save(self) -> None:
        if self.source is None:
            default = Path("trace.gstrace")
        else:
            default = Path(self.source.path.stem + ".gstrace")
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
        return [self.source.path] if self.source is not None and self.source.is_script else []

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

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(trace: Trace | None = None, source: Path | TraceSource | None = None,
             compared: tuple[Trace, DiffReport] | None = None) -> GradscopeApp:
    """The browser on `trace`, or on what `source` (a model script or a trace file) holds; with
    `compared`, the differences between `trace` and another run.

    >>> make_app(run_script("model.py").trace).run()
    >>> make_app(source=Path("run.gstrace")).run()   # reads the file in the background
    >>> make_app(a, compared=(b, compare_traces(a, b))).run()
    """
    if isinstance(source, Path):
        source = TraceSource(source)
    return GradscopeApp(trace, source, compared)
