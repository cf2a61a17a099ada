"""The user's call stack where an op ran, kept cheaply for anomaly mode and formatted into text only when
someone looks (node.metadata['traceback_'], error reports).

A stack is a chain of links `(code, instruction offset, outer link or None)`, innermost first. Nodes made
one after another share the outer part of their stacks: the frames that called them are still running at
the same instruction, so the links made for them last time still hold, and capturing a stack costs a walk
to the first such frame rather than to the bottom of the stack. Links are values: new frames at the
instructions of the last walk's (a training step called anew from the same lines) take that walk's links.
"""

from __future__ import annotations

import inspect
import linecache
import operator
import os
import sys
import threading

_MAX_STACK = 64  # frames formatted, innermost first
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# a resumable frame (generator, coroutine) may be resumed from elsewhere: its callers are not fixed
_RESUMABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


class _Recent(threading.local):
    """The frames of this thread's last walked stack, outermost first (keys of `_KNOWN`)."""

    def __init__(self) -> None:
        self.frames: list = []
        self.chain: tuple | None = None  # the last walk (see _walk)


_recent = _Recent()
# frame -> its link, for the frames of each thread's last walked stack. NOTE: a frame found here at the
# instruction it was at then (the link's) has the same callers as then (a running, non-resumable frame stays
# suspended in the call it made), so its link still holds. One dict for all threads: a frame object is one
# thread's, and frames kept here can't be freed and their memory reused.
_KNOWN: dict = {}
_PACKAGE_FILES: set = set()  # the source files of gradscope's own frames met so far
_USER_FILES: set = set()  # and of the user's
_WAYS_IN: dict = {}  # module type -> (getter, codes): the way found last from an op out to a call of that type


def capture_stack(skip: int = 1, call=None) -> tuple:
    """The stack of the user's call that made the op, as a chain of links: gradscope's own innermost frames
    are left out, as PyTorch's C++ frames are (the first `skip` unexamined: callers that know they are called
    from gradscope say so). Formatted only on demand (`format_stack`).

    `call` is the innermost module call running (observers.ModuleCall), or None. An op made by gradscope's
    own code inside a module call (a Linear's addmm) has the stack of the call, found once per call (and a
    call made by gradscope inside another has that one's). In a closed call (`ModuleCall.closed`: only
    gradscope's code makes ops in it) that is every op; in others the frames between the op and the call are
    checked by their code in one C call when they are the ones found last time in a call of that module's type.
    """
    if call is None:
        return stack_out(sys._getframe(skip))
    if call.closed:
        return call.stack if call.stack is not None else _call_stack(call)
    return _capture(sys._getframe(skip), call)


def call_stack(outer) -> tuple:
    """The stack of a closed module call (`ModuleCall.closed`) inside module call `outer`, found as the call begins:
    every op made in it has it. Called by the call's Module.__call__ alone (its frame is the caller's here, taken as
    it is, not made a frame object for nothing); outside any call, that takes `stack_out` of the frame that called
    it."""
    if outer.closed:  # gradscope's code called it: the stack of the call around it
        return outer.stack if outer.stack is not None else _call_stack(outer)
    caller = sys._getframe(2)  # Module.__call__'s
    if caller.f_code.co_filename in _USER_FILES:  # the user's forward called it (the commonest): _capture's answer
        return stack_out(caller)
    return _capture(sys._getframe(1), outer)


def _call_stack(call) -> tuple:
    """The stack of closed module call `call`, found once: the one at its frame, which is the stack of the call
    around it when that one is closed too (gradscope's code called it)."""
    outer = call.outer
    if outer is not None and outer.closed:
        stack = outer.stack if outer.stack is not None else _call_stack(outer)
    else:  # NOTE: a closed call keeps its frame unless the call around it is closed too
        stack = _capture(call.frame, outer)
    call.stack = stack
    return stack


def _capture(frame, call) -> tuple:
    """capture_stack from `frame`, in module call `call` (or None)."""
    if call is None:
        return stack_out(frame)
    pending = None  # module calls found to have this stack, on first use
    while True:
        if call.closed:  # `frame` is gradscope's, in the call: the call's stack
            stack = call.stack if call.stack is not None else _call_stack(call)
            break
        target = call.frame
        if target is None:
            stack = stack_out(frame)
            break
        if not _inside(frame, call, target):
            stack = _walk_out(frame, call, target)
            if stack is not None:  # a user's frame on the way out: the op is the user's, not the call's
                break
        stack = call.stack
        if stack is not None:
            break
        # the call's stack: the one at its own frame, inside the call around it
        if pending is None:
            pending = [call]
        else:
            pending.append(call)
        frame, call = target, call.outer
        if call is None:
            stack = stack_out(frame)
            break
    if pending is not None:
        for done in pending:
            done.stack = stack
    return stack


