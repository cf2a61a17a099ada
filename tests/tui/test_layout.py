"""What a user sees at 80×24 (a standard terminal) and at 160×48: nothing important cut, nothing split mid-phrase.

Every check reads the screen Textual draws (`screen_lines`) or a renderable drawn at a given width, so the
tests hold whatever the terminal running them (COLUMNS, NO_COLOR, no TTY).
"""

import re

import numpy as np
import pytest
from rich.text import Text
from synthetic import synthetic_trace
from tui_helpers import NAN_MODEL, drive, plain, recorded, sample, screen_lines

from gradscope._stats import compute_stats
from gradscope.compare import compare_traces
from gradscope.trace.model import SourceLocation
from gradscope.trace.tracefile import save_trace
from gradscope.tui import make_app
from gradscope.tui.flow import Flow, words
from gradscope.tui.present import place
from gradscope.tui.widgets.node_detail import source_lines
from gradscope.tui.widgets.parameters_table import ParametersTable
from gradscope.tui.widgets.tensor_table import TensorTable
from gradscope.tui.widgets.tensor_view import TensorView, sparkline
from gradscope.tui.widgets.title_header import fit_title

SIZES = [(80, 24), (160, 48)]
STATISTICS = ("norm", "mean", "std", "min", "max", "zeros")


def detail_lines(app) -> list[str]:
    """The detail pane's lines (right of the panes' border), as shown."""
    return [line.split("▕", 1)[1][1:].rstrip() for line in screen_lines(app)[2:-2] if "▕" in line]  # after padding


def split_counts(lines: list[str]) -> list[tuple[str, str]]:
    """Consecutive lines where a count ends one and its unit (nan, inf) starts the next, or a statistic's name
    ends one and its value starts the next."""
    return [(line, after) for line, after in zip(lines, lines[1:], strict=False)
            if re.search(r"\b\d+$", line) and re.match(r"\s*[-+]?(nan|inf)\b", after)
            or re.search(rf"\b({'|'.join(STATISTICS)})$", line) and re.match(r"\s*([-+]?\d|nan|inf)", after)]


# ---------------------------------------------------------------------------------------------- the header
@pytest.mark.parametrize("size", SIZES)
def test_the_header_keeps_the_pass_and_the_anomaly_count(tmp_path, size):
    trace = recorded(sample("nan_training_loop"))
    path = tmp_path / "nan_training_loop.gstrace"
    save_trace(trace, path)
    app = make_app(source=path)

    async def scenario(pilot):
        await app.workers.wait_for_complete()
        await pilot.pause()
        header = screen_lines(app)[0]
        anomalies = f"{len(trace.anomalies)} anomalies"
        assert f"pass {app.screen.pass_index} of {len(trace.passes)}" in header and anomalies in header
        assert header.rstrip().endswith(anomalies) and "…" not in header
        assert ("gradscope · nan_training_loop.gstrace" in header) == (size[0] >= 100)  # the name gives way first
        assert "nan_training_loop.gstrace" in header

    drive(app, scenario, size=size)


def test_a_title_gives_way_to_the_sub_title_its_leading_parts_first():
    title, sub_title = "gradscope · nan_training_loop.gstrace", "pass 3 of 8 · 12 nodes · 4 anomalies"
    assert fit_title(title, sub_title, 120) == (title, sub_title)
    assert fit_title(title, sub_title, 72) == ("nan_training_loop.gstrace", sub_title)
    assert fit_title(title, sub_title, 60) == ("…raining_loop.gstrace", sub_title)
    shortest, cut = fit_title(title, sub_title, 40)
    assert shortest == "….gstrace" and len(f"{shortest} — {cut}") == 40 and cut.endswith("…")
    assert fit_title("gradscope", "", 5) == ("grad…", "")


# ---------------------------------------------------------------------------------------------- the detail pane
@pytest.mark.parametrize("size", SIZES)
def test_the_culprit_detail_never_parts_a_count_from_its_unit_or_a_statistic_from_its_value(size):
    app = make_app(recorded(sample("nan_log")))

    async def scenario(pilot):
        await pilot.press("n")
        lines = detail_lines(app)
        assert "sample_models/nan_log.py:23" in "\n".join(lines)  # relative to where the browser runs
        assert split_counts(lines) == []
        assert any(line.startswith("✗ culprit (forward)") for line in lines)

    drive(app, scenario, size=size)


