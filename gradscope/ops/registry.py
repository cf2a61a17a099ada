"""The declarative op table: one `Primitive` per op holds its forward, VJP rules and what it saves.

A VJP rule is `rule(g, s) -> gradient for one input`. `g` is the gradient of the output (a tuple
of them for multi-output ops); `s` holds the saved tensors by name (`s.self`, `s.other`,
`s.result`), the op's parameters (`s.dim`), derived sizes (`s.self_sym_sizes`) and `s.xp`, the
array namespace. Rules are written once: the engine runs them on ndarrays (`xp` is NumPy-like)
or, under `create_graph=True`, on Tensors (`xp` builds a differentiable graph). Rules may return
a gradient of the *broadcast* shape: the engine sums it back to the input's shape.
"""

from __future__ import annotations

from collections import _tuplegetter  # namedtuple's own field reader (C)
from collections.abc import Callable, Sequence

import numpy as np

REGISTRY: dict[str, Primitive] = {}

# How a primitive's rules serve complex tensors (`complex_vjp`). PyTorch's gradient of a real loss L with respect to
# z = x + iy is ∂L/∂x + i ∂L/∂y, so an op's input gradient is grad · conj(f'(z)) where a real rule has grad · f'(x)
# the rules already give it: real-linear ones with real coefficients (reshape, index, sum), ones written in |z|²
# (var, the 2-norm), and the complex ops' own (conj, view_as_real)
AS_WRITTEN = "as written"
ANALYTIC = "analytic"  # holomorphic with real Taylor coefficients (mul, exp, mm): conj(rule(conj(grad)))