def _inside(frame, call, target) -> bool:
    """Whether `frame` leads out to `target` (the frame of module call `call`) over the frames found last time
    in a call of that module's type: gradscope's functions, checked by their code in one C call."""
    way = _WAYS_IN.get(type(call.module))
    if way is None or frame.f_code.co_filename not in _PACKAGE_FILES:
        return False
    try:
        return way[0](frame) == way[1] + (target,)
    except AttributeError:  # a shorter stack (f_back None): not the call's
        return False


def _walk_out(frame, call, target):
    """The stack at `frame`, walking out over gradscope's frames: None if they lead to `target` (the frame of
    module call `call`, whose way in is then kept for its module type), else the user's frames' or ()."""
    package_files = _PACKAGE_FILES
    codes = []
    while frame is not None:  # NOTE: a set lookup per frame (strings keep their hash)
        if frame is target:
            _WAYS_IN[type(call.module)] = (_getter(len(codes)), tuple(codes[1:]))
            return None
        code = frame.f_code
        filename = code.co_filename
        if filename not in package_files:
            if not filename.startswith(_PACKAGE_DIR):
                return stack_out(frame)
            package_files.add(filename)
        codes.append(code)
        frame = frame.f_back
    return ()


def stack_out(frame) -> tuple:
    """The stack at `frame`, walking out over gradscope's frames: the user's frames' or (). capture_stack's outside
    module calls, for a caller that has the frame at hand."""
    package_files = _PACKAGE_FILES
    try:
        while (filename := frame.f_code.co_filename) in package_files:  # NOTE: a set lookup per frame (strings keep
            frame = frame.f_back                                          # their hash)
    except AttributeError:  # the bottom of the stack (None has no f_code): gradscope's frames alone
        return ()
    if filename not in _USER_FILES:
        if filename.startswith(_PACKAGE_DIR):  # a file of gradscope's met for the first time
            package_files.add(filename)
            return stack_out(frame.f_back)
        _USER_FILES.add(filename)
    # the user's frame
    link = _KNOWN.get(frame)
    if link is not None:
        lasti = frame.f_lasti
        if link[1] == lasti:  # the user's frame made the last op too
            return link
        frames = _recent.frames
        # the innermost frame of the last walk, at another line: no frame kept is stale, and its callers' links
        # still hold
        if frames and frames[-1] is frame:
            link = _KNOWN[frame] = (frame.f_code, lasti, link[2])
            return link
    return _walk(frame)


def _getter(length: int):
    """A function of a frame giving the codes of its next `length - 1` callers and the frame `length` out."""
    getter = _GETTERS.get(length)
    if getter is None:
        paths = [".".join(["f_back"] * i + ["f_code"]) for i in range(1, length)] + [".".join(["f_back"] * length)]
        getter = _GETTERS[length] = operator.attrgetter(*paths) if length > 1 else lambda frame: (frame.f_back,)
    return getter


_GETTERS: dict = {}
_CODE = operator.attrgetter("f_code")
_LASTI = operator.itemgetter(1)


