"""A model and its input in different dtypes (a float32 batch into a .double() model, a float64 batch into a float32
one: the commonest error a PyTorch user meets) raise PyTorch's errors, in its words: convolutions check the bias
first, RNNs raise their ValueError naming both fixes, the normalisation layers their "mixed dtype (CPU)" errors.
gradscope said "expected scalar type Float but found Double" for a convolution's bias, "mat1 and mat2 must have the
same dtype" inside an RNN, and normalised mixed dtypes without a word; products (mm, matmul, bmm, dot, mv,
tensordot, baddbmm, bilinear) of two dtypes promoted and computed where PyTorch refuses them."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")

CASES = {
    "conv1d of a double model": "nn.Conv1d(1, 1, 3).double()(t.randn(1, 1, 5))",
    "conv2d of a double model": "nn.Conv2d(1, 1, 3).double()(t.randn(1, 1, 5, 5))",
    "conv2d, double input": "nn.Conv2d(1, 1, 3)(t.randn(1, 1, 5, 5, dtype=t.float64))",
    "conv2d without bias": "nn.Conv2d(1, 1, 3, bias=False).double()(t.randn(1, 1, 5, 5))",
    "conv2d, unbatched": "nn.Conv2d(1, 1, 3).double()(t.randn(1, 5, 5))",
    "conv3d": "nn.Conv3d(1, 1, 2).double()(t.randn(1, 1, 3, 3, 3))",
    "conv2d, integer input": "nn.Conv2d(1, 1, 3)(t.ones(1, 1, 5, 5, dtype=t.long))",
    "conv2d, int32 input": "F.conv2d(t.ones(1, 1, 3, 3, dtype=t.int32), t.ones(1, 1, 2, 2), t.ones(1))",
    "conv2d, uint8 input": "F.conv2d(t.ones(1, 1, 3, 3, dtype=t.uint8), t.ones(1, 1, 2, 2), t.ones(1))",
    "conv2d, double bias": "F.conv2d(t.randn(1, 1, 5, 5), t.randn(1, 1, 3, 3), t.randn(1, dtype=t.float64))",
    "conv_transpose2d of a double model": "nn.ConvTranspose2d(1, 1, 3).double()(t.randn(1, 1, 5, 5))",
    "lstm, double input": "nn.LSTM(2, 2)(t.randn(1, 1, 2, dtype=t.float64))",
    "gru of a double model": "nn.GRU(2, 2).double()(t.randn(1, 1, 2))",
    "rnn, batch first, unbatched": "nn.RNN(2, 2, batch_first=True)(t.randn(3, 2, dtype=t.float64))",
    "lstm, integer input": "nn.LSTM(2, 2, batch_first=True)(t.ones(1, 1, 2, dtype=t.long))",
    "batch norm, double input": "nn.BatchNorm2d(1)(t.randn(2, 1, 2, 2, dtype=t.float64))",
    "batch norm of a double model": "nn.BatchNorm1d(3).double()(t.randn(4, 3))",
    "batch norm, eval, double input": "nn.BatchNorm1d(3).eval()(t.randn(4, 3, dtype=t.float64))",
    "batch norm without affine": "nn.BatchNorm1d(3, affine=False)(t.randn(4, 3, dtype=t.float64))",
    "batch norm, float32 statistics": "F.batch_norm(x64, t.zeros(3), t.ones(3), t.ones(3).double(), None, True)",
    "batch norm, float64 statistics": "F.batch_norm(x64.float(), t.zeros(3).double(), t.ones(3).double(), "
                                      "t.ones(3), t.ones(3), True)",
    "batch norm, mixed statistics": "F.batch_norm(x64, t.zeros(3), t.ones(3).double(), None, None, False)",
    "batch norm, half input": "F.batch_norm(x64.half(), t.zeros(3), t.ones(3), t.ones(3).half(), None, True)",
    "layer norm, double input": "nn.LayerNorm(4)(x64)",
    "layer norm of a double model": "nn.LayerNorm(4).double()(x64.float())",
    "layer norm, float bias": "F.layer_norm(x64, (4,), None, t.ones(4))",
    "layer norm, mixed": "F.layer_norm(x64, (4,), t.ones(4).double(), t.ones(4))",
    "layer norm, integer input": "F.layer_norm(x64.long(), (4,), t.ones(4))",
    "group norm, double input": "nn.GroupNorm(3, 3)(x64)",
    "group norm, float bias": "F.group_norm(x64, 3, None, t.ones(3))",
    "instance norm, double input": "nn.InstanceNorm1d(3, affine=True)(x64)",
    "instance norm, float32 statistics": "F.instance_norm(x64, t.zeros(3), t.ones(3))",
    # products of two dtypes: PyTorch refuses them all (gradscope promoted and computed)
    "dot": "t.dot(t.ones(3), t.ones(3, dtype=t.float64))", "vector @ vector": "t.ones(3) @ t.ones(3, dtype=t.float64)",
    "mv": "t.mv(t.ones(2, 3), t.ones(3, dtype=t.float64))", "mv, double matrix": "t.ones(2, 3).double() @ t.ones(3)",
    "vector @ matrix": "t.ones(3) @ t.ones(3, 2, dtype=t.float64)",
    "mm": "t.mm(t.ones(2, 3), t.ones(3, 2, dtype=t.float64))", "mm, double first": "t.mm(x64[0], t.ones(4, 2))",
    "matrix @ matrix, integers": "t.ones(2, 3, dtype=t.long) @ t.ones(3, 2)",
    "matrix @ matrix, half": "t.ones(2, 3) @ t.ones(3, 2, dtype=t.float16)",
    "matrix @ matrix, complex": "t.ones(2, 3) @ t.ones(3, 2, dtype=t.complex64)",
    "batch @ matrix": "t.ones(4, 2, 3) @ t.ones(3, 2, dtype=t.float64)",
    "batch @ matrix needing grad": "t.ones(4, 2, 3) @ t.ones(3, 2, dtype=t.float64, requires_grad=True)",
    "matrix @ batch": "t.ones(2, 3) @ t.ones(4, 3, 2, dtype=t.float64)",
    "batch @ batch": "t.ones(4, 2, 3) @ t.ones(4, 3, 2, dtype=t.float64)",
    "bmm": "t.bmm(t.ones(4, 2, 3, dtype=t.float64), t.ones(4, 3, 2))",
    "a linear layer of a double model": "nn.Linear(3, 2).double()(t.ones(4, 3))",
    "tensordot": "t.tensordot(t.ones(2, 3), t.ones(3, 2, dtype=t.float64), 1)",
    "inner": "t.inner(t.ones(3), t.ones(3, dtype=t.float64))",
    "baddbmm, double input": "t.baddbmm(t.ones(1, 2, 2).double(), t.ones(1, 2, 2), t.ones(1, 2, 2))",
    "baddbmm, double batches": "t.baddbmm(t.ones(1, 2, 2), t.ones(1, 2, 2).double(), t.ones(1, 2, 2).double())",
    "baddbmm, double second batch": "t.baddbmm(t.ones(1, 2, 2), t.ones(1, 2, 2), t.ones(1, 2, 2).double())",
    "bilinear": "F.bilinear(t.ones(2, 3), t.ones(2, 3).double(), t.ones(1, 3, 3))",
    "bilinear, double bias": "F.bilinear(t.ones(2, 3), t.ones(2, 3), t.ones(1, 3, 3), t.ones(1).double())",
    "integer products still work": "t.ones(2, 3, dtype=t.long) @ t.ones(3, 2, dtype=t.long)",
    "einsum contraction": "t.einsum('ij,jk->ik', t.ones(2, 2), t.ones(2, 2).double())",
    "einsum full contraction": "t.einsum('i,i', t.ones(3).double(), t.ones(3))",
    "einsum batched": "t.einsum('...ij,...jk->...ik', t.ones(3, 2, 2), t.ones(2, 2).double())",
    "einsum of three": "t.einsum('bn,anm,bm->ba', t.ones(2, 3), t.ones(4, 3, 5).double(), t.ones(2, 5))",
    "einsum, integers": "t.einsum('ij,jk->ik', t.ones(2, 2), t.ones(2, 2, dtype=t.long))",
    "einsum product promotes": "t.einsum('ij,kl->ijkl', t.ones(2, 2), t.ones(2, 2).double())",
    "einsum sums inside one operand": "t.einsum('ij,k->k', t.ones(2, 2), t.ones(2).double())",
}


@pytest.mark.parametrize("name", CASES)
def test_dtype_mismatch_as_torch(name):
    seen = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        x64 = lib.randn(2, 3, 4, dtype=lib.float64)
        try:
            out = eval(CASES[name], {"t": lib, "nn": lib.nn, "F": lib.nn.functional, "x64": x64})
            seen.append(("ok", str((out[0] if isinstance(out, tuple) else out).dtype)))
        except (RuntimeError, ValueError, NotImplementedError) as error:
            seen.append((type(error).__name__, str(error)))
    assert seen[0] == seen[1]
