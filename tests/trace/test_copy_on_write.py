"""A recording holds the arrays gradscope made while recording by reference (copy-on-write): every path that
writes into a tensor's memory must announce it first, or the trace would show the new values. Each test
records the same seeded step twice, reads one trace at once and the other after writing into recorded
memory through one path: the statistics must be the same, those of the values when recorded."""

import numpy as np
import pytest

import gradscope
from gradscope import nn, optim
from gradscope._stats import compute_stats
from gradscope.autograd import writes
from gradscope.trace import Recorder


def _records(trace):
    for node in trace.nodes.values():
        yield from (r for r in (*node.inputs, *node.outputs, *node.saved.values()) if r is not None)
    for recorded in trace.passes:
        for records in (*recorded.grad_outputs.values(), *recorded.grad_inputs.values()):
            yield from (r for r in records if r is not None)
        yield from recorded.leaf_grads.values()
    for parameter in trace.parameters:
        yield parameter.value


def _step(write=None, held=None):
    """Record a small MLP step (every array kept as statistics), run `write(run)` on what it made, then
    read every statistic. `held(trace)` sees the trace before the write."""
    gradscope.manual_seed(0)
    first, second = nn.Linear(8, 16), nn.Linear(16, 4)
    x = gradscope.randn(32, 8)
    with Recorder(keep_values=0) as recorder:
        hidden = first(x).tanh()
        loss = second(hidden).pow(2).mean()
        loss.backward()
    trace = recorder.finish()
    if held is not None:
        held(trace)
    if write is not None:
        write({"hidden": hidden, "first": first, "second": second, "x": x, "loss": loss, "trace": trace})
    return [repr(record.stats) for record in _records(trace)]


EXPECTED = None


def _expected():
    global EXPECTED
    if EXPECTED is None:
        EXPECTED = _step()
    return EXPECTED


def test_the_step_holds_what_only_gradscope_reaches():
    def check(trace):
        states = {id(r): r._held is not None for r in _records(trace)}
        assert any(states.values())  # activations, gradients: held, no copy
        assert all(states[id(p.value)] for p in trace.parameters)  # parameters its factories made: held too

    _step(held=check)


def _step_in_the_callers_memory(write: bool):
    """Record a step whose input is the caller's array and one of whose weights the caller got with numpy()
    before recording; write through both after recording when `write`."""
    gradscope.manual_seed(0)
    first, second = nn.Linear(8, 16), nn.Linear(16, 4)
    weight = first.weight.detach().numpy()  # the caller may write through it from now on, unannounced
    inputs = np.random.default_rng(0).standard_normal((32, 8)).astype(np.float32)
    with Recorder(keep_values=0) as recorder:
        second(first(gradscope.from_numpy(inputs)).tanh()).pow(2).mean().backward()
    trace = recorder.finish()
    if write:
        weight[...] = 7.0
        inputs[...] = 7.0
    return [repr(record.stats) for record in _records(trace)]


def test_memory_the_caller_can_write_into_is_copied_as_recorded():
    assert _step_in_the_callers_memory(write=True) == _step_in_the_callers_memory(write=False)


def _backward_again(run):
    loss = run["second"](run["first"](run["x"]).tanh()).pow(2).mean()
    loss.backward()  # accumulates into each .grad in place


WRITES = {
    "scalar in-place op (fast path)": lambda run: run["hidden"].detach().mul_(3.0),
    "in-place op with a tensor": lambda run: run["hidden"].detach().add_(gradscope.ones(16)),
    "setitem": lambda run: run["hidden"].detach().__setitem__(0, 5.0),
    "in-place op on a view": lambda run: run["hidden"].detach()[1:].zero_(),
    "in-place op on a transposed view": lambda run: run["hidden"].detach().t().fill_(2.0),
    "out=": lambda run: gradscope.acos(gradscope.zeros(32, 16), out=run["hidden"].detach()),
    "numpy()": lambda run: run["hidden"].detach().numpy().__setitem__(Ellipsis, 7.0),
    "np.asarray(tensor)": lambda run: np.asarray(run["hidden"].detach()).__setitem__(Ellipsis, 7.0),
    ".grad accumulation": _backward_again,
    "zero_grad(set_to_none=False)": lambda run: run["first"].zero_grad(set_to_none=False),
    "clip_grad_norm_": lambda run: nn.utils.clip_grad_norm_(run["first"].parameters(), 1e-3),
    "optimizer.step": lambda run: optim.SGD(run["first"].parameters(), lr=0.1, momentum=0.9).step(),
}


