"""RNN, LSTM, GRU and their cells against PyTorch in float64: parameter names and shapes, repr,
outputs, final states and every gradient, over layers, directions, batch_first and initial states."""

from __future__ import annotations

import numpy as np
import pytest
from module_oracle import run_both, twin

import gradscope
import gradscope.nn as gnn


def _sequence(batch_first: bool, batched: bool = True, size: int = 3):
    def make(torch):
        shape = ((2, 4, size) if batch_first else (4, 2, size)) if batched else (4, size)
        return (torch.randn(*shape, dtype=torch.float64, requires_grad=True),)
    return make


CONFIGS = {
    "one layer": dict(),
    "stacked bidirectional": dict(num_layers=2, bidirectional=True),
    "batch_first no bias": dict(batch_first=True, bias=False),
    "dropout eval": dict(num_layers=2, dropout=0.5),
}


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_recurrent_layer_matches_torch(kind, config):
    kwargs = CONFIGS[config]
    ours, theirs = twin(lambda nn: getattr(nn, kind)(3, 5, **kwargs))
    if kwargs.get("dropout"):
        ours.eval()
        theirs.eval()
    run_both(ours, theirs, _sequence(kwargs.get("batch_first", False)))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layer_with_initial_state_and_unbatched_input(kind):
    ours, theirs = twin(lambda nn: getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True))

    def inputs(torch):
        x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
        h = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
        if kind == "LSTM":
            return x, (h, torch.randn(4, 4, dtype=torch.float64, requires_grad=True))
        return x, h

    run_both(ours, theirs, inputs)


def test_relu_rnn_and_repr():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, but got dropout=0.25"):
        ours, theirs = twin(lambda nn: nn.RNN(2, 3, nonlinearity="relu", batch_first=True, dropout=0.25))
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, _sequence(True, size=2))


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("with_state", [False, True])
def test_cells_match_torch(kind, with_state):
    ours, theirs = twin(lambda nn: getattr(nn, kind)(3, 4))

    def inputs(torch):
        x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
        if not with_state:
            return (x,)
        h = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
        return (x, (h, torch.randn(2, 4, dtype=torch.float64))) if kind == "LSTMCell" else (x, h)

    run_both(ours, theirs, inputs)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_read_weights_replaced_by_plain_tensors_as_torch(kind):
    """A cell's forward reads its parameters from the registry; one deleted there and set again as a plain
    tensor attribute (as functional and weight-norm style code does) is the attribute, in both libraries."""
    torch = pytest.importorskip("torch")
    results = []
    for lib, nn in ((torch, torch.nn), (gradscope, gnn)):
        cell = getattr(nn, kind)(3, 4, dtype=lib.float64)
        for param in cell.parameters():
            param.data = lib.tensor(np.linspace(-0.5, 0.5, param.numel()).reshape(tuple(param.shape)))
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        scale = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
        for name in ("weight_hh", "bias_ih"):
            value = getattr(cell, name).detach().clone()
            delattr(cell, name)
            setattr(cell, name, lib.tensor(np.full(tuple(value.shape), 0.25)) * scale)
        out = cell(x, None)
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()
        assert [name for name, _ in cell.named_parameters()] == ["weight_ih", "bias_hh"]
        results.append((out.detach().numpy(), x.grad.numpy(), scale.grad.numpy()))
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_relu_cell_unbatched():
    ours, theirs = twin(lambda nn: nn.RNNCell(3, 2, bias=False, nonlinearity="relu"))
    run_both(ours, theirs, lambda torch: (torch.randn(3, dtype=torch.float64, requires_grad=True),))


def test_dropout_between_layers_only_in_training():
    gradscope.manual_seed(0)
    lstm = gnn.LSTM(2, 3, num_layers=2, dropout=0.9)
    x = gradscope.randn(4, 1, 2)
    first, _ = lstm(x)
    second, _ = lstm(x)
    assert not np.allclose(first.detach().numpy(), second.detach().numpy())
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())


