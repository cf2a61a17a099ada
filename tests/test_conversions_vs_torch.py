"""torch.asarray, torch.scalar_tensor and torch.empty_strided vs PyTorch 2.13: what each returns (the same tensor,
a view, a copy in the graph), dtypes, memory sharing with NumPy arrays, requires_grad (asarray's 2.13 default and its
warning), strides and errors."""

from __future__ import annotations

import array
import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _describe(result) -> tuple:
    if isinstance(result, tuple):
        return result
    node = result.grad_fn
    return (result.tolist(), str(result.dtype), result.requires_grad, node and type(node).__name__, result.is_leaf)


def _outcome(lib, case):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = _describe(case(lib))
        except (RuntimeError, ValueError, TypeError) as error:
            outcome = (type(error).__name__, str(error))
    return outcome, sorted({str(w.message).split(" (Triggered")[0] for w in caught if "asarray" in str(w.message)})


def _leaf(lib):
    return lib.ones(2, requires_grad=True)


ASARRAY = {
    "leaf_is_itself": lambda lib: (lib.asarray(t := _leaf(lib)) is t, t.requires_grad),
    "non_leaf": lambda lib: lib.asarray(_leaf(lib) * 2),
    "leaf_requires_grad_false_sets_the_flag": lambda lib: (lib.asarray(t := _leaf(lib), requires_grad=False) is t,
                                                            t.requires_grad),
    "non_leaf_requires_grad_false_detaches": lambda lib: lib.asarray(_leaf(lib) * 2, requires_grad=False),
    "non_leaf_requires_grad_true": lambda lib: lib.asarray(_leaf(lib) * 2, requires_grad=True),
    "copy": lambda lib: lib.asarray(_leaf(lib), copy=True),
    "copy_requires_grad_false": lambda lib: lib.asarray(_leaf(lib), copy=True, requires_grad=False),
    "dtype_copies": lambda lib: lib.asarray(_leaf(lib), dtype=lib.float64),
    "dtype_alias_refused": lambda lib: lib.asarray(_leaf(lib), dtype=lib.float64, copy=False),
    "plain_is_itself": lambda lib: (lib.asarray(t := lib.ones(2)) is t, lib.asarray(t, copy=False) is t,
                                    lib.asarray(t, dtype=lib.float32) is t),
    "plain_requires_grad_true_in_place": lambda lib: (lib.asarray(t := lib.ones(2), requires_grad=True) is t,
                                                       t.requires_grad),
    "plain_copy_requires_grad": lambda lib: lib.asarray(lib.ones(2), copy=True, requires_grad=True),
    "integer_requires_grad": lambda lib: lib.asarray(lib.tensor([1, 2]), requires_grad=True),
    "list_requires_grad": lambda lib: lib.asarray([1.0, 2], requires_grad=True),
    "int_list_requires_grad": lambda lib: lib.asarray([1, 2], requires_grad=True),
    "list_alias_refused": lambda lib: lib.asarray([1.0, 2], copy=False),
    "number_alias_refused": lambda lib: lib.asarray(1.5, copy=False),
    "array_requires_grad": lambda lib: lib.asarray(np.ones(2), requires_grad=True),
    "array_alias_refused": lambda lib: lib.asarray(np.ones(2), dtype=lib.float32, copy=False),
    "array_float32": lambda lib: lib.asarray(np.ones(2, dtype=np.float32)),
    "array_transposed_strides": lambda lib: (lib.asarray(np.ones((2, 3)).T).stride(),),
    "array_negative_strides": lambda lib: lib.asarray(np.arange(3.0)[::-1]),
    "numpy_scalar": lambda lib: lib.asarray(np.float64(2)),
    "numpy_int32_scalar": lambda lib: lib.asarray(np.int32(2)),
    "tensors_in_a_list": lambda lib: lib.asarray([lib.tensor(1.0), lib.tensor(2.0)]),
    "string": lambda lib: lib.asarray("abc"),
    "none": lambda lib: lib.asarray(None),
    "range": lambda lib: lib.asarray(range(3)),
    "tuple": lambda lib: lib.asarray((1, 2.5)),
    "bool": lambda lib: lib.asarray(True),
    "complex": lambda lib: lib.asarray([1 + 2j]),
    "float_to_int": lambda lib: lib.asarray([1.7, -2.7], dtype=lib.int64),
    "device": lambda lib: lib.asarray([1.0], device="cpu"),
    "under_no_grad": lambda lib: _no_grad(lib, lambda: lib.asarray(_leaf(lib), copy=True)),
}


def _no_grad(lib, call):
    with lib.no_grad():
        return call()


@pytest.mark.parametrize("name", ASARRAY)
def test_asarray_matches_torch(name):
    assert _outcome(gradscope, ASARRAY[name]) == _outcome(torch, ASARRAY[name])