@pytest.mark.parametrize("path", WRITES)
def test_a_write_after_recording_leaves_the_recorded_statistics(path):
    assert _step(WRITES[path]) == _expected()


def _optimizer_steps_a_held_array(run):
    """A parameter whose data is an array the recording made (held): the optimizer writes into it."""
    parameter = nn.Parameter(gradscope.zeros(32, 16))
    parameter.data = run["hidden"].detach()
    parameter.grad = gradscope.ones(32, 16)
    for optimizer in (optim.SGD([parameter], lr=0.1, momentum=0.9), optim.Adam([parameter], amsgrad=True),
                      optim.Adamax([parameter]), optim.Rprop([parameter])):
        optimizer.step()
        optimizer.step()


def _running_statistics_in_held_memory(run):
    norm = nn.BatchNorm1d(16)
    norm.running_mean = run["hidden"].detach()[0]  # batch norm updates its running statistics in place
    norm.running_var = run["hidden"].detach()[1].abs()
    norm(gradscope.randn(8, 16))


WRITES_INTO_HELD_MEMORY = {
    "optimizer kernels": _optimizer_steps_a_held_array,
    "batch norm running statistics": _running_statistics_in_held_memory,
}


@pytest.mark.parametrize("path", WRITES_INTO_HELD_MEMORY)
def test_gradscope_writing_into_held_memory_announces_it(path):
    assert _step(WRITES_INTO_HELD_MEMORY[path]) == _expected()


def test_gradcheck_perturbing_a_held_input_announces_it():
    def perturb(run):
        held = run["hidden"].detach().requires_grad_()  # its memory is held: gradcheck writes into it
        original = held.detach().clone()

        def function(t):
            if not gradscope.equal(t, original):  # perturbed: read the trace now (then kept)
                for record in _records(run["trace"]):
                    record.stats  # noqa: B018
            return (t * t).sum()

        with pytest.warns(UserWarning, match="double precision"):
            assert gradscope.autograd.gradcheck(function, (held,), eps=1e-3, atol=1e-2, rtol=1e-2, fast_mode=True)

    assert _step(perturb) == _expected()


def test_held_records_in_a_copy_or_pickle_are_statistics():
    import copy

    def check(trace):
        record = next(r for r in _records(trace) if r._held is not None)
        clone = copy.deepcopy(record)
        assert clone._held is None and clone.stats == record.stats

    _step(held=check)


def test_before_write_finds_the_memory_of_any_view():
    class Holder:
        calls = 0

        def preserve(self):
            Holder.calls += 1

    array = np.arange(12.0).reshape(3, 4)
    holder = Holder()
    assert writes.hold(array, holder)
    writes.before_write(np.arange(3.0))  # other memory: nothing
    assert Holder.calls == 0
    writes.before_write(np.lib.stride_tricks.as_strided(array[1:], (2,), (8,)))
    assert Holder.calls == 1
    writes.before_write(array)  # told once: the holder copied what it needed
    assert Holder.calls == 1
    assert not writes.hold(np.frombuffer(b"\0" * 16), holder)  # memory NumPy doesn't own: copy instead


def test_a_hold_told_the_layout_and_owner_is_the_hold_that_finds_them():
    """`TensorRecord.hold(array, dense, owner)` and `writes.hold(array, holder, owner)` with what the caller knows (the
    recorder) hold as without: a write into the owner's memory copies first, a strided view is copied at once."""
    from gradscope.trace.model import TensorRecord

    for told in (False, True):
        owner = writes.allocated(np.arange(12.0))
        view = owner.reshape(3, 4).T
        record = TensorRecord.hold(view, True, owner) if told else TensorRecord.hold(view)
        assert record.held is view
        writes.before_write(owner[:1])
        assert record.held is None and record.stats.max == 11.0 and record.stats.shape == (4, 3)
        strided = owner.reshape(3, 4)[:, ::2]
        record = TensorRecord.hold(strided, False, owner) if told else TensorRecord.hold(strided)
        assert record.held is None and record.pending_bytes == strided.nbytes  # a copy now
        owner *= 0
        assert record.stats.max == 10.0


