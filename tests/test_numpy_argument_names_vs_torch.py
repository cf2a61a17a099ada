"""NumPy's argument names (`axis` for `dim`, `keepdims` for `keepdim`, `x`/`a`/`x1` for `input`, `x2` for `other`),
taken where PyTorch's parser takes them and refused where it refuses them, with its error texts.

Every public function and method with a `dim` or `keepdim` parameter here is called with NumPy's names beside
PyTorch's counterpart; a completeness test finds, from PyTorch's own schemas, every native function of the
namespaces with such a parameter, so a new function can't miss the mechanism (gradscope/autograd/numpy_names.py).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gradscope
from gradscope.autograd import numpy_names

torch = pytest.importorskip("torch")

NAMESPACES = {  # name -> (gradscope's, PyTorch's, the prefix of its ATen operators)
    "torch": (lambda lib: lib, ""),
    "Tensor": (lambda lib: lib.Tensor, ""),
    "linalg": (lambda lib: lib.linalg, "linalg_"),
    "fft": (lambda lib: lib.fft, "fft_"),
    "special": (lambda lib: lib.special, "special_"),
    "functional": (lambda lib: lib.nn.functional, ""),
}


def _x(lib):
    return lib.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])


def _index(lib):
    return lib.tensor([[0, 2], [1, 0]])


# the arguments of a sample call besides the tensor (by position, then by keyword, `dim` among the keywords);
# a function missing here is called as f(x, dim=1)
SAMPLES = {
    "cat": lambda T: (([_x(T), _x(T)],), {"dim": 1}),
    "concat": lambda T: (([_x(T), _x(T)],), {"dim": 1}),
    "concatenate": lambda T: (([_x(T), _x(T)],), {"dim": 1}),
    "stack": lambda T: (([_x(T), _x(T)],), {"dim": 1}),
    "chunk": lambda T: ((_x(T), 2), {"dim": 1}),
    "unsafe_chunk": lambda T: ((_x(T), 2), {"dim": 1}),
    "tensor_split": lambda T: ((_x(T), 2), {"dim": 1}),
    "split": lambda T: ((_x(T), 1), {"dim": 1}),
    "split_copy": lambda T: ((_x(T), 1), {"dim": 1}),
    "unsafe_split": lambda T: ((_x(T), 1), {"dim": 1}),
    "split_with_sizes": lambda T: ((_x(T), [1, 2]), {"dim": 1}),
    "split_with_sizes_copy": lambda T: ((_x(T), [1, 2]), {"dim": 1}),
    "unsafe_split_with_sizes": lambda T: ((_x(T), [1, 2]), {"dim": 1}),
    "cross": lambda T: ((_x(T), _x(T).flip(1)), {"dim": 1}),
    "cosine_similarity": lambda T: ((_x(T), _x(T).flip(1)), {"dim": 1}),
    "pairwise_distance": lambda T: ((_x(T), _x(T).flip(1)), {"keepdim": True}),
    "vecdot": lambda T: ((_x(T), _x(T).flip(1)), {"dim": 1}),
    "gather": lambda T: ((_x(T),), {"dim": 1, "index": _index(T)}),
    "take_along_dim": lambda T: ((_x(T), _index(T)), {"dim": 1}),
    "index_add": lambda T: ((_x(T),), {"dim": 1, "index": T.tensor([0, 2]), "source": T.ones(2, 2)}),
    "index_copy": lambda T: ((_x(T),), {"dim": 1, "index": T.tensor([0, 2]), "source": T.ones(2, 2)}),
    "index_fill": lambda T: ((_x(T),), {"dim": 1, "index": T.tensor([0]), "value": 0.5}),
    "index_reduce": lambda T: ((_x(T),), {"dim": 1, "index": T.tensor([0, 2]), "source": T.ones(2, 2) * 2,
                                          "reduce": "prod"}),
    "index_select": lambda T: ((_x(T),), {"dim": 1, "index": T.tensor([0, 2])}),
    "scatter": lambda T: ((_x(T),), {"dim": 1, "index": _index(T), "src": T.ones(2, 2)}),
    "scatter_add": lambda T: ((_x(T),), {"dim": 1, "index": _index(T), "src": T.ones(2, 2)}),
    "scatter_reduce": lambda T: ((_x(T),), {"dim": 1, "index": _index(T), "src": T.ones(2, 2), "reduce": "sum"}),
    "kthvalue": lambda T: ((_x(T), 1), {"dim": 1}),
    "topk": lambda T: ((_x(T), 2), {"dim": 1}),
    "quantile": lambda T: ((_x(T), 0.5), {"dim": 1}),
    "nanquantile": lambda T: ((_x(T), 0.5), {"dim": 1}),
    "renorm": lambda T: ((_x(T), 2), {"dim": 1, "maxnorm": 1.0}),
    "repeat_interleave": lambda T: ((_x(T), 2), {"dim": 1}),
    "narrow": lambda T: ((_x(T),), {"dim": 1, "start": 0, "length": 2}),
    "narrow_copy": lambda T: ((_x(T),), {"dim": 1, "start": 0, "length": 2}),
    "select": lambda T: ((_x(T),), {"dim": 1, "index": 0}),
    "select_copy": lambda T: ((_x(T),), {"dim": 1, "index": 0}),
    "select_scatter": lambda T: ((_x(T), T.zeros(2)), {"dim": 1, "index": 0}),
    "slice_copy": lambda T: ((_x(T),), {"dim": 1, "start": 0, "end": 2}),
    "slice_scatter": lambda T: ((_x(T), T.zeros(2, 1)), {"dim": 1, "start": 0, "end": 1}),
    "unflatten": lambda T: ((_x(T),), {"dim": 1, "sizes": (3, 1)}),
    "norm_except_dim": lambda T: ((_x(T), 2), {"dim": 1}),
    "matrix_norm": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "fft2": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "ifft2": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "rfft2": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "irfft2": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "fftn": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "ifftn": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "rfftn": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "irfftn": lambda T: ((_x(T),), {"dim": (0, 1)}),
    "unique": lambda T: ((_x(T),), {"dim": 1}),
    "unique_consecutive": lambda T: ((_x(T),), {"dim": 1}),
    "norm": lambda T: ((_x(T),), {"dim": 1}),
    "softmax": lambda T: ((_x(T),), {"dim": 1}),
    "glu": lambda T: ((_x(T),), {"dim": 0}),
    "log_softmax": lambda T: ((_x(T),), {"dim": 1}),
}
KEEPDIM = {"all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "kthvalue", "logsumexp", "max", "mean",
           "median", "min", "mode", "nanmean", "nanmedian", "nanquantile", "nansum", "prod", "quantile", "std",
           "std_mean", "sum", "var", "var_mean", "matrix_norm", "norm", "vector_norm"}
# known differences: NumPy's names PyTorch takes and these don't (a softmax's `input` by keyword lands in the
# keywords its `dim` is read from: x= reads as an unknown keyword)
KNOWN = {("torch", "softmax", "input"), ("torch", "log_softmax", "input")}


def _sample(namespace: str, name: str, lib):
    name = name.rstrip("_")  # an in-place variant takes its function's arguments
    if name in SAMPLES:
        args, kwargs = SAMPLES[name](lib)
    else:
        args, kwargs = (_x(lib),), {"dim": 1}
    if name in KEEPDIM:
        kwargs["keepdim"] = True
    return args, kwargs


def _call(namespace: str, name: str, lib, rename: dict | None = None, input_as: str | None = None):
    """The sample call of `namespace`.`name` on `lib`, its keywords renamed by `rename` (a PyTorch name -> the name
    used), the tensor passed by keyword `input_as` (functions only)."""
    args, kwargs = _sample(namespace, name, lib)
    kwargs = {(rename or {}).get(key, key): value for key, value in kwargs.items()}
    if namespace == "Tensor":
        return getattr(args[0], name)(*args[1:], **kwargs)
    function = getattr(NAMESPACES[namespace][0](lib), name)
    if input_as is not None:
        return function(*args[1:], **{input_as: args[0]}, **kwargs)
    return function(*args, **kwargs)


def _plain(value):
    if isinstance(value, (gradscope.Tensor, torch.Tensor)):
        return value.detach().resolve_conj().numpy()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _assert_same(got, expected) -> None:
    got, expected = _plain(got), _plain(expected)
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_same(g, e)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def _outcome(call):
    try:
        return "ok", call()
    except TypeError as error:
        return "TypeError", str(error)


def _candidates() -> list[tuple[str, str]]:
    """Every public function here with a `dim` or `keepdim` parameter, namespace by namespace."""
    found = []
    for namespace, (space, _) in NAMESPACES.items():
        here = space(gradscope)
        for name in sorted(dir(here)):
            value = getattr(here, name, None) if not name.startswith("_") else None
            if not callable(value) or isinstance(value, type):
                continue
            try:
                parameters = inspect.signature(value).parameters
            except (TypeError, ValueError):
                continue
            if {"dim", "keepdim", "dim_by_position"} & set(parameters) and hasattr(NAMESPACES[namespace][0](torch),
                                                                                 name):
                found.append((namespace, name))
    return found


CANDIDATES = _candidates()


def test_candidates_found():
    assert len(CANDIDATES) > 150
    assert ("torch", "sum") in CANDIDATES and ("Tensor", "mean") in CANDIDATES and ("fft", "fft") in CANDIDATES


@pytest.mark.parametrize(("namespace", "name"), CANDIDATES, ids=[f"{n}.{m}" for n, m in CANDIDATES])
def test_numpy_names_as_torch(namespace, name):
    expected = _call(namespace, name, torch)  # the sample is a call PyTorch takes with its own names
    rename = {"dim": "axis", "keepdim": "keepdims"}
    theirs, mine = _outcome(lambda: _call(namespace, name, torch, rename)), _outcome(
        lambda: _call(namespace, name, gradscope, rename))
    assert mine[0] == theirs[0], (theirs, mine)
    assert (theirs[0] == "ok") == _native(namespace, name)  # functions PyTorch writes in Python take their own names
    if theirs[0] == "ok":
        _assert_same(mine[1], expected)
        _assert_same(_call(namespace, name, gradscope), expected)
    else:  # Python's error (PyTorch's names the function by its qualified name: Tensor.split)
        assert mine[1].endswith("got an unexpected keyword argument 'axis'")


@pytest.mark.parametrize(("namespace", "name"), CANDIDATES, ids=[f"{n}.{m}" for n, m in CANDIDATES])
def test_both_names_refused_as_torch(namespace, name):
    """`dim` and `axis` together: PyTorch's parser names the first keyword that isn't the function's own."""
    def both(lib):
        args, kwargs = _sample(namespace, name, lib)
        first = "dim" if "dim" in kwargs else "keepdim"
        kwargs = {**kwargs, {"dim": "axis", "keepdim": "keepdims"}[first]: kwargs[first]}
        target = args[0] if namespace == "Tensor" else NAMESPACES[namespace][0](lib)
        return getattr(target, name)(*(args[1:] if namespace == "Tensor" else args), **kwargs)
    theirs, mine = _outcome(lambda: both(torch)), _outcome(lambda: both(gradscope))
    assert theirs[0] == mine[0] == "TypeError"
    if "got an unexpected keyword argument" in theirs[1] and _native(namespace, name):
        assert mine[1] == theirs[1]