def test_default_init_and_errors():
    gru = gnn.GRU(3, 16)
    bound = 1 / 4
    for param in gru.parameters():
        assert np.all(np.abs(param.detach().numpy()) <= bound)
    with pytest.raises(ValueError, match="GRU: Expected input to be 2D or 3D, got 4D instead"):
        gru(gradscope.ones(1, 1, 1, 3))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 2"):
        gru(gradscope.ones(2, 1, 2))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_sequences_match_torch(kind, batch_first):
    torch = pytest.importorskip("torch")
    ours, theirs = twin(lambda nn: getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first))
    lengths = [2, 5, 3]

    def call(module, pack):
        def run(x, *state):
            return module(pack(x, lengths, batch_first=batch_first, enforce_sorted=False), *state)
        return run

    def inputs(torch):
        x = torch.randn(*((3, 5, 3) if batch_first else (5, 3, 3)), dtype=torch.float64, requires_grad=True)
        h = torch.randn(4, 3, 4, dtype=torch.float64, requires_grad=True)
        return (x, (h, torch.randn(4, 3, 4, dtype=torch.float64))) if kind == "LSTM" else (x, h)

    run_both(call(ours, gnn.utils.rnn.pack_padded_sequence), call(theirs, torch.nn.utils.rnn.pack_padded_sequence),
             inputs, modules=(ours, theirs))


def test_pack_and_pad_round_trip_like_torch():
    torch = pytest.importorskip("torch")
    sequences = [torch.randn(length, 2, dtype=torch.float64) for length in (2, 4, 1)]
    theirs = torch.nn.utils.rnn.pack_sequence(sequences, enforce_sorted=False)
    ours = gnn.utils.rnn.pack_sequence([gradscope.tensor(s.numpy()) for s in sequences], enforce_sorted=False)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())
    their_padded, their_lengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, True, -1.0, total_length=5)
    our_padded, our_lengths = gnn.utils.rnn.pad_packed_sequence(ours, True, -1.0, total_length=5)
    np.testing.assert_array_equal(our_padded.numpy(), their_padded.numpy())
    np.testing.assert_array_equal(our_lengths.numpy(), their_lengths.numpy())
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order"):
        gnn.utils.rnn.pack_padded_sequence(gradscope.ones(3, 2), [1, 3])


@pytest.mark.parametrize("batched", [True, False])
def test_lstm_with_projections_matches_torch(batched):
    ours, theirs = twin(lambda nn: nn.LSTM(3, 5, proj_size=2, num_layers=2, bidirectional=True, batch_first=True))
    assert [len(group) for group in ours.all_weights] == [5] * 4
    assert tuple(ours.weight_hr_l1_reverse.shape) == (2, 5)

    def inputs(torch):
        x = torch.randn(*((2, 4, 3) if batched else (4, 3)), dtype=torch.float64, requires_grad=True)
        batch = (2,) if batched else ()
        h = torch.randn(4, *batch, 2, dtype=torch.float64, requires_grad=True)
        return x, (h, torch.randn(4, *batch, 5, dtype=torch.float64, requires_grad=True))

    run_both(ours, theirs, inputs)


def test_lstm_with_projections_takes_packed_sequences_like_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = twin(lambda nn: nn.LSTM(3, 4, proj_size=3))

    def call(module, pack):
        return lambda x: module(pack(x, [4, 2], enforce_sorted=False))

    run_both(call(ours, gnn.utils.rnn.pack_padded_sequence), call(theirs, torch.nn.utils.rnn.pack_padded_sequence),
             lambda torch: (torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True),), modules=(ours, theirs))


@pytest.mark.parametrize("snippet, error", [
    ("torch.nn.LSTM(3, 4, proj_size=-1)",
     "ValueError: proj_size should be a positive integer or zero to disable projections"),
    ("torch.nn.LSTM(3, 4, proj_size=4)", "ValueError: proj_size has to be smaller than hidden_size"),
    ("torch.nn.LSTM(3, 4, proj_size=2)(x, (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))",
     "RuntimeError: Expected hidden[0] size (1, 2, 2), got [1, 2, 4]"),
    ("torch.nn.LSTM(3, 4)(x, (torch.zeros(1, 2, 4), torch.zeros(1, 2, 3)))",
     "RuntimeError: Expected hidden[1] size (1, 2, 4), got [1, 2, 3]"),
    ("torch.nn.GRU(3, 4)(x, torch.zeros(1, 2, 3))", "RuntimeError: Expected hidden size (1, 2, 4), got [1, 2, 3]"),
])
def test_projection_and_state_errors_match_torch(oracle, snippet, error):
    oracle.check("x = torch.randn(5, 2, 3)\n" + snippet, error=error)


