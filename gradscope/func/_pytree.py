"""Nested tuples, lists and dicts of tensors ("pytrees"), flattened to a list of leaves and rebuilt."""

from __future__ import annotations

from collections.abc import Callable


def tree_flatten(tree) -> tuple[list, object]:
    """(leaves, spec): `tree_unflatten(spec, leaves)` rebuilds `tree`."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            item_leaves, item_spec = tree_flatten(item)
            leaves += item_leaves
            specs.append((len(item_leaves), item_spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, spec = tree_flatten(list(tree.values()))
        return leaves, (dict, list(tree.keys()), spec)
    return [tree], None


def tree_unflatten(spec, leaves: list):
    if spec is None:
        return leaves[0]
    if spec[0] is dict:
        _, keys, values_spec = spec
        return dict(zip(keys, tree_unflatten(values_spec, leaves)))
    kind, specs = spec
    items, offset = [], 0
    for count, item_spec in specs:
        items.append(tree_unflatten(item_spec, leaves[offset:offset + count]))
        offset += count
    if kind not in (tuple, list) and hasattr(kind, "_fields"):
        return kind(*items)
    return kind(items)


def tree_map(fn: Callable, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [fn(leaf) for leaf in leaves])


def treespec_repr(spec, indent: int = 0) -> str:
    """`spec` as PyTorch prints its TreeSpec (a leaf is `*`), for error messages that show one."""
    if spec is None:
        return "*"
    if spec[0] is dict:
        _, keys, values_spec = spec
        kind, context, children = "dict", repr(list(keys)), [child for _, child in values_spec[1]]
    else:
        kind, context, children = spec[0].__name__, "None", [child for _, child in spec[1]]
    indent += 2
    shown = [treespec_repr(child, indent) for child in children]
    return f"TreeSpec({kind}, {context}, [" + ("," + "\n" + " " * indent).join(shown) + "])"
