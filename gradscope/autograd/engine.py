"""The backward engine: a ready queue ordered like PyTorch's, hooks, accumulation.

Each call owns its state (buffers, a shared leaf's count of edges yet to come), so backward passes in several
threads don't interfere; only the final accumulation into a leaf's `.grad` takes a lock.
"""

from __future__ import annotations

import heapq
import itertools
import operator
import sys
import threading
import warnings
from contextvars import ContextVar

import numpy as np

from gradscope import _dtypes
from gradscope._quiet import loud, quiet
from gradscope._shapes import overlaps
from gradscope.autograd import errors, leaf_order, observers, writes
from gradscope.autograd.functions import _copy_backwards
from gradscope.autograd.fused_losses import log_softmax_under_nll
from gradscope.autograd.grad_mode import grad_enabled
from gradscope.autograd.node import AccumulateGrad, _validate_all, node_class, padded
from gradscope.autograd.shape_functions import stack
from gradscope.autograd.tensor import Tensor
from gradscope.autograd.tensor_namespace import TENSOR
from gradscope.ops import nn as _nn
from gradscope.ops import shape as _shape
from gradscope.ops.namespace import NUMPY

_accumulate_lock = threading.Lock()
# NOTE: its methods bound once: one lookup fewer per leaf and step
_lock_accumulation, _unlock_accumulation = _accumulate_lock.acquire, _accumulate_lock.release
_warned_create_graph = False
_current_pass: ContextVar = ContextVar("gradscope_backward_pass", default=None)


class GraphTask:
    """What one backward call is running over; multi-grad hooks ask it which nodes will run."""

    __slots__ = ("edges", "nodes", "accumulate", "__weakref__")  # multi-grad hooks keep their state per task, weakly

    def __init__(self, edges, nodes, accumulate) -> None:
        self.edges = edges  # the roots' edges
        # every node reached (or, with inputs, every node leading to one), except perhaps the roots; None until
        # asked (the engine runs without)
        self.nodes = nodes
        self.accumulate = accumulate  # False in autograd.grad

    def will_execute(self, node) -> bool:
        """PyTorch's torch._C._will_engine_execute_node: whether `node` is in the graph (with inputs: leads to one).
        A single root is not: PyTorch's engine then starts at it, without the GraphRoot node whose children alone
        count; several roots are. autograd.grad refuses a leaf it runs."""
        if self.nodes is None:
            self.nodes = _dependencies(self.edges)
        if len(self.edges) == 1 and node is self.edges[0][0] or node not in self.nodes:
            return False
        if not self.accumulate and type(node) is AccumulateGrad:
            raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are currently running "
                               "autograd.grad(). This is currently not supported.")
        return True


def current_pass() -> GraphTask | None:
    return _current_pass.get()


def _as_tuple(tensors) -> tuple:
    if isinstance(tensors, Tensor):
        return (tensors,)
    return tuple(tensors)


def _root_edges(tensors) -> list:
    edges = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(errors.NO_GRAD_FN.format(i))
        fn = t.grad_fn
        if fn is None:
            fn = t._grad_accumulator()
            if fn is None:  # a view that requires grad only through its base has no edge (PyTorch's check)
                raise RuntimeError(errors.NO_GRAD_FN.format(i))
            edges.append((fn, 0))
        else:
            edges.append((fn, t._output_nr))
    return edges


