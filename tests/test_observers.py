"""Engine observers: what the recorder and anomaly mode will see."""

import gradscope as torch
from gradscope.autograd import observers


class Log:
    def __init__(self):
        self.events = []

    def node_created(self, node, inputs, outputs):
        self.events.append(("created", node.name(), node.scope))

    def tensor_saved(self, node, name, saved):
        self.events.append(("saved", node.name(), name))

    def backward_begin(self, roots, grads):
        self.events.append(("begin", [node.name() for node in roots]))

    def backward_end(self):
        self.events.append(("end pass",))

    def backward_node_start(self, node, grads):
        self.events.append(("start", node.name()))

    def backward_node_end(self, node, grads):
        self.events.append(("end", node.name()))

    def grad_accumulated(self, tensor, grad):
        self.events.append(("accumulated", tuple(grad.shape)))


def test_events_in_order():
    x = torch.ones(3, requires_grad=True)
    log = Log()
    with observers.observing(log), observers.module_scope("model"), observers.module_scope("fc1"):
        y = (x.exp() * 2).sum()
        y.backward()
    assert log.events == [
        ("created", "ExpBackward0", "model.fc1"),
        ("saved", "ExpBackward0", "result"),
        ("created", "MulBackward0", "model.fc1"),  # its saved `other` is the number 2: no tensor to report
        ("created", "SumBackward0", "model.fc1"),
        ("begin", ["SumBackward0"]),
        ("start", "SumBackward0"),
        ("end", "SumBackward0"),
        ("start", "MulBackward0"),
        ("end", "MulBackward0"),
        ("start", "ExpBackward0"),
        ("end", "ExpBackward0"),
        ("accumulated", (3,)),
        ("end pass",),
    ]


def test_no_events_outside_the_block():
    log = Log()
    with observers.observing(log):
        pass
    x = torch.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    assert log.events == []
    assert (x * 2).grad_fn.scope is None


class Computed:
    def __init__(self):
        self.ops = []

    def op_computed(self, op, inputs, outputs):
        self.ops.append((op.name, [type(o._grad_fn).__name__ if o._grad_fn else None for o in outputs]))


def test_op_computed_sees_ops_in_and_out_of_the_graph():
    """Every primitive is reported, including ops on tensors that don't require grad (where a forward
    NaN can be born outside the graph), single- and multi-output ones, after their node was made."""
    x = torch.tensor([1.0, 0.0])
    w = torch.ones(2, requires_grad=True)
    seen = Computed()
    with observers.observing(seen):
        a = torch.log(x)
        a * w
        values, indices = torch.sort(x)
    assert [name for name, _ in seen.ops] == ["log", "mul", "sort"]
    assert seen.ops[0][1] == [None]
    assert seen.ops[1][1][0] is not None and seen.ops[1][1][0].startswith("Mul")
    assert len(seen.ops[2][1]) == 2
    outside = Computed()
    torch.log(x)  # no observer: nothing is reported
    assert outside.ops == []


def test_a_pass_tells_its_nodes_to_the_observers_listening_as_it_began():
    """An observer that starts listening during a pass (in a hook) hears the pass end and the next pass: the
    per-node events go to the observers listening as a pass began, on the plain path and hooked nodes alike."""
    x = torch.ones(3, requires_grad=True)
    first, late = Log(), Log()
    entered = []

    def enter(grad_outputs):
        entered.append(observers.active.set(observers.active.get() + (late,)))

    with observers.observing(first):
        y = (x.exp() * 2).sum()
        y.grad_fn.next_functions[0][0].register_prehook(enter)  # MulBackward0 runs hooked, the others plain
        begun = len(first.events)
        y.backward()
        assert first.events[begun:] == [
            ("begin", ["SumBackward0"]), ("start", "SumBackward0"), ("end", "SumBackward0"),
            ("start", "MulBackward0"), ("end", "MulBackward0"), ("start", "ExpBackward0"), ("end", "ExpBackward0"),
            ("accumulated", (3,)), ("end pass",)]
        assert late.events == [("end pass",)]
        (x * 4).sum().backward()
        observers.active.reset(entered.pop())
    assert late.events[1:] == [
        ("created", "MulBackward0", None), ("created", "SumBackward0", None), ("begin", ["SumBackward0"]),
        ("start", "SumBackward0"), ("end", "SumBackward0"), ("start", "MulBackward0"), ("end", "MulBackward0"),
        ("accumulated", (3,)), ("end pass",)]
