"""The browser's timeline of a watch directory: plots, the anomalous step first, moving, opening a kept trace."""

from __future__ import annotations

import asyncio
import io
import math
from pathlib import Path

import pytest
from rich.console import Console
from textual.app import App

import gradscope as torch
from gradscope import nn
from gradscope.tui import make_app
from gradscope.tui.screens.error import ErrorScreen
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.screens.timeline import TimelineScreen, step_details
from gradscope.tui.source import TraceSource
from gradscope.tui.widgets.step_plot import StepPlot, render_plot
from gradscope.watching import WatchStop
from gradscope.watching.history import WatchRun, WatchRunError, read_run
from gradscope.watching.metrics import Finding, ParameterStep, StepRecord

BAD_STEP = 4


@pytest.fixture(scope="module")
def run_directory(tmp_path_factory):
    """A watched loop whose data makes -inf at BAD_STEP (log of a 0 count), stopped there."""
    out = tmp_path_factory.mktemp("timeline")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(WatchStop), torch.watch(model, out=out, keep=1):
        for step in range(10):
            counts = torch.randint(1, 9, (16, 3)).float()
            if step == BAD_STEP:
                counts[0, 0] = 0.0
            loss = (model(counts.log()) - 1).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return out


class TimelineApp(App[None]):
    def __init__(self, directory) -> None:
        super().__init__()
        self.directory = directory

    def on_mount(self) -> None:
        self.push_screen(TimelineScreen(read_run(self.directory)))


def drive(app, scenario, size=(100, 40)):
    async def main():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            return await scenario(pilot)
    return asyncio.run(main())


def plain(renderable, width: int = 200) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def shown(app) -> str:
    return plain(app.screen.query_one("#step").content)


def test_the_timeline_opens_on_the_anomalous_step_and_moves(run_directory):
    async def scenario(pilot):
        app = pilot.app
        screen = app.screen
        seen = {"first": shown(app), "cursor": [plot.cursor for plot in screen.query(StepPlot)]}
        await pilot.press("left")
        seen["before"] = shown(app)
        await pilot.press("g")
        seen["start"] = shown(app)
        await pilot.press("enter")
        await pilot.pause()
        seen["still timeline"] = isinstance(app.screen, TimelineScreen)
        await pilot.press("n")
        seen["next"] = shown(app)
        await pilot.press("enter")
        await pilot.pause()
        seen["opened"] = app.screen
        return seen

    seen = drive(TimelineApp(run_directory), scenario)
    assert seen["first"].startswith(f"step {BAD_STEP} · loss ") and "trace kept (enter opens it)" in seen["first"]
    assert "✗ forward: log produced 1 -inf: log of a value <= 0" in seen["first"]
    assert seen["cursor"] == [BAD_STEP, BAD_STEP]
    assert seen["before"].startswith(f"step {BAD_STEP - 1} ·") and "trace kept" in seen["before"]
    assert seen["start"].startswith("step 0 ·") and "no trace kept" in seen["start"]
    assert seen["still timeline"]  # nothing to open at step 0
    assert seen["next"].startswith(f"step {BAD_STEP} ·")
    assert isinstance(seen["opened"], MainScreen) and seen["opened"].trace.meta["step"] == BAD_STEP


def test_the_plot_marks_anomalous_steps_and_nonfinite_values(run_directory):
    run = read_run(run_directory)
    series = [("model.0.weight", [r.parameters["model.0.weight"].grad_norm for r in run.steps])]
    lines = render_plot("gradient norm", series, len(run.steps), 40, 6, set(run.anomalous), cursor=0).plain.split("\n")
    assert lines[0] == "gradient norm (log scale)"
    marker_column = lines[1].index("▼")
    assert lines[2][marker_column] == "✗"  # the last step's gradient is NaN: a ✗ on the top row, under ▼
    assert lines[1].count("▼") == 1 and any(0x2800 < ord(c) <= 0x28FF for line in lines[2:8] for c in line)
    assert lines[8].split()[0] == "^0" and lines[8].rstrip().endswith(str(BAD_STEP))
    assert lines[9].startswith("⣿ model.0.weight")