def _make_grads(tensors, grad_tensors, create_graph: bool) -> list:
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"grad_tensors should have the same length as tensors ({len(grad_tensors)} vs "
                           f"{len(tensors)})")
    grads = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if g is None:
            if t._requires_grad and (t._data.size != 1 or t._data.dtype.kind == "c"):
                raise RuntimeError(errors.NOT_SCALAR if t._data.size != 1 else errors.NOT_REAL_SCALAR.format(
                    _dtypes.from_numpy_dtype(t._data.dtype)))
            value = np.empty_like(t._data)  # NOTE: and fill(), both in C: np.ones_like is Python around them
            value.fill(1)
            grads.append(Tensor._make(value) if create_graph else value)
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        if g._data.shape != t._data.shape:
            raise RuntimeError(errors.shape_mismatch(i, g._data.shape, t._data.shape))
        if g._data.dtype != t._data.dtype:
            if (g._data.dtype.kind == "c") != (t._data.dtype.kind == "c"):  # a cast would drop or make up imaginary
                # parts (complex64 and complex128 are cast, as PyTorch's)
                raise RuntimeError("For complex Tensors, both grad_output and output are required to have the same "
                                   f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                                   f"output[{i}] has a dtype of {t.dtype}.")
            g = g.to(t.dtype)
        grads.append(g if create_graph else g._data)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None, from_tensor_method: bool = False) -> None:
    """Accumulate gradients of `tensors` into the leaves' `.grad` (torch.autograd.backward)."""
    global _warned_create_graph
    tensors = _as_tuple(tensors)
    if grad_variables is not None:
        grad_tensors = grad_variables
    if inputs is not None:
        inputs = _as_tuple(inputs.values() if isinstance(inputs, dict) else inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    retain_graph = create_graph if retain_graph is None else retain_graph
    grads = _make_grads(tensors, grad_tensors, create_graph)
    roots = _root_edges(tensors)
    if create_graph and not _warned_create_graph:
        _warned_create_graph = True
        warnings.warn(errors.CREATE_GRAPH_WARNING, UserWarning, stacklevel=3 if from_tensor_method else 2)
    targets = [_input_edge(t) for t in inputs] if inputs is not None else None
    if inputs is not None:  # a non-leaf input retains its gradient from now on, as PyTorch's: later passes fill it too
        for t, edge in zip(inputs, targets):
            if not isinstance(edge[0], AccumulateGrad):
                t.retain_grad()
    run(roots, grads, retain_graph, create_graph, targets, accumulate=True)


_empty_like = getattr(np.empty_like, "_implementation", np.empty_like)  # without the dispatcher's Python frame


def scalar_backward(tensor: Tensor, retain_graph) -> None:
    """`tensor.backward()` without a gradient, inputs or create_graph, for a non-leaf scalar: backward's
    checks and run, in one frame (a loss's, each step). Any other tensor goes through `backward`, which raises
    its errors."""
    data = tensor._data
    node = tensor._node
    if node is None or tensor._base is not None or not tensor._requires_grad or data.size != 1 or (
            data.dtype.kind == "c"):  # a view may owe a grad_fn (see Tensor.grad_fn)
        backward((tensor,), None, retain_graph, False, from_tensor_method=True)
        return
    value = _empty_like(data)  # as _make_grads makes it
    value.fill(1)
    run([(node, tensor._output_nr)], [value], retain_graph, False)


def _input_edge(t):
    if not isinstance(t, Tensor) or not t.requires_grad:
        raise RuntimeError("One of the differentiated Tensors does not require grad")
    fn = t.grad_fn
    return (fn, t._output_nr) if fn is not None else (t._grad_accumulator(), 0)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any `.grad` (torch.autograd.grad)."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    allow_unused = bool(allow_unused) or materialize_grads
    as_dict = isinstance(inputs, dict)
    keys = list(inputs) if as_dict else None
    inputs = _as_tuple(inputs.values() if as_dict else inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    outputs = _as_tuple(outputs)
    if is_grads_batched:
        _check_batched(outputs, _as_tuple(grad_outputs))
        rows = [grad(outputs, inputs, tuple(g[i] for g in _as_tuple(grad_outputs)), True, create_graph,
                     allow_unused=allow_unused, materialize_grads=materialize_grads)
                for i in range(len(_as_tuple(grad_outputs)[0]))]
        return tuple(None if col[0] is None else stack(col) for col in zip(*rows))
    retain_graph = create_graph if retain_graph is None else retain_graph
    grads = _make_grads(outputs, grad_outputs, create_graph)
    roots = _root_edges(outputs)
    targets = [_input_edge(t) for t in inputs]
    captured = run(roots, grads, retain_graph, create_graph, targets, accumulate=False)
    results = []
    for i, (t, edge) in enumerate(zip(inputs, targets)):
        g = captured.get(edge)
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            # (made with create_graph, the zeros require grad, as PyTorch's: a later grad() may take them as inputs)
            results.append(Tensor._make(np.zeros_like(t._data), requires_grad=create_graph) if materialize_grads
                           else None)
        else:
            results.append(g if isinstance(g, Tensor) else Tensor._make(g))
    return dict(zip(keys, results)) if as_dict else tuple(results)


def _check_batched(outputs, grad_outputs) -> None:
    """PyTorch's error for a batched grad_output whose rows don't have its output's shape (its text names the
    shape past the first two dimensions, as PyTorch's does)."""
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if isinstance(g, Tensor) and isinstance(t, Tensor) and tuple(g.shape[1:]) != tuple(t.shape):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                "dimension. The sizes of the remaining dimensions are expected to match the shape of corresponding "
                f"output, but a mismatch was detected: grad_output[{i}] has a shape of torch.Size({list(g.shape[2:])}) "
                f"and output[{i}] has a shape of torch.Size({list(t.shape)}). If you only want some tensors in "
                "`grad_output` to be considered batched, consider using vmap.")


def _dependencies(roots) -> dict:
    """How many edges lead into each node reachable from the roots (iterative DFS)."""
    stack = list(dict.fromkeys(node for node, _ in roots))  # two outputs of one node may both be roots
    # NOTE: roots start as visited with no edges in: a root that is also reached from another root (y and
    # z = y * 3) must wait for that edge, and its own edges must be counted once, not once per visit
    dependencies: dict = dict.fromkeys(stack, 0)
    # NOTE: a node's first new child is walked next without going through the stack, and the stack's bottom is a
    # None, popped last: popping the stack empty and pushing onto it again would free and reallocate its storage
    # (along a chain, at every node; in a stack of linear layers, at every layer)
    stack.insert(0, None)
    while (node := stack.pop()) is not None:
        while node is not None:
            following = None
            for child, _ in node._next:
                if child is not None:
                    if child in dependencies:
                        dependencies[child] += 1
                    else:
                        dependencies[child] = 1
                        if following is None:
                            following = child
                        else:
                            stack.append(child)
            node = following
    return dependencies


def _parents(roots) -> dict:
    """Each reachable node's parents (the nodes with an edge into it)."""
    parents: dict = {}
    stack = list(dict.fromkeys(node for node, _ in roots))
    for node in stack:
        parents[node] = []
    while stack:
        node = stack.pop()
        while node is not None:  # a node's first new child next, off the stack (see _dependencies)
            following = None
            for child, _ in node._next:
                if child is not None:
                    if child in parents:
                        parents[child].append(node)
                    else:
                        parents[child] = [node]
                        if following is None:
                            following = child
                        else:
                            stack.append(child)
            node = following
    return parents


def _needed(parents: dict, target_nodes) -> set:
    """Nodes from which a target can be reached: the only ones worth running."""
    needed = set()
    stack = [node for node in target_nodes if node in parents]
    while stack:
        node = stack.pop()
        while node not in needed:  # a node's first parent next, off the stack (see _dependencies)
            needed.add(node)
            above = parents[node]
            if not above:
                break
            node = above[0]
            if len(above) > 1:
                stack += above[1:]
    return needed


def _needed_dependencies(parents: dict, needed: set) -> dict:
    """How many edges lead into each needed node from needed nodes."""
    return {node: sum(parent in needed for parent in parents[node]) for node in needed}


_BOTTOM = (1, -1, None, None)  # the ready heap's last entry (see run): its key is above any node's, -sequence number


class _Pass:
    """The state of one backward call that nodes needing special treatment (leaves, hooks, targets,
    observers) are run against."""

    __slots__ = ("xp", "create_graph", "accumulate", "needed", "targets", "captured", "observing", "checker")

    def __init__(self, xp, create_graph, accumulate, needed, targets, observing, checker) -> None:
        self.xp, self.create_graph, self.accumulate = xp, create_graph, accumulate
        self.needed, self.targets, self.observing, self.checker = needed, targets, observing, checker
        self.captured: dict = {}


def run(roots, root_grads, retain_graph: bool, create_graph: bool, targets=None, accumulate: bool = True) -> dict:
    """Backpropagate `root_grads` from the `roots` edges. Returns the gradients captured at `targets`.

    Ready nodes run in PyTorch's order: the most recently created first (AccumulateGrad as soon
    as it is ready). Gradients from several paths are summed before a node runs.

    An edge always leads to an older node (a node's inputs exist before it), so the node reached with the largest
    sequence number has had every gradient it will get: PyTorch runs it next, once its count of edges yet to come
    is 0, and so do we, without counting. Only a leaf needs its count, to run once with the sum: when more than one
    edge may lead to it (AccumulateGrad._shared), and then the graph is walked for the counts.
    """
    dependencies = needed = target_set = None
    if targets is not None:
        target_set = set(targets)
        parents = _parents(roots)
        needed = _needed(parents, {node for node, _ in targets})
        dependencies = _needed_dependencies(parents, needed)
    xp = TENSOR if create_graph else NUMPY
    # node -> gradients of its outputs received so far (summed per output), for nodes waiting in the heap and
    # shared leaves waiting for more gradients
    buffers: dict = {}
    tie = itertools.count()
    # ready nodes wait in a heap of (-sequence number, tie, node, its gradients): the largest number on top, and
    # at the bottom an entry never popped, without a node: the heap never empties, which would free its storage
    # and allocate it again on the next push (in a stack of linear layers, at every layer)
    ready = [_BOTTOM]  # NOTE: loops, not comprehensions, in run(): those would make its hot locals cells
    # the ready node with the largest sequence number among those a node just made ready, with its gradients,
    # if it is larger than any waiting (`top`): it runs next, skipping the heap. Chains, and a linear layer's
    # AddmmBackward0 making its TBackward0 and the previous layer's TanhBackward0 ready, are the common cases
    following = following_grads = node = None
    if len(roots) == 1 and needed is None and type(roots[0][0]) is not AccumulateGrad:
        following, nr = roots[0]  # one root, a loss: it runs first, as the heap's only node would
        following_grads = [None] * following.n_outputs
        following_grads[nr] = root_grads[0]
    else:
        for (node, nr), g in zip(roots, root_grads):
            slots = buffers.setdefault(node, [None] * node.n_outputs)
            slots[nr] = g if slots[nr] is None else slots[nr] + g
        for node in buffers:
            if type(node) is AccumulateGrad and dependencies is None:  # a leaf root may also be reached from another
                dependencies = _dependencies(roots)
        for node, slots in buffers.items():
            if (needed is None or node in needed) and not (type(node) is AccumulateGrad and dependencies.get(node)):
                ready.append((-node._seq, next(tie), node, slots))
        heapq.heapify(ready)
        node = None
    observing = observers.GLOBAL or observers.active.get()
    checker = observers.checker  # anomaly mode
    if checker is not None:  # (its forward stacks let go of the step's frame)
        checker.backward_begins()
    task = None  # the _Pass that nodes run by _run_special run against, made for the first
    plain = needed is None and not create_graph  # then most nodes just run their rules (observers told around them),
    # and a leaf without hooks just takes its gradient: as soon as it is routed to it (`at_once`), unless an observer
    # (which may keep the list of a node's outputs, from which the routing drops the leaf's gradient) is on. Under
    # anomaly mode a leaf failing to take it is the failing node
    if observing:
        # observers keep the gradients they are told of (a recording holds one by reference, and knows an array met
        # again by its identity): while they listen, no gradient is summed into in place
        summed, fast, at_once = operator.add, False, False
        observers.notify("backward_begin", [node for node, _ in roots], root_grads)
        observing = observers.PassListeners()  # the pass's per-node events go to these
    else:
        # `fast`: nothing listens, so nodes just run their rules, and shared leaves may wait for their sums (see
        # deferred; under anomaly mode too)
        summed, fast, at_once = _summed, plain and checker is None, plain
    free = not retain_graph  # a node's rules free its saved values
    if observers.WATCHERS:
        observers.notify_watchers("backward_begin", [node for node, _ in roots], root_grads)
    token = grad_enabled.set(create_graph)
    pass_token = _current_pass.set(GraphTask(roots, dependencies, accumulate))
    numpy_token = quiet()  # NOTE: user hooks in this pass see NumPy errors silenced too
    heappop, heappush = heapq.heappop, heapq.heappush
    top = -ready[0][0]  # the largest sequence number of a waiting node (-1: none): `second`'s, else the heap's top's
    # the waiting node with the largest sequence number, with its gradients, kept out of the heap while it is one
    # (`top` is then its number): a linear layer's AddmmBackward0 makes the previous layer's TanhBackward0 and its
    # own TBackward0 ready, which runs first (`following`), and then that one, without a round trip through the heap
    second = second_grads = None
    # leaves' AccumulateGrad nodes made ready, with their gradients and leaves (the edges' own: see
    # Tensor._leaf_edge), in that order: they run before any other
    # node (the heap's order too: theirs is the largest sequence number), as soon as their maker's outputs are
    # routed. One without hooks takes its gradient during the routing while none waits here
    leaves: list = []
    # shared leaves without hooks in a pass where no observer listens (`at_once`; anomaly mode sees no leaf wait),
    # with how many gradients they got: they take their sums at the end, not when the last edge into them has run,
    # which needs the graph walked for the counts. No user code runs before then (a node with hooks, a custom
    # Function or a hooked leaf first settles them, _settle), so none can tell. A training loop keeps the last step's
    # graph alive while the next forward asks for the parameters' AccumulateGrad nodes (PyTorch's are the same objects
    # then): every parameter is shared
    deferred: dict = {}
    try:
        if fast and type(following) is _NLL_NODE:  # a loss from cross_entropy: its two nodes' rules as one
            pair = log_softmax_under_nll(following, following_grads, free)
            if pair is not None:
                following, following_grads = pair
        while True:
            if following is not None:
                # NOTE: following_grads stays the node's list until routing replaces it: taking a leaf's gradient
                # drops it (its count must be exact), else it goes with the next node's routing
                node, grads = following, following_grads
                following = None
            elif second is not None:
                node, grads = second, second_grads
                second = second_grads = None
                top = -ready[0][0]
                del buffers[node]
            elif top >= 0:
                _, _, node, grads = heappop(ready)
                top = -ready[0][0]
                del buffers[node]
            else:
                break
            if fast and (vjp := node._vjp) is not None and grads[0] is not None:
                outputs = vjp(node, grads, free)
            elif plain and (vjp := node._vjp) is not None and grads[0] is not None:
                if observing:
                    outputs = _run_told(node, grads, free, vjp if checker is None else checker.run_node, observing)
                else:
                    outputs = checker.run_node(node, grads, free)
            else:
                if deferred:  # user code may run (hooks, a custom Function): deferred leaves take what they have
                    if dependencies is None:
                        dependencies = _dependencies(roots)
                    _settle(deferred, dependencies, buffers)
                if task is None:
                    task = _Pass(xp, create_graph, accumulate, needed, target_set, observing, checker)
                outputs = _run_special(node, grads, task)
                if outputs is None:
                    continue
                if not retain_graph:
                    node._release()
            index = -1  # NOTE: outputs come summed to each input's shape and cast to its dtype (_validate)
            for child, nr in node._next:  # NOTE: indexing, not zip(): one iterator per node, not four
                index += 1
                if child is None or (needed is not None and child not in needed):
                    continue
                g = outputs[index]
                if index and type(child) is _T_NODE and at_once and not leaves and g is not None and (
                        child._vjp is not None and index == len(node._next) - 1 and (
                            child._seq > top if following is None else child._seq > following._seq)):
                    # NOTE: `index` first: a node's first edge (a chain's only one) pays one test; a product's
                    # TBackward0 is its second or third
                    # a linear layer's TBackward0, reached by its node's last edge, above every waiting node (so not
                    # waiting itself: a node in `buffers` is at most `top`), and with no leaf waiting: it would run
                    # next, with this gradient alone. Without hooks (its _vjp), with no observer (`at_once`; anomaly
                    # mode's checker has just cleared this gradient, and `.T` moves values alone), saving nothing,
                    # it runs here: its rule (t's array_vjp, `.T`), and its one edge routed in its
                    # place, as by the node that runs (whose first leaf may take its gradient at once)
                    outputs[index] = None  # NOTE: g.T then held by `g` alone (see _accumulate_routed)
                    g = g.T
                    grads = _T_RAN
                    child, nr = child._next[0]
                    if child is None:  # PyTorch's null edge: a view requiring grad only through its base (no gradient)
                        continue
                if type(child) is AccumulateGrad:  # NOTE: `nr` is then its leaf (see Tensor._leaf_edge)
                    if child._shared:  # it runs once, with the sum, when the last of the edges reaching it has run
                        if dependencies is None:
                            # NOTE: only as the first leaf this node makes ready (as below): it is PyTorch's first
                            if at_once and grads is not None and not leaves and not child._has_hooks and (
                                    (leaf := nr)._requires_grad and not leaf._backward_hooks
                                    and not leaf._post_accumulate_hooks):  # no user code could see it wait: it
                                grads = None                                # takes the sum at the end (see deferred)
                                slots = buffers.get(child)
                                if slots is None:
                                    buffers[child] = [g]
                                    deferred[child] = 1
                                else:
                                    if g is not None:  # _summed, inlined (a loop's weights: at every step)
                                        held = slots[0]
                                        # a second item in `slots` marks `held` as the pass's own sum (see
                                        # _OWN_SUM): added into without _summed's checks
                                        if len(slots) == 2:
                                            _add(held, g, held)
                                        elif held is None:
                                            slots[0] = g
                                        elif type(held) is _ndarray and type(g) is _ndarray and held.base is None and (
                                                _refcount(held) == _HELD_ALONE and held.flags.writeable):
                                            _add(held, g, held)
                                            slots.append(_OWN_SUM)
                                        else:
                                            slots[0] = held = held + g
                                            if type(held) is _ndarray:  # (0-d operands give a NumPy scalar)
                                                slots.append(_OWN_SUM)
                                        held = None
                                    deferred[child] += 1
                                continue
                            dependencies = _dependencies(roots)
                            if deferred:
                                _settle(deferred, dependencies, buffers)
                        remaining = dependencies[child] - 1
                        if remaining:  # more gradients to come: keep this one
                            dependencies[child] = remaining
                            slots = buffers.get(child)
                            if slots is None:
                                buffers[child] = [g]
                            elif g is not None:
                                slots[0] = g if slots[0] is None else summed(slots[0], g)
                            continue
                        slots = buffers.pop(child, None)
                        if slots is not None:  # NOTE: then dropped, and with it the list's reference to its gradient
                            g = slots[0] if g is None else g if slots[0] is None else summed(slots[0], g)
                            slots = None
                    # NOTE: the first leaf only (`grads` is None after it): PyTorch's heap runs it first, and any
                    # later one in an order of its own, which a hook could see (leaf_order)
                    if at_once and grads is not None and not leaves and not child._has_hooks and (
                            (leaf := nr)._requires_grad and not leaf._backward_hooks
                            and not leaf._post_accumulate_hooks):  # else a hook could see the order change
                        grads = None
                        if g is not None:
                            # NOTE: as PyTorch's AccumulateGrad, a gradient nothing else references becomes `.grad`
                            # as it is (no copy). The pass's other references are dropped first (the node's
                            # outputs and incoming gradients, which `slots` may still hold from the routing that
                            # made this node ready), so that the count of the one left, g, is exact
                            outputs[index] = slots = None
                            if following is None:
                                following_grads = None
                            try:  # NOTE: free (3.11's exception table) unless it raises
                                _accumulate_routed(leaf, g)
                            except Exception:
                                node = child  # the failing node is the leaf's own (anomaly mode warns with its stack)
                                raise
                    else:
                        leaves.append((child, [g], nr))
                    continue
                slots = buffers.get(child)
                if slots is None and child is following:  # a second edge into the node that runs next (x * x)
                    slots = following_grads
                if slots is not None:  # reached before: add this gradient to what it has
                    if g is not None:
                        if nr >= len(slots):  # it had output 0's alone (see padded)
                            slots += [None] * (child.n_outputs - len(slots))
                        slots[nr] = g if slots[nr] is None else summed(slots[nr], g)
                    continue
                if nr == 0:  # its first gradient: output 0's comes as `[g]`, however many outputs (see padded)
                    slots = [g]
                else:
                    slots = [None] * child.n_outputs
                    slots[nr] = g
                if following is None:
                    # NOTE: `top < 0` first: along a chain the heap is empty, and `_seq`, read at a line that meets
                    # every node class, takes Python's generic attribute lookup
                    if top < 0 or child._seq > top:
                        following, following_grads = child, slots
                        continue
                elif child._seq > following._seq:
                    following, following_grads, child, slots = child, slots, following, following_grads
                buffers[child] = slots  # it waits, and later gradients are summed into its list
                if (seq := child._seq) > top:  # above every waiting node: it is `second`
                    if second is not None:
                        heappush(ready, (-top, next(tie), second, second_grads))
                    second, second_grads, top = child, slots, seq
                else:
                    heappush(ready, (-seq, next(tie), child, slots))
            if leaves:
                if deferred:  # their hooks are user code
                    if dependencies is None:
                        dependencies = _dependencies(roots)
                    _settle(deferred, dependencies, buffers)
                outputs = None
                if following is None:
                    following_grads = None
                if len(leaves) > 1:  # in the order PyTorch's heap hands them out (one: made ready first, runs first)
                    if second is not None:  # leaf_order reads the waiting nodes off the heap
                        heappush(ready, (-top, next(tie), second, second_grads))
                        second = second_grads = None
                    leaves[:] = leaf_order.reordered(node, leaves, ready, following, buffers, needed, _parents(roots))
                for node, grads, leaf in leaves:
                    if plain and not node._has_hooks and (
                            leaf._requires_grad and not leaf._backward_hooks
                            and not leaf._post_accumulate_hooks):  # as above (anomaly mode, observers, a hooked leaf)
                        g = grads[0]
                        grads[0] = None
                        if g is not None:
                            _accumulate_routed(leaf, g)
                            if observing:
                                for method in observing.accumulated:
                                    method(leaf, leaf._grad)
                    else:
                        if task is None:
                            task = _Pass(xp, create_graph, accumulate, needed, target_set, observing, checker)
                        _run_special(node, grads, task)
                node = g = grads = None
                leaves.clear()
        last, deferred = deferred, {}
        for node in last:  # every edge into them has run (`node`: a failing one is anomaly mode's failing node)
            _take(node._leaf(), buffers.pop(node))
    except Exception as error:
        if checker is not None and node is not None:
            checker.node_failed(node, error)
        if deferred:  # as PyTorch, the leaves whose every gradient came before the failure have taken them
            _settle(deferred, _dependencies(roots) if dependencies is None else dependencies, buffers)
        raise
    finally:
        loud(numpy_token)
        _current_pass.reset(pass_token)
        grad_enabled.reset(token)
        if observing:
            observers.notify("backward_end")
        if observers.WATCHERS:
            observers.notify_watchers("backward_end")
    return {} if task is None else task.captured


def _settle(deferred: dict, dependencies: dict, buffers: dict) -> None:
    """Deferred leaves (see run) once the counts are known: those whose every edge has run take their sums now,
    the others wait for the rest, counted as any shared leaf."""
    for node, arrived in deferred.items():
        remaining = dependencies[node] - arrived
        if remaining:
            dependencies[node] = remaining
        else:
            _take(node._leaf(), buffers.pop(node))
    deferred.clear()


def _take(leaf: Tensor, slots: list) -> None:
    """A deferred leaf takes its summed gradient, held by `slots` alone (its buffer, just popped)."""
    g = slots[0]
    slots[0] = None
    if g is not None:
        _accumulate_routed(leaf, g)


def _run_told(node, grads: list, free: bool, vjp, observing: observers.PassListeners) -> list:
    """Run a node's rules on the plain path (`vjp`: its own, or anomaly mode's checked `run_node`) with the
    observers told around them, as `_run_special` tells them (its saved values freed after the end event)."""
    grads = padded(node, grads)
    for method in observing.start:
        method(node, grads)
    try:
        outputs = vjp(node, grads, False)
    except Exception as error:
        for method in observing.failed:
            method(node, error)
        raise
    for method in observing.end:
        method(node, outputs)
    if free:
        node._release()
    return outputs


def _run_special(node, grads: list, task: _Pass) -> list | None:
    """Run a node with hooks, a leaf, a node under observers or in a pass with targets, or one that got
    no gradient. Returns its input gradients, or None if nothing flows on from it."""
    grads = padded(node, grads)
    xp, needed = task.xp, task.needed
    is_leaf = type(node) is AccumulateGrad
    if needed is None:
        needs = None  # every edge that exists
        runs = not is_leaf
    else:
        needs = [child in needed for child, _ in node._next]
        # autograd.grad captures a non-leaf target without running its node (backward(inputs=) runs it)
        runs = not is_leaf and (task.accumulate or any(needs))
    if node._has_hooks or is_leaf:
        grads = _tensor_pre_hooks(node, grads, xp)
    if task.targets is not None:
        for nr, g in enumerate(grads):
            if g is not None and (node, nr) in task.targets:
                task.captured[(node, nr)] = g
    if is_leaf:  # it runs only where backward() accumulates into it (autograd.grad captures it)
        runs = task.accumulate and (task.targets is None or (node, 0) in task.targets)
    if node._pre_hooks and runs:  # (after the capture: a target's gradient is the one its tensor's hooks gave)
        grads = _node_pre_hooks(node, grads, xp)
    if is_leaf:
        # NOTE: as PyTorch's AccumulateGrad, nothing for a leaf that no longer requires grad (detach_())
        if runs and grads[0] is not None and node.variable._requires_grad:
            _accumulate_leaf(node.variable, grads[0], task.create_graph, task.observing)
            if node._post_hooks:
                _post_hooks(node, [], grads, xp)
        return None
    if not runs:
        return None
    observing, checker = task.observing, task.checker
    if observing:
        for method in observing.start:
            method(node, grads)
    if checker is not None:
        checker.node_started(node)
    try:
        if grads[0] is None and not node._runs_without_grads and all(g is None for g in grads):
            outputs = [None] * len(node._next)
        else:
            outputs = node._apply(grads, xp, needs)
            _validate_all(node, outputs, xp)
        if node._post_hooks:
            outputs = _post_hooks(node, outputs, grads, xp)
            _validate_all(node, outputs, xp)
        if checker is not None:
            checker.node_finished(node, grads, outputs)
        if observing:
            for method in observing.end:
                method(node, outputs)
    except Exception as error:
        if observing:
            for method in observing.failed:
                method(node, error)
        raise
    return outputs


def _wrap(g, xp):
    return g if xp.is_tensor or g is None else Tensor._make(g)


def _unwrap(value, xp):
    return value if xp.is_tensor or value is None else value._data


def _run_tensor_hooks(hooks, g, xp):
    """Tensor hooks in registration order; each may replace the gradient. An output that got no gradient
    (a multi-output node's unused output) still has its hooks called, with None, as in PyTorch."""
    for hook in tuple(hooks.values()):
        result = hook(_wrap(g, xp))
        if result is None:
            continue
        if g is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        name = getattr(hook, "__name__", repr(hook))
        if not isinstance(result, Tensor):
            raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
        if result._data.shape != tuple(g.shape):
            raise RuntimeError(f"hook '{name}' has changed the size of value")
        if result._data.dtype != (g._data.dtype if xp.is_tensor else g.dtype):
            was = g._data.dtype if xp.is_tensor else g.dtype
            raise RuntimeError(f"hook '{name}' has changed the type of value (was {_dtypes.legacy_type_name(was)} got "
                               f"{_dtypes.legacy_type_name(result._data.dtype)})")
        g = _unwrap(result, xp)
    return g


def _tensor_pre_hooks(node, grads: list, xp) -> list:
    """The hooks of the tensors whose gradients `node` takes, then retain_grad: PyTorch's order. Its own pre-hooks
    come after them, and after autograd.grad has captured a target's gradient (_node_pre_hooks)."""
    if node._tensor_hooks:
        grads = list(grads)
        for nr, hooks in node._tensor_hooks.items():
            if hooks:
                grads[nr] = _run_tensor_hooks(hooks, grads[nr], xp)
    if type(node) is AccumulateGrad and node.variable._backward_hooks:
        grads = [_run_tensor_hooks(node.variable._backward_hooks, grads[0], xp)]
    if node._retain_grad:
        for nr, ref in node._retain_grad.items():
            tensor = ref()
            if tensor is not None and grads[nr] is not None and tensor._node is node:
                _accumulate_into(tensor, grads[nr], xp.is_tensor, in_place=False)
    return grads


def _node_pre_hooks(node, grads: list, xp) -> list:
    """`node`'s pre-hooks (`register_prehook`), about to run; each may replace its gradients."""
    for hook in tuple(node._pre_hooks.values()):
        result = hook(tuple(_wrap(g, xp) for g in grads))
        if result is not None:
            grads = [_unwrap(r, xp) for r in result]
    return grads


def _post_hooks(node, outputs, grads, xp):
    for hook in tuple(node._post_hooks.values()):
        wrapped_inputs = tuple(_wrap(g, xp) for g in outputs)
        result = hook(wrapped_inputs if type(node) is not AccumulateGrad else (),
                      tuple(_wrap(g, xp) for g in grads))
        if result is not None:
            result = tuple(result)
            if len(result) != len(outputs):
                name = getattr(hook, "__name__", repr(hook))
                raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got {len(result)}, "
                                   f"but expected {len(outputs)})")
            outputs = [_unwrap(r, xp) for r in result]
    return outputs


