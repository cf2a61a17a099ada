"""The one-frame forwards (autograd/fused.py) make the outputs and nodes the general path makes."""

import operator
import re
import sys

import numpy as np
import pytest
from quiet_helpers import quiet_context_held_elsewhere

import gradscope as gs
from gradscope.autograd import observers


class _Watcher:  # listening sends every op down the general path (dispatch.apply)
    pass


def _general(function, *args):
    watcher = _Watcher()
    observers.add_watcher(watcher)
    try:
        return function(*args)
    finally:
        observers.remove_watcher(watcher)


def _same_entry(a, b):
    if type(a) is tuple:  # a light entry: (array, version counter, version, input tensor, its grad_fn)
        assert type(b) is tuple and len(a) == len(b) == 5
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] is b[1] or a[3] is None and b[3] is None  # an output's counter is its own
        assert a[2:] == b[2:] if a[3] is None else (a[2], a[3], a[4]) == (b[2], b[3], b[4])
    else:
        assert a == b or a is b


def _same(fast, general):
    assert (fast.dtype, fast.shape, fast.requires_grad) == (general.dtype, general.shape, general.requires_grad)
    np.testing.assert_array_equal(fast.detach().numpy(), general.detach().numpy())
    a, b = fast.grad_fn, general.grad_fn
    if a is None or b is None:
        assert a is b
        return
    assert type(a) is type(b)
    assert a.next_functions == b.next_functions
    assert a._input_meta == b._input_meta and a._attrs == b._attrs
    assert len(a._saved) == len(b._saved)
    for x, y in zip(a._saved, b._saved):
        _same_entry(x, y)


def _operands(dtype):
    x = gs.tensor(np.array([0.5, -1.5, 2.0], dtype), requires_grad=True)
    y = gs.tensor(np.array([1.25, 3.0, -0.75], dtype), requires_grad=True)
    constant = gs.tensor(np.array([2.0, 4.0, 8.0], dtype))
    scalar = gs.tensor(np.array(0.25, dtype), requires_grad=True)
    view = (x * 1.0)[1:]
    return [(x, 1.5), (x, y), (x, constant), (constant, y), (constant, 2.5), (x, x), (view, view), (view, 0.5),
            (x, scalar), (scalar, 3.0), (constant, 0.0), (x, 2), (x, -3), (scalar, 0), (x, True)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", [operator.mul, operator.add, operator.sub, operator.truediv, gs.mul],
                         ids=lambda f: f.__name__)
def test_binary_operators_match_the_general_path(op, dtype):
    for a, b in _operands(dtype):
        _same_outcome(op, a, b)


def _same_outcome(op, a, b):
    """The same output and node, or the same error (`x - True`: PyTorch refuses a bool operand)."""
    try:
        fast = op(a, b)
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=re.escape(str(error))):
            _general(op, a, b)
        return
    _same(fast, _general(op, a, b))


def reflected_sub(a, b):  # `1 - x`: rsub with the number as a param
    return b - a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", [reflected_sub, operator.pow, gs.pow], ids=lambda f: f.__name__)