@pytest.mark.parametrize("size", SIZES)
def test_a_tensor_in_the_detail_pane_keeps_its_statistics_and_histogram_whole(size):
    app = make_app(recorded(sample("mlp")))

    async def scenario(pilot):
        await pilot.press("j")  # the model's line: its first parameter's gradient in the tensor view
        lines = detail_lines(app)
        assert split_counts(lines) == []
        histogram = next(line for line in lines if line.startswith("histogram"))
        stats = app.screen.query_one(TensorView).record.stats
        low, high = (f"{value:.4g}" for value in stats.histogram_range)
        assert histogram.split()[1] == low and histogram.split()[-1] == high  # both ends on the label's line

    drive(app, scenario, size=size)


def test_a_module_line_at_80_columns_breaks_between_phrases():
    app = make_app(recorded(sample("mlp")))

    async def scenario(pilot):
        await pilot.press("j")
        lines = detail_lines(app)
        assert "enter: a gradient beside its value" in lines  # a phrase of its own, whole
        assert any(line.startswith("9 nodes here") and "gradient in ‖" in line for line in lines)

    drive(app, scenario, size=(80, 24))


def test_the_status_line_ends_in_an_ellipsis_when_cut():
    app = make_app(recorded(sample("nan_log")))

    async def scenario(pilot):
        await pilot.press("n")
        status = screen_lines(app)[-2].rstrip()
        assert status.startswith(" anomaly 1/") and status.endswith("…") and len(status) >= 78

    drive(app, scenario, size=(80, 24))


def test_source_lines_wrap_under_their_own_start(tmp_path):
    script = tmp_path / "model.py"
    script.write_text("a = 1\nscores = torch.sigmoid(self.proj(h)) * self.gate\nb = 2\n")
    shown = plain(source_lines(SourceLocation(str(script), 2, "forward")), width=24).splitlines()
    assert shown[0].rstrip() == " 1 a = 1" and shown[1].startswith("▶2 scores =")
    continued = shown[2:-1]
    assert continued and all(line.startswith("   ") and line.strip() for line in continued)
    assert "".join(line.strip() for line in [shown[1][3:], *continued]).replace(" ", "") == \
        "scores=torch.sigmoid(self.proj(h))*self.gate"


def test_a_source_file_is_named_relative_to_the_working_directory(tmp_path, monkeypatch):
    inside = tmp_path / "models" / "run.py"
    monkeypatch.chdir(tmp_path)
    assert place(SourceLocation(str(inside), 7, "f")) == "models/run.py:7"
    monkeypatch.chdir(tmp_path.parent)
    assert place(SourceLocation(str(inside), 7, "f")) == f"{tmp_path.name}/models/run.py:7"
    elsewhere = "/nonexistent-elsewhere/run.py"
    assert place(SourceLocation(elsewhere, 3, "f")) == f"{elsewhere}:3"  # outside: its full path


# ---------------------------------------------------------------------------------------------- flows
def test_a_flow_breaks_lines_between_pieces_only():
    flow = Flow(["norm 0.5", "mean -0.0009943", "min -0.1495", "max 0.1323"])
    assert [line.plain for line in flow.lines(30)] == ["norm 0.5  mean -0.0009943", "min -0.1495  max 0.1323"]
    assert [line.plain for line in flow.lines(200)] == ["norm 0.5  mean -0.0009943  min -0.1495  max 0.1323"]
    narrow = [line.rstrip() for line in plain(flow, width=12).splitlines()]
    assert narrow == ["norm 0.5", "mean", "-0.0009943", "min -0.1495", "max 0.1323"]  # a piece too wide wraps
    assert str(Flow.phrases("4 parameters", "enter: go to the node")) == "4 parameters · enter: go to the node"
    hanging = Flow(["norm 0.5", "mean -0.0009943", "min -0.1495", "max 0.1323"], hang=2)
    assert [line.plain for line in hanging.lines(25)] == ["norm 0.5  mean -0.0009943", "  min -0.1495  max 0.1323"]
    assert [line.plain for line in hanging.lines(24)] == ["norm 0.5", "  mean -0.0009943", "  min -0.1495",
                                                          "  max 0.1323"]  # the indent counts in the width


