"""The browser app: opens a trace (recording a script first when given one), re-runs, saves, helps, quits."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from gradscope.trace.model import Trace
from gradscope.trace.tracefile import save_trace
from gradscope.tui.screens.error import ErrorScreen
from gradscope.tui.screens.help import HelpScreen
from gradscope.tui.screens.loading import LoadingScreen
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.screens.save import SaveScreen
from gradscope.tui.source import TraceSource, describe_error

EXIT_INPUT = 2  # the CLI's code for a script or file that could not be used


class GradscopeApp(App[None]):
    """Browses `trace`; with only a `source`, records the script (or reads the trace file) first.

    After a failed first load the app exits with return code 2 and keeps the error in `error`.
    """

    CSS_PATH = "app.tcss"
    TITLE = "gradscope"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("question_mark", "help", "Help", tooltip="This help")]

    def __init__(self, trace: Trace | None = None, source: TraceSource | None = None) -> None:
        if trace is None and source is None:
            raise ValueError("make_app needs a trace or a source to load it from")
        super().__init__()
        self.theme = "ansi-dark"  # the terminal's own colours
        self.trace = trace
        self.source = source
        self.error: Exception | None = None
        if source is not None:
            self.title = f"gradscope · {source.path.name}"

    def on_mount(self) -> None:
        if self.trace is not None:
            self.push_screen(MainScreen(self.trace))
        else:
            self._load()

    # ------------------------------------------------------------------------------ loading
    def _load(self) -> None:
        verb = "recording" if self.source.is_script else "reading"
        self.push_screen(LoadingScreen(f"{verb} {self.source.path} …"))
        self.run_worker(self.source.try_open, name="load", thread=True, exclusive=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "load" and event.state is WorkerState.SUCCESS:
            self._loaded(event.worker.result)
        elif event.worker.name == "save" and event.state is WorkerState.SUCCESS:
            path, error = event.worker.result
            if error is None:
                self.notify(f"trace saved to {path}")
            else:
                self.notify(f"could not save the trace: {describe_error(error)[0]}", severity="error")

    def _loaded(self, result: Trace | Exception) -> None:
        self.pop_screen()  # the loading screen
        previous = self.screen if isinstance(self.screen, MainScreen) else None
        if not isinstance(result, Trace):
            message, details = describe_error(result)
            if previous is None:
                self.error = result
                self.push_screen(ErrorScreen(message, details, "quit"), lambda _: self.exit(return_code=EXIT_INPUT))
            else:
                self.push_screen(ErrorScreen(message, details, "keep browsing the previous recording"))
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

    def action_save(self) -> None:
        if self.source is None:
            default = Path("trace.gstrace")
        else:
            default = Path(self.source.path.stem + ".gstrace")

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.run_worker(lambda: self._save(path), name="save", thread=True)

        self.push_screen(SaveScreen(default), chosen)

    def _save(self, path: Path) -> tuple[Path, OSError | None]:
        try:
            save_trace(self.trace, path)
        except OSError as error:
            return path, error
        return path, None

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(trace: Trace | None = None, source: Path | TraceSource | None = None) -> GradscopeApp:
    """The browser on `trace`, or on what `source` (a model script or a trace file) holds.

    >>> make_app(run_script("model.py").trace).run()
    >>> make_app(source=Path("run.gstrace")).run()   # reads the file in the background
    """
    if isinstance(source, Path):
        source = TraceSource(source)
    return GradscopeApp(trace, source)