def _walk(frame) -> tuple:
    """The chain of links from `frame` out, made anew for the frames that moved since this thread's last
    walk. Of the frames walked, the two innermost, the outermost and every eighth are kept (in `_KNOWN`), enough
    for the next walk to stop soon: keeping a frame costs more than walking it again (a frame object kept past
    its return takes its locals along). Only the last walk's frames are kept: the ones not on this stack are
    let go (a walk that made links also holds the frames it went through until the next walk, see _stop_sooner).

    A walk over new frames at the same instructions as the last walk's, out to the frame where that one stopped,
    has the same links: a training step called anew from the same lines (and a framework's frames around it)
    takes them as they are, without making a link per frame, and keeps the innermost frame alone (the one later
    ops of the step are made in; the stop is kept) until the step's backward pass begins (let_go_of_the_step). The
    first such walk after a walk that made links also finds where the next ones may stop (`_stop_sooner`).

    The chain (`_recent.chain`): the places (code, instruction) of the frames walked, innermost first; the frame
    where the walk stopped and its instruction; the links; which of the innermost two are kept; and the frames
    walked while `_stop_sooner` has yet to run, then whether the next walks taking the links replace the kept
    innermost frame one for one (True: it is kept, alone, and the stop is a frame, listed just before it); and the
    thread's list of kept frames (`_recent.frames`, the same list: one thread-local lookup, not two)."""
    recent = _recent
    chain = recent.chain
    if chain is not None:  # the last walk's frames' (code, instruction), innermost first, and where it stopped
        places, stop, stop_lasti, links, kept, earlier, frames = chain
        inner = frame
        try:
            for code, lasti in places:  # NOTE: the frames aren't listed: only the innermost is kept
                if inner.f_code is not code or inner.f_lasti != lasti:
                    break
                inner = inner.f_back
            else:
                if inner is stop and (stop is None or inner.f_lasti == stop_lasti):
                    if earlier is True and (frames[-1] is stop or frames[-2] is stop):  # one for one
                        if frames[-1] is not stop:  # the last step's, kept (no backward pass let go of it)
                            _KNOWN.pop(frames.pop(), None)  # (already gone if forget_stacks ran in another thread)
                        frames.append(frame)
                        link = _KNOWN[frame] = links[0]
                        return link
                    _forget_inside(frames, stop)
                    if earlier.__class__ is tuple:
                        kept = _stop_sooner(frame, chain, frames)
                    for index in kept:  # outermost first, as the frames are listed
                        inner = frame.f_back if index else frame
                        _KNOWN[inner] = links[index]
                        frames.append(inner)
                    return links[0]
            if inner is frame:  # the first place differs: the frame of one of the walk's places?
                if earlier is True and frame.f_code is places[0][0]:
                    link = _step_elsewhere(frame, chain, frames)
                else:
                    link = _outer_elsewhere(frame, chain, frames)
                if link is not None:
                    return link
        except (AttributeError, IndexError):  # the stack ended sooner (None has no f_code)
            pass
    walked = []
    known_get = _KNOWN.get
    while frame is not None:
        link = known_get(frame)
        if link is not None and link[1] == frame.f_lasti:
            break
        walked.append(frame)
        frame = frame.f_back
    else:
        link = None
    stop = frame
    outermost = link  # the link the walk stopped at (None at the bottom of the stack)
    frames = recent.frames
    _forget_inside(frames, stop)
    inner = len(walked)  # frames walked inside the one at hand
    links = [None] * inner
    kept = []
    for frame in reversed(walked):
        inner -= 1
        code = frame.f_code
        link = links[inner] = (code, frame.f_lasti, link)
        if (inner < 2 or inner & 7 == 7 or link[2] is outermost) and not code.co_flags & _RESUMABLE:
            _KNOWN[frame] = link
            frames.append(frame)
            if inner < 2:  # a walk taking these links keeps the innermost two alone (0, 1): it is its own way out
                kept.append(inner)
    recent.chain = (tuple(zip(map(_CODE, walked), map(_LASTI, links))), stop,
                    outermost[1] if outermost is not None else None, links, kept, tuple(walked), frames)
    return link


def _stop_sooner(frame, chain, frames: list) -> list:
    """The first walk taking the links of the walk that made them (`chain`, which lists the frames it went through)
    found that `frame`'s stack matches them: the innermost of those frames that is still running (the same frame
    object, at the same instruction: the walk checked) is where the next walks taking them stop, kept from now on,
    rather than where that walk stopped (often the bottom of the stack: the frames around a training loop are
    compared at every step otherwise). Not one of the innermost two (kept anew by each walk), nor a resumable one
    (see _RESUMABLE). Returns which of the innermost two the walks taking them keep: the innermost alone (`[0]`)
    when it can be kept and they stop at a frame (they replace it one for one), else the ones the chain kept."""
    places, stop, stop_lasti, links, kept, earlier = chain[:6]
    inner = frame
    for index, old in enumerate(earlier):
        if index > 1 and inner is old and not inner.f_code.co_flags & _RESUMABLE:
            _KNOWN[inner] = links[index]
            frames.append(inner)
            places, stop, stop_lasti = places[:index], inner, inner.f_lasti
            break
        inner = inner.f_back
    alone = 0 in kept and stop is not None
    kept = [0] if alone else kept
    _recent.chain = (places, stop, stop_lasti, links, kept, alone, frames)
    return kept


def _step_elsewhere(frame, chain, frames: list):
    """The link of `frame`, a new frame of the code of the innermost frame of walks taking the last walk's links one
    for one (a training step's), at another instruction than theirs: an op made in the step after its backward pass
    began (which let go of the step's frame, see let_go_of_the_step). Its callers' links still hold if they are at
    the walks' places: it is kept as one for one, with a link of its own. None if they are not."""
    places, stop, stop_lasti, links = chain[:4]
    inner = frame.f_back
    for code, lasti in places[1:]:
        if inner.f_code is not code or inner.f_lasti != lasti:
            return None
        inner = inner.f_back
    if inner is not stop or inner.f_lasti != stop_lasti:
        return None
    if frames[-1] is not stop:  # the last step's frame, kept (no backward pass let go of it)
        if frames[-2] is not stop:
            return None
        _KNOWN.pop(frames.pop(), None)
    link = _KNOWN[frame] = (frame.f_code, frame.f_lasti, links[0][2])
    frames.append(frame)
    return link


