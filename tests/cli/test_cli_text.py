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
