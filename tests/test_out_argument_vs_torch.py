"""torch.* functions take `out=` as PyTorch's (the tensors tutorial writes `torch.matmul(t, t.T, out=y3)`, which
raised TypeError on gradscope; `torch.zeros(2, 3, out=o)` ignored `o`): the result is written into `out`, which is
returned, resized with PyTorch's warning when its shape differs, kept in its dtype when the cast is allowed; a
factory makes its values in out's dtype. Every case runs on both libraries and must agree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

A = [[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]]
B = [[2.0, 1.0, -1.0], [3.0, 0.5, 2.0]]
CALLS = {
    "matmul": lambda L, a, b: (L.matmul, (a, b.T)), "mm": lambda L, a, b: (L.mm, (a, b.T)),
    "bmm": lambda L, a, b: (L.bmm, (a[None], b.T[None])), "mv": lambda L, a, b: (L.mv, (a, b[0])),
    "dot": lambda L, a, b: (L.dot, (a[0], b[0])), "outer": lambda L, a, b: (L.outer, (a[0], b[0])),
    "sum": lambda L, a, b: (L.sum, (a, 0)), "mean": lambda L, a, b: (L.mean, (a, 1)),
    "prod": lambda L, a, b: (L.prod, (a, 1)), "amax": lambda L, a, b: (L.amax, (a, 1)),
    "amin": lambda L, a, b: (L.amin, (a, 0)), "logsumexp": lambda L, a, b: (L.logsumexp, (a, 1)),
    "std": lambda L, a, b: (L.std, (a, 1)), "var": lambda L, a, b: (L.var, (a, 0)),
    "exp": lambda L, a, b: (L.exp, (a,)), "log": lambda L, a, b: (L.log, (b.abs(),)),
    "abs": lambda L, a, b: (L.abs, (a,)), "absolute": lambda L, a, b: (L.absolute, (a,)),
    "sqrt": lambda L, a, b: (L.sqrt, (b.abs(),)), "rsqrt": lambda L, a, b: (L.rsqrt, (b.abs(),)),
    "neg": lambda L, a, b: (L.neg, (a,)), "negative": lambda L, a, b: (L.negative, (a,)),
    "round": lambda L, a, b: (L.round, (a,)), "erf": lambda L, a, b: (L.erf, (a,)),
    "clamp": lambda L, a, b: (L.clamp, (a, 0, 1)), "clip": lambda L, a, b: (L.clip, (a, -1, 1)),
    "clamp_min": lambda L, a, b: (L.clamp_min, (a, 0)), "clamp_max": lambda L, a, b: (L.clamp_max, (a, 0)),
    "sin": lambda L, a, b: (L.sin, (a,)), "cos": lambda L, a, b: (L.cos, (a,)),
    "floor": lambda L, a, b: (L.floor, (a,)), "ceil": lambda L, a, b: (L.ceil, (a,)),
    "trunc": lambda L, a, b: (L.trunc, (a,)), "reciprocal": lambda L, a, b: (L.reciprocal, (b,)),
    "square": lambda L, a, b: (L.square, (a,)), "sign": lambda L, a, b: (L.sign, (a,)),
    "gather": lambda L, a, b: (L.gather, (a, 1, L.tensor([[0], [2]]))),
}
INDEX_CALLS = {
    "argmax": lambda L, a, b: (L.argmax, (a, 1)), "argmin": lambda L, a, b: (L.argmin, (a, 0)),
    "nonzero": lambda L, a, b: (L.nonzero, (a > 0,)),
}
FACTORIES = {
    "zeros": lambda L: (L.zeros, (2, 3)), "ones": lambda L: (L.ones, (3,)), "full": lambda L: (L.full, ((2,), 0.1)),
    "eye": lambda L: (L.eye, (3,)), "arange": lambda L: (L.arange, (0.0, 1.0, 0.1)),
    "linspace": lambda L: (L.linspace, (0, 1, 7)), "rand": lambda L: (L.rand, (4,)),
    "randn": lambda L: (L.randn, (2, 2)), "randint": lambda L: (L.randint, (5, (3,))),
    "logspace": lambda L: (L.logspace, (0, 2, 5)), "range": lambda L: (L.range, (0.0, 1.0, 0.25)),
}


def _outcome(lib, make, out_of):
    """What a call with `out=` gives: the values in out, whether the result is out, its dtype, warnings, error."""
    lib.manual_seed(0)
    out = out_of(lib)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            function, args = make(lib)
            result = function(*args, out=out)
        except RuntimeError as error:
            return "error", str(error)
    messages = [str(w.message).split(" (Triggered internally")[0] for w in caught]
    return out.numpy().tolist(), result is out, str(out.dtype), messages


def _compare(make, out_of):
    ours, theirs = _outcome(gradscope, make, out_of), _outcome(torch, make, out_of)
    assert ours[1:] == theirs[1:]
    if ours[0] != "error":
        np.testing.assert_allclose(np.array(ours[0], dtype=float), np.array(theirs[0], dtype=float), rtol=1e-12)


def _inputs(lib):
    return lib.tensor(A, dtype=lib.float64), lib.tensor(B, dtype=lib.float64)


# an out of another dtype is left out: PyTorch's rules differ op by op (matmul and gather refuse float32 for float64,
# sum casts), where gradscope casts whenever the cast is allowed (a known difference)
OUTS = {"empty": lambda L: L.empty(0, dtype=L.float64), "wrong shape": lambda L: L.zeros(7, dtype=L.float64),
        "float32": lambda L: L.empty(0)}


@pytest.mark.parametrize("out", ["empty", "wrong shape"])
@pytest.mark.parametrize("name", CALLS)
def test_ops_write_into_out(name, out):
    _compare(lambda L: CALLS[name](L, *_inputs(L)), OUTS[out])


@pytest.mark.parametrize("name", INDEX_CALLS)
def test_index_results_write_into_an_integer_out(name):
    _compare(lambda L: INDEX_CALLS[name](L, *_inputs(L)), lambda L: L.full((5,), 9, dtype=L.int64))


@pytest.mark.parametrize("out", ["empty", "wrong shape", "float32"])
@pytest.mark.parametrize("name", FACTORIES)
def test_factories_make_their_values_in_outs_dtype(name, out):
    out_of = OUTS[out] if name != "randint" else (lambda L: L.empty(0, dtype=L.int64))
    _compare(lambda L: FACTORIES[name](L), out_of)


def test_an_out_call_refuses_inputs_that_require_grad():
    _compare(lambda L: (L.exp, (L.ones(2, requires_grad=True),)), lambda L: L.empty(0))


def test_the_tensors_tutorials_out_calls():
    def run(lib):
        tensor = lib.ones(4, 4)
        tensor[:, 1] = 0
        y3 = lib.rand_like(tensor)
        lib.matmul(tensor, tensor.T, out=y3)
        z3 = lib.rand_like(tensor)
        lib.mul(tensor, tensor, out=z3)
        return y3.numpy(), z3.numpy()

    for ours, theirs in zip(run(gradscope), run(torch), strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call", [
    lambda L, x, o: L.sum(x, axis=0, out=o), lambda L, x, o: L.mean(x, axis=1, keepdims=True, out=o),
    lambda L, x, o: L.amax(x=x, axis=1, out=o), lambda L, x, o: L.std(x, axis=1, correction=0, out=o),
    lambda L, x, o: L.logsumexp(x, axis=0, out=o), lambda L, x, o: L.var(input=x, dim=0, keepdims=True, out=o),
], ids=["sum", "mean", "amax", "std", "logsumexp", "var"])
def test_out_with_numpy_names(call):
    """One wrapper gives a reduction NumPy's names and out= (the binder re-wrapped sum and dropped out= before)."""
    def outcome(L):
        out = L.empty(0, dtype=L.float64)
        result = call(L, L.tensor(A, dtype=L.float64), out)
        return result is out, out.numpy()

    (ours_is_out, ours), (theirs_is_out, theirs) = outcome(gradscope), outcome(torch)
    assert ours_is_out and theirs_is_out
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda L, x: L.sum(x, 0, out=L.empty(0), foo=1), lambda L, x: L.sum(x, axis=0, dim=0, out=L.empty(0)),
    lambda L, x: L.exp(x, out=L.empty(0), foo=1), lambda L, x: L.matmul(x, x.T, foo=1, out=L.empty(0)),
], ids=["unknown", "alias_and_name", "exp_unknown", "matmul_unknown"])
def test_out_calls_refuse_keywords_as_torch(call):
    messages = []
    for L in (gradscope, torch):
        with pytest.raises(TypeError) as caught:
            call(L, L.tensor(A))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("call", [
    lambda L, x: L.matmul(x, x.T, out=L.zeros(5)), lambda L, x: L.sum(x, axis=0, out=L.zeros(5)),
    lambda L, x: L.exp(x, out=L.zeros(5)), lambda L, x: L.add(x, 1, out=L.zeros(5)),
    lambda L, x: L.arange(0.0, 1.0, 0.25, out=L.zeros(5)),
], ids=["matmul", "sum_numpy_names", "exp", "add", "arange"])
def test_resize_warnings_name_the_callers_line(call):
    """The wrapper is no frame of PyTorch's: the resize warning names the line that passed out=."""
    for L in (gradscope, torch):
        was = L.is_warn_always_enabled()
        L.set_warn_always(True)
        try:
            with pytest.warns(UserWarning) as caught:
                call(L, L.tensor(A))
        finally:
            L.set_warn_always(was)
        assert [w.filename for w in caught] == [__file__], L.__name__


