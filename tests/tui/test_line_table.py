"""LineTable's columns in a table too narrow for them all: closer together when more then fit, never cut."""

from textual.app import App, ComposeResult
from tui_helpers import drive, screen_lines

from gradscope.tui.widgets.line_table import LineTable

ROWS = [("grad_inputs[0]", "6 nan 10 inf", "0.08839", "12345.6"),
        ("output", "0", "3.742", "1.5")]


class TableApp(App):
    CSS = "LineTable { width: WIDTH; height: 4; }"

    def __init__(self, width: int) -> None:
        self.CSS = TableApp.CSS.replace("WIDTH", str(width))
        super().__init__()

    def compose(self) -> ComposeResult:
        yield LineTable(("tensor", "non-finite", "norm", "max"), frozenset({"norm", "max"}))

    def on_mount(self) -> None:
        self.query_one(LineTable).fill(ROWS)


def table_lines(width: int) -> list[str]:
    app = TableApp(width)

    async def scenario(pilot):
        await pilot.pause()
        return [line[:width] for line in screen_lines(app)[:3]]

    return drive(app, scenario, size=(60, 10))


def test_columns_two_spaces_apart_when_they_fit():
    assert table_lines(50)[:2] == ["tensor          non-finite       norm      max".ljust(50),
                                   "grad_inputs[0]  6 nan 10 inf  0.08839  12345.6".ljust(50)]


def test_columns_close_up_to_one_space_when_one_more_then_shows_whole():
    # 14 + 12 + 7 = 33 cells of text: two gaps of two make 37, of one 35
    assert table_lines(36)[:2] == ["tensor         non-finite      norm".ljust(36),
                                   "grad_inputs[0] 6 nan 10 inf 0.08839".ljust(36)]


def test_a_column_cut_by_the_edge_is_left_blank():
    # at 40 cells the max column (7 wide, from cell 39 with gaps of two) would show the "1" of 12345.6
    lines = table_lines(40)
    assert lines[1] == "grad_inputs[0]  6 nan 10 inf  0.08839".ljust(40)
    assert lines[2] == "output          0               3.742".ljust(40)
    assert lines[0] == "tensor          non-finite       norm".ljust(40)


NAMES = [("blocks.0.fc.weight.grad", "0", "0.02766"), ("blocks.1.fc.bias.grad", "6 nan", "nan"),
         ("blocks.10.fc.weight.grad", "0", "1.5")]


class KeptApp(App):
    CSS = "LineTable { width: 36; height: 6; scrollbar-size-vertical: 1; }"

    def compose(self) -> ComposeResult:
        yield LineTable(("tensor", "non-finite", "norm", "max"), frozenset({"norm", "max"}), keep=3)

    def on_mount(self) -> None:
        self.query_one(LineTable).fill([(*row, "1") for row in NAMES])


def test_the_first_column_is_cut_to_show_the_kept_columns_whole_its_shared_start_first():
    app = KeptApp()

    async def scenario(pilot):
        await pilot.pause()
        return [line[:36].rstrip() for line in screen_lines(app)[:4]]

    lines = drive(app, scenario, size=(60, 10))
    assert lines == ["tensor            non-finite    norm",
                     "…0.fc.weight.grad 0          0.02766",
                     "…1.fc.bias.grad   6 nan          nan",
                     "….fc.weight.grad  0              1.5"]  # not "…0.fc.weight.grad": that is block 0's name
