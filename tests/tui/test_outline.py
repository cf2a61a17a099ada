"""The tree layout of a backward graph: every node listed once, reuses linked, main lines flat, folds, pages."""

import numpy as np
import pytest
from synthetic import synthetic_trace
from tui_helpers import NAN_MODEL, recorded, sample

import gradscope as torch
from gradscope import nn
from gradscope.trace import Recorder
from gradscope.trace.model import NodeRecord, Trace
from gradscope.tui.items import TOP, BranchItem, FoldItem, LinkItem, MoreItem, NodeItem, fold_scope
from gradscope.tui.outline import PAGE, Outline

SCRIPTS = [NAN_MODEL] + [sample(name) for name in
                         ("nan_log", "rnn", "mlp", "vanishing", "bad_backward", "tutorial", "td_lambda", "dead_relu")]


def expand_all(outline, item=TOP):
    """Every item of the fully expanded tree, in order, with pages opened."""
    for child in outline.children(item):
        if isinstance(child, MoreItem):
            yield from expand_all(outline, child)
            continue
        yield child
        if outline.expandable(child):
            yield from expand_all(outline, child)


def find(trace, name, scope=None):
    found = [n.id for n in trace.nodes.values() if n.label == name and (scope is None or n.scope == scope)]
    assert len(found) == 1, found
    return found[0]


def recorded_run(build):
    """Record `build()` (which calls backward) with names taken from its locals."""
    with Recorder() as recorder:
        names = build()
    return recorder.finish(names)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_node_is_listed_once_and_every_other_use_is_a_link(script):
    trace = recorded(script)
    outline = Outline(trace)
    items = list(expand_all(outline))
    listed = [item.node for item in items if isinstance(item, NodeItem)]
    links = [item for item in items if isinstance(item, LinkItem)]
    assert sorted(listed) == sorted(outline.place) and len(set(listed)) == len(listed)
    # each edge of the graph is either the one a node lives at, or a link
    edges = sum(len(trace.children(node)) for node in outline.place)
    assert edges == len(outline.place) - len(outline.roots) + len(links)
    for link in links:
        assert link.node in trace.children(link.parent)
    # a main line goes from each node to one of its inputs
    for run in outline.runs.values():
        for node, following in zip(run[:-1], run[1:], strict=True):
            assert following in trace.children(node)
    assert outline.count(TOP) == len(outline.place)


@pytest.mark.parametrize("script", SCRIPTS)
def test_path_leads_to_each_node_through_listed_items(script):
    outline = Outline(recorded(script))
    for node in outline.place:
        container = TOP
        for item in outline.path(node):
            children = outline.children(container)
            while item not in children:
                more = children[-1]
                assert isinstance(more, MoreItem)
                children = children[:-1] + outline.children(more)
            container = item
        assert container == NodeItem(node, container.base)


def test_nan_log_reads_as_a_column_folded_by_module():
    trace = recorded(NAN_MODEL)
    outline = Outline(trace)
    top = outline.children(TOP)
    assert top[:2] == [NodeItem(find(trace, "MeanBackward0"), None), NodeItem(find(trace, "MulBackward0"), None)]
    model = top[2]
    assert isinstance(model, FoldItem) and model.scope == "model" and len(top) == 3
    assert outline.count(model) == 11
    head, tanh, encoder = outline.children(model)
    assert (head.scope, outline.count(head)) == ("model.head", 6)
    assert tanh == NodeItem(find(trace, "TanhBackward0"), "model")
    assert (encoder.scope, outline.count(encoder)) == ("model.encoder", 4)
    log, relu, proj = outline.children(head)
    assert [trace.nodes[log.node].name, trace.nodes[relu.node].name, proj.scope] == \
        ["LogBackward0", "ReluBackward0", "model.head.proj"]
    # the linear layer's other inputs are nested under its AddmmBackward0: the bias and the transposed weight
    (addmm,) = outline.children(proj)
    bias, transpose = outline.children(addmm)
    assert trace.nodes[bias.node].leaf_name == "model.head.proj.bias"
    assert [trace.nodes[n.node].label for n in outline.children(transpose)] == ["model.head.proj.weight"]


def test_weights_shared_by_the_steps_of_an_rnn_live_in_the_first_step_shown():
    trace = recorded(sample("rnn"))
    outline = Outline(trace)
    items = list(expand_all(outline))
    for name in ("cell.recurrent.weight", "cell.input.weight", "cell.input.bias"):
        leaf = find(trace, name)
        uses = sum(child == leaf for node in outline.place for child in trace.children(node))
        assert uses == 7
        assert sum(isinstance(item, LinkItem) and item.node == leaf for item in items) == 6
        listed_at = next(index for index, item in enumerate(items) if isinstance(item, NodeItem) and item.node == leaf)
        first_link = next(index for index, item in enumerate(items) if isinstance(item, LinkItem) and item.node == leaf)
        assert listed_at < first_link


def test_the_trunk_of_a_residual_block_stays_in_one_column():
    torch.manual_seed(0)
    first, second = nn.Linear(3, 3), nn.Linear(3, 3)
    x = torch.randn(2, 3)

    def build():
        hidden = first(x)
        (hidden + torch.relu(second(hidden))).sum().backward()
        return {"first": first, "second": second}

    trace = recorded_run(build)
    outline = Outline(trace)
    (root,) = outline.roots
    trunk = [trace.nodes[node].name for node in outline.runs[root]]
    assert trunk[:5] == ["SumBackward0", "AddBackward0", "ReluBackward0", "AddmmBackward0", "AddmmBackward0"]
    add = outline.runs[root][1]
    hidden = outline.runs[root][4]
    # the skip connection is a link to the trunk, not a second copy of the network nested under AddBackward0
    assert LinkItem(hidden, add, 0) in outline.children(NodeItem(add, None))


