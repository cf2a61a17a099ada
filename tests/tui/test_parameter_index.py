"""The parameters' figures and modules, worked out once for a trace, say what working them out one by one says."""

import gc

import numpy as np
from synthetic import synthetic_trace
from tui_helpers import NAN_MODEL, recorded, sample

from gradscope.trace.model import Parameter, TensorRecord, Trace
from gradscope.tui.modules import belongs
from gradscope.tui.parameter_index import ParameterIndex, ParameterRow

MODULES = ["", "model", "model.head", "model.header", "model.head.proj", "model.head.proj.weight", "head", "proj",
           "model.", ".hidden", "x"]


def named(names: list[tuple[str, str | None]]) -> Trace:
    value = TensorRecord(values=np.zeros((2, 3), dtype=np.float32))
    return Trace(parameters=[Parameter(name, None, value, module) for name, module in names])


def test_a_modules_parameters_are_those_that_belong_to_it():
    trace = named([("model.head.proj.weight", "model.head.proj"), ("model.header.bias", "model.header"),
                   ("model.head.scale", None), ("weight", ""), ("x.hidden", ".hidden"), ("model.stray", "model"),
                   ("head", None)])
    for prepared in (False, True):  # each module as asked for, or all of them listed ahead
        index = ParameterIndex(trace)
        if prepared:
            index.prepare(None)
        for module in MODULES + [parameter.module or parameter.name for parameter in trace.parameters]:
            expected = [position for position, parameter in enumerate(trace.parameters) if belongs(parameter, module)]
            assert list(index.of_module(module)) == expected, (module, prepared)
        if prepared:  # ranges or tuples of ints, which the garbage collector stops walking (lists it walks)
            gc.collect()
            listed = [index.of_module(module) for module in MODULES]
            assert not any(gc.is_tracked(positions) for positions in listed)
            assert isinstance(index.of_module("model.head.proj"), range) and isinstance(index.of_module("model"), tuple)


def test_figures_and_non_finite_gradients_in_every_pass():
    found = []
    for trace in (recorded(NAN_MODEL), recorded(sample("nan_training_loop")), synthetic_trace(200, passes=2)):
        index = ParameterIndex(trace)
        for pass_index in [None, *range(len(trace.passes))]:
            index.prepare(pass_index)
            assert index.ready(pass_index)
            rows = [ParameterRow.of(trace, parameter, pass_index) for parameter in trace.parameters]
            assert repr(index.rows(pass_index)) == repr(rows)  # (NaN figures compare unequal)
            expected = [position for position, parameter in enumerate(trace.parameters)
                        if pass_index is not None and (grad := trace.parameter_grad(parameter, pass_index)) is not None
                        and not grad.stats.finite]
            assert index.nonfinite(pass_index) == expected
            found += expected
    assert found  # some to find


def test_widths_of_the_longest_name_and_shape():
    trace = named([("a", None), ("a.long.name", None)])
    assert ParameterIndex(trace).widths() == (len("a.long.name"), len("[2, 3]"))
    assert ParameterIndex(named([])).widths() == (0, 0)