FUNCTION_CANDIDATES = [(n, m) for n, m in CANDIDATES if n != "Tensor"]


@pytest.mark.parametrize("alias", ["x", "a", "x1", "input"])
@pytest.mark.parametrize(("namespace", "name"), FUNCTION_CANDIDATES, ids=[f"{n}.{m}" for n, m in FUNCTION_CANDIDATES])
def test_input_by_numpy_names_as_torch(namespace, name, alias):
    theirs = _outcome(lambda: _call(namespace, name, torch, input_as=alias))
    if (namespace, name, "input") in KNOWN and alias != "input":
        pytest.xfail("softmax's dim is read from its keywords (KNOWN)")
    mine = _outcome(lambda: _call(namespace, name, gradscope, input_as=alias))
    assert mine[0] == theirs[0], (theirs, mine)
    if theirs[0] == "ok":
        _assert_same(mine[1], theirs[1])


def _native(namespace: str, name: str) -> bool:
    """Whether PyTorch's `namespace`.`name` is parsed by its C++ parser (not written in Python)."""
    value = getattr(NAMESPACES[namespace][0](torch), name, None)
    return type(value).__name__ in ("builtin_function_or_method", "method_descriptor")


def _native_with_dim(namespace: str, name: str) -> bool:
    """Whether PyTorch's `namespace`.`name` is native and one of its ATen schemas has a dim or keepdim argument."""
    space, prefix = NAMESPACES[namespace]
    if not _native(namespace, name):
        return False
    schemas = torch._C._jit_get_schemas_for_operator(f"aten::{prefix}{name}")
    return any(argument.name in ("dim", "keepdim") for schema in schemas for argument in schema.arguments)


