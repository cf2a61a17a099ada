"""One tensor: its statistics, a histogram, and its values (summarised with `…` when large)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from gradscope._format import format_array, format_number, number_spans, number_style
from gradscope._stats import TensorStats
from gradscope.trace.model import TensorRecord
from gradscope.trace.tracefile import TraceFormatError
from gradscope.tui.flow import Flow
from gradscope.tui.lines import Lines
from gradscope.tui.present import GRADIENT, NONFINITE, QUIET, nonfinite_text, shape_text

SPARKS = "▁▂▃▄▅▆▇█"
HISTOGRAM = "histogram"  # the label of the one-line histogram


def stats_pieces(stats: TensorStats) -> list[Text]:
    """`norm 0.5`, `mean 0.1`, … `zeros 20%` and the non-finite counts, each a piece a line never breaks."""
    pieces = [Text.assemble((f"{name} ", QUIET), (format_number(value), number_style(value)))
              for name, value in (("norm", stats.norm), ("mean", stats.mean), ("std", stats.std), ("min", stats.min),
                                  ("max", stats.max))]
    pieces.append(Text.assemble(("zeros ", QUIET), f"{stats.zero_fraction:.0%}"))
    if not stats.finite:
        pieces.append(Text(f"✗ {nonfinite_text(stats)}", style=NONFINITE))
    return pieces


def stats_text(stats: TensorStats) -> Text:
    """The statistics on one line."""
    return Text("  ").join(stats_pieces(stats))


def _degenerate(stats: TensorStats) -> Text | None:
    """What to say instead of a histogram when there is nothing to spread out."""
    if not stats.numel or not max(stats.histogram, default=0):
        return Text("no finite values", style=QUIET)
    low, high = stats.histogram_range
    if low == high:
        return Text(f"every finite value is {format_number(low)}", style=QUIET)
    return None


def sparkline(stats: TensorStats, width: int | None = None) -> Text:
    """The histogram on one line: `-0.5 ▁▂▅█▇▃▂▁ 0.7`; within `width` columns, if given, neighbouring bins
    summed when every bin's bar doesn't fit (at 80 columns the detail pane holds the range and 8 bars, not 16)."""
    degenerate = _degenerate(stats)
    if degenerate is not None:
        return degenerate
    low, high = stats.histogram_range
    ends = len(format_number(low)) + len(format_number(high)) + 2
    histogram = list(stats.histogram)
    while width is not None and ends + len(histogram) > width and len(histogram) % 2 == 0 and len(histogram) > 4:
        histogram = [histogram[index] + histogram[index + 1] for index in range(0, len(histogram), 2)]
    peak = max(histogram)
    bars = "".join(SPARKS[(count * len(SPARKS) - 1) // peak] if count else " " for count in histogram)
    return Text.assemble((f"{format_number(low)} ", QUIET), (bars, GRADIENT), (f" {format_number(high)}", QUIET))


def histogram_rows(stats: TensorStats, width: int) -> Text:
    """The histogram as one bar per bin, with each bin's range and count."""
    degenerate = _degenerate(stats)
    if degenerate is not None:
        return degenerate
    peak = max(stats.histogram)
    low, high = stats.histogram_range
    step = (high - low) / len(stats.histogram)
    bar_width = max(4, width - 32)
    text = Text()
    for index, count in enumerate(stats.histogram):
        start = low + index * step
        text.append(f"{format_number(start):>10} … {format_number(start + step):<10} ", style=QUIET)
        text.append("█" * round(count / peak * bar_width), style=GRADIENT)
        text.append(f" {count}\n")
    text.rstrip()
    return text


def values_text(record: TensorRecord, width: int, full: bool) -> Text:
    """The values laid out as NumPy prints them, each number as everywhere in gradscope (so a 1e-19 gradient
    is not `0.`), nan/inf in the error style and exact zeros dimmed; summarised beyond a limit (bigger when
    `full`)."""
    try:
        values = record.values
    except TraceFormatError as error:
        return Text(f"values unreadable: {error}", style=NONFINITE)
    if values is None:
        return Text(f"values not kept ({record.stats.numel:,} elements; the trace kept statistics only)",
                    style=QUIET)
    text = Text(format_array(values, max_line_width=max(20, width), threshold=4000 if full else 120,
                             edgeitems=8 if full else 3))
    for start, end, style in number_spans(text.plain):
        text.stylize(style, start, end)
    return text


def heading(title: str, stats: TensorStats) -> list[Flow]:
    """A tensor's name, shape and dtype; then its statistics."""
    return [Flow([Text(title, style="bold"), Text(shape_text(stats.shape)), Text(stats.dtype, style=QUIET)]),
            Flow(stats_pieces(stats))]


def heading_height(title: str, stats: TensorStats, width: int) -> int:
    return sum(len(flow.lines(width)) for flow in heading(title, stats))


class TensorView(Widget):
    """Shows one tensor record (`title`'s `record`, until `show` shows another); `full` selects the large
    histogram and longer value listings. `beside`: the (title, record) shown next to it as wide, whose
    histogram and values start on the same line as its own (a "✗ 16 inf" line on one side only put them a line
    apart)."""

    def __init__(self, full: bool = False, *, title: str = "", record: TensorRecord | None = None,
                 beside: Sequence[tuple[str, TensorRecord]] = (), id: str | None = None) -> None:
        super().__init__(id=id)
        self.full = full
        self.title = title
        self.record = record
        self.beside = beside
        self._lines = Lines(self._draw)

    def show(self, title: str, record: TensorRecord | None, beside: Sequence[tuple[str, TensorRecord]] = ()
             ) -> None:
        self.title = title
        self.record = record
        self.beside = beside
        self._lines = Lines(self._draw)
        self.refresh(layout=True)

    def render(self) -> Lines:
        """What shows the record, drawn once for each width (`Lines`): Textual asks at each layout (to measure the
        height) and each repaint, two or three times as a cursor move fills the detail pane and five as the tensor
        screen opens, and the values are formatted number by number."""
        return self._lines

    def _draw(self, width: int) -> RenderableType:
        if self.record is None:
            return Text(self.title or "no tensor", style=QUIET)
        stats = self.record.stats
        head = heading(self.title, stats)
        height = heading_height(self.title, stats, width)
        level = max([heading_height(title, record.stats, width) for title, record in self.beside], default=height)
        # on the label's line, in fewer bins if that is what fits there (at 80 columns: 8), else on the next whole
        histogram = histogram_rows(stats, width) if self.full else Flow(
            [Text(HISTOGRAM, style=QUIET), sparkline(stats, width - len(HISTOGRAM) - 1)], separator=" ")
        return Group(*head, *[Text()] * max(level - height, 0), histogram, Text("values", style=QUIET),
                     values_text(self.record, width, self.full))
