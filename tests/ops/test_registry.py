"""The op table's per-primitive `Saved` classes: tuples whose fields read by name, built by tuple's constructor."""

import copy

import pytest

import gradscope  # noqa: F401 - registers every primitive
from gradscope.ops.registry import REGISTRY, Primitive


@pytest.mark.parametrize("op", sorted(REGISTRY), ids=str)
def test_saved_reads_each_field_by_name(op):
    Saved = REGISTRY[op].Saved
    values = tuple(object() for _ in Saved._fields)
    saved = Saved(values)
    assert Saved.__new__ is tuple.__new__  # no Python frame per node the engine runs
    assert [getattr(saved, name) for name in Saved._fields] == list(values)
    assert saved._asdict() == dict(zip(Saved._fields, values))
    assert Saved._fields[0] == "xp"


def test_saved_repr_and_copy():
    Saved = REGISTRY["mul"].Saved
    saved = Saved((None, 2.0, 3.0))
    assert repr(saved) == "MulBackward0Saved(xp=None, other=2.0, self=3.0)"
    assert copy.copy(saved) == saved and type(copy.deepcopy(saved)) is Saved


def test_a_name_both_saved_and_a_param_is_refused():
    with pytest.raises(ValueError, match="distinct identifiers"):
        Primitive("twice", lambda x, dim: x, node="TwiceBackward0", inputs=("dim",), vjp=(None,), saves=("dim",),
                  params=("dim",))
