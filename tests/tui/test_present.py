"""Numbers, gradient indicators and tree labels."""


import numpy as np
from tui_helpers import NAN_MODEL, recorded, sample

from gradscope._format import format_number
from gradscope.trace.model import TensorRecord
from gradscope.tui.items import TOP, FoldItem, LinkItem, MoreItem, NodeItem
from gradscope.tui.outline import Outline
from gradscope.tui.present import Labeller, gradient, gradient_text, ordered_anomalies
from gradscope.tui.widgets.tensor_view import values_text


def node_id(trace, label):
    (found,) = [n.id for n in trace.nodes.values() if n.label == label]
    return found


def test_values_show_tiny_numbers_and_exact_zeros_and_colour_the_non_finite():
    """A value grid in gradscope's number form (issue 13 §5): 1e-19 stays 1e-19, an exact zero is `0`."""
    record = TensorRecord(values=np.array([[1e-19, 0.0], [np.nan, -np.inf]]))
    text = values_text(record, width=80, full=False)
    assert text.plain == "[[1e-19     0]\n [  nan  -inf]]"
    styled = {text.plain[span.start:span.end]: str(span.style) for span in text.spans}
    assert styled == {"0": "dim", "nan": "bold red", "-inf": "bold red"}


def test_gradient_indicator_shows_the_norm_or_the_non_finite_counts():
    assert gradient_text(TensorRecord(values=np.array([3.0, 4.0]))).plain == "‖5‖"
    bad = gradient_text(TensorRecord(values=np.array([np.nan, np.inf, -np.inf, 1.0])))
    assert bad.plain == "✗ 1 nan 2 inf" and "red" in str(bad.style)
    assert gradient_text(None).plain == ""


def test_labels_of_nan_log():
    trace = recorded(NAN_MODEL)
    outline = Outline(trace)
    label = Labeller(outline)
    log = node_id(trace, "LogBackward0")
    assert gradient(trace, log, 0) is trace.passes[0].grad_outputs[log][0]
    # what matters comes first, so that a narrow pane cuts only the shape and scope
    assert label(NodeItem(log, "model.head")).plain == "LogBackward0  ◀ culprit   ‖0.08839‖ [16, 4]"
    assert label(NodeItem(log, "model")).plain == "LogBackward0  ◀ culprit   ‖0.08839‖ [16, 4] model.head"
    weight = node_id(trace, "model.encoder.weight")
    norm = format_number(trace.passes[0].leaf_grads[weight].stats.norm)
    assert label(NodeItem(weight, "model.encoder")).plain == f"model.encoder.weight  ‖{norm}‖ [8, 6]"
    relu = node_id(trace, "ReluBackward0")
    assert label(NodeItem(relu, "model.head")).plain == "ReluBackward0  ✗ 10 nan 8 inf [16, 4]"
    model = outline.children(TOP)[2]
    assert isinstance(model, FoldItem)
    assert label(model).plain == "model ◀  ‖0.08839‖ (11 nodes)"
    head = outline.children(model)[0]
    assert label(head).plain == "model.head ◀  ‖0.08839‖ (6 nodes)"


def test_labels_of_links_and_pages():
    trace = recorded(sample("rnn"))
    outline = Outline(trace)
    label = Labeller(outline)
    weight = node_id(trace, "cell.recurrent.weight")
    assert label(LinkItem(weight, 0, 0)).plain == f"↗ cell.recurrent.weight #{weight} (shared)"
    assert label(MoreItem(TOP, 1, 3)).plain == f"… {outline.count(MoreItem(TOP, 1, 3))} more nodes (enter to show)"


def test_anomalies_are_ordered_culprits_first():
    trace = recorded(NAN_MODEL)
    ordered = ordered_anomalies(trace)
    culprits = len(trace.culprits())
    assert culprits == 2 and [a.role for a in ordered] == ["culprit"] * 2 + ["propagator"] * (len(ordered) - 2)
    assert sorted(map(id, ordered)) == sorted(map(id, trace.anomalies))
