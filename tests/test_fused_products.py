"""The one-frame products (autograd/fused_products.py: `t`, 2-D matmul, F.linear) make the outputs, views and
nodes the general path makes, and PyTorch's."""

import gc
import itertools
import os
import sys

import numpy as np
import pytest
import torch
from quiet_helpers import quiet_context_held_elsewhere

import gradscope as gs
import gradscope.nn.functional as F
from gradscope.autograd import observers
from gradscope.autograd.node import AccumulateGrad, _light_to_saved


class _Watcher:  # listening sends every op down the general path (dispatch.apply)
    pass


def _general(function, *args):
    watcher = _Watcher()
    observers.add_watcher(watcher)
    try:
        return function(*args)
    finally:
        observers.remove_watcher(watcher)


def _same_node(a, b):
    """Nodes of the two paths alike field by field; AccumulateGrad nodes (shared by both paths while their
    leaves live) the very same objects."""
    if a is b:  # made before the call (the input's node)
        return
    assert a is not None and b is not None and type(a) is not AccumulateGrad
    assert type(a) is type(b)
    assert a._input_meta == b._input_meta and a._attrs == b._attrs
    assert len(a._next) == len(b._next)
    for (child_a, nr_a), (child_b, nr_b) in zip(a._next, b._next):
        assert nr_a is nr_b if type(child_a) is AccumulateGrad else nr_a == nr_b  # a leaf's edge holds the leaf
        _same_node(child_a, child_b)
    assert len(a._saved) == len(b._saved)
    for x, y in zip(a._saved, b._saved):
        if x is None or y is None:
            assert x is y
            continue
        # light entries, (array, version counter, version, the tensor saved, its grad_fn then), compared as the
        # SavedTensors they stand for: F.linear's view of a leaf weight is made when asked for (weight_view)
        x, y = _light_to_saved(x), _light_to_saved(y)
        np.testing.assert_array_equal(x._array, y._array)
        assert (x._array.shape, x._array.strides, x._array.dtype) == (y._array.shape, y._array.strides, y._array.dtype)
        # a saved result (no tensor) keeps its output's own counter
        tensor = x._tensor
        assert (x._counter is y._counter if tensor is not None and (tensor is y._tensor or tensor._base is not None)
                else x._counter == y._counter) and x._version == y._version
        assert (x._is_output, x._output_nr, x._requires_grad) == (y._is_output, y._output_nr, y._requires_grad)
        _same_tensor(x._tensor, y._tensor)
        _same_node(x._creator, y._creator)


def _same_tensor(a, b):
    if a is b:
        return
    assert (a.dtype, a.shape, a.requires_grad, a._output_nr) == (b.dtype, b.shape, b.requires_grad, b._output_nr)
    np.testing.assert_array_equal(a._data, b._data)
    assert a._data.strides == b._data.strides
    assert a._base is b._base
    assert a._version_counter is b._version_counter if a._base is not None else a._version_counter == b._version_counter
    if a._base is not None:  # a view's recipe (slots only a view has)
        assert a._view_chain == b._view_chain and a._view_base_fn is b._view_base_fn
        assert a._view_version == b._view_version
    assert a._view_made_without_grad == b._view_made_without_grad
    assert a._is_inference == b._is_inference
    _same_node(a.grad_fn, b.grad_fn)


def _order(fn) -> list:
    """The ranks of the sequence numbers of the nodes a graph reaches (leaves aside), depth first: which
    node was made first."""
    seqs, stack = [], [fn]
    while stack:
        node = stack.pop()
        if node is not None and type(node) is not AccumulateGrad:
            seqs.append(node._seq)
            stack.extend(child for child, _ in node.next_functions)
    return [sorted(seqs).index(seq) for seq in seqs]


