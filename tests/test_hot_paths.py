"""The functions run once per op or per node build no closure cells: a comprehension that reads a local
variable makes that variable a cell, created on every call even when the comprehension never runs."""

from gradscope.autograd import dispatch, engine, node


def test_per_op_and_per_node_functions_have_no_cells():
    hot = [dispatch.apply, dispatch._record_unary, dispatch._record_simple, dispatch._edges_and_meta,
           dispatch._attr_values, dispatch._light, node.OpNode._vjp, engine.run, engine._dependencies]
    assert {f.__qualname__: f.__code__.co_cellvars for f in hot if f.__code__.co_cellvars} == {}