def test_words_keep_each_count_with_what_it_counts():
    said = "LogBackward0 returned 6 nan, 10 +inf from a finite gradient: log produced 16 -inf: a value <= 0 (input"
    assert [word.plain for word in words(said)] == [
        "LogBackward0", "returned", "6 nan,", "10 +inf", "from", "a", "finite", "gradient:", "log", "produced",
        "16 -inf:", "a", "value", "<=", "0", "(input"]
    for width in range(12, 40):
        lines = plain(Flow.sentence(Text("✗ culprit"), said), width=width).splitlines()
        assert split_counts(lines) == []


def test_a_one_line_histogram_sums_neighbouring_bins_to_fit():
    stats = compute_stats(np.linspace(-1.0, 1.0, 1000))
    assert len(sparkline(stats).plain) == len("-1 ") + 16 + len(" 1")
    assert len(sparkline(stats, width=16).plain) == len("-1 ") + 8 + len(" 1")
    assert len(sparkline(stats, width=10).plain) == len("-1 ") + 4 + len(" 1")  # never fewer than 4 bars


# ---------------------------------------------------------------------------------------------- the lists
@pytest.mark.parametrize("size", SIZES)
def test_the_pass_list_lines_its_columns_up(size):
    trace = recorded(sample("nan_training_loop"))
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("P")
        lines = [line for line in screen_lines(app) if re.match(r" pass \d", line)]
        assert len(lines) == len(trace.passes)
        assert len({line.index(" nodes") for line in lines}) == 1
        assert len({line.index("◀ culprit") for line in lines if "◀ culprit" in line}) == 1

    drive(app, scenario, size=size)


@pytest.mark.parametrize("size", SIZES)
def test_captions_break_between_phrases(size):
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        await pilot.press("p")
        caption = [line.strip() for line in screen_lines(app)[1:3]]
        assert "1-6 or a click on a header: sort" in caption[0] or caption[1] == "1-6 or a click on a header: sort"

    drive(app, scenario, size=size)


def test_a_table_as_wide_as_its_pane_has_no_scroll_bar():
    """The parameters of dead_relu fill 78 of 80 columns: no gap is counted after the last column, so no horizontal
    scroll bar takes a line for nothing."""
    app = make_app(recorded(sample("dead_relu")))

    async def scenario(pilot):
        await pilot.press("p")
        table = app.screen.query_one(ParametersTable)
        assert table.virtual_size.width == sum(table.widths) + table.gap * (len(table.widths) - 1)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert not table.show_horizontal_scrollbar

    drive(app, scenario, size=(80, 24))


def test_the_diff_screen_at_80_columns_has_even_panes_and_counts_passes_from_0():
    a, b = recorded("sample_models/diff/base.py"), recorded("sample_models/diff/changed_op.py")
    app = make_app(a, compared=(b, compare_traces(a, b)))

    async def scenario(pilot):
        lines = screen_lines(app)
        assert "pass 0 of 1" in lines[0]  # as the first divergence's line under the panes says: "pass 0, forward"
        border = lines[3].index("▕")
        assert border in (39, 40)
        assert "source sample_models/diff/base.py:" in "\n".join(lines)

    drive(app, scenario, size=(80, 24))


def test_a_modules_gradients_show_their_norms_at_80_columns():
    """blocks.0.fc.weight.grad and its siblings are cut to their distinct ends to show the norms beside them."""
    app = make_app(synthetic_trace(600))

    async def scenario(pilot):
        await pilot.press("j")  # the top module: its first parameters' gradients
        table = app.screen.query_one(TensorTable)
        lines = detail_lines(app)
        header = next(line for line in lines if line.startswith("tensor"))
        assert header.split() == ["tensor", "non-finite", "norm"]
        first = lines[lines.index(header) + 1].split()
        assert first[0] == "…0.fc.weight.grad" and first[2] == f"{table.rows_shown[0].record.stats.norm:.4g}"

    drive(app, scenario, size=(80, 24))