def _accumulate_routed(leaf: Tensor, g) -> None:
    """`.grad += g` for a leaf routed its gradient on the plain path (first order, no hooks): as `_accumulate_into`,
    with `g` itself taking the place of a first `.grad` when it has the leaf's layout and nothing else references
    the array or its memory. A recording's references don't count: they only read, and copy the array before
    anything writes into it (gradscope.autograd.writes). The caller holds `g` in one local variable (see
    _reference_counts). One frame per leaf and step: the counts and the first gradient are inlined here."""
    data = leaf._data
    if type(g) is _ndarray and leaf._grad is None and g.strides == data.strides and (
            (dtype := g.dtype) is data.dtype or dtype == data.dtype) and g.flags.writeable:
        # NOTE: the counts as _reference_counts measures them (the same frames, `base` a local): keep the two alike
        base = g.base
        if base is None:
            count = _refcount(g)
            owned = count == _OWNER_ALONE or _alone_but_for_readers(g, count, 0)
        elif type(base) is _ndarray and base.base is None:  # numpy points a view of a view at the owner
            count, count_of_base = _refcount(g), _refcount(base)
            owned = count == _VIEW_ALONE and count_of_base == _VIEW_BASE_ALONE or _alone_but_for_readers(
                g, count, count_of_base)
        else:
            owned = False
        if owned:
            grad = _new_tensor(Tensor)  # Tensor._make(g), inlined: a frame per leaf and step
            grad._data = g
            grad._requires_grad = False
            grad._node = None
            grad._output_nr = 0
            grad._version_counter = [0]
            grad._base = None
            _lock_accumulation()
            try:
                if leaf._grad is None:
                    leaf._grad = grad
                    return
            finally:
                _unlock_accumulation()
    _accumulate_into(leaf, g, False)  # a copy, or a sum (another thread gave it a gradient meanwhile)


