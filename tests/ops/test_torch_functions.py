"""What the torch.* functions beyond the basics show a user besides gradients: `out=`, result dtypes,
errors and warnings, each snippet run on gradscope and on torch (see tests/conftest.py)."""

from __future__ import annotations

import pytest

SNIPPETS = {
    "out= writes into the given tensor, casting to its dtype": ("""
        x = torch.tensor([0.25, 0.5])
        out = torch.empty(2, dtype=torch.float64)
        r = torch.acos(x, out=out)
        print(r is out, out.dtype, torch.lerp(x, x * 2, 0.5, out=torch.empty(2)))
        print(torch.fmod(torch.tensor([5, 6, 7]), 2, out=torch.empty(3, dtype=torch.long)))
    """, None),
    "out= with another shape is resized, with PyTorch's warning when it had elements": ("""
        out = torch.empty(0)
        torch.expm1(torch.tensor([0.0, 1.0]), out=out)
        print(out.shape)
        out = torch.zeros(3)
        torch.xlogy(torch.tensor([1.0, 2.0]), 2.0, out=out)
        print(out.shape)
    """, None),
    "out= refuses tensors that require grad": ("""
        x = torch.tensor([0.5], requires_grad=True)
        torch.atan2(x, x, out=torch.empty(1))
    """, "RuntimeError: atan2(): functions with out=... arguments don't support automatic differentiation, but one "
         "of the arguments requires grad."),
    "out= can't narrow a float result to an integer tensor": ("""
        torch.log2(torch.tensor([2.0]), out=torch.empty(1, dtype=torch.long))
    """, "RuntimeError: result type Float can't be cast to the desired output type Long"),
    "integers give floats, except fmod/remainder/nan_to_num": ("""
        i = torch.tensor([1, 2, 4])
        print(i.log2(), torch.atan2(i, i).dtype, torch.xlogy(i, 2).dtype, torch.xlogy(2, i).dtype, i.lgamma().dtype)
        print(i.fmod(3), torch.remainder(i, 3), i.remainder(2.5), i.nan_to_num().dtype, torch.polygamma(1, i).dtype)
    """, None),
    "float32 stays float32": ("""
        x = torch.tensor([0.5, 1.5])
        print(x.digamma().dtype, x.erfinv().dtype, x.xlogy(2.0).dtype, x.logaddexp(x).dtype, x.lerp(x, 0.1).dtype)
    """, None),
    "integer fmod by zero": ("torch.fmod(torch.tensor([5, 6]), 0)", "RuntimeError: ZeroDivisionError"),
    "integer remainder by a zero tensor": ("torch.tensor([5, 6]).remainder(torch.tensor([1, 0]))",
                                          "RuntimeError: ZeroDivisionError"),
    "frac of integers": ("torch.tensor([1, 2]).frac()", "NotImplementedError: \"frac_cpu\" not implemented for 'Long'"),
    "logaddexp of integers": ("torch.logaddexp(torch.tensor([1]), torch.tensor([2]))",
                              "NotImplementedError: \"logaddexp_cpu\" not implemented for 'Long'"),
    "lerp wants one dtype": ("torch.lerp(torch.rand(2), torch.rand(2, dtype=torch.float64), 0.5)",
                             "RuntimeError: expected dtype float for `end` but got dtype double"),
    "special values": ("""
        x = torch.tensor([0.0, -0.0, -1.0, 1.0, float('inf'), float('-inf'), float('nan')], dtype=torch.float64)
        print(x.lgamma(), x.digamma(), torch.polygamma(2, x), sep='\\n')
        print(torch.tensor([1.0, -1.0, 0.0, 1.5]).erfinv())
        print(torch.xlogy(torch.tensor([0.0, 0.0]), torch.tensor([0.0, float('nan')])))
        print(x.nan_to_num(), x.nan_to_num(1.0, 2.0, -2.0), sep='\\n')
    """, None),
    "in place keeps the tensor and bumps its version": ("""
        x = torch.tensor([0.25, 0.5])
        y = x.asin_()
        print(y is x, x._version, x.lerp_(torch.ones(2), torch.tensor([0.5, 1.0])), x._version)
    """, None),
    "scans: integer sums and products are int64, cummax keeps the dtype and names its result": ("""
        i = torch.tensor([3, 1, 2], dtype=torch.int32)
        print(i.cumsum(0), torch.tensor([True, True]).cumsum(0), i.cumprod(0).dtype, i.cumsum(0, dtype=torch.float32))
        print(torch.cummax(i, 0))
        print(torch.cummin(torch.tensor(2.0), 0), torch.tensor(2.0).cumsum(-1))
    """, None),
    "scans write into out=, cummax into a pair": ("""
        x = torch.tensor([[1.0, 3.0], [2.0, 0.0]])
        values, indices = torch.empty(0), torch.empty(0, dtype=torch.long)
        r = torch.cummax(x, 1, out=(values, indices))
        print(r[0] is values, values, indices)
        print(torch.cumsum(x, 0, out=torch.empty(2, 2)), torch.logcumsumexp(x, 1, out=torch.empty(2, 2)))
    """, None),
    "logcumsumexp of integers": ("torch.tensor([1, 2]).logcumsumexp(0)",
                                 "NotImplementedError: \"logcumsumexp_out_cpu\" not implemented for 'Long'"),
    "diff: bools are xor-ed, prepend and append are joined on, n beyond the length leaves nothing": ("""
        print(torch.diff(torch.tensor([True, False, False])), torch.tensor([1, 3, 6]).diff(n=5))
        print(torch.diff(torch.tensor([1, 3, 6]), prepend=torch.tensor([0]), append=torch.tensor([10])))
        print(torch.diff(torch.tensor([[1.0, 4.0], [2.0, 8.0]]), dim=0, out=torch.empty(1, 2)))
    """, None),
    "diff of a 0-dim tensor": ("torch.diff(torch.tensor(1.0))",
                               "RuntimeError: diff expects input to be at least one-dimensional"),
    "diff with a prepend of other dims": ("torch.diff(torch.tensor([1.0, 2.0]), prepend=torch.tensor(0.0))",
                                          "RuntimeError: diff expects prepend or append to be the same dimension as "
                                          "input"),
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_matches_torch(oracle, name):
    source, error = SNIPPETS[name]
    oracle.check(source, error=error)