def test_memory_held_by_one_recording_after_another_keeps_the_claims_of_live_holders_only():
    model = nn.Linear(80, 80)  # a weight above the values kept: held, never written (no optimizer step)
    x = gradscope.randn(2, 80)
    live = []
    for step in range(300):
        with Recorder() as recorder:
            model(x).sum().backward()
        trace = recorder.finish()
        if step % 100 == 0:
            live.append(trace)  # these traces keep their records of the weight
    claims = writes._held[id(writes.memory_owner(model.weight._data))].holders
    assert len(claims) < 16  # one per hold, 300, before claims of holders gone were dropped
    held = list({id(r): r for trace in live for r in _records(trace) if r._held is model.weight._data}.values())
    assert len(held) == 3
    with gradscope.no_grad():
        model.weight.mul_(2)  # each live record copies the weight before the write
    assert all(r._held is None for r in held)
    assert all(r.stats.max < model.weight.max().item() for r in held)


def test_memory_is_private_from_a_factory_until_handed_out():
    made = gradscope.randn(4, 3)
    assert writes.is_private(writes.memory_owner(made.t()._data))  # a view is in its base's memory
    assert not writes.is_private(writes.memory_owner(gradscope.from_numpy(np.ones(3))._data))  # the caller's
    np.asarray(made)
    assert not writes.is_private(made._data)  # the caller may write through the array it got
    for _ in range(5000):  # the entries of tensors gone are dropped as the registry grows
        gradscope.zeros(2)
    assert len(writes._private) < 3000


def test_held_references_counts_the_holders_references_to_an_array_and_its_base():
    class Holder:
        def __init__(self, held):
            self.held = held

        def preserve(self):
            self.held = None

    base = np.zeros((4, 3))
    view = base.T
    holders = [Holder(view), Holder(base), Holder(base[1:].T)]
    for holder in holders:
        assert writes.hold(holder.held, holder)
    assert writes.held_references(view) == (1, 2)  # the view itself; the base, and the third holder's view of it
    assert writes.held_references(base) == (3, 0)  # each holds the base or a view of it
    writes.before_write(base)  # they let go
    assert writes.held_references(view) == (0, 0)


def test_an_owner_s_entry_goes_when_it_dies_and_its_id_is_held_afresh():
    class Holder:
        def __init__(self, held):
            self.held = held

        def preserve(self):
            self.held = None

    held_before = len(writes._held)
    for _ in range(50):  # the ids of owners gone are reused: each owner is held afresh, by its own holders
        holder = Holder(np.zeros(3))
        assert writes.hold(holder.held.T, holder)
        assert writes._held[id(holder.held)]() is holder.held and writes.held_references(holder.held) == (1, 0)
        other = Holder(holder.held[1:])
        assert writes.hold(other.held, other) and writes.held_references(holder.held) == (2, 0)
        del holder, other  # the owner dies with its holders: so does its entry
        assert len(writes._held) == held_before


def _embedding_bag():
    bag = nn.EmbeddingBag(10, 3, mode="sum")
    bag(gradscope.tensor([1, 2, 4, 5, 4, 3]), gradscope.tensor([0, 3]))


def _gumbel_softmax():
    nn.functional.gumbel_softmax(gradscope.randn(2, 5), hard=True)


def _packed_sequences():
    packed = nn.utils.rnn.pack_padded_sequence(gradscope.randn(4, 2, 3), gradscope.tensor([4, 2]))
    nn.utils.rnn.pad_packed_sequence(packed)


def _singular_matrix():
    with pytest.raises(RuntimeError, match="singular"):
        gradscope.linalg.inv(gradscope.zeros(2, 2))


