"""Every parameter's gradient figures in a pass, worked out once for a trace and shared: the detail pane lists a
module's parameters (non-finite first), the parameters table shows and sorts them all. A model's top module holds
every parameter (16,666 of them in the 50,000-node benchmark): working their figures out again on each visit to
that line, or each time the table opens, cost a key ~0.1 s."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from gradscope.trace.model import Parameter, Trace
from gradscope.tui.modules import belongs
from gradscope.tui.present import shape_text


class ParameterRow(NamedTuple):
    """The figures of one parameter's gradient in one pass (None where it got no gradient). A trace's index holds
    one per parameter and pass. NOTE: the garbage collector walks each (it stops tracking exact tuples of plain
    values only, not a NamedTuple's): 33,332 of the ~64,000 objects an idle collection walks on the 50,000-node
    benchmark."""

    name: str
    node: int | None
    shape: tuple[int, ...]
    norm: float | None
    ratio: float | None
    zero_fraction: float | None
    nonfinite: int | None

    @classmethod
    def of(cls, trace: Trace, parameter: Parameter, pass_index: int | None) -> ParameterRow:
        grad = trace.parameter_grad(parameter, pass_index) if pass_index is not None else None
        shape = parameter.value.shape
        if grad is None:
            return cls(parameter.name, parameter.node, shape, None, None, None, None)
        stats, value_norm = grad.stats, parameter.value.stats.norm
        ratio = stats.norm / value_norm if value_norm else math.inf
        return cls(parameter.name, parameter.node, shape, stats.norm, ratio, stats.zero_fraction, stats.nonfinite)


class ParameterIndex:
    """The parameters of one trace, their figures in each pass and the parameters of each module, each worked out
    the first time it is asked for (from any thread: a screen may work a pass's figures out ahead).

    >>> index = ParameterIndex(trace)
    >>> index.rows(0)[5].norm           # parameter 5's gradient norm after pass 0
    >>> index.nonfinite(0)              # the positions of those with a non-finite gradient, in the script's order
    >>> index.of_module("model.head")   # the positions of the module's parameters
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.parameters = trace.parameters
        self._rows: dict[int | None, list[ParameterRow]] = {}
        self._nonfinite: dict[int | None, list[int]] = {}
        self._modules: dict[str, Sequence[int]] | None = None  # every module → the positions of its parameters
        self._module: dict[str, list[int]] = {}  # those asked for before
        self._widths: tuple[int, int] | None = None

    def rows(self, pass_index: int | None) -> list[ParameterRow]:
        """Every parameter's figures after pass `pass_index` (None: no pass, no gradients), in the script's order."""
        rows = self._rows.get(pass_index)
        if rows is None:
            trace = self.trace
            rows = self._rows[pass_index] = [ParameterRow.of(trace, parameter, pass_index)
                                             for parameter in self.parameters]
        return rows

    def ready(self, pass_index: int | None) -> bool:
        """Whether the figures after pass `pass_index` were worked out."""
        return pass_index in self._rows

    def nonfinite(self, pass_index: int | None) -> list[int]:
        """The positions of the parameters whose gradient after the pass holds a non-finite value."""
        found = self._nonfinite.get(pass_index)
        if found is None:  # from the gradients themselves: the rows' other figures may never be asked for
            grads = {} if pass_index is None or not self.trace.passes else self.trace.passes[pass_index].leaf_grads
            found = self._nonfinite[pass_index] = [
                position for position, parameter in enumerate(self.parameters)
                if parameter.node is not None and (grad := grads.get(parameter.node)) is not None
                and not grad.stats.finite]
        return found

    def of_module(self, module: str) -> Sequence[int]:
        """The positions of the parameters of `module` and its submodules (see `modules.belongs`), in the script's
        order: from every module's list once `prepare` made them, else by going over the parameters once for it."""
        if self._modules is not None:
            return self._modules.get(module, ())
        found = self._module.get(module)
        if found is None:
            found = self._module[module] = [position for position, parameter in enumerate(self.parameters)
                                            if belongs(parameter, module)]
        return found

    def _list_modules(self) -> None:
        """Every module's parameters, in one pass over them (each parameter's scope and its prefixes ending before
        a dot: the modules it is inside)."""
        modules: dict[str, list[int]] = {}
        for position, parameter in enumerate(self.parameters):
            scope = parameter.name if parameter.module is None else parameter.module
            for end in (*(end for end, character in enumerate(scope) if character == "."), len(scope)):
                modules.setdefault(scope[:end], []).append(position)
        # NOTE: kept as ranges (a module's parameters are usually next to each other) or tuples of ints, which the
        # garbage collector doesn't walk: 16,666 lists were a third of what the browser's idle collection walked
        self._modules = {module: range(positions[0], positions[-1] + 1)
                         if positions[-1] - positions[0] == len(positions) - 1 else tuple(positions)
                         for module, positions in modules.items()}

    def prepare(self, pass_index: int | None) -> None:
        """Work out the modules' parameters, the table's widths and the figures after pass `pass_index` (a thread
        may, ahead)."""
        if self._modules is None:
            self._list_modules()
        self.widths()
        self.nonfinite(pass_index)
        self.rows(pass_index)

    def widths(self) -> tuple[int, int]:
        """The widths of the longest name and the widest shape."""
        if self._widths is None:
            shapes = {parameter.value.shape for parameter in self.parameters}
            self._widths = (max((len(parameter.name) for parameter in self.parameters), default=0),
                            max((len(shape_text(shape)) for shape in shapes), default=0))
        return self._widths