def _node_names(out) -> list[str]:
    seen, names, stack = set(), [], [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(node.name())
        stack.extend(next_node for next_node, _ in node.next_functions)
    return sorted(names)


@pytest.mark.parametrize("make, call", [
    (lambda nn: nn.RNN(3, 4), lambda m, x: m(x)[0]),
    (lambda nn: nn.GRU(3, 4, num_layers=2), lambda m, x: m(x)[0]),
    (lambda nn: nn.GRUCell(3, 4), lambda m, x: m(x[0])),
    (lambda nn: nn.LSTMCell(3, 4), lambda m, x: m(x[0])[1]),
    (lambda nn: nn.RNNCell(3, 4, nonlinearity="relu"), lambda m, x: m(x[0])),
], ids=["RNN", "GRU", "GRUCell", "LSTMCell", "RNNCell"])
def test_the_graph_has_pytorchs_nodes(make, call):
    """What the debugger shows of a recurrent layer is what PyTorch records (one UnbindBackward0 for the
    sequence, the cells' UnsafeSplitBackward0 and GRU's (h - n)·z + n). nn.LSTM is left out: PyTorch's CPU
    LSTM is one fused MkldnnRnnLayerBackward0 node per layer."""
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        x = lib.randn(5, 2, 3, requires_grad=True)
        seen.append(_node_names(call(make(lib.nn), x)))
    assert seen[0] == seen[1]


def _structure(fn):
    """A node and everything it leads to, by name and edge (output number), with each node's rank in creation
    order among the graph's nodes (AccumulateGrad aside): the graph and the order it was made in."""
    nodes, stack = [], [fn]
    while stack:
        node = stack.pop()
        if node is not None and "AccumulateGrad" not in node.name() and all(node is not n for n in nodes):
            nodes.append(node)
            stack.extend(child for child, _ in node.next_functions)
    seqs = sorted(node._sequence_nr() for node in nodes)

    def walk(node):
        if node is None:
            return None
        rank = None if "AccumulateGrad" in node.name() else seqs.index(node._sequence_nr())
        return (node.name(), rank, tuple((walk(child), nr) for child, nr in node.next_functions))
    return walk(fn)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("first_state", [None, "given"])
def test_rnn_cell_steps_make_torchs_graph_in_torchs_order(nonlinearity, batched, first_state):
    """Three steps of an RNNCell: the same nodes, edges and creation order (addmm of the input, of the state, add,
    then the nonlinearity; unsqueeze/squeeze for unbatched input) as PyTorch's."""
    torch = pytest.importorskip("torch")
    graphs = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        cell = lib.nn.RNNCell(3, 4, nonlinearity=nonlinearity, dtype=lib.float64)
        xs = lib.randn(3, 2, 3, dtype=lib.float64, requires_grad=True)
        h = None if first_state is None else lib.randn(2, 4, dtype=lib.float64, requires_grad=True)
        if not batched:
            xs, h = xs[:, 0], None if h is None else h[0]
        for x in xs:
            h = cell(x, h)
        graphs.append(_structure(h.grad_fn))
    assert graphs[0] == graphs[1]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("config", [dict(), dict(num_layers=2, bidirectional=True)], ids=["one layer", "stacked bi"])
def test_rnn_layer_makes_torchs_graph_in_torchs_order(nonlinearity, config):
    """nn.RNN's steps add the input's projection into the state's product, as PyTorch's (AddBackward0's edges)."""
    torch = pytest.importorskip("torch")
    graphs = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        rnn = lib.nn.RNN(3, 4, nonlinearity=nonlinearity, dtype=lib.float64, **config)
        output, state = rnn(lib.randn(3, 2, 3, dtype=lib.float64, requires_grad=True))
        graphs.append((_structure(output.grad_fn), _structure(state.grad_fn)))
    assert graphs[0] == graphs[1]


def _graphs(outputs) -> tuple:
    """The graph behind `outputs` (an LSTM's state pair: both) as `_structure` sees it, without walking every path
    (gated cells' graphs have a great many): each node by creation rank (AccumulateGrad aside), its name and
    edges (a node's rank, or "leaf", and the output number), then each output's node."""
    roots = []
    for out in outputs:
        roots.extend(t.grad_fn for t in (out if isinstance(out, tuple) else (out,)))
    nodes, stack = {}, list(roots)
    while stack:
        node = stack.pop()
        if node is not None and "AccumulateGrad" not in node.name() and node not in nodes:
            nodes[node] = None
            stack.extend(child for child, _ in node.next_functions)
    order = sorted(nodes, key=lambda node: node._sequence_nr())
    rank = {node: index for index, node in enumerate(order)}

    def edge(child, nr):
        return None if child is None else ("leaf" if "AccumulateGrad" in child.name() else rank[child], nr)
    return (tuple((node.name(), tuple(edge(*e) for e in node.next_functions)) for node in order),
            tuple(rank[root] for root in roots))


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("first_state", [None, "given"])
def test_gated_cell_steps_make_torchs_graph_in_torchs_order(kind, bias, batched, first_state):
    """Three steps of an LSTMCell or a GRUCell: PyTorch's nodes, edges and creation order. ATen's LSTM cell adds
    the input's product into the state's (`linear_hh(h).add_(linear_ih(x))`), activates the four gates in order
    (in place, the same nodes) before c' = f·c + i·g; its GRU cell splits the input's product before it makes the
    state's; an unbatched GRUCell unsqueezes the state before either product. Gradients agree too."""
    torch = pytest.importorskip("torch")
    graphs, grads = [], []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        cell = getattr(lib.nn, kind)(3, 4, bias=bias, dtype=lib.float64)
        inputs = xs = lib.randn(3, 2, 3, dtype=lib.float64, requires_grad=True)
        state = None
        if first_state is not None:
            state = lib.randn(2, 4, dtype=lib.float64, requires_grad=True)
            if kind == "LSTMCell":
                state = (state, lib.randn(2, 4, dtype=lib.float64, requires_grad=True))
        starts = state if isinstance(state, tuple) else () if state is None else (state,)
        if not batched:
            xs = xs[:, 0]
            state = None if state is None else tuple(s[0] for s in state) if kind == "LSTMCell" else state[0]
        outputs = []
        for x in xs:
            state = cell(x, state)
            outputs.append(state)
        graphs.append(_graphs(outputs))
        sum(out.sum() for out in (state if isinstance(state, tuple) else (state,))).backward()
        grads.append([t.grad.numpy().copy() for t in (inputs, *starts, *cell.parameters())])
    assert graphs[0] == graphs[1]
    for ours, theirs in zip(*grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


LAYER_GRAPH_CONFIGS = {
    "one layer": dict(),
    "no bias": dict(bias=False),
    "batch_first": dict(batch_first=True),
    "stacked bidirectional batch_first": dict(num_layers=2, bidirectional=True, batch_first=True),
}


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("config", LAYER_GRAPH_CONFIGS, ids=str)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("initial", [None, "given"])
def test_recurrent_layer_makes_torchs_graph_in_torchs_order(kind, config, batched, initial):
    """nn.RNN, nn.GRU and nn.LSTM make ATen's graph, node by node and in its order: the state's product first, each
    cell's nodes as the cells' (see above); a batch_first input unsqueezed at dim 0 when unbatched, transposed after
    the states are unsqueezed, and the output transposed back (RNN and GRU in place: TransposeBackward1). PyTorch's
    CPU LSTM is one MkldnnRnnLayerBackward0 node per layer while oneDNN is enabled (gradscope keeps the steps): the
    LSTM is compared with oneDNN off, where ATen runs its LSTM cell."""
    torch = pytest.importorskip("torch")
    kwargs = LAYER_GRAPH_CONFIGS[config]
    directions = 2 if kwargs.get("bidirectional") else 1
    graphs = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        layer = getattr(lib.nn, kind)(3, 4, dtype=lib.float64, **kwargs)
        shape = ((2, 3, 3) if kwargs.get("batch_first") else (3, 2, 3)) if batched else (3, 3)
        x = lib.randn(*shape, dtype=lib.float64, requires_grad=True)
        hx = None
        if initial is not None:
            state_shape = (kwargs.get("num_layers", 1) * directions,) + ((2, 4) if batched else (4,))
            hx = lib.randn(*state_shape, dtype=lib.float64, requires_grad=True)
            if kind == "LSTM":
                hx = (hx, lib.randn(*state_shape, dtype=lib.float64, requires_grad=True))
        with torch.backends.mkldnn.flags(enabled=lib is gradscope):
            graphs.append(_graphs(layer(x, hx)))
    assert graphs[0] == graphs[1]


def test_lstm_with_projections_makes_torchs_graph_in_torchs_order():
    torch = pytest.importorskip("torch")
    graphs = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        layer = lib.nn.LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True, dtype=lib.float64)
        with torch.backends.mkldnn.flags(enabled=lib is gradscope):
            graphs.append(_graphs(layer(lib.randn(2, 3, 3, dtype=lib.float64, requires_grad=True))))
    assert graphs[0] == graphs[1]