def _alone_but_for_readers(g, count: int, count_of_base: int) -> bool:
    """Whether the references `_accumulate_routed` counted to `g` (and its base) are all a recording's (or its
    own alone): no one else can see the array."""
    readers_of_g, readers_of_base = writes.held_references(g)
    return (count - readers_of_g, count_of_base - readers_of_base) in _ALONE


def _summed(held, g):
    """`held + g`, two gradients of one output: into `held` when the caller's list alone holds it and it owns its
    memory (no view shares it), as PyTorch's input buffer adds into a gradient it alone holds. The values are the
    same either way, and a parameter used at every step of a loop (an RNN's weights) gets its gradient summed
    without allocating an array per step."""
    if type(held) is _ndarray and type(g) is _ndarray and held.base is None and _refcount(held) == _HELD_ALONE and (
            held.flags.writeable):
        _add(held, g, held)  # NOTE: out= as the third argument: no keyword names to match
        return held
    return held + g


def _held_alone():
    """What `_summed` counts for an array held by one list, measured (see _reference_counts); None where one more
    reference does not show: then nothing is added in place."""
    def probe(held, g):  # called as run() calls _summed, and as run() counts `held`, a local, inlining it
        return _refcount(held)

    slots = [np.empty(2)]
    count = probe(slots[0], None)
    extra = slots[0]  # noqa: F841 - one more reference, which the count must show
    return count if probe(slots[0], None) == count + 1 else None