def _operands(dtype):
    rng = np.random.default_rng(0)

    def tensor(*shape, requires_grad):
        return gs.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=requires_grad)
    inputs = [tensor(4, 3, requires_grad=True), tensor(4, 3, requires_grad=False),
              (tensor(6, 3, requires_grad=True) * 1.0)[1:5], tensor(3, 4, requires_grad=True).t()]
    weights = [tensor(5, 3, requires_grad=True), tensor(5, 3, requires_grad=False),
               gs.nn.Parameter(tensor(3, 5, requires_grad=False).t())]  # column-major, no view
    biases = [None, tensor(5, requires_grad=True), tensor(5, requires_grad=False),
              (tensor(10, requires_grad=True) * 1.0)[::2]]
    return inputs, weights, biases


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_matches_the_general_path(dtype):
    inputs, weights, biases = _operands(dtype)
    for x, w, b in itertools.product(inputs, weights, biases):
        fast, general = F.linear(x, w, b), _general(F.linear, x, w, b)
        _same_tensor(fast, general)
        assert _order(fast.grad_fn) == _order(general.grad_fn)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_and_t_match_the_general_path(dtype):
    inputs, weights, _ = _operands(dtype)
    for w in weights + inputs:
        _same_tensor(w.t(), _general(gs.t, w))
    for x, w in itertools.product(inputs, weights):
        _same_tensor(x @ w.t(), _general(lambda a, b: a @ b.t(), x, w))
        _same_tensor(gs.mm(x, w.t()), _general(gs.mm, x, w.t()))
        _same_tensor(w.matmul(x.t()), _general(lambda a, b: a.matmul(b.t()), w, x))
    vector = gs.tensor(np.ones(3, dtype), requires_grad=True)
    for one_dim in (vector, vector.sum()):
        _same_tensor(one_dim.t(), _general(gs.t, one_dim))


def _names(fn):
    """A node and what it leads to, by name (a picture of the graph both libraries give)."""
    if fn is None:
        return None
    return (fn.name(), tuple((_names(child), nr) for child, nr in fn.next_functions))


def _saved_view(saved):
    return None if saved is None else (tuple(saved.shape), saved.stride(), _names(saved.grad_fn))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("needs", list(itertools.product((True, False), repeat=3)), ids=str)
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_linear_matches_torch(needs, with_bias, dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in ((4, 3), (5, 3), (5,))]
    if not with_bias:
        arrays, needs = arrays[:2], needs[:2]
    ours = [gs.tensor(a, requires_grad=need) for a, need in zip(arrays, needs)]
    theirs = [torch.tensor(a, requires_grad=need) for a, need in zip(arrays, needs)]
    mine, torch_out = F.linear(*ours), torch.nn.functional.linear(*theirs)
    np.testing.assert_allclose(mine._data, torch_out.detach().numpy(), rtol=1e-6)
    assert _names(mine.grad_fn) == _names(torch_out.grad_fn)
    if torch_out.grad_fn is None:
        return
    names = ("mat1", "mat2") if with_bias else ("self", "mat2")
    for name in names:
        for attr in ("sym_sizes", "sym_strides"):
            assert getattr(mine.grad_fn, f"_saved_{name}_{attr}") == getattr(torch_out.grad_fn, f"_saved_{name}_{attr}")
        assert _saved_view(getattr(mine.grad_fn, f"_saved_{name}")) == _saved_view(
            getattr(torch_out.grad_fn, f"_saved_{name}"))
    if with_bias:
        assert (mine.grad_fn._saved_alpha, mine.grad_fn._saved_beta) == (1, 1)
    mine.tanh().sum().backward()
    torch_out.tanh().sum().backward()
    for a, b in zip(ours, theirs):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_allclose(a.grad._data, b.grad.numpy(), rtol=1e-5, atol=1e-6)
            assert a.grad.stride() == b.grad.stride()


