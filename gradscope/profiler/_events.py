"""The profiler's events and their table, laid out as PyTorch's (Name, Self CPU %, Self CPU, CPU total %,
CPU total, CPU time avg, # of Calls; times in us/ms/s)."""

from __future__ import annotations


class FunctionEvent:
    """One region, node or op: its wall-clock interval (seconds) and its depth among the regions open then."""

    def __init__(self, name: str, start: float, end: float | None, depth: int, input_shapes=None) -> None:
        self.name = self.key = name
        self.start, self.end, self.depth = start, end, depth
        self.input_shapes = input_shapes or []
        self.children: list[FunctionEvent] = []
        self.count = 1

    @property
    def cpu_time_total(self) -> float:
        """Microseconds, as PyTorch's."""
        return 0.0 if self.end is None else (self.end - self.start) * 1e6

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.children)

    def __repr__(self) -> str:
        return f"<FunctionEvent name={self.name} cpu_time_total={_format(self.cpu_time_total)}>"


class FunctionEventAvg:
    """The events of one key (and input shapes) together."""

    def __init__(self, key: str, input_shapes) -> None:
        self.key, self.input_shapes = key, input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0

    def add(self, event: FunctionEvent) -> FunctionEventAvg:
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_format(self.self_cpu_time_total)} "
                f"cpu_time={_format(self.cpu_time)} count={self.count}>")


class EventList(list):
    def __init__(self, events=()) -> None:
        super().__init__(events)
        self._link()

    def _link(self) -> None:
        """Each event's children: the events one level deeper that followed it while it was open."""
        parents: list = []
        for event in self:
            if not isinstance(event, FunctionEvent):
                return
            event.children = []
            del parents[event.depth:]
            if parents:
                parents[-1].children.append(event)
            parents.append(event)

    @property
    def self_cpu_time_total(self) -> float:
        return sum(event.self_cpu_time_total for event in self)

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        groups: dict = {}
        for event in self:
            shapes = str(event.input_shapes) if group_by_input_shape else ""
            key = (event.key, shapes)
            if key not in groups:
                groups[key] = FunctionEventAvg(event.key, event.input_shapes if group_by_input_shape else [])
            groups[key].add(event)
        averages = EventList()
        averages.extend(groups.values())
        return averages

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        rows = [row for row in self if not top_level_events_only or getattr(row, "depth", 0) == 0]
        if sort_by is not None:
            rows.sort(key=lambda row: getattr(row, sort_by.replace("cuda", "device")
                                              if not hasattr(row, sort_by) else sort_by, 0), reverse=True)
        if row_limit > 0:
            rows = rows[:row_limit]
        total = self.self_cpu_time_total or 1.0
        width = min(max((len(r.key) for r in rows), default=4) + 4, max_name_column_width)
        columns = ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls")
        line = "-" * width + "  " + "  ".join("-" * 12 for _ in columns) + "  "
        lines = [line, f"{'Name':>{width}}  " + "  ".join(f"{c:>12}" for c in columns) + "  ", line]
        if header:
            lines.insert(0, header)
        for row in rows:
            name = row.key if len(row.key) <= width else row.key[: width - 3] + "..."
            count = getattr(row, "count", 1)
            cells = (f"{row.self_cpu_time_total / total * 100:.2f}%", _format(row.self_cpu_time_total),
                     f"{row.cpu_time_total / total * 100:.2f}%", _format(row.cpu_time_total),
                     _format(row.cpu_time_total / max(count, 1)), str(count))
            lines.append(f"{name:>{width}}  " + "  ".join(f"{c:>12}" for c in cells) + "  ")
        lines += [line, f"Self CPU time total: {_format(self.self_cpu_time_total)}", ""]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _format(microseconds: float) -> str:
    if microseconds >= 1e6:
        return f"{microseconds / 1e6:.3f}s"
    if microseconds >= 1e3:
        return f"{microseconds / 1e3:.3f}ms"
    return f"{microseconds:.3f}us"
