"""RNNCell's one-frame step (autograd/fused_cells.py) makes the outputs, views and nodes the general path makes,
op by op, and PyTorch's graph."""

import gc
import itertools

import numpy as np
import pytest
import torch
from quiet_helpers import quiet_context_held_elsewhere
from test_fused_products import _general, _order, _same_tensor

import gradscope as gs
from gradscope.autograd import fused_cells
from gradscope.nn import rnn


@pytest.fixture
def taken(monkeypatch):
    """How many steps the one-frame step served (it returns None when it steps aside)."""
    served, step = [], fused_cells.rnn_cell

    def spy(*args):
        hidden = step(*args)
        served.append(hidden is not None)
        return hidden

    monkeypatch.setattr(rnn.fused_cells, "rnn_cell", spy)
    return served


def _cell(dtype, bias, nonlinearity):
    gs.manual_seed(0)
    return gs.nn.RNNCell(3, 4, bias=bias, nonlinearity=nonlinearity, dtype=dtype)


def _inputs(dtype):
    """Inputs (2, 3) and first states (2, 4): leaves with and without grad, views (a row pair of a leaf, a
    transposed leaf, an unbind's output), a non-leaf; None for a first state of zeros."""
    rng = np.random.default_rng(1)

    def tensor(*shape, requires_grad=True):
        return gs.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)
    inputs = [tensor(2, 3), tensor(2, 3, requires_grad=False), tensor(4, 3)[1:3], tensor(3, 2).t(),
              tensor(5, 2, 3).unbind(0)[2], tensor(2, 3) * 2.0]
    states = [None, tensor(2, 4), tensor(2, 4, requires_grad=False), tensor(3, 4)[:2], tensor(4, 2).t(),
              tensor(2, 4).tanh()]
    return inputs, states


@pytest.mark.parametrize("dtype", [gs.float32, gs.float64], ids=str)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_the_step_matches_the_general_path(dtype, bias, nonlinearity, taken):
    cell = _cell(dtype, bias, nonlinearity)
    inputs, states = _inputs(dtype)
    for x, h in itertools.product(inputs, states):
        fast, general = cell(x, h), _general(cell, x, h)
        _same_tensor(fast, general)
        assert _order(fast.grad_fn) == _order(general.grad_fn)
        # a second step from each path's state
        _same_tensor(cell(x, fast), _general(cell, x, general))
    assert taken == [True, False, True, False] * len(inputs) * len(states)


def _graphs(outputs) -> tuple:
    """The graph behind `outputs`: each node by creation rank (AccumulateGrad aside), its name and edges (a node's
    rank, or "leaf", and the output number), then each output's node (tests/nn/test_modules_rnn.py's)."""
    nodes, stack = {}, [out.grad_fn for out in outputs]
    while stack:
        node = stack.pop()
        if node is not None and "AccumulateGrad" not in node.name() and node not in nodes:
            nodes[node] = None
            stack.extend(child for child, _ in node.next_functions)
    order = sorted(nodes, key=lambda node: node._sequence_nr())
    rank = {node: index for index, node in enumerate(order)}
    return (tuple((node.name(), tuple(None if child is None else ("leaf" if child not in rank else rank[child], nr)
                                      for child, nr in node.next_functions)) for node in order),
            tuple(rank[out.grad_fn] for out in outputs))