def _weight_view_read_later(lib, how: str, with_bias: bool) -> list:
    """What user code sees of F.linear's `weight.t()` through its node's `_saved_mat2` (gradscope makes that view of a
    leaf weight only then: fused_products.weight_view), with what follows (`how`): the view itself read twice and the
    backward after it; the weight modified in place (before or after the read); gradients of gradients; a hook and
    retain_grad on the view; `_raw_saved_mat2`; a read between two backward passes. Values to 6 decimals (the two
    libraries' products round differently)."""
    rng = np.random.default_rng(3)
    x = lib.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = lib.nn.Parameter(lib.tensor(rng.standard_normal((5, 3))))
    b = lib.nn.Parameter(lib.tensor(rng.standard_normal(5))) if with_bias else None
    y = lib.nn.functional.linear(x, w, b)
    node = y.grad_fn
    seen = [type(node).__name__]

    def attempt(compute):
        try:
            return compute()
        except RuntimeError as error:
            return f"error: {error}"

    if how == "read":
        view = node._saved_mat2
        seen += [view is node._saved_mat2, view._base is w, view.grad_fn is node.next_functions[-1][0],
                 view.grad_fn.name(), view.requires_grad, view.is_leaf, view._version, tuple(view.shape),
                 view.stride(), view.detach().numpy().round(6).tolist(),
                 view.grad_fn.next_functions[0][0].variable is w]
        y.sum().backward()
        seen.append(attempt(lambda: node._saved_mat2))  # freed
    elif how == "modified":
        with lib.no_grad():
            w.mul_(2)
        seen += [attempt(lambda: node._saved_mat2), attempt(lambda: y.sum().backward())]
    elif how == "modified after read":
        view = node._saved_mat2
        with lib.no_grad():
            w.mul_(2)
        seen += [view._version, attempt(lambda: node._saved_mat2), attempt(lambda: y.sum().backward()),
                 view.grad_fn.name()]
    elif how == "create_graph":
        grad, = lib.autograd.grad(y.pow(2).sum(), w, create_graph=True)
        (grad ** 2).sum().backward()
        seen += [x.grad.numpy().round(6).tolist(), w.grad.numpy().round(6).tolist()]
    elif how == "hook":
        view = node._saved_mat2
        view.register_hook(lambda g: seen.append(g.numpy().round(6).tolist()))
        (y.sum() + (view * 2).sum()).backward()
        seen.append(w.grad.numpy().round(6).tolist())
    elif how == "retain_grad":
        view = node._saved_mat2
        view.retain_grad()
        (y * 3).sum().backward()
        seen += [None if view.grad is None else view.grad.numpy().round(6).tolist(), w.grad.numpy().round(6).tolist()]
    elif how == "raw":
        seen.append(type(node._raw_saved_mat2).__name__)
        y.sum().backward(retain_graph=True)
        seen += [w.grad.numpy().round(6).tolist(), attempt(lambda: node._saved_mat2._base is w)]
    else:  # "between passes"
        y.sum().backward(retain_graph=True)
        view = node._saved_mat2
        seen += [view._base is w, view.grad_fn.name()]
        y.sum().backward()
        seen.append(w.grad.numpy().round(6).tolist())
    return seen


@pytest.mark.parametrize("how", ["read", "modified", "modified after read", "create_graph", "hook", "retain_grad",
                                 "raw", "between passes"])
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_a_linear_layers_weight_view_made_when_read_is_torchs(how, with_bias):
    """F.linear of an input needing a gradient and a leaf weight keeps its AddmmBackward0's (MmBackward0's) TBackward0
    where the saved view of the weight goes, and makes the view only if `_saved_mat2` is read: that view, and all
    that follows from it, is PyTorch's."""
    assert _weight_view_read_later(gs, how, with_bias) == _weight_view_read_later(torch, how, with_bias)


@pytest.mark.parametrize("how", ["read", "modified", "modified after read", "create_graph", "hook", "retain_grad",
                                 "raw", "between passes"])
@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning")
@pytest.mark.filterwarnings("ignore:Error detected in:UserWarning")
def test_a_linear_layers_weight_view_made_when_read_is_torchs_under_anomaly_mode(how):
    """Anomaly mode's default checks read no view of the weight either: made when read, it is PyTorch's there too."""
    try:
        with gs.autograd.detect_anomaly(), torch.autograd.detect_anomaly():
            assert _weight_view_read_later(gs, how, True) == _weight_view_read_later(torch, how, True)
    finally:
        gs.autograd.set_detect_anomaly(False)
        torch.autograd.set_detect_anomaly(False)