def test_every_native_function_with_dim_takes_numpy_names():
    """Each function here whose PyTorch counterpart is native and has a dim is a candidate (so tested above)."""
    missing = []
    for namespace, (space, _) in NAMESPACES.items():
        here = space(gradscope)
        for name in dir(here):
            if not name.startswith("_") and callable(getattr(here, name, None)) and _native_with_dim(namespace, name):
                if (namespace, name) not in CANDIDATES:
                    missing.append(f"{namespace}.{name}")
    assert missing == []


def test_bound_once_and_named_as_the_function():
    assert gradscope.sum.__name__ == "sum" and gradscope.Tensor.sum.__name__ == "sum"
    assert "dim" in inspect.signature(gradscope.sum).parameters
    assert numpy_names.accepting_numpy_names(gradscope.sum) is gradscope.sum  # not wrapped twice
    assert numpy_names.accepting_numpy_names(gradscope.exp) is gradscope.exp  # no dim: left as it is


@pytest.mark.parametrize("call", [
    lambda T, x: T.sum(x, 0, axis=1),  # by position and by NumPy's name
    lambda T, x: T.sum(x, axis=0, foo=1),  # an unknown keyword: PyTorch names the first not the function's own
    lambda T, x: T.sum(x, foo=1, axis=0),
    lambda T, x: T.logsumexp(x=x, a=x, dim=0),
    lambda T, x: T.logsumexp(x, axis=0, keepdims=True, dim=0),
    lambda T, x: x.logsumexp(input=x, dim=0),  # a method has no `input`
    lambda T, x: x.logsumexp(x=x, dim=0),
    lambda T, x: T.cross(x, x, x2=x, dim=1),
    lambda T, x: T.sum(x, 0, dim=1),  # PyTorch's own name twice: Python's error
    lambda T, x: x.softmax(axis=0, dim=0),
    lambda T, x: T.softmax(x, 0, axis=0),
], ids=["positional", "unknown_after", "unknown_before", "two_input_aliases", "alias_and_name", "method_input",
        "method_x", "other_alias_twice", "dim_twice", "softmax_both", "softmax_positional"])
