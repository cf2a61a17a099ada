"""The *_copy ops (torch.view_copy, select_copy …): a view op's values in memory of their own, differentiated by
the view's rule, on a node named after the view's (ViewBackward0_copy), as PyTorch's functionalized copies."""

from __future__ import annotations

import numpy as np

from gradscope.ops import placement, rearrange, shape
from gradscope.ops.registry import REGISTRY, Primitive, primitive


def _copying(forward):
    def copy(*args):
        out = forward(*args)
        return tuple(np.array(o) for o in out) if isinstance(out, tuple) else np.array(out)
    return copy


def copy_of(view: Primitive) -> Primitive:
    """The copy variant of a view op (declared once, on first use; diag's diagonal_copy already is one)."""
    existing = REGISTRY.get(f"{view.name}_copy")
    if existing is not None:
        return existing
    return primitive(f"{view.name}_copy", _copying(view.forward), f"{view.node_name}_copy", inputs=view.inputs,
                     vjp=view.vjp, saves=view.saves, params=view.params, attrs=view.attrs, outputs=view.n_outputs)


COPIES = {op: copy_of(op) for op in (
    shape.view, shape.alias, shape.t, shape.transpose, shape.permute, shape.unsqueeze, shape.squeeze_all,
    shape.squeeze_dim, shape.squeeze_dims, shape.expand, shape.select, shape.slice_, shape.unbind, shape.split,
    shape.split_with_sizes, rearrange.diagonal, rearrange.unfold, placement.as_strided)}