def test_ops_with_a_number_param_match_the_general_path(op, dtype):
    for a, b in _operands(dtype):
        _same_outcome(op, a, b)
    x = gs.tensor(np.array([0.5, -1.5, 2.0], dtype), requires_grad=True)
    assert (1 - x).grad_fn._attrs == (1, 1) and (x ** 2.0).grad_fn._attrs == (2.0,)  # the numbers as given


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sin", "tanh", "exp", "sigmoid", "log1p", "sqrt", "relu", "neg", "abs"])
def test_unary_functions_match_the_general_path(name, dtype):
    function = getattr(gs, name)
    for a, _ in _operands(dtype):
        _same(function(a), _general(function, a))
        _same(getattr(a, name)(), _general(getattr(a, name)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_gives_the_general_paths_and_torchs_bits_in_one_frame(dtype):
    """relu's one-frame forward calls np.maximum with its zero bound as a C callable (RELU_FLOAT_FORWARDS), not
    through `_relu`'s frame: the same bits as the general path and PyTorch's (a -0.0 and a NaN keep their sign), in
    NumPy's short, SIMD, strided and 0-dim loops."""
    torch = pytest.importorskip("torch")
    values = np.array([-0.0, 0.0, -np.nan, np.nan, -np.inf, np.inf, -1.5, 2.0] * 9, dtype)
    unsigned = np.uint32 if dtype == np.float32 else np.uint64
    frames = []

    def profile(frame, event, arg):
        if event == "call":
            frames.append(frame.f_code.co_filename)

    for array in (values, values[:3], values[::2], values.reshape(8, 9).T, values[:1].reshape(())):
        x = gs.tensor(array, requires_grad=True)
        sys.setprofile(profile)
        try:
            fast = gs.relu(x)
        finally:
            sys.setprofile(None)
        assert frames and not [name for name in frames if name.endswith("elementwise.py")]  # no `_relu` frame
        frames.clear()
        general = _general(gs.relu, x)
        _same(fast, general)
        expected = torch.relu(torch.from_numpy(np.array(array))).numpy()
        for other in (general.detach().numpy(), expected):
            assert (np.asarray(fast.detach().numpy()).view(unsigned) == np.asarray(other).view(unsigned)).all()


def test_the_fast_path_steps_aside_for_modes_and_observers():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    with gs.no_grad():
        assert (x * 2.0).grad_fn is None and x.sin().grad_fn is None and (1 - x).grad_fn is None
    with gs.inference_mode():
        assert (x + 1.0).is_inference() and x.tanh().is_inference() and (x ** 2).is_inference()
    with gs.autograd.detect_anomaly(check_nan=False):
        y = x * 2.0
    assert y.grad_fn.metadata["traceback_"]  # anomaly mode captured the forward's stack
    seen = []
    with gs.autograd.graph.saved_tensors_hooks(lambda t: seen.append("pack") or t, lambda t: t):
        x.sin().sum().backward()
    assert seen == ["pack"]


def test_saving_an_inference_tensor_raises_as_on_the_general_path():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    with gs.inference_mode():
        made = gs.tensor([3.0, 4.0]) * 1.0
    for compute in (lambda: x * made, lambda: made * x):  # saved as `other`, then as `self`
        with pytest.raises(RuntimeError) as fast:
            compute()
        with pytest.raises(RuntimeError) as general:
            _general(compute)
        assert str(fast.value) == str(general.value)
        assert str(fast.value).startswith("Inference tensors cannot be saved for backward")


def test_numpy_errors_stay_silent_and_the_user_state_untouched_when_another_thread_holds_the_quiet_context():
    x = gs.tensor([0.0, float("inf"), 1e300], dtype=gs.float64, requires_grad=True)
    ops = (gs.log, gs.sin, lambda t: t * 1e300, lambda t: t / 0.0, lambda t: t ** 2)
    with np.errstate(all="raise"):
        state = np.geterr()
        fast = [op(x) for op in ops]  # NaN, inf and overflow, silently, as PyTorch
        assert np.geterr() == state
        # this thread can't enter the quiet context: each op takes the general path, as silently
        with quiet_context_held_elsewhere():
            blocked = [op(x) for op in ops]
        assert np.geterr() == state
    for a, b in zip(fast, blocked):
        _same(a, b)


def test_one_input_nodes_of_one_shape_and_dtype_share_their_metadata():
    """The one-input forwards and the general path (dispatch._record_unary) keep `_input_meta` in a tuple shared by
    every node of the same shape and dtype (one object fewer for the cyclic GC per kept tuple); another shape or
    dtype, in any order, gets its own."""
    tensors = [gs.ones(2, 3, dtype=dtype, requires_grad=True) for dtype in (gs.float64, gs.float32, gs.float64)]
    tensors += [gs.ones(3, 2, dtype=gs.float64, requires_grad=True),
                gs.ones(2, 3, dtype=gs.float32, requires_grad=True) * 1.0]
    for function in (gs.tanh, gs.relu, lambda a: a ** 2, lambda a: 1 - a):
        nodes = [function(a).grad_fn for a in tensors]
        assert nodes[0]._input_meta is nodes[2]._input_meta
        for a, node in zip(tensors + tensors[::-1], nodes + nodes[::-1]):
            assert node._input_meta is _general(function, a).grad_fn._input_meta
            assert node._input_meta == ((a._data.shape, a._data.dtype),)
