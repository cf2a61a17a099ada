"""Anomaly detection: PyTorch's texts and behaviour (spec §6, checked against torch), then gradscope's
extensions: check_inf, check_forward, the allow-list and the AnomalyReport, whose culprit must be the
node the recorder (`gradscope inspect`) names too."""

from __future__ import annotations

import inspect
import math
import re
import textwrap
import traceback
import warnings
import weakref

import numpy as np
import pytest

import gradscope
import gradscope as torch
from gradscope import nn
from gradscope.trace import Recorder

pytestmark = [pytest.mark.filterwarnings("ignore:Error detected in:UserWarning"),
              pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning")]

ENABLED = ("UserWarning: Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
           "enabled for debugging.")
GOOD_LUCK = ("Hint: the backtrace further above shows the operation that failed to compute its gradient. The variable "
             "in question was changed in there or anywhere later. Good luck!")

PREVIOUS = ("\n\nPrevious calculation was induced by BadBackward. Traceback of forward call that induced the "
            "previous calculation:")
TRIGGERED = re.compile(r"\s*\(Triggered internally at [^)]*\)\.?")  # torch's C++ location


def show(action) -> None:
    """Run `action` as a snippet would, printing the RuntimeError and, of each warning, its text up to the
    stack and the stack's frames in the snippet: the frames around them (pytest, the oracle, torch's own
    Python code) differ between the two runs."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            action()
        except RuntimeError as error:
            print(f"RuntimeError: {error}")
    for warning in caught:
        lines = TRIGGERED.sub("", str(warning.message)).split("\n")
        first_frame = next((i for i, line in enumerate(lines) if line.startswith("  File ")), len(lines))
        print(repr("\n".join(lines[:first_frame])))
        for line in lines[first_frame:]:
            if line.startswith('  File "<snippet>"'):
                print(line)


@pytest.fixture(autouse=True)
def anomaly_off():
    """Anomaly mode is process-wide: whatever a test does, the next one starts with it off."""
    yield
    torch.autograd.set_detect_anomaly(False)
    try:
        import torch as real
    except ImportError:
        return
    real.autograd.set_detect_anomaly(False)


def check_shown(oracle, body: str, stdout: str) -> None:
    oracle.check(textwrap.dedent(body), stdout=stdout, env={"show": show})


# ------------------------------------------------------------------------------------ PyTorch behaviour
def test_detect_anomaly_warns_on_entry_and_set_detect_anomaly_does_not(oracle):
    oracle.check(
        """
        with torch.autograd.detect_anomaly():
            print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        with torch.autograd.set_detect_anomaly(True):
            print(torch.is_anomaly_enabled())
        print(torch.is_anomaly_enabled())
        """,
        stdout="True True\nTrue\nFalse\n",
        warns=(ENABLED,),
    )


def test_set_detect_anomaly_as_a_call_and_as_a_context_manager(oracle):
    oracle.check(
        """
        print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        torch.autograd.set_detect_anomaly(True)
        print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        torch.autograd.set_detect_anomaly(True, check_nan=False)
        print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        with torch.autograd.set_detect_anomaly(False):
            print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        torch.autograd.set_detect_anomaly(False)
        print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        with torch.autograd.detect_anomaly(check_nan=False):
            print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        """,
        stdout="False True\nTrue True\nTrue False\nFalse True\nTrue False\nFalse True\nTrue False\nFalse True\n",
        warns=(ENABLED,),
    )


def test_anomaly_mode_is_process_wide(oracle):
    oracle.check(
        """
        import threading
        seen = []

        def worker():
            x = torch.ones(2, requires_grad=True)
            node = (x * 2).grad_fn
            seen.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled(),
                         "traceback_" in node.metadata))

        with torch.autograd.set_detect_anomaly(True, check_nan=False):
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
        x = torch.ones(2, requires_grad=True)
        print(seen, (x * 2).grad_fn.metadata)
        """,
        stdout="[(True, False, True)] {}\n",
    )


def test_nodes_record_the_forward_stack(oracle):
    oracle.check(
        """
        x = torch.ones(3, requires_grad=True)
        with torch.autograd.set_detect_anomaly(True):
            y = x.sqrt()
        stack = y.grad_fn.metadata["traceback_"]
        print(type(stack).__name__, all(isinstance(line, str) and line.startswith("  File ") for line in stack))
        print(repr(stack[-1]))
        """,
        stdout="""\
        list True
        '  File "<snippet>", line 4, in <module>\\n'
        """,
        warns=(),
    )


def test_the_recorded_stack_names_the_source_line(tmp_path):
    """From a real file each frame carries its source text, as traceback.format_list prints it."""
    path = tmp_path / "user_model.py"
    path.write_text(textwrap.dedent("""\
        def build(torch):
            x = torch.ones(3, requires_grad=True)
            with torch.autograd.set_detect_anomaly(True):
                y = x.sqrt()  # the user's line
            return y.grad_fn.metadata["traceback_"][-2:]
        """))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    expected_last = f'  File "{path}", line 4, in build\n    y = x.sqrt()  # the user\'s line\n'
    caller, last = namespace["build"](gradscope)
    assert last == expected_last
    assert caller.startswith(f'  File "{__file__}", line ')  # the frame that called build(), with its source
    assert caller.endswith('    caller, last = namespace["build"](gradscope)\n')
    try:
        import torch as real
    except ImportError:
        return
    assert namespace["build"](real)[-1] == expected_last


def test_sqrt_at_zero_warns_with_the_forward_stack_then_raises(oracle):
    check_shown(oracle, """
        x = torch.zeros(3, requires_grad=True)

        def run():
            with torch.autograd.set_detect_anomaly(True):
                y = x.sqrt()
                (y * 0).sum().backward()

        show(run)
        print(x.grad)
        """, """\
        RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
        'Error detected in SqrtBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 9, in <module>
          File "<snippet>", line 6, in run
        None
        """)


def test_steps_called_anew_warn_with_the_forward_stack_after_its_frames_returned(oracle):
    """Steps from a loop (anomaly mode keeps a step's frame until its backward pass begins): the failing step's warning
    shows its forward's frames, returned before the backward pass ran (in the step, and after it returned)."""
    check_shown(oracle, """
        model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh())
        x = torch.ones(3, 2)
        z = torch.zeros(3, requires_grad=True)

        def forward(scale):
            return model(x).sum() + (z.sqrt() * scale).sum()

        def step(scale):
            forward(scale).backward()

        def inside():
            with torch.autograd.set_detect_anomaly(True):
                for scale in (1.0, 1.0, 1.0, 0.0):
                    step(scale)

        def after():
            with torch.autograd.set_detect_anomaly(True):
                losses = []
                for scale in (1.0, 1.0, 0.0):
                    losses.append(forward(scale))
                for loss in losses:
                    loss.backward()

        show(inside)
        show(after)
        print(z.grad)
        """, """\
        RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
        'Error detected in SqrtBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 25, in <module>
          File "<snippet>", line 15, in inside
          File "<snippet>", line 10, in step
          File "<snippet>", line 7, in forward
        RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
        'Error detected in SqrtBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 26, in <module>
          File "<snippet>", line 21, in after
          File "<snippet>", line 7, in forward
        tensor([inf, inf, inf])
        """)


def test_a_leaf_whose_gradients_all_came_before_a_nan_has_taken_them_as_torchs(oracle):
    """Parameters whose AccumulateGrad an earlier graph holds (a training loop keeping its loss): the one whose every
    gradient came before the node returning NaN has taken it, the other hasn't, as in PyTorch (anomaly mode lets such
    leaves wait for their sums as the default mode does, and they take them as the error leaves)."""
    check_shown(oracle, """
        w = torch.ones(3, requires_grad=True)
        z = torch.zeros(3, requires_grad=True)
        kept = (w * 1).sum() + (z * 1).sum()  # the last step's loss: its graph holds both leaves' nodes

        def run():
            with torch.autograd.set_detect_anomaly(True):
                bad = (z.sqrt() * 0).sum()  # older: runs after the newer good part
                good = (w * 2).sum() + (w * 3).sum()
                (good + bad).backward()

        show(run)
        print(w.grad, z.grad)
        """, """\
        RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
        'Error detected in SqrtBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 12, in <module>
          File "<snippet>", line 8, in run
        tensor([5., 5., 5.]) None
        """)


def _kept_loss_steps(model, x, steps: int) -> list:
    """A training loop keeping its loss (for logging, say) until the next step's: the gradients of each step."""
    grads, loss = [], None
    for _ in range(steps):
        model.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), torch.zeros(2, 1))
        loss.backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    return grads