def test_a_sequence_matches_torch_graph_and_gradients(taken):
    """Five steps from a given state, the input an unbind of a leaf: PyTorch's nodes, edges and creation order,
    outputs and gradients."""
    seen = []
    for lib in (gs, torch):
        lib.manual_seed(0)
        cell = lib.nn.RNNCell(3, 4, dtype=lib.float32)
        xs = lib.randn(5, 2, 3, dtype=lib.float32, requires_grad=True)
        h0 = h = lib.randn(2, 4, dtype=lib.float32, requires_grad=True)
        states = []
        for x in xs:
            h = cell(x, h)
            states.append(h)
        (h * h).sum().backward()
        seen.append((_graphs(states), h.detach().numpy(), xs.grad.numpy(), h0.grad.numpy(),
                     *(p.grad.numpy() for p in cell.parameters())))
    assert taken == [True] * 5
    assert seen[0][0] == seen[1][0]
    for ours, theirs in zip(seen[0][1:], seen[1][1:], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_it_steps_aside_where_it_does_not_serve(taken):
    """Frozen weights, a missing bias, another dtype, shapes that fail, anomaly mode's check_forward, no_grad, an
    inference tensor: the general path, with its nodes and errors (anomaly mode's default checks are served:
    test_anomaly_fast_paths)."""
    cell = _cell(gs.float64, True, "tanh")
    x, h = gs.randn(2, 3, dtype=gs.float64), gs.randn(2, 4, dtype=gs.float64, requires_grad=True)
    cell.bias_hh.requires_grad_(False)
    _same_tensor(cell(x, h), _general(cell, x, h))
    cell.bias_hh.requires_grad_(True)
    cell.weight_ih.requires_grad_(False)
    _same_tensor(cell(x, h), _general(cell, x, h))
    cell.weight_ih.requires_grad_(True)
    assert taken == [False, False, False, False]
    with gs.autograd.detect_anomaly(check_forward=True):
        cell(x, h)
    with gs.no_grad():
        assert cell(x, h).grad_fn is None
    with gs.inference_mode():
        frozen = gs.randn(2, 3, dtype=gs.float64)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        cell(frozen, h)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        cell(gs.randn(2, 5, dtype=gs.float64), h)
    with pytest.raises(RuntimeError):
        cell(x, gs.randn(3, 4, dtype=gs.float64))
    with pytest.raises(RuntimeError):
        cell(x.float(), h)
    assert not any(taken)


def test_numpy_errors_stay_silent_even_while_another_thread_holds_the_quiet_context(taken):
    """The step computes in the quiet context (overflow, inf - inf silently, as PyTorch), and in this thread's
    own quieted context while another thread is in it; the user's NumPy error state is left as it was."""
    big = np.finfo(np.float64).max
    cell = _cell(gs.float64, True, "tanh")
    with gs.no_grad():
        cell.weight_ih.copy_(gs.full((4, 3), big, dtype=gs.float64))
        cell.bias_hh.copy_(gs.tensor([-np.inf, 0.0, 1.0, np.inf], dtype=gs.float64))
    x = gs.tensor([[big, 1.0, 0.0], [np.inf, -1.0, 2.0]], dtype=gs.float64, requires_grad=True)
    h = gs.tensor(np.full((2, 4), 3.0), requires_grad=True)
    with np.errstate(all="raise"):
        state = np.geterr()
        fast = cell(x, h)
        assert np.geterr() == state
        with quiet_context_held_elsewhere():
            blocked = cell(x, h)
        assert np.geterr() == state
    assert taken == [True, True]
    _same_tensor(fast, blocked)
    _same_tensor(fast, _general(cell, x, h))
    theirs = torch.nn.RNNCell(3, 4, dtype=torch.float64)
    with torch.no_grad():
        for ours, param in zip(cell.parameters(), theirs.parameters()):
            param.copy_(torch.tensor(ours.detach().numpy()))
    expected = theirs(torch.tensor(x.detach().numpy()), torch.tensor(h.detach().numpy()))
    np.testing.assert_array_equal(fast.detach().numpy(), expected.detach().numpy())


def test_steps_share_their_nodes_metadata_with_each_other_and_with_f_linear(taken):
    """The step keeps its nodes' metadata, sizes and strides in the tuples F.linear's fast path shares per layout
    (and fused.unary per shape): one object each for every step, not new ones kept until the backward. (A cell
    remembers the layouts it took, so F.linear shares them while its own cache keeps them: here from the start.)"""
    fused_cells._CELLS.clear()
    cell = _cell(gs.float64, True, "tanh")
    x = gs.tensor(np.ones((2, 3)), requires_grad=True)
    first = cell(x)
    second = cell(x, first)
    third = cell(x, second)
    tanh, tanh2 = second.grad_fn, third.grad_fn
    assert tanh._input_meta is tanh2._input_meta is gs.tanh(second).grad_fn._input_meta
    add, add2 = tanh.next_functions[0][0], tanh2.next_functions[0][0]
    for (node, _), (node2, _) in zip(add.next_functions, add2.next_functions):  # the state's product, the input's
        assert node.name() == node2.name() == "AddmmBackward0"
        assert node._input_meta is node2._input_meta and node._attrs is node2._attrs
        t, t2 = node.next_functions[2][0], node2.next_functions[2][0]
        assert t._input_meta is t2._input_meta
    linear = gs.nn.functional.linear(second, cell.weight_hh, cell.bias_hh).grad_fn
    assert linear._input_meta is add2.next_functions[0][0]._input_meta
    assert taken == [True, True, True]


def test_a_remembered_cell_serves_only_operands_of_its_dtype_shapes_and_strides(taken):
    """Steps whose operands differ from a remembered cell's only in strides (a transposed state, a transposed
    weight), in the bias, or in a dtype equal to it but not the same (NumPy metadata: the general path's `is`
    checks refuse it), and a cell whose layout F.linear has since replaced: each gets the general path's nodes."""
    cell = _cell(gs.float64, True, "tanh")
    x = gs.randn(2, 3, dtype=gs.float64, requires_grad=True)
    h = gs.randn(2, 4, dtype=gs.float64, requires_grad=True)
    h_t = gs.randn(4, 2, dtype=gs.float64, requires_grad=True).t()
    for state in (h, h_t, h, h_t):
        _same_tensor(cell(x, state), _general(cell, x, state))
    gs.nn.functional.linear(gs.randn(4, 2, dtype=gs.float64).t(), cell.weight_hh, cell.bias_hh)  # another layout
    _same_tensor(cell(x, h), _general(cell, x, h))
    with gs.no_grad():
        cell.weight_hh.data = cell.weight_hh.detach().t().contiguous().t()  # Fortran order: other strides
    _same_tensor(cell(x, h), _general(cell, x, h))
    unbiased = _cell(gs.float64, False, "tanh")
    _same_tensor(unbiased(x, h), _general(unbiased, x, h))
    assert taken == [True, False] * 7
    tag = np.dtype("f8", metadata={"tag": 1})

    def tagged(tensor):
        array = np.empty(tensor.shape, tag)
        array[...] = tensor.detach().numpy()
        return gs.from_numpy(array)
    with gs.no_grad():
        for parameter in cell.parameters():
            parameter.data = tagged(parameter)
    x, h = tagged(x), tagged(h)
    assert x._data.dtype is cell.weight_hh._data.dtype is tag
    _same_tensor(cell(x, h), _general(cell, x, h))
    assert taken[-2:] == [False, False]


def test_a_cell_with_parametrized_weights_computes_as_torch():
    """RNNCell reads its weights from the parameters' dict; a parametrization moves one out of it (a property
    computing it from the original): the step then uses the computed weight, as PyTorch's."""
    seen = []
    for lib in (gs, torch):
        class Doubled(lib.nn.Module):
            def forward(self, weight):
                return weight * 2

        lib.manual_seed(0)
        cell = lib.nn.RNNCell(3, 4, dtype=lib.float64)
        with lib.no_grad():
            for index, parameter in enumerate(cell.parameters()):
                parameter.copy_(lib.linspace(-1, 1, parameter.numel(), dtype=lib.float64).reshape(parameter.shape)
                                * (index + 1) / 4)
        lib.nn.utils.parametrize.register_parametrization(cell, "weight_hh", Doubled())
        lib.nn.utils.parametrize.register_parametrization(cell, "bias_ih", Doubled())
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        h = cell(x, cell(x))
        h.sum().backward()
        seen.append([h.detach().numpy(), x.grad.numpy()]
                    + [parameter.grad.numpy() for _, parameter in sorted(cell.named_parameters())])
    for ours, theirs in zip(*seen, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def _tensors_made_and_kept(step):
    """The Tensors `step()` makes that outlive it (shape, whether a view), and its result."""
    gc.collect()
    # NOTE: the type, not isinstance: some of torch's objects warn when their __class__ is read
    before = [obj for obj in gc.get_objects() if issubclass(type(obj), gs.Tensor)]  # held: no id is reused meanwhile
    known = {id(obj) for obj in before}
    result = step()
    gc.collect()
    kept = sorted((tuple(obj.shape), obj._base is not None) for obj in gc.get_objects()
                  if issubclass(type(obj), gs.Tensor) and id(obj) not in known)
    return kept, result


def test_the_step_keeps_the_tensors_the_general_path_keeps(taken):
    """The one-frame step makes no Tensor for the products and their sum: the general path's are garbage once the
    step returns (their nodes don't keep them). Nor does it make the weights' views, which the products' nodes
    save, until `_saved_mat2` is read (F.linear's fast path makes a leaf weight's view then too:
    fused_products.weight_view); the general path, watched here, makes them at once. Read, they are its views."""
    cell = _cell(gs.float64, True, "tanh")
    x = gs.randn(2, 3, dtype=gs.float64, requires_grad=True)
    h = gs.randn(2, 4, dtype=gs.float64, requires_grad=True)
    kept_general, general = _tensors_made_and_kept(lambda: _general(cell, x, h))
    kept_fast, fast = _tensors_made_and_kept(lambda: cell(x, h))
    assert kept_general == [((2, 4), False), ((3, 4), True), ((4, 4), True)]
    assert kept_fast == [((2, 4), False)]
    _same_tensor(fast, general)  # (saved entries compared as the SavedTensors they stand for)
    products = [node for node, _ in fast.grad_fn.next_functions[0][0].next_functions]
    for product, weight in zip(products, (cell.weight_hh, cell.weight_ih), strict=True):
        view = product._saved_mat2
        assert view is product._saved_mat2 and view._base is weight and view.grad_fn is product.next_functions[-1][0]
        np.testing.assert_array_equal(view._data, weight._data.T)
    assert taken == [False, True]


def _weight_views_read(lib, requires_grad: bool) -> list:
    """What user code sees of an RNNCell step's saved weight views (`_saved_mat2` of its two products), read
    before and after a backward that frees them and after an in-place change of a weight, and the gradients."""
    lib.manual_seed(0)
    cell = lib.nn.RNNCell(3, 4, dtype=lib.float64)
    x = lib.randn(2, 3, dtype=lib.float64, requires_grad=requires_grad)
    h = cell(x, cell(x))
    seen = []
    products = [node for node, _ in h.grad_fn.next_functions[0][0].next_functions]
    for product, weight in zip(products, (cell.weight_hh, cell.weight_ih), strict=True):
        view = product._saved_mat2
        if view is None:  # the input's product, when the input requires no grad: PyTorch's saves no weight
            seen.append(product.name())
            continue
        seen += [product.name(), tuple(view.shape), view.requires_grad, view._base is weight, view.is_leaf,
                 view.grad_fn is product.next_functions[-1][0], view._version, view.detach().numpy().round(12).tolist()]
    h.sum().backward(retain_graph=True)
    seen += [p.grad.numpy().round(12).tolist() for p in cell.parameters()]
    with lib.no_grad():
        cell.weight_hh.mul_(2.0)
    for attempt in (lambda: products[0]._saved_mat2, lambda: h.sum().backward()):
        try:
            attempt()
        except RuntimeError as error:
            seen.append(str(error))
    return seen


@pytest.mark.parametrize("requires_grad", [True, False], ids=["input requires grad", "input requires none"])
def test_the_steps_weight_views_read_later_are_torchs(requires_grad, taken):
    assert _weight_views_read(gs, requires_grad) == _weight_views_read(torch, requires_grad)
    assert taken == [True, True]
