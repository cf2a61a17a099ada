"""check_forward's ops outside the graph are checked by a watcher (it takes op_computed only), so the engine keeps
apply's light recording and its plain backward: what it raises, and where, is what the full observer it was before
raised (forced here by registering the same watcher as a process-wide observer)."""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pytest

import gradscope as gs
import gradscope.nn.functional as F
from gradscope.autograd import anomaly, dispatch, observers

pytestmark = [pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning"),
              pytest.mark.filterwarnings("ignore:Error detected in:UserWarning")]


@contextlib.contextmanager
def _as_observer():
    """check_forward's watcher as the process-wide observer it was."""
    observers.remove_watcher(anomaly._FORWARD_WATCHER)
    observers.add_global(anomaly._FORWARD_WATCHER)
    try:
        yield
    finally:
        observers.remove_global(anomaly._FORWARD_WATCHER)
        observers.add_watcher(anomaly._FORWARD_WATCHER)


def _operands():
    zeros = gs.zeros(2, 3)
    big = gs.full((2, 3), 1e30)
    x = gs.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 5.0]], requires_grad=True)
    w = gs.full((4, 3), 1e30, requires_grad=True)
    return zeros, big, x, w


CASES = {  # each makes a non-finite value from finite ones (or, last, none)
    "unary outside the graph": lambda zeros, big, x, w: zeros.log(),
    "binary outside the graph": lambda zeros, big, x, w: big * big,
    "with a number outside the graph": lambda zeros, big, x, w: big * 1e30,
    "in place, scalar": lambda zeros, big, x, w: zeros.div_(0.0),
    "in place": lambda zeros, big, x, w: zeros.log_(),
    "mm outside the graph": lambda zeros, big, x, w: big @ big.t(),
    "linear outside the graph": lambda zeros, big, x, w: F.linear(big, big),
    "reduction outside the graph": lambda zeros, big, x, w: (big * 1e8).sum(),
    "unary in the graph": lambda zeros, big, x, w: x.log(),
    "linear in the graph": lambda zeros, big, x, w: F.linear(big, w, None),
    "views and finite ops": lambda zeros, big, x, w: (zeros.t().exp() + x.t()).sum().backward(),
}


def _outcome(case: str, as_observer: bool):
    """What check_forward raises for a case: the error, its report's role, op, location and reason; or None."""
    with gs.autograd.detect_anomaly(check_forward=True), _as_observer() if as_observer else contextlib.nullcontext():
        try:
            CASES[case](*_operands())
        except RuntimeError as error:
            report = error.report
            return str(error), report.role, report.op, report.location, report.reason, report.scope
    return None


@pytest.mark.parametrize("case", CASES)
def test_check_forward_raises_as_it_did_as_an_observer(case):
    outcome = _outcome(case, False)
    assert outcome == _outcome(case, True)
    assert (outcome is None) == (case == "views and finite ops")
    if outcome is not None:
        assert outcome[3].startswith(__file__)  # the user's line


def test_check_forward_keeps_the_light_paths():
    zeros, big, x, w = _operands()
    calls = []
    record = dispatch._record.__code__

    def profile(frame, event, arg):
        if event == "call" and frame.f_code is record:
            calls.append(frame.f_code)

    with gs.autograd.detect_anomaly(check_forward=True):
        assert not observers.GLOBAL and observers.WATCHERS == (anomaly._FORWARD_WATCHER,)
        sys.setprofile(profile)
        try:
            loss = (x.exp() * 2.0 + x.sin()).sum()
        finally:
            sys.setprofile(None)
        loss.backward()
    assert calls == []  # no SavedTensor entries: apply's light recorders
    assert np.isfinite(x.grad.numpy()).all()
    assert not observers.WATCHERS
