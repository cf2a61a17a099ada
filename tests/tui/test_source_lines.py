"""A trace names the file its nodes came from; the browser reads it only if it is a plain, modest file."""

from __future__ import annotations

from gradscope.trace.model import SourceLocation
from gradscope.tui.widgets.node_detail import source_lines


def node_at(file: str, line: int = 3) -> SourceLocation:
    return SourceLocation(file, line, "loss")


def test_the_users_line_is_shown_from_a_plain_file(tmp_path):
    script = tmp_path / "model.py"
    script.write_text("a = 1\nb = 2\nc = a * b\n")
    assert "c = a * b" in source_lines(node_at(str(script))).plain


def test_the_lines_are_dedented_with_a_narrow_gutter_and_the_users_line_marked(tmp_path):
    script = tmp_path / "model.py"
    script.write_text("class M:\n    def forward(self, h):\n        y = h * 2\n        return y.log()\n\tpass\n")
    assert source_lines(node_at(str(script), line=3)).plain.splitlines() == [
        " 2 def forward(self, h):", "▶3     y = h * 2", " 4     return y.log()"]
    assert source_lines(node_at(str(script), line=4)).plain.splitlines() == [
        " 3 y = h * 2", "▶4 return y.log()", " 5 pass"]  # a tab counts as 8 spaces


def test_devices_fifos_and_huge_files_are_never_read(tmp_path):
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # reading it would block the browser forever
    huge = tmp_path / "huge.py"
    with open(huge, "wb") as stream:
        stream.truncate(1 << 30)
    for file in ("/dev/zero", str(fifo), str(huge), str(tmp_path), "/nonexistent/model.py"):
        assert source_lines(node_at(file)) is None