def test_step_details_list_nonfinite_parameters_first(run_directory):
    run = read_run(run_directory)
    text = plain(step_details(run.steps[BAD_STEP], has_trace=True)).split("\n")
    assert [line.split(":")[0] for line in text[1:4]] == ["✗ forward", "✗ backward", "✗ update"]
    assert text[4] == "  model.0.weight: grad norm nan, update/weight nan, 8 non-finite in the gradient, 8 in the value"
    assert [line.split(":")[0] for line in text[5:]] == ["  model.2.weight", "  model.2.bias", "  model.0.bias"]


def test_browse_opens_a_watch_directory_on_its_timeline(run_directory, tmp_path):
    async def scenario(pilot):
        for _ in range(50):  # the directory is read in a worker thread
            if isinstance(pilot.app.screen, TimelineScreen):
                break
            await pilot.pause(0.1)
        return pilot.app.screen

    screen = drive(make_app(source=TraceSource(run_directory)), scenario)
    assert isinstance(screen, TimelineScreen) and screen.step == BAD_STEP

    async def refused(pilot):
        for _ in range(50):
            if isinstance(pilot.app.screen, ErrorScreen):
                break
            await pilot.pause(0.1)
        await pilot.press("enter")
        await pilot.pause()
        return pilot.app

    app = drive(make_app(source=TraceSource(tmp_path)), refused)  # a directory with no history.jsonl
    assert isinstance(app.error, WatchRunError) and app.return_code == 2
    assert "not a directory `gradscope watch --out` wrote" in str(app.error)


def synthetic_run() -> WatchRun:
    """60 steps: the loss falls, model.fc1.weight's gradient grows 30% a step and is NaN at step 50."""
    steps = []
    for step in range(60):
        broken = step >= 50
        fc1 = ParameterStep(math.nan if broken else 1e-3 * 1.3**step, 12 if broken else 0, 0.01, 12 if broken else 0)
        fc2 = ParameterStep(0.5 / (step + 1), 0, 0.002, 0)
        findings = [Finding(step, "backward", "nonfinite", "the gradient of model.fc1.weight holds 12 non-finite "
                            "value(s)", parameter="model.fc1.weight")] if broken else []
        parameters = {"model.fc1.weight": fc1, "model.fc2.weight": fc2}
        steps.append(StepRecord(step, 2.0 / (step + 1), step + 1, parameters, findings))
    return WatchRun(Path("watch"), steps, {step: Path(f"watch/step-{step:06d}.gstrace") for step in (49, 50)})