def test_a_linear_layer_makes_no_view_of_its_leaf_weight_until_asked():
    """The default modes, with or without anomaly mode's default checks: F.linear keeps the weight's TBackward0 in the
    view's place (a view per layer and step is an object the cyclic GC counts); an observer or check_forward, or a
    weight that is no leaf, gets the view at once, as the general path makes it (test_linear_matches_the_general_path
    compares what the entries stand for)."""
    x = gs.randn(4, 3, requires_grad=True)
    w = gs.randn(5, 3, requires_grad=True)
    entry = F.linear(x, w).grad_fn._saved[0]
    assert type(entry[3]).__name__ == "TBackward0" and entry[4] is None
    for check_nan in (True, False):
        with gs.autograd.detect_anomaly(check_nan=check_nan):
            entry = F.linear(x, w).grad_fn._saved[0]
            assert type(entry[3]).__name__ == "TBackward0" and entry[4] is None
    with gs.autograd.detect_anomaly(check_forward=True):
        assert F.linear(x, w).grad_fn._saved[0][3]._base is w
    assert F.linear(x, w * 1.0).grad_fn._saved[0][3]._base is not None
    with observers.observing(_Log()):
        assert F.linear(x, w).grad_fn._saved[0][3]._base is w


class _Log:
    def __init__(self):
        self.nodes = []

    def node_created(self, node, inputs, outputs):
        self.nodes.append(node.name())


def test_modes_and_observers_take_the_general_path():
    x = gs.randn(4, 3, requires_grad=True)
    w = gs.randn(5, 3, requires_grad=True)
    b = gs.randn(5, requires_grad=True)
    with gs.no_grad():
        assert F.linear(x, w, b).grad_fn is None and (x @ w.t()).grad_fn is None
        assert w.t()._view_made_without_grad
    with gs.inference_mode():
        assert F.linear(x, w, b).is_inference() and (x @ w.t()).is_inference()
        assert not w.t().is_inference()  # as PyTorch's: a view is an inference tensor when its base is one
    with gs.autograd.detect_anomaly(check_nan=False):
        for y in (F.linear(x, w, b), x @ w.t(), F.linear(x, w)):
            assert y.grad_fn.metadata["traceback_"]  # anomaly mode captured the forward's stack
            assert y.grad_fn.next_functions[-1][0].metadata["traceback_"]  # and TBackward0
    log = _Log()
    with observers.observing(log):
        F.linear(x, w, b)
        x @ w.t()
    assert log.nodes == ["TBackward0", "AddmmBackward0", "TBackward0", "MmBackward0"]


@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_saved_tensor_hooks_see_what_torch_saves(with_bias):
    arrays = [np.ones((4, 3), np.float32), np.ones((5, 3), np.float32), np.ones(5, np.float32)][:3 if with_bias else 2]
    seen = {}
    for name, lib, functional in (("ours", gs, F), ("torch", torch, torch.nn.functional)):
        packed = seen[name] = []
        tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
        with lib.autograd.graph.saved_tensors_hooks(lambda t, packed=packed: packed.append(tuple(t.shape)) or t,
                                                    lambda t: t):
            functional.linear(*tensors).sum().backward()
        assert tensors[1].grad is not None
    # NOTE: PyTorch packs mat1 (self) before mat2; both paths here pack mat2 first (the op table's order of the
    # saved values, which the nodes' `_saved` follow): what is packed is the same
    assert sorted(seen["ours"]) == sorted(seen["torch"]) and len(seen["ours"]) == 2


def test_saving_an_inference_tensor_raises_as_on_the_general_path():
    w = gs.randn(5, 3, requires_grad=True)
    with gs.inference_mode():
        made = gs.ones(4, 3)
    for compute in (lambda: F.linear(made, w), lambda: made @ w.t(), lambda: F.linear(made, w, gs.zeros(5))):
        with pytest.raises(RuntimeError) as fast:
            compute()
        with pytest.raises(RuntimeError) as general:
            _general(compute)
        assert str(fast.value) == str(general.value)
        assert str(fast.value).startswith("Inference tensors cannot be saved for backward")


def test_double_backward_through_t_makes_torchs_nodes():
    """TBackward0's rule is `grad.t()`: under create_graph it makes a TBackward0, as in PyTorch."""
    graphs = []
    for lib in (gs, torch):
        w = lib.ones(3, 2, requires_grad=True)
        x = lib.ones(3, 2, requires_grad=True)
        (grad,) = lib.autograd.grad((w.t() * x.t()).sum(), w, create_graph=True)
        graphs.append(_names(grad.grad_fn))
    assert graphs[0] == graphs[1]