def test_each_function_is_wrapped_once():
    """out= and NumPy's names come from one wrapper: no second frame around the function."""
    from gradscope.autograd import numpy_names  # noqa: PLC0415 - this test's alone

    for name in ("sum", "matmul", "exp", "add", "arange", "gather"):
        function = getattr(gradscope, name)
        assert function.__code__ in numpy_names._WRAPPER_CODES, name
        assert function.__wrapped__.__code__ not in numpy_names._WRAPPER_CODES, name
        assert numpy_names.accepting_numpy_names(function) is function


@pytest.mark.parametrize("name", ["exp", "matmul", "sum", "add", "arange"])
def test_functions_taking_out_pickle_as_themselves(name):
    import pickle  # noqa: PLC0415 - this test's alone

    function = getattr(gradscope, name)
    assert pickle.loads(pickle.dumps(function)) is function


MORE_CALLS = {
    "log1p": lambda L, a, b: (L.log1p, (b.abs(),)), "max": lambda L, a, b: (L.max, (a,)),
    "max of two": lambda L, a, b: (L.max, (a, b)), "min": lambda L, a, b: (L.min, (a,)),
    "softmax": lambda L, a, b: (L.softmax, (a, 1)), "log_softmax": lambda L, a, b: (L.log_softmax, (a, 0)),
    "alias_copy": lambda L, a, b: (L.alias_copy, (a,)), "diagonal_copy": lambda L, a, b: (L.diagonal_copy, (a,)),
    "slice_copy": lambda L, a, b: (L.slice_copy, (a, 1, 0, 2)), "squeeze_copy": lambda L, a, b: (L.squeeze_copy, (a,)),
    "t_copy": lambda L, a, b: (L.t_copy, (a,)), "unsqueeze_copy": lambda L, a, b: (L.unsqueeze_copy, (a, 0)),
    "slice_scatter": lambda L, a, b: (L.slice_scatter, (a, b[:1], 0, 0, 1)),
    # the library's own layers call these as the functions themselves (no out= frame)
    "tanh": lambda L, a, b: (L.tanh, (a,)), "sigmoid": lambda L, a, b: (L.sigmoid, (a,)),
    "where": lambda L, a, b: (L.where, (a > 0, a, b)),
    "addmm": lambda L, a, b: (L.addmm, (a, a, L.ones(3, 3, dtype=a.dtype))),
    "addmm with beta, alpha": lambda L, a, b: (lambda *args, out: L.addmm(*args, beta=0.5, alpha=2, out=out),
                                               (a, b, L.eye(3, dtype=a.dtype))),
    "cat": lambda L, a, b: (L.cat, ([a, b],)), "cat along 1": lambda L, a, b: (L.cat, ([a, b], 1)),
    "concat": lambda L, a, b: (L.concat, ([a, b],)), "concatenate": lambda L, a, b: (L.concatenate, ([a, b], 1)),
    "stack": lambda L, a, b: (L.stack, ([a, b],)), "stack along 2": lambda L, a, b: (L.stack, ([a, b], 2)),
}
LOGICAL = {name: (lambda n: lambda L, a, b: (getattr(L, n), (a > 0, b > 1)))(name)
           for name in ("logical_and", "logical_or", "logical_xor")}
