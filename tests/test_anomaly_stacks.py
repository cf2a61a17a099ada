"""Anomaly mode's forward stacks (gradscope/autograd/stacks.py) against the interpreter's: a walk over new frames at
the instructions of the last walk's takes that walk's links (a training step called anew from the same lines), so
every node's `traceback_` must still be the stack where it was made, line numbers included, and no frame may be
kept once anomaly mode is over or, inside it, once a later op is made outside it."""

from __future__ import annotations

import gc
import threading
import traceback
import weakref

import pytest

import gradscope as torch
from gradscope import nn

pytestmark = pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning")


@pytest.fixture(autouse=True)
def anomaly_off():
    yield
    torch.autograd.set_detect_anomaly(False)


def _expected(frames) -> list[str]:
    return [f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n' for frame in frames]


def _first_lines(node) -> list[str]:
    return [entry.split("\n")[0] + "\n" for entry in node.metadata["traceback_"]]


def _assert_stacks(made) -> None:
    """Each (node, traceback.extract_stack() at its line) pair: the node's stack is the interpreter's (its
    innermost 64 frames)."""
    assert made
    for node, expected in made:
        lines = _first_lines(node)
        assert lines == _expected(expected)[-len(lines):]
        assert len(lines) == min(64, len(expected))


def _ops_at_depth(depth: int, x, made: list) -> None:
    """Two ops at two lines of the innermost of `depth` frames, each with the interpreter's stack."""
    if depth:
        _ops_at_depth(depth - 1, x, made)
        return
    made.append(((x * 2.0).grad_fn, traceback.extract_stack()))
    made.append((x.exp().grad_fn, traceback.extract_stack()))


def test_calls_made_anew_from_the_same_lines_have_the_interpreters_stacks():
    """The same deep call from one line, again and again: new frames at the same instructions."""
    x = torch.ones(3, requires_grad=True)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        for _ in range(4):
            _ops_at_depth(20, x, made)
    _assert_stacks(made)


def _kept_frames_hold_their_own_links(depth: int, x, seen: list) -> None:
    if depth:
        _kept_frames_hold_their_own_links(depth - 1, x, seen)
        return
    x.exp()
    from gradscope.autograd import stacks  # white box: the frames kept for the next walk (see stacks._walk)

    seen.append([(stacks._KNOWN[frame][:2], (frame.f_code, frame.f_lasti)) for frame in stacks._recent.frames])


def test_a_walk_taking_the_last_walks_links_keeps_each_frame_with_its_own_link():
    """A link kept for a frame is that frame's (its code, at its instruction), whether the walk made the links or
    took the last walk's: a wrong one would go unseen until an op at the instruction it names."""
    x = torch.ones(3, requires_grad=True)
    seen: list = []
    with torch.autograd.set_detect_anomaly(True):
        for _ in range(3):
            _kept_frames_hold_their_own_links(5, x, seen)
    assert all(len(kept) >= 2 for kept in seen)
    for kept in seen:
        *outer, (innermost, this_frame) = kept  # this one has moved on since (to the line that looked)
        assert innermost[0] is this_frame[0]
        for link, frame in outer:
            assert link[0] is frame[0] and link[1] == frame[1]


@pytest.mark.parametrize("depths", [(20, 21, 20, 19, 20), (5, 0, 5, 1, 5), (40, 70, 70, 3, 70)])
def test_recursion_of_other_depths_from_the_same_line_has_the_interpreters_stacks(depths):
    """One recursive function from one line: the frames' instructions are the last walk's for a while, then
    the stack is longer or shorter than it was."""
    x = torch.ones(3, requires_grad=True)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        for depth in depths:
            _ops_at_depth(depth, x, made)
    _assert_stacks(made)


def _from_two_lines(x, made: list) -> None:
    for _ in range(2):
        _ops_at_depth(6, x, made)
        _ops_at_depth(6, x, made)  # the same frames' instructions, but this frame's is another


def test_the_same_call_from_another_line_of_the_caller_has_the_interpreters_stacks():
    x = torch.ones(3, requires_grad=True)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        _from_two_lines(x, made)
        _from_two_lines(x, made)
    _assert_stacks(made)


def _first_caller(x, made: list) -> None:
    _ops_at_depth(3, x, made)


def _second_caller(x, made: list) -> None:
    _ops_at_depth(3, x, made)


def test_the_same_frames_under_another_caller_have_the_interpreters_stacks():
    x = torch.ones(3, requires_grad=True)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        for _ in range(3):
            _first_caller(x, made)
            _second_caller(x, made)
    _assert_stacks(made)


def _leaf(x, made: list) -> None:
    made.append(((x * 2.0).grad_fn, traceback.extract_stack()))


def _other_leaf(x, made: list) -> None:
    made.append(((x * 4.0).grad_fn, traceback.extract_stack()))


def _middle(x, made: list, first: bool) -> None:
    if first:
        _other_leaf(x, made)
    _leaf(x, made)


def _stopper(x, made: list) -> None:
    made.append(((x * 3.0).grad_fn, traceback.extract_stack()))  # this frame's caller is kept
    _middle(x, made, True)  # this frame is kept at this line, then a walk stops at it
    _middle(x, made, False)  # new frames at the last walk's instructions, out to this frame at another line


def test_the_frame_a_walk_stopped_at_being_at_another_line_has_the_interpreters_stacks():
    x = torch.ones(3, requires_grad=True)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        _stopper(x, made)
    _assert_stacks(made)


def _producer(x):
    while True:
        yield (x * 2.0).grad_fn, traceback.extract_stack()


def _resume(generator, made: list, depth: int) -> None:
    if depth:
        _resume(generator, made, depth - 1)
        return
    made.append(next(generator))


def test_a_generator_resumed_from_other_callers_has_the_interpreters_stacks():
    """A generator's frame is at the same instruction whoever resumes it: its callers differ."""
    x = torch.ones(3, requires_grad=True)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        generator = _producer(x)
        for depth in (4, 4, 9, 4, 0, 0, 9):
            _resume(generator, made, depth)
            made.append(next(generator))
    _assert_stacks(made)


def _step(model, x, made: list) -> None:
    out, at_model = model(x), traceback.extract_stack()
    loss, at_loss = out.sum(), traceback.extract_stack()
    made += [(out.grad_fn, at_model), (out.grad_fn.next_functions[2][0], at_model), (loss.grad_fn, at_loss)]
    loss.backward()


def _nested(depth: int, model, x, made: list) -> None:
    if depth:
        _nested(depth - 1, model, x, made)
    else:
        _step(model, x, made)


def test_a_training_step_called_anew_has_the_interpreters_stacks():
    """bench/anomaly.py's loop: steps under 0 and 20 extra frames, nodes made in module calls and outside them."""
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    x = torch.ones(2, 4)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        for depth in (20, 20, 0, 0, 20, 20):
            _nested(depth, model, x, made)
    assert [node.name() for node, _ in made[:3]] == ["AddmmBackward0", "TBackward0", "SumBackward0"]
    _assert_stacks(made)


def _via_first(depth: int, model, x, made: list) -> None:
    _nested(depth, model, x, made)


def _via_second(depth: int, model, x, made: list) -> None:
    _nested(depth, model, x, made)


def test_steps_under_other_frames_of_the_same_depth_from_a_loop_have_the_interpreters_stacks():
    """The walks that take the last walk's links stop at the loop's frame (the innermost frame they found running
    since): the frames inside it are still compared, whichever function calls the step."""
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    x = torch.ones(2, 4)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        for caller in (_via_first, _via_first, _via_first, _via_second, _via_second, _via_first, _via_second):
            caller(5, model, x, made)
            caller(0, model, x, made)
    _assert_stacks(made)
    callers = [next(frame.name for frame in frames if frame.name.startswith("_via")) for _, frames in made]
    assert callers == [caller for caller in callers[::3] for _ in range(3)] and set(callers) == {"_via_first",
                                                                                                  "_via_second"}


def _loop_of_steps(model, x, made: list, stops: list) -> None:
    from gradscope.autograd import stacks  # white box: where the walks taking the last walk's links stop

    for _ in range(4):
        _nested(3, model, x, made)
        stops.append(stacks._recent.chain[1])


def test_walks_taking_the_last_walks_links_stop_at_the_training_loops_frame():
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    x = torch.ones(2, 4)
    made, stops = [], []
    with torch.autograd.set_detect_anomaly(True):
        _loop_of_steps(model, x, made, stops)
    _assert_stacks(made)
    assert [stop.f_code.co_name if stop is not None else None for stop in stops[1:]] == ["_loop_of_steps"] * 3


def _kept_names() -> list[str]:
    from gradscope.autograd import stacks  # white box: the frames kept for the next walk (see stacks._walk)

    return [frame.f_code.co_name for frame in stacks._recent.frames]


def _listing_step(model, x, made: list, listed: list) -> None:
    out, at_model = model(x), traceback.extract_stack()
    loss, at_loss = out.sum(), traceback.extract_stack()
    made += [(out.grad_fn, at_model), (loss.grad_fn, at_loss)]
    listed.append(_kept_names())  # its forward done
    loss.backward()
    listed.append(_kept_names())  # its backward pass run


def _listed_steps(model, x, made: list, listed: list) -> None:
    for _ in range(4):
        _listing_step(model, x, made, listed)
        listed.append(_kept_names())  # returned


def test_walks_taking_the_last_walks_links_keep_the_steps_innermost_frame_alone_until_its_backward_pass():
    """Once the walks stop at the loop's frame, each keeps the step's innermost frame (where its later ops are made:
    the loss here) and no other frame of the step; its backward pass lets go of it."""
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    x = torch.ones(2, 4)
    made, listed = [], []
    with torch.autograd.set_detect_anomaly(True):
        _listed_steps(model, x, made, listed)
    _assert_stacks(made)
    test = "test_walks_taking_the_last_walks_links_keep_the_steps_innermost_frame_alone_until_its_backward_pass"
    # (the walks stop at the test's frame: the loop's is one of the step's innermost two, kept anew by each walk)
    assert [names[-2:] for names in listed[3::3]] == [[test, "_listing_step"]] * 3
    assert [names[-1] for names in listed[3:]] == ["_listing_step", test, test] * 3


def _held_step(depth: int, model, x, held: list) -> None:
    """A training step `depth` frames down, each frame's local an object that `held` gets a weak reference to."""
    local = _Held()
    held.append(weakref.ref(local))
    if depth:
        _held_step(depth - 1, model, x, held)
        return
    model(x).sum().backward()


def test_the_steps_frames_return_unheld_once_its_backward_pass_began():
    """A frame kept past its return holds its caller's, and so on: the step's backward pass lets go of the frame the
    walks keep, so that every frame of the step is freed as it returns, not at the next step's walk."""
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    x = torch.ones(2, 4)
    alive = []
    with torch.autograd.set_detect_anomaly(True):
        for depth in (20, 20, 20, 20, 0, 0, 0):
            held: list = []
            _held_step(depth, model, x, held)
            alive.append(sum(ref() is not None for ref in held))
    assert alive[2:4] == [0, 0] and alive[5:] == [0, 0]


def _step_then_op(model, x, made: list) -> None:
    out = model(x)
    out.sum().backward()
    made.append(((out * 2.0).grad_fn, traceback.extract_stack()))  # an op after the backward pass
    made.append((out.exp().grad_fn, traceback.extract_stack()))


def _nested_step_then_op(depth: int, model, x, made: list) -> None:
    if depth:
        _nested_step_then_op(depth - 1, model, x, made)
    else:
        _step_then_op(model, x, made)


def _loop_of_steps_then_ops(model, x, made: list, one_for_one: list) -> None:
    from gradscope.autograd import stacks  # white box: whether the walks still take the last walk's links one for one

    for depth in (3, 3, 3, 3, 20, 20, 20, 0, 0, 0):
        _nested_step_then_op(depth, model, x, made)
        one_for_one.append(stacks._recent.chain[5] is True)


def test_ops_made_in_a_step_after_its_backward_pass_have_the_interpreters_stacks():
    """The backward pass let go of the step's frame: an op made in it afterwards takes the walks' links if its callers
    are at their places, without a walk that would make the next step's walk again."""
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    x = torch.ones(2, 4)
    made, one_for_one = [], []
    with torch.autograd.set_detect_anomaly(True):
        _loop_of_steps_then_ops(model, x, made, one_for_one)
    _assert_stacks(made)
    assert [made[i][0].name() for i in (0, 1)] == ["MulBackward0", "ExpBackward0"]
    assert one_for_one == [False, True, True, True, False, True, True, False, True, True]


class _Held:
    pass


def _op_holding(depth: int, x, held: list):
    """An op made `depth` frames down from a frame whose local is an object that `held` gets a weak reference to."""
    local = _Held()
    held.append(weakref.ref(local))
    if depth:
        return _op_holding(depth - 1, x, held)
    return x.sqrt()


def test_no_frame_is_kept_once_anomaly_mode_is_over():
    x = torch.ones(3, requires_grad=True)
    held: list = []
    with torch.autograd.set_detect_anomaly(True):
        for _ in range(3):  # the last two take the first one's links
            y = _op_holding(20, x, held)
    assert y.grad_fn.metadata["traceback_"][-1].split("\n")[0].endswith("in _op_holding")
    gc.collect()
    assert [ref for ref in held if ref() is not None] == []


def test_frames_that_returned_are_let_go_by_the_next_op_made_outside_them():
    x = torch.ones(3, requires_grad=True)
    held: list = []
    with torch.autograd.set_detect_anomaly(True):
        for _ in range(3):
            _op_holding(20, x, held)
            x * 2.0  # an op of this frame: the ones kept from the walks below it are let go
            assert [ref for ref in held if ref() is not None] == []


def test_the_frames_of_earlier_steps_are_let_go_by_the_walks_taking_their_links():
    """Steps called anew from one line: each walk keeps the innermost frame of its step in place of the last step's
    (and so the frames around it, which it holds)."""
    x = torch.ones(3, requires_grad=True)
    held: list = []
    with torch.autograd.set_detect_anomaly(True):
        for _ in range(6):
            _op_holding(3, x, held)
        assert [ref for ref in held[:-4] if ref() is not None] == []  # the last step's 4 frames' may be kept


def test_each_thread_has_its_own_stacks():
    x = torch.ones(3, requires_grad=True)
    made: dict = {0: [], 1: []}

    def work(index: int) -> None:
        for depth in (10, 10, 3, 10):
            _ops_at_depth(depth + index, x, made[index])

    with torch.autograd.set_detect_anomaly(True):
        threads = [threading.Thread(target=work, args=(index,)) for index in (0, 1)]
        for thread in threads:
            thread.start()
        work(0)
        for thread in threads:
            thread.join()
    _assert_stacks(made[0])
    _assert_stacks(made[1])


def test_walks_out_over_gradscope_files_met_for_the_first_time_have_the_interpreters_stacks(monkeypatch):
    """A walk out of gradscope's frames learns its files as it meets them (stacks._PACKAGE_FILES) and the user's
    (stacks._USER_FILES): met for the first time, they give the stacks met again later do. A walk meeting gradscope's
    frames alone, out to the bottom of the stack, finds no user's frame."""
    from gradscope.autograd import stacks  # white box: no file known yet

    monkeypatch.setattr(stacks, "_PACKAGE_FILES", set())
    monkeypatch.setattr(stacks, "_USER_FILES", set())
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    x = torch.ones(2, 4)
    made: list = []
    with torch.autograd.set_detect_anomaly(True):
        for depth in (2, 2, 0):
            _nested(depth, model, x, made)
    _assert_stacks(made)
    assert stacks._USER_FILES == {__file__} and stacks._PACKAGE_FILES
    assert stacks.stack_out(None) == ()


class _Net(nn.Module):
    """A user's model: its forward (an open call) calls gradscope's modules (closed calls) at three places."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.act, self.last = nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1)

    def forward(self, x, made: list):
        made.append(((h := self.first(x)).grad_fn, traceback.extract_stack()))
        made.append(((h := self.act(h)).grad_fn, traceback.extract_stack()))
        made.append(((out := self.last(h)).grad_fn, traceback.extract_stack()))
        return out


def _user_model_step(model, x, made: list) -> None:
    made.append(((loss := model(x, made).sum()).grad_fn, traceback.extract_stack()))
    loss.backward()


def test_modules_called_by_a_users_forward_have_the_interpreters_stacks():
    """A gradscope module called from the user's forward: its ops' stack is the user's frame's (call_stack), whatever
    the depth the step runs at and the frames that came before. The loss, made in the step once the forward returned,
    takes the walk's links (stacks._outer_elsewhere): the walks from the forward stay one for one from a depth's second
    step on, not made anew by the loss's walk each step."""
    from gradscope.autograd import stacks  # white box: whether the walks take the last walk's links one for one

    model = _Net()
    x = torch.ones(2, 4)
    made: list = []
    one_for_one = []
    with torch.autograd.set_detect_anomaly(True):
        for depth in (0, 0, 0, 5, 5, 5, 20, 20, 0):
            _nested_user_step(depth, model, x, made)
            one_for_one.append(stacks._recent.chain[5] is True)
    _assert_stacks(made)
    assert [node.scope for node, _ in made[:4]] == ["_Net.first", "_Net.act", "_Net.last", None]
    assert one_for_one == [True, True, True, True, True, True, True, True, True]


def _nested_user_step(depth: int, model, x, made: list) -> None:
    if depth:
        _nested_user_step(depth - 1, model, x, made)
    else:
        _user_model_step(model, x, made)
