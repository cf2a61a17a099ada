"""Issue 13 §7 (slice): help and messages read right in any terminal."""

from __future__ import annotations

import pytest
from cli_helpers import assert_input_error, gradscope, sample


def test_check_help_shows_the_config_table_name():
    result = gradscope("check", "--help")
    assert result.exit_code == 0
    assert "[tool.gradscope.check]" in " ".join(result.stdout.split())  # rich markup would swallow it


def test_a_trace_given_to_a_script_command_says_what_to_use(tmp_path):
    trace = tmp_path / "run.gstrace"
    assert gradscope("inspect", sample("mlp"), "--save", trace).exit_code == 0
    for command in ("inspect", "gradcheck", "check"):
        assert_input_error(gradscope(command, trace), f"{trace}: is a trace file, not a script", "gradscope browse")


def test_the_command_list_shows_each_docstring_first_paragraph_as_one_line():
    """typer's rich mode keeps a docstring's line breaks in the command list, leaving ragged rows at any width."""
    import typer

    from gradscope.cli import app

    commands = typer.main.get_command(app).commands
    assert set(commands) == {"inspect", "browse", "export", "gradcheck", "check", "diff", "compat", "watch"}
    for name, command in commands.items():
        first_paragraph = command.callback.__doc__.split("\n\n")[0]
        assert "\n" in first_paragraph or len(first_paragraph) < 110, name  # the docstrings do wrap
        assert command.short_help == " ".join(first_paragraph.split()), name
    listing = " ".join(gradscope("--help").stdout.split())
    assert "report gradients, anomalies (exit 1 if any) and health warnings (the check rules" in listing.replace(
        "│ ", "").replace(" │", "")


@pytest.mark.parametrize("width", [40, 61, 97])
def test_a_wrapped_report_line_stays_indented_under_its_heading(width):
    from io import StringIO

    from rich.console import Console
    from rich.text import Text

    from gradscope.cli.console import Hanging

    lines = ["anomalies: 10 in 1 pass", "✗ culprit (backward) SqrtBackward0 (sqrt) at model.py:8",
             "    SqrtBackward0 returned 1 nan from a finite gradient: its saved result is already non-finite "
             "(1 nan): look at the forward pass",
             "  passed on (backward) by 7 nodes: SubBackward0, StdBackward0, AddmmBackward0 ×2, TBackward0 ×2",
             "    at /a/long/path/without/any/spaces/in/it/that/is/longer/than/the/terminal/model_file.py:123"]
    out = StringIO()
    Console(file=out, width=width, color_system=None).print(Hanging(Text("\n".join(lines), style="bold")))
    rows = out.getvalue().splitlines()
    assert all(len(row) <= width for row in rows)
    assert len(rows) > len(lines)  # some did wrap
    for line in lines:  # each line's rows: its own first, then continuations two columns past its indent
        indent = len(line) - len(line.lstrip(" "))
        first = rows.pop(0)
        assert first.startswith(line[:indent + 3])
        got, want = first.replace(" ", ""), line.replace(" ", "")
        while len(got) < len(want):
            row = rows.pop(0)
            assert row.startswith(" " * (indent + 2)) and row[indent + 2] != " ", (line, row)
            got += row.replace(" ", "")
        assert got == want
    assert not rows