def _reference_counts() -> tuple:
    """What `_accumulate_routed` counts for an array held by one local variable, owning its memory or a view,
    measured rather than assumed (interpreters count references differently); none when one more
    reference does not show in the count (a build without exact counts): nothing is taken then."""
    def probe(leaf, g):  # called as run() calls _accumulate_routed: one local variable, then the same frames
        base = g.base
        return (_refcount(g), 0) if base is None else (_refcount(g), _refcount(base))

    def measure(make):
        g = make()  # held by this variable alone, as the engine holds a gradient
        count = probe(None, g)
        extra = (g, g.base)  # noqa: F841 - one more reference to each, which the count must show
        return count if probe(None, g) == (count[0] + 1, count[1] + (g.base is not None)) else None

    alone = (measure(lambda: np.empty(2)), measure(lambda: np.empty((2, 2)).T))
    return () if None in alone else alone


_ndarray = np.ndarray
_refcount = sys.getrefcount
_ALONE = _reference_counts()
# the counts of _ALONE's two cases, compared as numbers (-1: never, when _ALONE is empty)
_OWNER_ALONE, (_VIEW_ALONE, _VIEW_BASE_ALONE) = (_ALONE[0][0], _ALONE[1]) if _ALONE else (-1, (-1, -1))
_HELD_ALONE = _held_alone()
_add = np.add
# A deferred leaf's `slots` (run) gets this as its second item once its first holds an array the pass alone can
# reach: one it made (`held + g`, a new array) or one _summed's checks passed (an ndarray owning its memory, writeable,
# referenced by `slots` alone). It stays so until the leaf takes it: `slots` is a list the pass made for the leaf and
# reaches only through `buffers`; node rules are given their own nodes' gradients, never a leaf's sum; no user code
# runs while the leaf waits (hooks and custom Functions settle deferred leaves first, after which _summed's checks
# apply again); no observer is told (deferral needs `at_once`); and the sum leaves `slots` only when the leaf takes it
# (_take, which pops `slots`). So the checks made once hold for each later gradient, which is added into it directly
_OWN_SUM = True
_new_tensor = object.__new__
_T_NODE = node_class(_shape.t)  # TBackward0 (see run)
_NLL_NODE = node_class(_nn.nll_loss)  # NllLossBackward0: a root run with its LogSoftmaxBackward0 (see run)
_T_RAN = ()  # what run() holds as the incoming gradients of a TBackward0 it ran in its maker's routing