def test_asarray_warns_once_when_requires_grad_follows_the_input():
    for lib in (gradscope, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            for _ in range(2):
                lib.asarray(_leaf(lib))
        assert len([w for w in caught if "unspecified requires_grad" in str(w.message)]) <= 1


@pytest.mark.parametrize("copy", [None, True])
def test_asarray_shares_an_arrays_memory_unless_copied(copy):
    for lib in (gradscope, torch):
        array = np.ones(3)
        lib.asarray(array, copy=copy)[0] = 5
        assert array[0] == (1 if copy else 5)
        source = lib.ones(3)
        lib.asarray(source, copy=copy)[0] = 5
        assert source[0].item() == (1 if copy else 5)


SCALAR = {
    "int": lambda lib: lib.scalar_tensor(1),
    "bool": lambda lib: lib.scalar_tensor(True),
    "dtype": lambda lib: lib.scalar_tensor(2.5, dtype=lib.int32),
    "requires_grad": lambda lib: lib.scalar_tensor(1.5, requires_grad=True, dtype=lib.float64),
    "complex_into_float": lambda lib: lib.scalar_tensor(1 + 2j),
    "complex_into_double": lambda lib: lib.scalar_tensor(1 + 2j, dtype=lib.float64),
    "complex": lambda lib: lib.scalar_tensor(1 + 2j, dtype=lib.complex64),
    "tensor": lambda lib: lib.scalar_tensor(lib.tensor(3)),
    "numpy": lambda lib: lib.scalar_tensor(np.float64(2)),
    "string": lambda lib: lib.scalar_tensor("a"),
    "list": lambda lib: lib.scalar_tensor([1]),
    "integer_requires_grad": lambda lib: lib.scalar_tensor(1, dtype=lib.int64, requires_grad=True),
}


@pytest.mark.parametrize("name", SCALAR)
def test_scalar_tensor_matches_torch(name):
    assert _outcome(gradscope, SCALAR[name]) == _outcome(torch, SCALAR[name])


@pytest.mark.parametrize("size, stride", [((2, 3), (1, 2)), ((2, 3), (0, 1)), ((), ()), ((0, 3), (3, 1)),
                                          ((2, 3), (1,)), ((2, -1), (1, 1)), ((2, 3), (-1, 1)), (2, 1), ([4], [2])])
def test_empty_strided_matches_torch(size, stride):
    def layout(lib):
        result = lib.empty_strided(size, stride, dtype=lib.float64)
        filled = (result.fill_(1) + 1).stride() if result.numel() else None
        return result.stride(), tuple(result.shape), result.is_contiguous(), str(result.dtype), filled

    assert _outcome(gradscope, layout) == _outcome(torch, layout)


def test_empty_strided_requires_grad():
    for lib in (gradscope, torch):
        assert lib.empty_strided((2, 2), (2, 1), requires_grad=True).requires_grad
        assert lib.empty_strided((2, 2), (1, 2)).dtype == lib.float32


def _described(result):
    return (result.tolist(), str(result.dtype), result.requires_grad, result.stride())


BUFFERS = {
    "shares_memory": lambda lib: (lambda a: (lambda t: (t.__setitem__(0, 9), a.tolist(), _described(t))[1:])(
        lib.frombuffer(a, dtype=lib.float64)))(array.array("d", [1, 2, 3])),
    "uint8": lambda lib: _described(lib.frombuffer(bytearray(b"\x01\x02\x03\x04"), dtype=lib.uint8)),
    "count_offset": lambda lib: _described(lib.frombuffer(bytearray(b"\x01\x02\x03\x04"), dtype=lib.int16, count=1,
                                                          offset=2)),
    "no_dtype": lambda lib: lib.frombuffer(bytearray(8)),
    "read_only_bytes": lambda lib: _described(lib.frombuffer(b"\x01\x02\x03\x04", dtype=lib.uint8)),
    "not_a_multiple": lambda lib: lib.frombuffer(bytearray(3), dtype=lib.int16),
    "empty": lambda lib: lib.frombuffer(bytearray(0), dtype=lib.int16),
    "count_too_big": lambda lib: lib.frombuffer(bytearray(4), dtype=lib.int16, count=3),
    "offset_too_big": lambda lib: lib.frombuffer(bytearray(4), dtype=lib.int16, offset=4),
    "requires_grad": lambda lib: _described(lib.frombuffer(bytearray(8), dtype=lib.float32, requires_grad=True)),
    "integer_requires_grad": lambda lib: lib.frombuffer(bytearray(8), dtype=lib.int32, requires_grad=True),
    "dlpack_shares_memory": lambda lib: (lambda n: (lambda t: (t.__setitem__(0, 7), n.tolist(), _described(t))[1:])(
        lib.from_dlpack(n)))(np.arange(3.0)),
    "empty_permuted_strides": lambda lib: _described(lib.empty_permuted((2, 3, 4), (0, 2, 1)))[1:],
    "empty_permuted_dtype": lambda lib: _described(lib.empty_permuted((2, 3), (1, 0), dtype=lib.float64,
                                                                      requires_grad=True))[1:],
    "empty_permuted_layout": lambda lib: (lambda t: ((t + 1).stride(), t.is_contiguous(), t.contiguous().stride()))(
        lib.empty_permuted((2, 3, 4), (2, 0, 1))),
    "adjoint": lambda lib: (lambda x: (lambda y: (y.tolist(), type(y.grad_fn).__name__, y._base is x))(lib.adjoint(x)))(
        lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)),
}


@pytest.mark.parametrize("name", BUFFERS)
def test_buffers_dlpack_permuted_and_adjoint_match_torch(name):
    assert _outcome(gradscope, BUFFERS[name])[0] == _outcome(torch, BUFFERS[name])[0]


@pytest.mark.parametrize("kind", ["DoubleTensor", "torch.FloatTensor", "LongTensor", "torch.IntTensor", "float64",
                                  "torch.cuda.FloatTensor", "foo.FloatTensor", "torch.HalfTensor"])
def test_set_default_tensor_type_matches_torch(kind):
    results = []
    for lib in (gradscope, torch):
        target = kind if "." in kind else getattr(lib, kind)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lib.set_default_tensor_type(target)
            results.append((str(lib.get_default_dtype()), str(lib.ones(1).dtype),
                            [str(w.message).split(" (Triggered")[0] for w in caught]))
        except (TypeError, ModuleNotFoundError) as error:
            results.append((type(error).__name__, str(error)))
        finally:
            lib.set_default_dtype(lib.float32)
    assert results[0] == results[1]