def test_several_roots_are_listed_side_by_side():
    w = torch.ones(3, requires_grad=True)

    def build():
        torch.autograd.backward([(w * 2).sum(), (w.exp() * 3).sum()])
        return {"w": w}

    trace = recorded_run(build)
    outline = Outline(trace)
    assert len(outline.roots) == 2
    entries = outline.children(TOP)
    assert all(isinstance(entry, BranchItem) for entry in entries) and len(entries) == 2
    names = [[trace.nodes[node.node].label for node in outline.children(entry)] for entry in entries]
    assert names == [["SumBackward0", "MulBackward0"], ["SumBackward0", "MulBackward0", "ExpBackward0"]]
    items = list(expand_all(outline))
    leaf = find(trace, "w")
    assert sum(isinstance(i, NodeItem) and i.node == leaf for i in items) == 1
    assert sum(isinstance(i, LinkItem) and i.node == leaf for i in items) == 1


def test_a_trace_without_passes_starts_from_the_nodes_nothing_uses():
    trace = Trace()
    trace.nodes[0] = NodeRecord(0, "AccumulateGrad", "leaf", "leaf", leaf_name="w")
    trace.nodes[1] = NodeRecord(1, "ExpBackward0", "exp", "op", next=[(0, 0)])
    outline = Outline(trace)
    assert outline.pass_index is None and outline.roots == [1]
    assert outline.children(TOP) == [NodeItem(1, None)]
    assert outline.children(NodeItem(1, None)) == [NodeItem(0, None)]


def test_long_levels_come_in_pages_that_can_be_split_anywhere():
    trace = synthetic_trace(6 * 1000)
    outline = Outline(trace)
    blocks = outline.children(outline.children(outline.children(TOP)[1])[0])
    assert len(blocks) == PAGE + 1 and all(isinstance(b, FoldItem) for b in blocks[:PAGE])
    more = blocks[-1]
    assert isinstance(more, MoreItem)
    # the nodes listed and the nodes behind "… more" add up to the whole fold
    fold = outline.children(outline.children(TOP)[1])[0]
    assert sum(outline.count(b) for b in blocks) == outline.count(fold)
    deep = find(trace, "AddBackward0", "model.blocks.3")
    target = outline.path(deep)[2]
    offset = outline.offset_in(fold, target)
    gap, *page = outline.split(more, offset)
    assert gap == MoreItem(fold, more.offset, offset) and page[0] == target
    assert outline.count(gap) + sum(outline.count(item) for item in page) == outline.count(more)


def test_search_matches_names_ops_scopes_and_parameters_in_display_order():
    trace = recorded(NAN_MODEL)
    outline = Outline(trace)
    assert outline.search("RELU") == [find(trace, "ReluBackward0")]
    assert outline.search("addmm") == [find(trace, "AddmmBackward0", "model.head.proj"),
                                       find(trace, "AddmmBackward0", "model.encoder")]
    assert outline.search("encoder.weight") == [find(trace, "model.encoder.weight")]
    assert [trace.nodes[n].label for n in outline.search("head.proj")] == \
        ["AddmmBackward0", "model.head.proj.bias", "TBackward0", "model.head.proj.weight"]
    assert outline.search("  ") == [] and outline.search("nothing like it") == []
    # typing on narrows the previous matches; the result is the same as a fresh search
    outline.search("mod")
    assert outline.search("model.head") == Outline(trace).search("model.head")
    assert outline.search("t") == Outline(trace).search("t")


def test_fold_scope_goes_one_module_deeper_than_the_level():
    assert fold_scope("model.head.proj", None) == "model"
    assert fold_scope("model.head.proj", "model") == "model.head"
    assert fold_scope("model.head", "model.head") is None
    assert fold_scope(None, "model") is None
    # a scope outside the level folds under the part it doesn't share with it
    assert fold_scope("model.encoder", "model.head") == "model.encoder"
    assert fold_scope("model", "model.head") is None
    assert fold_scope("other.x", "model") == "other"
    # a name that only starts like the level's is not inside it
    assert fold_scope("model.header.x", "model.head") == "model.header"
    assert fold_scope("model.head.x.y", "model.head") == "model.head.x"


def test_order_lists_each_node_before_its_side_inputs_and_those_before_the_main_input():
    trace = recorded(sample("mlp"))
    outline = Outline(trace)
    labels = [trace.nodes[node].label for node in outline.order]
    assert labels == ["MseLossBackward0", "AddmmBackward0", "model.fc2.bias", "TBackward0", "model.fc2.weight",
                      "TanhBackward0", "AddmmBackward0", "model.fc1.bias", "TBackward0", "model.fc1.weight"]
    assert np.array_equal(sorted(outline.order), sorted(outline.place))


def test_a_cycle_from_a_damaged_trace_file_does_not_hang():
    trace = Trace()
    trace.nodes[0] = NodeRecord(0, "MulBackward0", "mul", "op", next=[(1, 0)])
    trace.nodes[1] = NodeRecord(1, "ExpBackward0", "exp", "op", next=[(0, 0), (2, 0)])
    trace.nodes[2] = NodeRecord(2, "AccumulateGrad", "leaf", "leaf", leaf_name="w")
    trace.nodes[3] = NodeRecord(3, "SumBackward0", "sum", "op", next=[(0, 0)])
    outline = Outline(trace)
    assert outline.roots == [3] and sorted(outline.place) == [0, 1, 2, 3]
    items = list(expand_all(outline))
    assert LinkItem(0, 1, 0) in items