def test_a_training_loop_keeping_its_loss_walks_no_graph_under_anomaly_mode(monkeypatch):
    """The kept loss's graph holds every parameter's AccumulateGrad, so each is shared: under anomaly mode as without
    it they wait for their sums (no walk of the graph for the counts of edges into them, engine._dependencies, each
    step), with the same gradients."""
    from gradscope.autograd import engine

    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    x = torch.ones(2, 4)
    walks = []
    walk = engine._dependencies
    monkeypatch.setattr(engine, "_dependencies", lambda roots: walks.append(roots) or walk(roots))
    unchecked = _kept_loss_steps(model, x, 3)
    with torch.autograd.set_detect_anomaly(True):
        checked = _kept_loss_steps(model, x, 3)
    assert walks == []
    for a, b in zip(unchecked, checked, strict=True):
        for ga, gb in zip(a, b, strict=True):
            np.testing.assert_array_equal(ga, gb)


def test_check_nan_false_keeps_the_stacks_and_lets_nan_through(oracle):
    oracle.check(
        """
        x = torch.zeros(3, requires_grad=True)
        with torch.autograd.detect_anomaly(check_nan=False):
            y = x.sqrt()
            (y * 0).sum().backward()
        print(x.grad, repr(y.grad_fn.metadata["traceback_"][-1]))
        """,
        stdout="""tensor([nan, nan, nan]) '  File "<snippet>", line 4, in <module>\\n'\n""",
        warns=(ENABLED,),
    )