LOGICAL["logical_not"] = lambda L, a, b: (L.logical_not, (a > 0,))


@pytest.mark.parametrize("out", ["empty", "wrong shape"])
@pytest.mark.parametrize("name", MORE_CALLS)
def test_more_ops_write_into_out(name, out):
    _compare(lambda L: MORE_CALLS[name](L, *_inputs(L)), OUTS[out])


@pytest.mark.parametrize("name", LOGICAL)
def test_logical_ops_write_into_out(name):
    _compare(lambda L: LOGICAL[name](L, *_inputs(L)), lambda L: L.full((3,), True))


TUPLE_CALLS = {
    "max": lambda L, x, o: L.max(x, 1, out=o), "min": lambda L, x, o: L.min(x, 0, keepdim=True, out=o),
    "sort": lambda L, x, o: L.sort(x, 1, out=o), "topk": lambda L, x, o: L.topk(x, 2, out=o),
    "kthvalue": lambda L, x, o: L.kthvalue(x, 2, out=o), "median": lambda L, x, o: L.median(x, 1, out=o),
    "mode": lambda L, x, o: L.mode(x, 1, out=o), "cummax": lambda L, x, o: L.cummax(x, 1, out=o),
    "cummin": lambda L, x, o: L.cummin(x, 0, out=o),
    "max by NumPy's names": lambda L, x, o: L.max(x, axis=1, keepdims=True, out=o),
}