def _accumulate_into(tensor: Tensor, g, create_graph: bool, in_place: bool = True) -> None:
    """`.grad += g`: in place for leaves; out of place for retained non-leaf grads (as PyTorch) and,
    differentiably, under create_graph. A first gradient becomes `.grad` as a copy in the tensor's own layout
    (_accumulate_routed hands over `g` itself when no one else can see it)."""
    # NOTE: acquire and release, not `with`: the with statement's special-method lookups cost ~1k more (a call
    # per leaf and step)
    _lock_accumulation()
    try:
        current = tensor._grad
        if create_graph:
            g = g if isinstance(g, Tensor) else Tensor._make(g)
            tensor._grad = _copy_backwards(g) if current is None else current + g
        elif current is None:
            tensor._grad = Tensor._make(_copy_like(g, tensor._data))
        else:
            data = g._data if isinstance(g, Tensor) else g
            if in_place and current._node is None and current._data.flags.writeable:
                if overlaps(current._data):  # a .grad set to an expand(): PyTorch's += refuses it too
                    raise RuntimeError(errors.OVERLAP)
                writes.before_write(current._data)
                np.add(current._data, data, out=current._data, casting="unsafe")
                current._version_counter[0] += 1
            else:
                tensor._grad = current + Tensor._make(data)
    finally:
        _unlock_accumulation()


def _copy_like(g, data: np.ndarray) -> np.ndarray:
    """A copy of `g` with `data`'s dtype and, where `data` is dense, its strides (PyTorch's layout contract
    for gradients): a transposed parameter gets a transposed gradient, any other a C-ordered one."""
    copy = np.empty_like(data)  # keeps data's strides when they are dense, else C order
    if copy.shape != np.shape(g):  # NOTE: a .grad of another shape was set by hand; keep g's
        return np.array(g, dtype=data.dtype, copy=True)
    np.copyto(copy, g, casting="unsafe")
    return copy


def _accumulate_leaf(variable: Tensor, g, create_graph: bool, observing) -> None:
    _accumulate_into(variable, g, create_graph)
    if observing:
        for method in observing.accumulated:
            method(variable, variable._grad)
    if variable._post_accumulate_hooks:
        for hook in tuple(variable._post_accumulate_hooks.values()):
            result = hook(variable)
            if result is None or result is variable:  # (PyTorch's test: the tensor itself may come back)
                continue
            if not isinstance(result, Tensor):
                raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")

