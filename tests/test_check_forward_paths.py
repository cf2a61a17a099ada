"""check_forward's ops outside the graph are handed to anomaly mode's checker by the paths that make them (the
one-frame forwards, fused_products, apply), so check_forward keeps every fast path: what it raises, and where, is
what it raised as a process-wide observer of every op (forced here by registering the check as one)."""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pytest

import gradscope as gs
import gradscope.nn.functional as F
from gradscope.autograd import dispatch, observers

pytestmark = [pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning"),
              pytest.mark.filterwarnings("ignore:Error detected in:UserWarning")]


class _Check:
    """The checker's check of ops without a node, as the process-wide observer it was."""

    def __init__(self, check) -> None:
        self.op_computed = check


@contextlib.contextmanager
def _as_observer():
    """check_forward's check of ops without a node told by observers.notify, the paths' own calls silenced."""
    checker = observers.checker  # check_forward's (anomaly._EXTENDED)
    observer = _Check(checker.op_computed)
    checker.op_computed = lambda op, inputs, outputs: None
    observers.add_global(observer)
    try:
        yield
    finally:
        observers.remove_global(observer)
        del checker.op_computed


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


def _calls(make) -> list[str]:
    """The calls of apply (the general path) and _record (SavedTensor entries) while `make` runs."""
    calls = []
    codes = (dispatch.apply.__code__, dispatch._record.__code__)

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        make()
    finally:
        sys.setprofile(None)
    return calls


def test_check_forward_keeps_the_fast_paths():
    zeros, big, x, w = _operands()

    def make():
        loss = (x.exp() * 2.0 + x.sin() + F.linear(zeros, w, None).sum() * 0.0).sum()
        (zeros.exp() * 2.0).sum() + (zeros @ big.t().t().t()).sum()
        return loss

    unchecked = _calls(make)
    with gs.autograd.detect_anomaly(check_forward=True):
        assert observers.idle and not observers.WATCHERS
        checked = _calls(make)
        make().backward()
    assert checked == unchecked and "_record" not in checked  # the same calls of the general path: the sums
    assert np.isfinite(x.grad.numpy()).all()
