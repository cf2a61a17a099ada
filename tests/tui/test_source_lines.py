"""A trace names the file its nodes came from; the browser reads it only if it is a plain, modest file."""

from __future__ import annotations

from gradscope.trace.model import NodeRecord, SourceLocation
from gradscope.tui.widgets.node_detail import source_lines


def node_at(file: str, line: int = 3) -> NodeRecord:
    return NodeRecord(id=1, name="MulBackward0", op="mul", kind="op", scope=None,
                      source=SourceLocation(file, line, "loss"), params={}, next=[], inputs=[], outputs=[],
                      saved={}, leaf_name=None, hooks=[])


def test_the_users_line_is_shown_from_a_plain_file(tmp_path):
    script = tmp_path / "model.py"
    script.write_text("a = 1\nb = 2\nc = a * b\n")
    assert "c = a * b" in source_lines(node_at(str(script))).plain


def test_devices_fifos_and_huge_files_are_never_read(tmp_path):
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # reading it would block the browser forever
    huge = tmp_path / "huge.py"
    with open(huge, "wb") as stream:
        stream.truncate(1 << 30)
    for file in ("/dev/zero", str(fifo), str(huge), str(tmp_path), "/nonexistent/model.py"):
        assert source_lines(node_at(file)) is None