def test_numpy_errors_stay_silent_as_in_torch_even_while_another_thread_holds_the_quiet_context():
    """The products compute in the quiet context (NaN from inf * 0, overflow in the product and in the bias's
    addition, silently, as PyTorch), and in this thread's own quieted context while another thread is in it;
    the user's NumPy error state is left as it was."""
    big = np.finfo(np.float64).max
    x = gs.tensor([[np.inf, 1.0, big], [1.0, 2.0, 3.0]], dtype=gs.float64, requires_grad=True)
    w = gs.tensor([[0.0, 1.0, 1.0], [1.0, 2.0, big]], dtype=gs.float64, requires_grad=True)
    b = gs.tensor([big, -np.inf], dtype=gs.float64, requires_grad=True)
    ops = (lambda: F.linear(x, w, b), lambda: F.linear(x, w), lambda: x @ w.t(), lambda: gs.mm(x, w.t()))
    with np.errstate(all="ignore"):
        expected = x._data @ w._data.T + b._data
    with np.errstate(all="raise"):
        state = np.geterr()
        fast = [op() for op in ops]
        assert np.geterr() == state
        with quiet_context_held_elsewhere():
            blocked = [op() for op in ops]
        assert np.geterr() == state
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(fast[0].detach().numpy(), expected)
    for a, b_ in zip(fast, blocked):
        _same_tensor(a, b_)
    torch_x, torch_w, torch_b = (torch.tensor(t.detach().numpy()) for t in (x, w, b))
    np.testing.assert_array_equal(fast[0].detach().numpy(), torch.nn.functional.linear(torch_x, torch_w, torch_b))