def test_timeline_snapshot(snap_compare, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert snap_compare(make_app(synthetic_run()), press=["left"], terminal_size=(100, 30))


def on_screen(app) -> list[str]:
    update = app.screen._compositor.render_full_update(simplify=True)
    return ["".join(strip.text for strip in line) for line in update.strips]


def test_at_80_by_24_the_steps_figures_show_under_the_plots(run_directory):
    app = TimelineApp(run_directory)

    async def scenario(pilot):
        figures = app.screen.query_one("#figures")
        assert figures.region.height >= 4 and figures.region.bottom <= 23  # above the footer, not pushed off
        assert f"step {BAD_STEP} · loss" in "\n".join(on_screen(app))
        assert all(plot.region.height >= 6 for plot in app.screen.query(StepPlot))

    drive(app, scenario, size=(80, 24))


def crowded_run(parameters: int = 14) -> WatchRun:
    """4 steps; at step 2 every parameter's gradient is NaN: a finding each, and more parameters than are listed.
    The other steps measured 2 parameters (a few lines)."""
    steps = []
    for step in range(4):
        broken = step == 2
        measured = {f"model.layers.{index}.weight": ParameterStep(math.nan if broken else 0.1 * (index + 1),
                                                                  4 if broken else 0, 0.01, 0)
                    for index in range(parameters if broken else 2)}
        findings = [Finding(step, "backward", "nonfinite", f"the gradient of {name} holds 4 non-finite value(s)",
                            parameter=name) for name in measured] if broken else []
        steps.append(StepRecord(step, 1.0 / (step + 1), step + 1, measured, findings))
    return WatchRun(Path("watch"), steps, {})


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_the_steps_figures_scroll_when_they_dont_fit(size):
    app = make_app(crowded_run())
    last = "… and 6 more parameters"

    async def scenario(pilot):
        screen = app.screen
        figures = screen.query_one("#figures")
        assert screen.step == 2 and figures.max_scroll_y > 0
        assert figures.region.bottom <= size[1] - 1  # above the footer
        assert all(plot.region.height >= 6 for plot in screen.query(StepPlot))
        shown = on_screen(app)
        assert any(line.startswith(" step 2 · loss") for line in shown) and last not in "\n".join(shown)
        assert "↑/↓ Scroll" in shown[-1]  # the footer says how
        await pilot.press("j", "down")
        assert figures.scroll_y == 2
        await pilot.press("k")
        assert figures.scroll_y == 1
        for _ in range(figures.max_scroll_y // figures.scrollable_content_region.height + 1):
            await pilot.press("pagedown")
        assert figures.scroll_y == figures.max_scroll_y
        shown = "\n".join(on_screen(app))
        assert last in shown and "step 2 · loss" not in shown
        await pilot.press("pageup")
        assert figures.scroll_y == figures.max_scroll_y - figures.scrollable_content_region.height
        await pilot.press("right")  # another step's figures start at their top, and fit
        await pilot.pause()
        assert screen.step == 3 and figures.scroll_y == 0 and figures.max_scroll_y == 0
        assert "Scroll" not in on_screen(app)[-1]
        await pilot.press("left")
        await pilot.pause()
        assert figures.scroll_y == 0 and figures.max_scroll_y > 0 and "↑/↓ Scroll" in on_screen(app)[-1]
        await pilot.press("right")
        await pilot.pause()
        await pilot.press("j")
        assert figures.scroll_y == 0

    drive(app, scenario, size=size)


def test_narrow_step_figures_break_between_phrases_under_their_start():
    """At 80 columns (the pane's 77) a step's lines broke anywhere: "(enter opens" / "it)", "at" / "deep_nan.py:10",
    a parameter's "in the" / "gradient" back at the left edge. Now between whole phrases, the rest indented."""
    record = StepRecord(12, 0.001991, 13, {
        "model.encoder.layers.0.weight": ParameterStep(math.nan, 8, math.nan, 8),
        "model.encoder.layers.0.bias": ParameterStep(0.02893, 0, 0.009513, 0)},
        [Finding(12, "forward", "nonfinite", "log produced 1 -inf: log of a value <= 0 (input min 0)",
                 file="deep_nan.py", line=10)])
    lines = plain(step_details(record, has_trace=True), width=60).split("\n")
    assert lines == [
        "step 12 · loss 0.001991 · 13 optimizer steps so far",
        "  trace kept (enter opens it)",
        "✗ forward: log produced 1 -inf: log of a value <= 0 (input",
        "  min 0) at deep_nan.py:10",
        "  model.encoder.layers.0.weight: grad norm nan,",
        "    update/weight nan, 8 non-finite in the gradient,",
        "    8 in the value",
        "  model.encoder.layers.0.bias: grad norm 0.02893,",
        "    update/weight 0.009513",
    ]
    assert plain(step_details(record, has_trace=True)).split("\n")[0] == (
        "step 12 · loss 0.001991 · 13 optimizer steps so far · trace kept (enter opens it)")  # one line when it fits


def test_a_finding_names_its_file_as_the_user_does(tmp_path, monkeypatch):
    """`gradscope watch` writes a finding's file absolute; the timeline names it from the working directory."""
    script = tmp_path / "models" / "train.py"
    record = StepRecord(3, math.nan, 4, {}, [Finding(3, "forward", "nonfinite", "div produced 4 +inf",
                                                     file=str(script), line=12)])

    def finding() -> str:
        return plain(step_details(record, has_trace=False)).split("\n")[1]

    monkeypatch.chdir(tmp_path)
    assert finding() == "✗ forward: div produced 4 +inf at models/train.py:12"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # not under it: the path as written
    assert finding() == f"✗ forward: div produced 4 +inf at {script}:12"