def test_the_error_names_the_output_index(oracle):
    check_shown(oracle, """
        a = torch.tensor([float("inf"), 1.0], requires_grad=True)
        b = torch.tensor([1.0, 2.0], requires_grad=True)

        def run():
            with torch.autograd.set_detect_anomaly(True):
                (a * b * 0).sum().backward()

        show(run)
        print(a.grad, b.grad)
        """, """\
        RuntimeError: Function 'MulBackward0' returned nan values in its 1th output.
        'Error detected in MulBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 9, in <module>
          File "<snippet>", line 7, in run
        None None
        """)


def test_custom_function_names_in_the_error(oracle):
    check_shown(oracle, """
        class Halve(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x / 2

            @staticmethod
            def backward(ctx, grad):
                return grad * float("nan")

        x = torch.ones(2, requires_grad=True)

        def run():
            with torch.autograd.set_detect_anomaly(True):
                Halve.apply(x).sum().backward()

        show(run)
        """, """\
        RuntimeError: Function 'HalveBackward' returned nan values in its 0th output.
        'Error detected in HalveBackward. Traceback of forward call that caused the error:'
          File "<snippet>", line 17, in <module>
          File "<snippet>", line 15, in run
        """)


def test_inf_is_not_flagged_and_forward_nan_is_not_detected(oracle):
    oracle.check(
        """
        x = torch.tensor([0.0, 4.0], requires_grad=True)
        n = torch.tensor([-1.0, 1.0], requires_grad=True)
        with torch.autograd.set_detect_anomaly(True):
            x.sqrt().sum().backward()  # inf gradient
            y = n.log()  # nan in the forward result
            (y * 0 + 1).sum().backward()
        print(x.grad, y, n.grad)
        """,
        stdout="tensor([   inf, 0.2500]) tensor([nan, 0.], grad_fn=<LogBackward0>) tensor([-0., 0.])\n",
        warns=(),
    )


def test_the_check_sees_gradients_summed_to_shape_and_cast(oracle):
    # +inf and -inf summed into one broadcast element make a nan; a float64 gradient cast to float32 overflows
    check_shown(oracle, """
        x = torch.zeros(1, requires_grad=True)
        w = torch.tensor([float("inf"), -float("inf")])

        def run():
            with torch.autograd.set_detect_anomaly(True):
                (x * w).sum().backward()

        show(run)
        y = torch.ones(2, requires_grad=True)
        with torch.autograd.set_detect_anomaly(True):
            (y * torch.tensor([1e300, 1.0], dtype=torch.float64)).sum().backward()
        print(x.grad, y.grad)
        """, """\
        RuntimeError: Function 'MulBackward0' returned nan values in its 0th output.
        'Error detected in MulBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 9, in <module>
          File "<snippet>", line 7, in run
        None tensor([inf, 1.])
        """)
    y = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"'MulBackward0' returned inf values in its 0th output"):
        with torch.autograd.detect_anomaly(check_inf=True):
            (y * torch.tensor([1e300, 1.0], dtype=torch.float64)).sum().backward()


def test_check_inf_sees_a_finite_gradient_cast_to_inf():
    """A float64 gradient whose squares sum to a finite number that overflows when cast to its float32 input: inf
    under check_inf (the extensions' checker), let through by the default mode, as PyTorch lets inf through."""
    y = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"'MulBackward0' returned inf values in its 0th output"):
        with torch.autograd.detect_anomaly(check_inf=True):
            (y * torch.tensor([1e39, 1.0], dtype=torch.float64)).sum().backward()
    with torch.autograd.detect_anomaly():
        (y * torch.tensor([1e39, 1.0], dtype=torch.float64)).sum().backward()  # inf is no nan
    assert y.grad.tolist() == [float("inf"), 1.0]