def _layouts(array):
    """`array` as C-ordered, Fortran-ordered, strided and row-sliced arrays (equal values)."""
    rows, cols = array.shape
    strided = np.zeros((2 * rows, 3 * cols), array.dtype)
    strided[::2, ::3] = array
    sliced = np.zeros((rows, cols + 3), array.dtype)
    sliced[:, 1:cols + 1] = array
    return [array.copy(), np.asfortranarray(array), strided[::2, ::3], sliced[:, 1:cols + 1]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_gives_the_general_paths_bits_for_every_layout(dtype):
    """The product is the general path's to the bit (np.dot on dense operands, matmul elsewhere), for vector-like
    and odd shapes and each operand C-ordered, Fortran-ordered, strided or sliced."""
    rng = np.random.default_rng(0)
    for n, k, m in itertools.product((1, 2, 5, 33), (1, 3, 65), (1, 4, 130)):
        inputs = _layouts(rng.standard_normal((n, k)).astype(dtype))
        weights = _layouts(rng.standard_normal((m, k)).astype(dtype))
        bias = gs.tensor(rng.standard_normal(m).astype(dtype), requires_grad=True)
        for x, w in itertools.product(inputs, weights):
            x, w = gs.from_numpy(x).requires_grad_(), gs.nn.Parameter(gs.from_numpy(w))
            for b in (None, bias):
                fast, general = F.linear(x, w, b), _general(F.linear, x, w, b)
                assert fast._data.tobytes() == general._data.tobytes(), (n, k, m, x.stride(), w.stride())
                _same_tensor(fast, general)  # each layout's node metadata, sizes and strides, not a cached other's


def test_calls_with_one_layout_share_their_nodes_metadata_and_others_get_their_own():
    """F.linear's nodes keep their metadata, sizes and strides in tuples shared by every call with the same
    layout (shapes, strides, dtype); a weight of the same shape with another layout (its strides, the input's, the
    dtype alone) gets the general path's, in any order."""
    rng = np.random.default_rng(0)

    def operands(dtype, weight_order="C", input_step=1, weight_step=1):
        """A (3, 3) input and a (5, 3) weight; a step of 2 takes every other column of an array twice as wide
        (float32 with a step of 2 has a float64 array's byte strides)."""
        x = gs.from_numpy(rng.standard_normal((3, 3 * input_step)).astype(dtype)[:, ::input_step]).requires_grad_()
        weights = np.asarray(rng.standard_normal((5, 3)), dtype, order=weight_order)
        if weight_step == 2:
            weights = rng.standard_normal((5, 6)).astype(dtype)[:, ::2]
        bias = rng.standard_normal(5).astype(dtype)
        return x, gs.nn.Parameter(gs.from_numpy(weights)), gs.nn.Parameter(gs.from_numpy(bias))
    first, second = F.linear(*operands(np.float64)), F.linear(*operands(np.float64))
    addmm, addmm2 = first.grad_fn, second.grad_fn
    assert addmm._input_meta is addmm2._input_meta and addmm._attrs is addmm2._attrs
    t, t2 = addmm.next_functions[2][0], addmm2.next_functions[2][0]
    assert t.name() == "TBackward0" and t._input_meta is t2._input_meta
    x, w, b = operands(np.float64)
    first, second = F.linear(x.detach(), w, b).grad_fn, F.linear(x.detach(), w, b).grad_fn  # a first layer's
    assert first._input_meta is second._input_meta and first._attrs is second._attrs
    assert first._input_meta[1] is None and first._attrs[3] == ()
    # each case differs from the one before in one thing: the weight's strides, the input's, or the dtype alone
    cases = [operands(np.float64), operands(np.float64, "F"), operands(np.float64, "F", 2), operands(np.float64),
             operands(np.float32, input_step=2, weight_step=2)]
    assert [a._data.strides for a in cases[4][:2]] == [a._data.strides for a in cases[3][:2]]
    for x, w, b in cases + cases[::-1] + cases:
        for bias in (b, None):
            _same_tensor(F.linear(x, w, bias), _general(F.linear, x, w, bias))
    x, w, b = operands(np.float64)
    for args in [(x.detach(), w, b), (x, w.detach(), b), (x, w, b.detach()), (x.detach(), w.detach(), b)]:
        _same_tensor(F.linear(*args), _general(F.linear, *args))  # operands that need no gradient


def test_a_linear_layer_keeps_few_objects_for_the_cyclic_gc():
    """A chain of F.linear calls keeps ~14 GC-tracked objects a layer alive until the backward (2 nodes, the view
    and the output with its version counter, 9 tuples: edges and light saved entries); its metadata is shared.
    Each kept object adds to the collector's work (narrow's step spent 6-9% in it at ~40 a layer)."""
    w = gs.nn.Parameter(gs.ones(8, 8, dtype=gs.float64))
    b = gs.nn.Parameter(gs.ones(8, dtype=gs.float64))
    outputs = [F.linear(gs.ones(4, 8, dtype=gs.float64, requires_grad=True), w, b)]
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        before = len(gc.get_objects())
        for _ in range(50):
            outputs.append(F.linear(outputs[-1], w, b))
        kept = (len(gc.get_objects()) - before) / 50
    finally:
        if enabled:
            gc.enable()
    assert kept <= 14.1, kept


def test_a_model_step_runs_no_python_frame_of_numpys():
    """A step of small linear layers and cross-entropy (F.linear's np.dot products, the loss's row sums) calls NumPy's
    C functions, not their __array_function__ dispatchers, whose Python frame each call paid; the products' bits
    are np.dot's (test_linear_gives_the_general_paths_bits_for_every_layout)."""
    rng = np.random.default_rng(4)
    x = gs.tensor(rng.standard_normal((16, 32)))
    w = gs.tensor(rng.standard_normal((32, 32)), requires_grad=True)
    w2 = gs.tensor(rng.standard_normal((10, 32)), requires_grad=True)
    b2 = gs.zeros(10, dtype=gs.float64, requires_grad=True)
    target = gs.tensor(rng.integers(0, 10, 16))
    step = lambda: F.cross_entropy(F.linear(gs.tanh(F.linear(x, w)), w2, b2), target).backward()  # noqa: E731
    step()
    files = []

    def profile(frame, event, arg):
        if event == "call":
            files.append(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        step()
    finally:
        sys.setprofile(None)
    assert files
    assert not [name for name in files if f"{os.sep}numpy{os.sep}" in name]