@pytest.mark.parametrize("name", TUPLE_CALLS)
def test_results_of_two_write_into_two_outs(name):
    """(values, indices) written into a pair of outs; the result is a torch.return_types.<op>_out of the outs."""
    def outcome(L):
        values, indices = L.empty(0, dtype=L.float64), L.empty(0, dtype=L.int64)
        result = TUPLE_CALLS[name](L, L.tensor(A, dtype=L.float64), (values, indices))
        return result[0] is values, result[1] is indices, repr(result), values.tolist(), indices.tolist()

    assert outcome(gradscope) == outcome(torch)


# empty's values are PyTorch's uninitialised memory: its shape and dtype alone are compared
MADE = {**FACTORIES, "empty": lambda L: (L.empty, (2, 3)), "randperm": lambda L: (L.randperm, (4,))}


def _made(lib, name, out, **kwargs):
    """(result is out, out's dtype, shape, requires_grad), or the error, of a factory called with out= and `kwargs`."""
    lib.manual_seed(0)
    function, args = MADE[name](lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = function(*args, out=out, **kwargs)
        except RuntimeError as error:
            return str(error)
    return result is out, str(out.dtype), tuple(out.shape), out.requires_grad


@pytest.mark.parametrize("name", MADE)
def test_factories_refuse_a_dtype_other_than_outs(name):
    """A factory given a dtype other than out's raised nothing and cast its values into out."""
    def made(L):
        return _made(L, name, L.empty(0, dtype=L.float64), dtype=L.float32)

    assert made(gradscope) == made(torch) == "dtype Float does not match dtype of out parameter (Double)"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", MADE)
def test_factories_with_requires_grad_set_it_on_out(name, dtype):
    """requires_grad=True with out=: out is written, then requires grad, as PyTorch's (gradscope refused it, or
    ignored requires_grad for zeros and ones)."""
    def made(L):
        return _made(L, name, L.zeros(2, dtype=getattr(L, dtype)), requires_grad=True)

    assert made(gradscope) == made(torch)