def test_inplace_error_under_anomaly_mode_says_good_luck(oracle):
    message = ("RuntimeError: one of the variables needed for gradient computation has been modified by an inplace "
               "operation: [torch.FloatTensor [3]], which is output 0 of Sigmoid, is at version 1; expected version "
               f"0 instead. {GOOD_LUCK}")
    check_shown(oracle, """
        a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)

        def run():
            with torch.autograd.set_detect_anomaly(True, check_nan=False):
                b = a.sigmoid()
                c = b * 2
                b.mul_(2)
                c.sum().backward()

        show(run)
        """, f"""\
        {message}
        'Error detected in SigmoidBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 11, in <module>
          File "<snippet>", line 6, in run
        """)


def test_double_backward_names_the_node_that_induced_it(oracle):
    """Spec §6: a failure inside a backward that ran under create_graph adds a warning per parent node."""
    check_shown(oracle, """
        class Bad(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * x.sqrt() * 0

        x = torch.tensor([0.0, 1.0], requires_grad=True)

        def run():
            with torch.autograd.set_detect_anomaly(True):
                y = Bad.apply(x).sum()
                (g,) = torch.autograd.grad(y, x, create_graph=True)
                g.sum().backward()

        show(run)
        """, f"""\
        RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
        'Error detected in SqrtBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 21, in <module>
          File "<snippet>", line 18, in run
          File "<snippet>", line 11, in backward
        {PREVIOUS!r}
          File "<snippet>", line 21, in <module>
          File "<snippet>", line 17, in run
        """)


NO_FORWARD_INFORMATION = ("No forward pass information available. Enable detect anomaly during forward pass for "
                          "more information.")
OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
           "location. Please clone() the tensor before performing the operation.")


def test_a_node_made_outside_anomaly_mode_fails_without_forward_information(oracle):
    check_shown(oracle, """
        x = torch.zeros(3, requires_grad=True)
        y = x.sqrt()

        def run():
            with torch.autograd.set_detect_anomaly(True):
                (y * 0).sum().backward()

        show(run)
        """, f"""\
        RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
        'Error detected in SqrtBackward0. {NO_FORWARD_INFORMATION}'
        """)


@pytest.mark.parametrize("shared", [False, True], ids=["one_edge", "two_edges"])
def test_a_leaf_failing_to_take_its_gradient_is_the_node_that_failed(oracle, shared):
    """The leaf's AccumulateGrad fails (a .grad set to an expand() can't be added into), not the node that routed
    its gradient (made under anomaly mode, with a stack to show). The leaf's node is made outside anomaly mode,
    as PyTorch's is then without a stack (one made inside has its creation's stack in PyTorch, not in gradscope)."""
    check_shown(oracle, f"""
        p = torch.zeros(3, requires_grad=True)
        keep = p * 1  # p's AccumulateGrad is made here, outside anomaly mode
        p.grad = torch.zeros(1).expand(3)

        def run():
            with torch.autograd.set_detect_anomaly(True):
                y = p * 2
                y = y + p if {shared} else y
                y.sum().backward()

        show(run)
        print(p.grad)
        """, f"""\
        RuntimeError: {OVERLAP}
        'Error detected in torch::autograd::AccumulateGrad. {NO_FORWARD_INFORMATION}'
        tensor([0., 0., 0.])
        """)


def test_a_hook_writing_nan_into_a_gradient_shared_with_a_transpose_is_caught_at_the_transpose(oracle):
    """AddBackward0 hands one gradient to both inputs; the leaf's hook writes nan into it before TBackward0 runs
    (leaves first). A screen of the transpose skipped because its input was cleared at AddBackward0 would miss it."""
    check_shown(oracle, """
        p = torch.ones(2, 3, requires_grad=True)
        w = torch.ones(3, 2, requires_grad=True)
        p.register_hook(lambda g: g.mul_(float("nan")))

        def run():
            with torch.autograd.set_detect_anomaly(True):
                z = p + w.t()
                (z * 2).sum().backward()

        show(run)
        print(p.grad.isnan().all().item(), w.grad)
        """, """\
        RuntimeError: Function 'TBackward0' returned nan values in its 0th output.
        'Error detected in TBackward0. Traceback of forward call that caused the error:'
          File "<snippet>", line 11, in <module>
          File "<snippet>", line 8, in run
        True None
        """)


# ------------------------------------------------------------------------------------ gradscope: modes
MARK = "# <- here"


def marked(function) -> str:
    """'this_file.py:LINE' of the one line of `function` that ends with MARK: where the op at fault is."""
    lines, start = inspect.getsourcelines(function)
    (offset,) = [i for i, line in enumerate(lines) if line.rstrip().endswith(MARK)]
    return f"{__file__}:{start + offset}"