def test_refusals_as_torch(call):
    x = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    theirs = _outcome(lambda: call(torch, torch.tensor(x)))
    mine = _outcome(lambda: call(gradscope, gradscope.tensor(x)))
    assert theirs[0] == "TypeError" and mine == theirs


@pytest.mark.parametrize("call", [
    lambda T, x: T.max(x, axis=0, keepdims=True),
    lambda T, x: x.max(axis=1),
    lambda T, x: T.cross(x, x2=x.flip(1), axis=1),
    lambda T, x: T.sum(x=x, axis=1),
    lambda T, x: T.logsumexp(a=x, axis=(0, 1)),
    lambda T, x: x.softmax(axis=0),
    lambda T, x: T.log_softmax(x, axis=1, dtype=T.float64),
    lambda T, x: x.size(axis=1),
    lambda T, x: x.stride(axis=0),
    lambda T, x: T.linalg.cross(x1=x, x2=x.flip(1), axis=1),
    lambda T, x: T.nn.functional.cosine_similarity(x1=x, x2=x.flip(1)),
    lambda T, x: T.select_copy(x, axis=1, index=2),
    lambda T, x: x.unsqueeze(axis=0).squeeze(axis=0),
], ids=["max_keepdims", "max_method", "cross_x2", "sum_x", "logsumexp_a", "softmax_method", "log_softmax_dtype",
        "size", "stride", "linalg_cross", "cosine_similarity_x1_x2", "select_copy", "unsqueeze_squeeze"])
