"""Issue 13 §7 (slice): help and messages read right in any terminal."""

from __future__ import annotations

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