def test_check_inf_flags_an_infinite_gradient():
    x = torch.tensor([0.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        with torch.autograd.detect_anomaly(check_inf=True):
            y = x.sqrt()  # <- here
            y.sum().backward()
    assert str(e.value) == "Function 'SqrtBackward0' returned inf values in its 0th output."
    report = e.value.report
    assert (report.phase, report.role, report.node_name, report.op) == ("backward", "culprit", "SqrtBackward0", "sqrt")
    assert report.node is y.grad_fn
    assert report.location == marked(test_check_inf_flags_an_infinite_gradient)
    assert x.grad is None  # raised before accumulating
    assert torch.is_anomaly_enabled() is False


def test_check_forward_stops_at_the_first_op_turning_finite_into_nonfinite():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    reached = []
    with pytest.raises(RuntimeError) as e:
        with torch.autograd.set_detect_anomaly(True, check_forward=True):
            a = x * 2 - 2
            b = a.log()  # <- here
            reached.append(b * 3)  # would only pass the -inf on
    assert str(e.value) == "Function 'LogBackward0' returned inf values in its 0th output during the forward pass " \
                           "(op log)."
    assert reached == []
    report = e.value.report
    assert (report.phase, report.role, report.node_name, report.op) == ("forward", "culprit", "LogBackward0", "log")
    assert report.location == marked(test_check_forward_stops_at_the_first_op_turning_finite_into_nonfinite)
    assert report.reason == "log of a value <= 0 (input min 0)"
    (incoming,) = report.incoming
    assert (incoming.min, incoming.zero_fraction, incoming.nonfinite) == (0.0, 0.5, 0)
    assert report.outputs[0].neginf == 1


def test_check_forward_ignores_ops_that_receive_nonfinite_values():
    x = torch.tensor([math.inf, 1.0], requires_grad=True)
    with torch.autograd.set_detect_anomaly(True, check_forward=True):
        y = (x * 2).exp()  # inf in, inf out: not these ops' fault
    assert y.isinf().tolist() == [True, False]


def test_extensions_are_off_by_default():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with torch.autograd.set_detect_anomaly(True):
        y = x.log()  # -inf in the forward: not checked
        y.sum().backward()  # +inf gradient: not checked
    assert x.grad.tolist() == [math.inf, 1.0]


# ------------------------------------------------------------------------------------ allow-list
class SelfAttention(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)

    def forward(self, x):
        scores = self.q(x) @ self.k(x).transpose(0, 1) / math.sqrt(x.shape[-1])
        positions = torch.arange(x.shape[0])
        future = positions.unsqueeze(1) < positions.unsqueeze(0)
        scores = scores.masked_fill(future, float("-inf"))  # <- here
        return scores.softmax(-1) @ self.v(x)


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = SelfAttention(4)
        self.out = nn.Linear(4, 1)

    def forward(self, x):
        return self.out(self.attn(x))


def decoder_step(model: Decoder, allow=()):
    with torch.autograd.set_detect_anomaly(True, check_inf=True, check_forward=True, allow=allow):
        loss = model(torch.randn(5, 4)).pow(2).mean()
        loss.backward()
    return loss


def test_an_intended_minus_inf_mask_fails_without_the_allow_list():
    torch.manual_seed(0)
    with pytest.raises(RuntimeError) as e:
        decoder_step(Decoder())
    report = e.value.report
    assert (report.phase, report.role, report.op, report.node_name, report.scope) == (
        "forward", "culprit", "masked_fill", "MaskedFillBackward0", "Decoder.attn")
    assert report.location == marked(SelfAttention.forward)


@pytest.mark.parametrize("allow", [["masked_fill"], ["MaskedFillBackward0"], ["*.attn"], ["Decoder.att?", "x"]])
def test_the_allow_list_matches_op_node_name_or_scope(allow):
    torch.manual_seed(0)
    model = Decoder()
    loss = decoder_step(model, allow)
    assert math.isfinite(loss.item())
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and np.isfinite(parameter.grad.numpy()).all(), name


def test_the_allow_list_does_not_hide_other_ops():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        with torch.autograd.set_detect_anomaly(True, check_forward=True, allow=["masked_fill", "*.attn", "Decoder*"]):
            x.masked_fill(torch.tensor([True, False]), float("-inf")).exp()  # allowed
            x.log()  # not allowed
    assert e.value.report.op == "log"


# ------------------------------------------------------------------------------------ the report
def test_the_report_is_attached_and_printed_as_a_note():
    x = torch.tensor([0.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        with torch.autograd.set_detect_anomaly(True):
            masked = torch.where(x > 0, x.log(), torch.zeros_like(x))  # <- here
            masked.sum().backward()
    error = e.value
    assert str(error) == "Function 'LogBackward0' returned nan values in its 0th output."  # PyTorch's text stays
    assert isinstance(error.report, torch.autograd.AnomalyReport)
    note = "\n".join(error.__notes__)
    assert note == str(error.report)
    assert note.startswith("gradscope anomaly report: culprit in the backward pass\n"
                           "  node      LogBackward0 (op log)\n")
    assert f"  created   {marked(test_the_report_is_attached_and_printed_as_a_note)}\n" in note
    assert "  saved self  [2] float32: finite, min 0, max 2, zeros 50%" in note


class Normalizer(nn.Module):
    def forward(self, h):
        mask = h > 0
        # where masks log(0) out of the forward, not out of the backward
        return torch.where(mask, h.log(), torch.zeros_like(h))  # <- here


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(3, 4)
        self.norm = Normalizer()
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.norm(self.encoder(x)))


def test_the_report_names_module_scope_source_line_and_saved_statistics():
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():  # unit 0 of the encoder outputs exactly 0 for every sample
        net.encoder.weight[0] = 0.0
        net.encoder.bias[0] = 0.0
    with pytest.raises(RuntimeError, match="'LogBackward0' returned nan values in its 0th output") as e:
        with torch.autograd.set_detect_anomaly(True):
            net(torch.randn(8, 3)).sum().backward()
    report = e.value.report
    assert (report.phase, report.role, report.op, report.scope) == ("backward", "culprit", "log", "Net.norm")
    assert report.location == marked(Normalizer.forward)
    saved = report.saved["self"]  # the saved input that made log see 0: column 0, 8 of 32 values
    assert (saved.shape, saved.zero_fraction, saved.finite) == ((8, 4), 0.25, True)
    (grad_in,) = report.incoming
    assert grad_in.finite and grad_in.zero_fraction >= 0.25  # masked: 0 comes in, 0/0 goes out
    assert report.outputs[0].nan == 8
    assert report.reason == "its saved self holds zeros (25%), where the derivative is infinite"


# ------------------------------------------------------------------------------------ culprit vs propagator
def _deep_log(x):
    """log of a value that hits 0, three ops deep; tanh maps -inf to -1 and its gradient to 0."""
    return ((x * 2 - 2).log() * 3).tanh().sum()  # <- here


def _norm_at_zero(x):
    """sqrt at 0: a norm's gradient at the origin; the square's backward turns sqrt's inf into nan."""
    d = x - torch.tensor([1.0, 1.0])
    return (d * d).sum().sqrt() * 2  # <- here


def _zero_over_zero(x):
    a = x - 1
    return ((a / (a * 1)) * torch.tensor([2.0, 3.0])).sum()  # <- here


def _naive_softplus(x):
    """exp overflow: log(1 + exp(100 x)) at x = 10."""
    return (1 + (x * 100).exp()).log().sum()  # <- here


def _masked_entropy(x):
    """0·inf in a masked where: x·log(x) with x = 0 masked out of the forward, not out of the backward."""
    return torch.where(x > 0, x * x.log(), torch.zeros_like(x)).sum()  # <- here


CASES = {
    # name: (function, x, backward culprits by the recorder (anomaly mode with check_inf stops at the first),
    #        what PyTorch's default anomaly mode reports (node, role), the forward culprit, x.grad by hand)
    "log hits 0": (_deep_log, [1.0, 2.0], ["LogBackward0"], ("LogBackward0", "culprit"), "LogBackward0",
                   [math.nan, 3 * (1 - math.tanh(3 * math.log(2)) ** 2)]),
    "sqrt at 0": (_norm_at_zero, [1.0, 1.0], ["SqrtBackward0"], ("MulBackward0", "propagator"), None,
                  [math.nan, math.nan]),
    "0/0": (_zero_over_zero, [1.0, 3.0], ["DivBackward0"], ("DivBackward0", "culprit"), "DivBackward0",
            [math.nan, 0.0]),
    "exp overflow": (_naive_softplus, [10.0, 0.01], ["ExpBackward0"], ("ExpBackward0", "culprit"), "ExpBackward0",
                     [math.nan, 100 / (1 + math.exp(-1))]),
    "0·inf in where": (_masked_entropy, [0.0, 2.0], ["MulBackward0", "LogBackward0"], ("MulBackward0", "culprit"),
                       "LogBackward0", [math.nan, math.log(2) + 1]),
}


def _anomaly(function, x0, **mode) -> RuntimeError:
    x = torch.tensor(x0, requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        with torch.autograd.set_detect_anomaly(True, **mode):
            function(x).backward()
    return e.value


@pytest.mark.parametrize("case", CASES)
def test_anomaly_mode_and_the_recorder_name_the_same_culprit(case):
    function, x0, backward_culprits, default, forward_culprit, grad = CASES[case]
    with Recorder() as rec:
        x = torch.tensor(x0, requires_grad=True)
        function(x).backward()
    trace = rec.finish({"x": x})
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-5)  # hand-computed ground truth

    def recorded(phase: str, role: str):
        return [trace.nodes[a.node] for a in trace.anomalies if a.phase == phase and a.role == role]

    assert [node.name for node in recorded("backward", "culprit")] == backward_culprits
    report = _anomaly(function, x0, check_inf=True).report
    assert (report.phase, report.role, report.node_name) == ("backward", "culprit", backward_culprits[0])
    assert report.location == str(recorded("backward", "culprit")[0].source) == marked(function)

    assert [node.name for node in recorded("forward", "culprit")] == ([forward_culprit] if forward_culprit else [])
    if forward_culprit:
        report = _anomaly(function, x0, check_forward=True).report
        assert (report.phase, report.role, report.node_name) == ("forward", "culprit", forward_culprit)

    report = _anomaly(function, x0).report  # PyTorch's default: the first NaN gradient
    assert (report.node_name, report.role) == default
    propagators = {node.name for node in recorded("backward", "propagator")}
    assert (report.node_name in propagators) == (report.role == "propagator")


def test_a_propagator_report_says_the_gradient_came_in_nonfinite():
    report = _anomaly(_norm_at_zero, [1.0, 1.0]).report
    assert report.reason == "the incoming gradient was already non-finite"
    (grad_in,) = report.incoming
    assert grad_in.posinf == 2  # sqrt's inf, expanded by sum
    assert report.saved["self"].zero_fraction == 1.0


@pytest.mark.parametrize(("case", "name", "check"), [
    ("log hits 0", "self", lambda s: s.min == 0.0 and s.zero_fraction == 0.5),
    ("sqrt at 0", "result", lambda s: s.shape == () and s.zero_fraction == 1.0),
    ("exp overflow", "result", lambda s: s.posinf == 1 and s.min > 1),
])
def test_the_report_holds_the_saved_value_that_explains_it(case, name, check):
    function, x0 = CASES[case][:2]
    report = _anomaly(function, x0, check_inf=True).report
    assert check(report.saved[name])
    assert f"saved {name}" in report.reason


def test_division_by_zero_blames_the_divisor():
    """The numerator's zeros don't make a gradient infinite; the divisor's do."""
    x = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        with torch.autograd.set_detect_anomaly(True, check_inf=True):
            (x / (x - 1)).sum().backward()
    report = e.value.report
    assert (report.node_name, report.output_index) == ("DivBackward0", 0)
    assert report.saved["other"].zero_fraction == pytest.approx(1 / 3)
    assert report.reason.startswith("its saved other holds zeros"), report.reason


def test_zero_times_inf_blames_the_nonfinite_saved_value():
    """x·log(x) at 0: the saved log(x) = -inf is why, not the saved x = 0."""
    report = _anomaly(_masked_entropy, [0.0, 2.0]).report
    assert report.saved["other"].neginf == 1
    assert report.reason.startswith("its saved other is already non-finite"), report.reason


def test_a_nonfinite_activation_saved_by_a_linear_layer_is_named():
    """A Linear layer fed -inf computes an infinite weight gradient: its saved input is why."""
    layer = nn.Linear(2, 1)
    x = torch.tensor([[0.0, 1.0]], requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        with torch.autograd.set_detect_anomaly(True, check_inf=True):
            layer(x.log()).sum().backward()
    report = e.value.report
    assert report.node_name == "AddmmBackward0"
    (name,) = [n for n, s in report.saved.items() if not s.finite]
    assert f"saved {name} is already non-finite" in report.reason, report.reason


def test_a_gradient_masked_by_relu_is_no_anomaly(oracle):
    """relu's backward selects (PyTorch's threshold_backward): the inf that log(0) sends back is dropped, not
    multiplied by 0 into a NaN."""
    oracle.check(
        """
        x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        with torch.autograd.set_detect_anomaly(True):
            x.relu().log().sum().backward()
        print(x.grad)
        """,
        stdout="tensor([0.0000, 0.0000, 0.5000])\n",
    )


def _sqrt_activation(h):
    return (h * 0).sqrt() * 0  # <- here


class _Sqrt(nn.Tanh):
    def forward(self, h):
        return self._sqrt(h)

    def _sqrt(self, h):
        return (h * 0).sqrt() * 0  # <- here


@pytest.mark.parametrize("build", [
    lambda: nn.TransformerEncoderLayer(4, 1, 8, dropout=0.0, activation=_sqrt_activation, batch_first=True),
    lambda: nn.Sequential(nn.Linear(4, 4), _Sqrt()),
], ids=["activation given to a layer", "subclass of a layer"])
def test_ops_made_by_user_code_inside_a_gradscope_module_have_the_users_line(build):
    """Ops made inside a module call get the call's stack only when gradscope's own code makes them: the user's
    function called from a layer's forward, and a user's subclass of a layer, keep their own line."""
    model = build()
    expected = marked(_sqrt_activation if isinstance(model, nn.TransformerEncoderLayer) else _Sqrt._sqrt)
    with pytest.raises(RuntimeError, match="'SqrtBackward0' returned nan values") as e:
        with torch.autograd.set_detect_anomaly(True):
            model(torch.randn(2, 3, 4)).sum().backward()
    assert e.value.report.location == expected


def _made_at(depth: int, x):
    """(node's stack, the interpreter's) for two ops made at two lines of the innermost of `depth` frames."""
    if depth:
        return _made_at(depth - 1, x)
    first, expected_first = x.sqrt(), traceback.extract_stack()
    second, expected_second = x.exp(), traceback.extract_stack()
    return [(node.grad_fn.metadata["traceback_"], expected) for node, expected in
            ((first, expected_first), (second, expected_second))]


def test_stacks_are_the_interpreters_at_any_depth():
    """Stacks share links and a walk keeps only some of the frames it passed: in deep, shallow and repeated calls
    each node's stack is still every frame where it was made (innermost 64), as traceback.extract_stack has it."""
    x = torch.ones(3, requires_grad=True)
    with torch.autograd.set_detect_anomaly(True):
        for depth in (30, 3, 30, 30, 12, 0, 17):
            for stack, expected in _made_at(depth, x):
                files = [f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}' for frame in expected]
                assert [entry.split("\n")[0] for entry in stack] == files[-len(stack):]
                assert len(stack) == min(64, len(expected))


def _ops_in_one_frame(x):
    """(node's stack, the interpreter's) for ops made at three lines of one frame, each twice, and a call made
    between them that makes ops of its own."""
    made, stacks = [], []
    for _ in range(2):
        made.append((x.sqrt(), traceback.extract_stack()))
        stacks += _made_at(0, x)
        made.append((x * 2.0, traceback.extract_stack()))
        made.append((x.exp(), traceback.extract_stack()))
    return stacks + [(node.grad_fn.metadata["traceback_"], expected) for node, expected in made]


def test_ops_at_other_lines_of_one_frame_have_the_interpreters_stacks():
    x = torch.ones(3, requires_grad=True)
    with torch.autograd.set_detect_anomaly(True):
        made = _ops_in_one_frame(x)
    for stack, expected in made:
        files = [f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}' for frame in expected]
        assert [entry.split("\n")[0] for entry in stack] == files[-len(stack):]


class _Held:
    pass


def _op_holding(x):
    held = _Held()
    return x.sqrt(), weakref.ref(held)


def test_a_frame_that_returned_is_let_go_at_the_next_op():
    """Stacks keep some frames of the last walk (stacks._KNOWN); one that returned, its locals with it, is let go
    by the next op made outside it."""
    x = torch.ones(3, requires_grad=True)
    with torch.autograd.set_detect_anomaly(True):
        y, held = _op_holding(x)
        assert held() is not None  # its frame is kept
        z = x * 2.0
        assert held() is None
    assert y.grad_fn.metadata["traceback_"][-1].split("\n")[0].endswith("in _op_holding")
    assert z.grad_fn.metadata["traceback_"][-1].split("\n")[0].endswith("in test_a_frame_that_returned_is_let_go_"
                                                                          "at_the_next_op")


class _MyLinear(nn.Linear):
    """A user's subclass: not a closed call, though gradscope's forward makes its ops."""


def test_every_node_made_inside_nested_module_calls_has_the_stack_of_the_models_call():
    model = nn.Sequential(nn.Sequential(_MyLinear(2, 2), nn.Tanh()), nn.Sequential(nn.Linear(2, 2)), _MyLinear(2, 1))
    with torch.autograd.set_detect_anomaly(True):
        out = model(torch.ones(1, 2))  # the model's call
    nodes, pending = [], [out.grad_fn]
    while pending:
        node = pending.pop()
        if node is not None and "Accumulate" not in node.name():
            nodes.append(node)
            pending += [child for child, _ in node.next_functions]
    assert len(nodes) == 7  # three linear layers (t, addmm) and a tanh
    for node in nodes:
        assert node.metadata["traceback_"][-1].endswith("    out = model(torch.ones(1, 2))  # the model's call\n")