def _outer_elsewhere(frame, chain, frames: list):
    """The link of `frame`, a frame of the code of one of the last walk's outer places (not its innermost) at another
    instruction: an op made there once the frames inside it returned (a loss computed in the step that called a
    model's forward, where the walk began). Its callers' links hold if they are at the walk's places out to where it
    stopped. The frames kept inside it have returned: let go. A walk that made links (`chain`'s frames listed) has its
    next walks stop, from now on, at the innermost of its frames out of this one still running at its place, as
    _stop_sooner (else ops made in turn in the model's forward and in the step would each walk anew). None if the
    callers are not at the walk's places."""
    places, stop, stop_lasti, links, kept, earlier = chain[:6]
    code = frame.f_code
    for index in range(1, len(places)):
        if places[index][0] is code:
            break
    else:
        return None
    inner = frame.f_back
    for code, lasti in places[index + 1:]:
        if inner.f_code is not code or inner.f_lasti != lasti:
            return None
        inner = inner.f_back
    if inner is not stop or stop is not None and inner.f_lasti != stop_lasti:
        return None
    if earlier.__class__ is tuple:
        inner = frame.f_back
        for later in range(index + 1, len(places)):
            old = earlier[later]
            if inner is old and not inner.f_code.co_flags & _RESUMABLE:
                break
            inner = inner.f_back
        else:
            return None
        _forget_inside(frames, stop)
        _KNOWN[inner] = links[later]
        frames.append(inner)
        alone = 0 in kept
        _recent.chain = (places[:later], inner, inner.f_lasti, links, [0] if alone else kept, alone, frames)
    else:
        _forget_inside(frames, stop)
    return (frame.f_code, frame.f_lasti, links[index][2])


def let_go_of_the_step() -> None:
    """A backward pass begins in this thread: let go of the innermost frame kept by walks taking the last walk's links
    one for one (the training step's, where its forward's later ops were made), so that the step's frames return
    unheld. NOTE: a frame kept past its return keeps its caller's, and so on out to the frame the walks stop at: at
    each return CPython copies the frame out and links its caller's, ~1 µs a step 20 frames deep. An op the step
    makes after this walks again, comparing places (_step_elsewhere)."""
    chain = _recent.chain
    # (one for one: the frames kept end with the stop, and the innermost unless let go of already)
    if chain is not None and chain[5] is True and (frames := chain[6])[-1] is not chain[1]:
        _KNOWN.pop(frames.pop(), None)


def _forget_inside(frames: list, stop) -> None:
    """Let go of the last walk's kept frames inside `stop` (a kept frame still on this stack, or None for the
    bottom): they are not on this stack any more, or will be kept anew."""
    depth = frames.index(stop) + 1 if stop is not None else 0
    for stale in frames[depth:]:
        _KNOWN.pop(stale, None)  # (already gone if forget_stacks ran in another thread)
    del frames[depth:]


def forget_stacks() -> None:
    """Let go of the frames kept to make stacks (anomaly mode is over); other threads' are let go from
    `_KNOWN` too and from their own lists (and last walks) at their next walk."""
    _recent.frames.clear()
    _recent.chain = None
    _KNOWN.clear()


def _frames(stack) -> list:
    """(code, line) of each frame of `stack`, innermost first, at most _MAX_STACK of them."""
    frames = []
    while stack and len(frames) < _MAX_STACK:
        code, lasti, stack = stack
        frames.append((code, _line(code, lasti)))
    return frames


def _line(code, lasti: int) -> int | None:
    """The source line of the instruction at byte offset `lasti`, as frame.f_lineno gives it."""
    for start, end, number in code.co_lines():
        if start <= lasti < end:
            return number
    return None


def format_stack(stack) -> list[str]:
    """Like traceback.format_list: '  File "f.py", line 3, in g\\n    code\\n' per frame, outermost first."""
    lines = []
    for code, line in reversed(_frames(stack)):
        text = f'  File "{code.co_filename}", line {line}, in {code.co_name}\n'
        source = linecache.getline(code.co_filename, line).strip() if line is not None else ""
        if source:
            text += f"    {source}\n"
        lines.append(text)
    return lines


def user_location(stack) -> str | None:
    """'file.py:LINE' of the innermost frame outside gradscope."""
    for code, line in _frames(stack):
        if not code.co_filename.startswith(_PACKAGE_DIR):
            return f"{code.co_filename}:{line}"
    return None