@pytest.mark.parametrize("run", [_embedding_bag, _gumbel_softmax, _packed_sequences, _singular_matrix])
def test_gradscope_reads_arrays_without_handing_them_out(run, monkeypatch):
    """gradscope's own code reads tensors' arrays, never hands them out (`numpy()`): that would make a parameter's
    memory the caller's for good (a recording then copies it at every step) and copy what a recording holds."""
    monkeypatch.setattr(writes, "handed_out", lambda array: pytest.fail("an array was handed out"))
    run()


def test_a_module_cast_to_another_dtype_has_private_memory():
    """`.double()`/`.float()`/`.to(dtype)` give parameters and buffers a cast's new memory, gradscope's own as a
    factory's (a recording holds it); the same dtype leaves them in their memory, which may be the caller's."""
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model[0].weight.data = gradscope.from_numpy(np.ones((2, 3), dtype=np.float32))  # the caller's memory
    model.float()
    assert not writes.is_private(writes.memory_owner(model[0].weight._data))
    model.double()
    for tensor in (*model.parameters(), model[1].running_mean):
        assert writes.is_private(writes.memory_owner(tensor._data))


def test_a_gradient_met_again_as_the_grad_it_became_is_a_record_of_its_own_with_the_values_then():
    """A linear layer's weight gradient passes down TBackward0 as a transposed view and becomes the weight's .grad as
    it is: the .grad's record is another record (the trace's tensor table lists both) of the same values, and a
    later write into .grad leaves both as recorded."""
    gradscope.manual_seed(0)
    layer = nn.Linear(8, 16)
    with Recorder(keep_values=0) as recorder:
        layer(gradscope.randn(32, 8)).pow(2).mean().backward()
    trace = recorder.finish()
    recorded = trace.passes[0]
    weight = next(node_id for node_id, node in trace.nodes.items() if node.leaf_name == "Linear.weight")
    passed = next(recorded.grad_inputs[node_id][0] for node_id, node in trace.nodes.items()
                  if node.name == "TBackward0")
    leaf = recorded.leaf_grads[weight]
    assert leaf is not passed and leaf.held is None and passed.held is None  # views of the held gradient
    expected = compute_stats(layer.weight.grad.numpy().copy())
    layer.weight.grad.zero_()
    assert leaf.stats == expected and passed.stats == expected


def test_a_view_of_memory_written_since_it_was_recorded_shows_the_values_written():
    """A transpose of an array recorded whole is recorded as a view of that record only while the memory is as
    recorded: after an in-place write, a transpose first met then shows the new values."""
    gradscope.manual_seed(0)
    x = gradscope.randn(64, 80, requires_grad=True)
    y = gradscope.randn(80, 64, requires_grad=True)
    with Recorder(keep_values=0) as recorder:
        doubled = x * 2
        doubled.add_(1)
        (doubled.detach().t() * y).sum().backward()  # the transpose is met as the product's input
    trace = recorder.finish()
    before = compute_stats((x.detach() * 2).numpy())
    after = compute_stats((x.detach() * 2 + 1).numpy().T)
    doubling, product = (node for node in trace.nodes.values() if node.name == "MulBackward0")
    assert doubling.outputs[0].stats == before
    assert product.inputs[0].stats == after != before


def test_a_strided_view_of_held_memory_is_copied_as_recorded():
    """A slice with a step of an array held by reference covers part of its memory, not densely: it is copied as it
    is recorded (its statistics are its own, not the whole array's), and a write after recording changes neither."""
    gradscope.manual_seed(0)
    x = gradscope.randn(64, 80, requires_grad=True)
    with Recorder(keep_values=0) as recorder:
        doubled = x * 2
        (doubled[:, ::2] * 3).sum().backward()
    trace = recorder.finish()
    doubling, product = (node for node in trace.nodes.values() if node.name == "MulBackward0")
    assert product.inputs[0].held is None and product.inputs[0].pending_bytes == 64 * 40 * 4  # a copy of the slice
    doubled.detach().add_(1)
    assert doubling.outputs[0].stats == compute_stats((x.detach() * 2).numpy())
    assert product.inputs[0].stats == compute_stats((x.detach() * 2).numpy()[:, ::2])
