"""torch.utils.benchmark as tutorials use it (the Jacobians/Hessians and per-sample-gradients tutorials time two ways
of computing a thing; gradscope had no such module): Timer runs the statement after its setup with `torch` in its
globals, timeit/blocked_autorange/adaptive_autorange give Measurements whose statistics and printed summary follow
PyTorch's. Times themselves are never compared: the statistics are checked on hand-made Measurements, the timed
ones on their structure."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")
pytest.importorskip("torch.utils.benchmark")

SPECS = {
    "one-line stmt": dict(stmt="f(x)", setup="pass"),
    "label and sub_label": dict(stmt="f(x)", setup="x = 1", label="L", sub_label="s", num_threads=2),
    "multi-line stmt, setup and description": dict(stmt="y = 1\nz = 2", setup="a\nb", sub_label="s",
                                                   description="d"),
}
RAW_TIMES = {
    "one block": (1, [2.5e-7]),
    "three blocks": (100, [1e-3, 1.2e-3, 1.1e-3]),
    "five steady blocks": (10, [1e-3, 1.01e-3, 0.99e-3, 1.0e-3, 1.02e-3]),
    "five blocks, some fluctuation": (10, [1e-3, 1.1e-3, 0.9e-3, 1.5e-3, 1.0e-3]),
    "five blocks, much fluctuation": (1, [1e-2, 3e-2, 1e-2, 2e-2, 5e-3]),
}


def _summary(lib, spec, raw_times):
    benchmark = lib.utils.benchmark
    number, times = raw_times
    m = benchmark.Measurement(number, list(times), benchmark.TaskSpec(**spec))
    merged = benchmark.Measurement.merge([m, m])[0]
    return (repr(m).splitlines()[1:], m.times, m.median, m.mean, m.iqr, m.significant_figures, m.has_warnings,
            m.meets_confidence(), m.title, m.as_row_name, m.env, m.stmt, merged.number_per_run, merged.times)


@pytest.mark.parametrize("raw", RAW_TIMES)
@pytest.mark.parametrize("spec", SPECS)
def test_a_measurement_summarises_as_pytorchs(spec, raw):
    ours, theirs = _summary(gradscope, SPECS[spec], RAW_TIMES[raw]), _summary(torch, SPECS[spec], RAW_TIMES[raw])
    assert ours[0] == theirs[0]
    assert ours[1:6] == pytest.approx(theirs[1:6])
    assert ours[6:] == theirs[6:]


@pytest.mark.parametrize("t", [3e-5, 2.0, 7e-10, 1e-3, 4.2e-8])
def test_select_unit(t):
    assert gradscope.utils.benchmark.select_unit(t) == torch.utils.benchmark.select_unit(t)


def test_the_timer_runs_the_statement_after_its_setup_with_torch_in_its_globals():
    calls = []
    timer = gradscope.utils.benchmark.Timer("calls.append(torch.ones(2) * x)", setup="x = 3",
                                            globals={"calls": calls}, label="scaled", description="ones")
    m = timer.timeit(7)
    assert m.number_per_run == 7 and len(m.raw_times) == 1 and m.times[0] > 0
    assert len(calls) == 2 + 7 and calls[-1].tolist() == [3.0, 3.0]  # a warm-up of max(7 // 100, 2) runs first
    assert repr(m).splitlines()[1:4] == ["scaled", "ones", "setup: x = 3"]
    assert repr(m).splitlines()[5] == "  1 measurement, 7 runs , 1 thread"

    blocked = timer.blocked_autorange(min_run_time=0.01)
    assert sum(blocked.raw_times) >= 0.01 and blocked.number_per_run >= 1
    adaptive = timer.adaptive_autorange(min_run_time=0.01, max_run_time=0.05)
    assert adaptive.number_per_run >= 1 and len(adaptive.raw_times) >= 1


@pytest.mark.parametrize("arguments", [dict(stmt=len), dict(stmt="1", language="rust"),
                                       dict(stmt="1", global_setup="x = 1")])
def test_timer_refuses_as_pytorchs(arguments):
    errors = []
    for lib in (gradscope, torch):
        with pytest.raises(ValueError) as caught:
            lib.utils.benchmark.Timer(**arguments)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("method", ["repeat", "autorange"])
def test_timeit_style_repeats_point_to_blocked_autorange(method):
    with pytest.raises(NotImplementedError, match=r"See `Timer.blocked_autorange.`"):
        getattr(gradscope.utils.benchmark.Timer("1"), method)()