class SavedValues(tuple):
    """A node's saved values as its rules read them (`s.self`, `s.dim`): each primitive's `Saved` subclass names
    the fields. `Saved(values)` is tuple's own constructor: no Python `__new__` anywhere up the classes (a
    namedtuple's is one, a frame per call), as the engine makes one per node it runs."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _asdict(self) -> dict:
        return dict(zip(self._fields, self))

    def __getnewargs__(self) -> tuple:  # copy and pickle rebuild it as `Saved(values)`
        return (tuple(self),)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in zip(self._fields, self))})"


def _saved_class(name: str, fields: tuple) -> type:
    """Made directly, not through collections.namedtuple, which compiles source for each class (~380 classes,
    ~15 ms of every `import gradscope`)."""
    if len(set(fields)) != len(fields) or not all(field.isidentifier() for field in fields):
        raise ValueError(f"{name}: saved names, params and attrs must be distinct identifiers, got {fields}")
    namespace = {"__slots__": (), "_fields": fields}
    namespace.update((field, _tuplegetter(index, f"Alias for field number {index}"))
                     for index, field in enumerate(fields))
    return type(name, (SavedValues,), namespace)


class Primitive:
    """One differentiable operation, its PyTorch node name and its backward formulas."""

    __slots__ = (
        "name", "forward", "node_name", "inputs", "vjp", "saves", "saved_names", "params",
        "attrs", "n_outputs", "differentiable_outputs", "Saved", "node_class", "view", "output_names", "variadic",
        "save_plan", "simple", "simple_view", "plain_rules", "held", "keeps_meta", "joint_vjp", "lazy", "unsaved",
        "weak_numbers", "complex_vjp", "complex_node_class", "array_vjp", "array_joint_vjp", "half_vjp",
        "half_node_class",
    )

    def __init__(
        self,
        name: str,
        forward: Callable,
        node: str,
        inputs: Sequence[str],
        vjp: Sequence[Callable | None],
        saves: Sequence[str | tuple[str, ...]] = (),
        params: Sequence[str] = (),
        attrs: Sequence[str] = (),
        outputs: int | None = 1,
        differentiable_outputs: Sequence[int] | None = None,
        view: bool = False,
        output_names: Sequence[str] | None = None,
        variadic: bool = False,
        held: Sequence[str] = (),
        keeps_meta: bool = False,
        joint_vjp: Callable | None = None,
        lazy: dict[str, Callable] | None = None,
        unsaved: Sequence[str] = (),
        weak_numbers: bool = False,
        complex_vjp: str | Sequence[Callable | None] | None = None,
        array_vjp: Callable | None = None,
        array_joint_vjp: Callable | None = None,
        opmath: bool = False,
        opmath_vjp: bool = False,
    ) -> None:
        if len(vjp) != len(inputs):
            raise ValueError(f"{name}: one VJP rule per input ({len(inputs)}), got {len(vjp)}")
        self.name = name
        # PyTorch computes float16 reductions (sums of squares, norms, statistics) in float32, its opmath type, and
        # rounds once: NumPy's float16 loops accumulate in float16, which overflows past 65504 (‖(300,) * 8‖ is inf)
        self.forward = _half_in_single(forward) if opmath else forward
        self.node_name = node
        self.inputs = tuple(inputs)
        self.vjp = tuple(vjp)
        # PyTorch's backward kernels (native_layer_norm_backward ...), unlike its formulas of float16 ops, compute in
        # float32 too (opmath_vjp): a float16 node (node.half_node_class) runs these rules, which see float32 forms
        # of its gradients and saved values, each result rounded to its input's dtype once; None: the rules as written
        self.half_vjp = tuple(map(_half_rule_in_single, vjp)) if opmath_vjp else None
        self.half_node_class = None  # built by the autograd layer on first use
        saves = tuple((entry,) if isinstance(entry, str) else tuple(entry) for entry in saves)
        self.saves = saves + ((),) * (len(inputs) - len(saves))
        self.saved_names = tuple(dict.fromkeys(name for entry in self.saves for name in entry))
        self.params = tuple(params)
        self.attrs = tuple(attrs)
        self.n_outputs = outputs  # None: as many as the forward returns (split, unbind), all differentiable
        # (the rules of an op of several outputs get a tuple of the differentiable ones' gradients, None for one that
        # got none: PyTorch's undefined gradient, which is not a gradient of zeros)
        if differentiable_outputs is None:
            self.differentiable_outputs = None if outputs is None else tuple(range(outputs))
        else:
            self.differentiable_outputs = tuple(differentiable_outputs)
        # names rules use for outputs they save: "result" (output 0), or e.g. ("result", "indices")
        self.output_names = tuple(output_names or ("result",) + tuple(f"result{i}" for i in range(1, outputs or 1)))
        if array_joint_vjp is None:  # (addmm's node is built with its saved pair in its own order, see fused_products)
            # PyTorch's nodes save (saved-tensor hooks pack) the inputs by name, then the outputs: atan2 other, self
            self.saved_names = tuple(sorted(n for n in self.saved_names if n not in self.output_names)) + tuple(
                n for n in self.saved_names if n in self.output_names)
        # xp first: the engine builds one as `Saved((xp, *saved values) + node._attrs)`, a concatenation, not a list
        self.Saved = _saved_class(f"{node}Saved", ("xp",) + self.saved_names + self.params + self.attrs)
        # a variadic op (cat, stack) takes any number of tensors; its single rule returns one gradient each
        self.variadic = variadic
        # per saved name: (from an output?, index of that output/input, bit i set if input i's rule reads it)
        self.save_plan = tuple(
            (name in self.output_names,
             self.output_names.index(name) if name in self.output_names else self.inputs.index(name),
             sum(1 << i for i, names in enumerate(self.saves) if name in names))
            for name in self.saved_names)
        # params PyTorch keeps as saved tensors (indices, masks, targets): freed with the saved values after a
        # backward without retain_graph, so a second backward through the node raises, as in PyTorch
        self.held = tuple(held)
        if not set(self.held) <= set(self.params):
            raise ValueError(f"{name}: held names must be params, got {self.held}")
        # values PyTorch saves that no rule here reads (nll_loss's total_weight): `name -> fn(s)`, computed from the
        # node's saved values only when `_saved_<name>` is read, so that the forward pays nothing for them
        self.lazy = dict(lazy or {})
        # params and attrs the forward or the rules use that PyTorch's node doesn't save (view's target size):
        # they get no `_saved_<name>`, so a node lists what PyTorch's lists
        self.unsaved = frozenset(unsaved)
        if not self.unsaved <= set(self.params + self.attrs):
            raise ValueError(f"{name}: unsaved names must be params or attrs, got {sorted(self.unsaved)}")
        # a one-input op without params whose output has its input's shape and dtype, and whose rule, given
        # a gradient of that shape and dtype, returns one of the same (sin, tanh …): the engine needn't check
        # its gradient's shape and dtype (a param could be a NumPy number, which NumPy doesn't treat as weak)
        if keeps_meta and (len(self.inputs) != 1 or self.params or outputs != 1):
            raise ValueError(f"{name}: keeps_meta is for one-input, one-output ops without params")
        self.keeps_meta = keeps_meta
        # a keeps_meta op's rule on ndarrays alone, `array_vjp(g, *saved values)` (at most one saved): what its rule
        # returns on the engine's first-order path, without a Saved built for it nor the rule's own frame (the
        # rules stay the op's reference: tests/ops/test_joint_vjps.py compares the two). A linear layer's
        # TBackward0 and an activation's node run it on every step
        # (log_softmax's, `array_vjp(g, saved value, param)`, for a one-input, one-output op of one param that saves
        # one value: the engine checks its gradient's metadata; nll_loss's, `array_vjp(g, saved value, params)`, for
        # such an op holding params: the engine checks the held ones as the saved one, and takes the rules where the
        # array rule returns None, a case it leaves to them)
        one_saved = len(self.inputs) == 1 and outputs == 1 and len(self.saved_names) == 1
        if array_vjp is not None and (not (keeps_meta or one_saved and (len(self.params) == 1 or self.held))
                                      or self.attrs or len(self.saved_names) > 1):
            raise ValueError(f"{name}: array_vjp is for keeps_meta ops, or one-input, one-output ops of one param "
                             "or of held params saving one value, without attrs")
        self.array_vjp = array_vjp
        # rules that only ever combine a saved Python float with the gradient (`g * s.other`): the engine hands
        # them the float as a 0-dim array of the gradient's dtype (float32 or float64), which gives the same
        # values (NumPy takes a Python float in the array's dtype, as PyTorch takes a wrapped number) and costs
        # ~2.9k instructions less a ufunc call than NumPy's path for a Python number
        self.weak_numbers = weak_numbers
        self.view = view  # the output is a view of input 0 (shares memory and version counter)
        self.node_class = None  # built by the autograd layer on first use
        self.simple = outputs == 1 and not view and not variadic  # the dispatcher's fast path
        # and its fast path for views (t, view, transpose …): one input, one output, nothing saved
        self.simple_view = outputs == 1 and view and len(self.inputs) == 1 and not variadic and not self.save_plan
        # `joint_vjp(g, s, wanted) -> list`: every wanted input's gradient in one call, for ops whose gradients
        # share work (grid_sampler_2d's) or run on every step (addmm: a linear layer). `wanted[i]` is input i's
        # `(shape, dtype)` when its gradient is wanted, else None; each gradient comes back in that shape and dtype
        # (`to_input`), None where unwanted: the engine's plain path checks none of them. The engine calls it
        # instead of the rules, which stay the op's reference (tests/ops/test_joint_vjps.py compares the two).
        self.joint_vjp = joint_vjp
        self.plain_rules = outputs == 1 and not variadic  # the engine's fast path: one rule per input, or a joint
        # the joint on ndarrays alone, for an op saving two values: `array_joint_vjp(g, first, second, attrs, wanted)`
        # (the saved arrays, or None where not saved, in save order; `attrs` the node's params then attrs), as
        # `joint_vjp` returns them, without a Saved built for it (tests/ops/test_joint_vjps.py compares the two).
        # A linear layer's AddmmBackward0 runs it on every step
        if array_joint_vjp is not None and (joint_vjp is None or len(self.saved_names) != 2 or held):
            raise ValueError(f"{name}: array_joint_vjp is for ops with a joint_vjp that save two values and hold none")
        self.array_joint_vjp = array_joint_vjp
        # a node with a complex input or output runs these: AS_WRITTEN, ANALYTIC, rules of its own (PyTorch's formulas
        # for complex tensors, one per input), or None: the op refuses to record such a node (never a wrong number)
        if complex_vjp is not None and not isinstance(complex_vjp, str) and len(complex_vjp) != len(self.inputs):
            raise ValueError(f"{name}: one complex VJP rule per input ({len(self.inputs)}), got {len(complex_vjp)}")
        self.complex_vjp = complex_vjp if isinstance(complex_vjp, str) or complex_vjp is None else tuple(complex_vjp)
        self.complex_node_class = None  # built by the autograd layer on first use

    def __repr__(self) -> str:
        return f"<primitive {self.name} ({self.node_name})>"

    @property
    def forward_name(self) -> str:
        """'Sigmoid' for SigmoidBackward0: how PyTorch names the op in in-place errors."""
        base = self.node_name
        for suffix in ("Backward0", "Backward1", "Backward2", "Backward"):
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base


_HALF = np.dtype(np.float16)


def _half_in_single(forward: Callable) -> Callable:
    """`forward` run on float32 copies of its float16 arrays, its floating results rounded back to float16."""
    def run(*args):
        if not any(type(a) is np.ndarray and a.dtype == _HALF for a in args):
            return forward(*args)
        out = forward(*[a.astype(np.float32) if type(a) is np.ndarray and a.dtype == _HALF else a for a in args])
        return tuple(map(_to_half, out)) if isinstance(out, tuple) else _to_half(out)
    return run


def _to_half(a):
    return a.astype(_HALF) if getattr(a, "dtype", None) == np.float32 else a


def _half_rule_in_single(rule: Callable | None) -> Callable | None:
    """`rule` run on float32 forms of its float16 gradients and saved values (under create_graph, casts that are
    part of the gradient's graph)."""
    if rule is None:
        return None

    def run(g, s):
        xp = s.xp
        return rule(_single(g, xp), type(s)((xp,) + tuple(_single(value, xp) for value in s[1:])))
    return run


_PLAIN_VALUES = (type(None), bool, int, float, str, np.ndarray)


def _single(value, xp):
    """A float16 array or tensor as float32 (a tuple of them: each); anything else as it is."""
    if type(value) is np.ndarray:
        return value.astype(np.float32) if value.dtype == _HALF else value
    if type(value) is tuple:
        return tuple(_single(item, xp) for item in value)
    if xp.is_tensor and not isinstance(value, _PLAIN_VALUES) and xp.dtype_of(value) == _HALF:
        return xp.cast(value, np.float32)
    return value


def to_input(g, meta: tuple, xp):
    """`g` summed to an input's shape and cast to its dtype (`meta`: `(shape, dtype)`), as the engine routes a
    rule's result; a joint VJP returns its gradients so (see Primitive.joint_vjp)."""
    shape, dtype = meta
    if g.shape != shape:
        g = xp.sum_to(g, shape)
    if xp.dtype_of(g) != dtype:
        g = xp.cast(g, dtype)
    return g


def primitive(name: str, forward: Callable, node: str, **kwargs) -> Primitive:
    """Declare an op; the name must be unique."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} declared twice")
    op = Primitive(name, forward, node, **kwargs)
    REGISTRY[name] = op
    return op


def _element_strides(a) -> tuple:
    """An array's strides in elements (PyTorch's sym_strides; NumPy's are in bytes)."""
    strides, size = a.strides, a.itemsize
    if len(strides) == 2:  # NOTE: a matrix (mm, addmm: every linear layer), without a comprehension: half the cost
        return (strides[0] // size, strides[1] // size)
    return tuple([stride // size for stride in strides])


_DERIVED = {  # read on every op that records a node: plain attribute reads where the input is an array
    "_sym_sizes": lambda a: a.shape if type(a) is np.ndarray else tuple(np.shape(a)),
    "_sym_numel": lambda a: a.size if type(a) is np.ndarray else int(np.size(a)),
    "_sym_strides": _element_strides,
    "_scalar_type": lambda a: np.asarray(a).dtype,
    "_sym_argsize_0": lambda a: a.shape[0],
    "_sym_argsize_minus_1": lambda a: a.shape[-1],
    "_sym_argsize_minus_2": lambda a: a.shape[-2],
    "_sym_argsize_minus_3": lambda a: a.shape[-3],
}


def attr_reader(attr: str, names: Sequence[str]) -> tuple[int, Callable, bool]:
    """How to derive the metadata PyTorch saves on nodes (`self_sym_sizes`, `self_sym_numel`,
    `self_sym_strides`, `self_scalar_type`): `(index of the input, function of its array, whether only when
    that input needs a gradient)`. PyTorch saves an input's strides for its own gradient only (mm's
    `_saved_mat2_sym_strides` is () when mat2 needs none); everything else always."""
    for suffix, derive in _DERIVED.items():
        if attr.endswith(suffix):
            return names.index(attr[: -len(suffix)]), derive, suffix == "_sym_strides"
    raise ValueError(f"unknown derived attribute {attr!r}")