def test_accepted_as_torch(call):
    x = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    _assert_same(call(gradscope, gradscope.tensor(x)), call(torch, torch.tensor(x)))


def test_gradients_and_graph_same_as_by_own_names():
    x = gradscope.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    by_numpy_names = x.softmax(axis=0).sum(axis=1, keepdims=True).mean(axis=0)
    assert by_numpy_names.grad_fn.name() == "MeanBackward1"
    assert by_numpy_names.grad_fn.next_functions[0][0].name() == "SumBackward1"
    by_numpy_names.backward(gradscope.ones(1))
    numpy_grad = x.grad.clone()
    x.grad = None
    x.softmax(dim=0).sum(dim=1, keepdim=True).mean(dim=0).backward(gradscope.ones(1))
    np.testing.assert_array_equal(numpy_grad.numpy(), x.grad.numpy())


REDUCTIONS = ["sum", "mean", "amax", "amin", "logsumexp", "prod", "std", "var", "nansum"]


@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_reductions_over_shapes_as_torch(shape, data):
    name = data.draw(st.sampled_from(REDUCTIONS))
    drawn = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape)))
    axis = tuple(dict.fromkeys(d % len(shape) for d in drawn))  # distinct dims
    if name == "prod":  # one dim only
        axis = axis[0]
    keepdims = data.draw(st.booleans())
    values = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    expected = getattr(torch, name)(torch.tensor(values), dim=axis, keepdim=keepdims)
    got = getattr(gradscope.tensor(values), name)(axis=axis, keepdims=keepdims)
    _assert_same(got, expected)


@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_dim_functions_over_shapes_as_torch(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    values = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    for call in (lambda T, x: T.cat([x, x], axis=axis), lambda T, x: T.stack([x, x], axis=axis),
                 lambda T, x: x.softmax(axis=axis), lambda T, x: T.cumsum(x, axis=axis),
                 lambda T, x: x.max(axis=axis, keepdims=True), lambda T, x: T.argmax(x, axis=axis)):
        _assert_same(call(gradscope, gradscope.tensor(values)), call(torch, torch.tensor(values)))


@pytest.mark.parametrize("call", [
    lambda T, x: T.cumsum(x, axis=0, out=T.zeros(1)),  # an out= resized
    lambda T, x: T.cumsum(x, 0, out=T.zeros(1)),
    lambda T, x: T.index_reduce(x, 0, T.tensor([0]), T.ones(1, 3), "prod"),  # in beta
    lambda T, x: T.index_reduce(x, axis=0, index=T.tensor([0]), source=T.ones(1, 3), reduce="prod"),
    lambda T, x: x.index_reduce_(0, T.tensor([0]), T.ones(1, 3), "prod"),  # named placement_functions.py before
    lambda T, x: x.index_reduce_(axis=0, index=T.tensor([0]), source=T.ones(1, 3), reduce="amax"),
], ids=["out_resized_numpy_names", "out_resized", "index_reduce", "index_reduce_numpy_names", "index_reduce_",
        "index_reduce__numpy_names"])
def test_warnings_name_the_callers_line_as_torch(call):
    """The wrapper taking NumPy's names is no frame of PyTorch's (its parser is C++): a warning still names the
    line that called the function."""
    for lib in (torch, gradscope):
        was = lib.is_warn_always_enabled()
        lib.set_warn_always(True)  # a once-per-process warning warns every time
        try:
            with pytest.warns(UserWarning) as caught:
                call(lib, lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        finally:
            lib.set_warn_always(was)
        assert [w.filename for w in caught] == [__file__], lib.__name__


@pytest.mark.parametrize("function", [
    gradscope.sum, gradscope.concat, gradscope.Tensor.sum, gradscope.linalg.vector_norm, gradscope.fft.rfft,
    gradscope.special.logsumexp, gradscope.select_copy, gradscope.norm_except_dim,
    gradscope.nn.functional.cosine_similarity,
], ids=lambda f: f.__qualname__)
def test_wrapped_functions_pickle_as_themselves(function):
    import pickle  # noqa: PLC0415 - this test's alone

    assert pickle.loads(pickle.dumps(function)) is function
