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
    "diagonal, narrow, select, movedim and unfold are views; flip, roll and diag are copies": ("""
        x = torch.arange(6.0).reshape(2, 3)
        views = [x.diagonal(), x.narrow(1, 1, 2), x.select(0, 1), x.movedim(0, 1), x.unfold(1, 2, 1), x.swapaxes(0, 1)]
        copies = [x.flip(0), x.roll(1), torch.diag(x), x.rot90(), x.tril(), x.repeat(1, 1)]
        print([v._base is x for v in views], [c._base is None for c in copies])
        x.diagonal().mul_(10)
        print(x, x.narrow(1, 1, 2).is_contiguous())
    """, None),
    "broadcast_tensors returns a tensor already of the shape as it is": ("""
        a, b = torch.ones(2, 3), torch.zeros(3)
        c, d = torch.broadcast_tensors(a, b)
        print(c is a, d.shape, torch.broadcast_shapes((2, 1), (3,)), torch.broadcast_to(b, (2, 3)).stride())
    """, None),
    "repeat_interleave: numbers, tensors of counts, and counts alone": ("""
        x = torch.tensor([[1, 2], [3, 4]])
        print(x.repeat_interleave(2), torch.repeat_interleave(x, torch.tensor([1, 2]), dim=0))
        print(torch.repeat_interleave(torch.tensor([2, 0, 1])))
    """, None),
    "index functions keep integer dtypes and write into out=": ("""
        x = torch.tensor([[1, 2, 3], [4, 5, 6]])
        i = torch.tensor([[0, 2], [1, 0]])
        print(x.take(torch.tensor([-1, 0])), x.index_select(1, torch.tensor([2, 0])), x.scatter(1, i, 9))
        print(x.scatter_add(1, i, x[:, :2]), x.scatter_reduce(1, i, x[:, :2], "mean"))
        print(x.index_fill(0, torch.tensor([1]), 0))
        print(x.masked_select(x > 2), torch.masked_select(x, x > 4, out=torch.empty(0, dtype=torch.long)))
        print(torch.index_select(x, 0, torch.tensor([1]), out=torch.empty(1, 3, dtype=torch.long)), x.trace())
        print(torch.take(x, torch.tensor([5]), out=torch.empty(1, dtype=torch.long)),
              torch.scatter(x, 1, i, 0, out=torch.empty(2, 3, dtype=torch.long)),
              torch.scatter_add(x, 1, i, x, out=torch.empty(2, 3, dtype=torch.long)),
              torch.scatter_reduce(x, 1, i, x, "amin", out=torch.empty(2, 3, dtype=torch.long)))
    """, None),
    "in-place index functions": ("""
        x = torch.zeros(2, 3)
        x.index_add_(1, torch.tensor([0, 0]), torch.ones(2, 2)).index_fill_(0, torch.tensor([1]), -1.0)
        x.scatter_(1, torch.tensor([[2]]), 5.0).scatter_add_(0, torch.tensor([[1, 1, 1]]), torch.ones(1, 3))
        x.put_(torch.tensor([0, -1]), torch.tensor([7.0, 8.0]))
        x.scatter_reduce_(0, torch.tensor([[0, 0, 0]]), torch.full((1, 3), 3.0), "amax")
        print(x, x._version, x.tril_(-1).triu_(-1))
    """, None),
    "take out of range": ("torch.zeros(2, 2).take(torch.tensor([4]))",
                          "IndexError: out of range: tried to access index 4 on a tensor of 4 elements."),
    "scatter_reduce needs a known reduction": (
        "torch.zeros(3).scatter_reduce(0, torch.tensor([0]), torch.ones(1), 'add')",
        "RuntimeError: reduce argument must be either sum, prod, mean, amax or amin, got add"),
    "scatter_reduce takes max and min for amax and amin": (
        "print(torch.zeros(3).scatter_reduce(0, torch.tensor([0, 1]), torch.tensor([1.0, -1.0]), 'max'))", None),
    "narrow beyond the end": ("torch.zeros(2, 3).narrow(1, 2, 2)",
                              "RuntimeError: start (2) + length (2) exceeds dimension size (3)."),
    "select out of range": ("torch.zeros(2, 3).select(1, 3)",
                            "IndexError: select(): index 3 out of range for tensor of size [2, 3] at dimension 1"),
    "tril of a vector": ("torch.zeros(3).tril()", "RuntimeError: tril: input tensor must have at least 2 dimensions"),
    "rot90 of a vector": ("torch.zeros(3).rot90()", "RuntimeError: expected total dims >= 2, but got total dims = 1"),
    "repeat with fewer sizes than dims": (
        "torch.zeros(2, 3).repeat(2)", "RuntimeError: Number of dimensions of repeat dims can not be smaller than "
                                       "number of dimensions of tensor"),
    "unfold with a window larger than the dim": (
        "torch.zeros(2, 3).unfold(1, 4, 1)", "RuntimeError: maximum size for tensor at dimension 1 is 3 but size is 4"),
    "diagonal of one dim": ("torch.zeros(2, 3).diagonal(0, 1, -1)",
                            "RuntimeError: diagonal dimensions cannot be identical 1, -1"),
    "argsort, unique and searchsorted give integer tensors and no gradient": ("""
        x = torch.tensor([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
        print(x.argsort(), torch.argsort(x, 0, descending=True), x.argsort(stable=True).requires_grad)
        print(torch.unique(x), x.unique(return_counts=True), torch.unique(torch.tensor([3, 1, 3]), return_inverse=True))
        print(torch.unique(torch.tensor([[1, 2], [1, 2], [0, 1]]), dim=0, return_inverse=True, return_counts=True))
        s = torch.tensor([1.0, 3.0, 5.0])
        print(torch.searchsorted(s, torch.tensor([[3.0, 6.0], [0.0, 1.0]])), torch.searchsorted(s, 3.0, right=True))
        print(torch.searchsorted(s, torch.tensor([3.0]), side="right", out_int32=True))
        print(torch.searchsorted(torch.tensor([[1, 3, 5], [2, 4, 6]]), torch.tensor([[3, 4], [5, 1]])))
        print(torch.searchsorted(torch.tensor([5, 1, 3]), torch.tensor([2]), sorter=torch.tensor([1, 2, 0])))
    """, None),
    "sort, topk and median results are named tuples, written into out=": ("""
        x = torch.tensor([[3, 1, 2], [0, 5, 4]])
        print(x.sort(), torch.topk(x, 2, largest=False), x.median(1, keepdim=True), x.median(), torch.msort(x))
        values, indices = torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
        torch.sort(x, 0, descending=True, out=(values, indices))
        print(values, indices)
        print(type(torch.var_mean(torch.ones(2))).__name__, torch.std_mean(torch.tensor([1.0, 3.0]), correction=0))
    """, None),
    "unique records a node that refuses backward": ("""
        x = torch.tensor([2.0, 1.0, 2.0], requires_grad=True)
        print(x.unique(), x.unique(dim=0, return_inverse=True))
        x.unique().sum().backward()
    """, "NotImplementedError: the derivative for '_unique2' is not implemented."),
    "nansum of integers is int64": ("print(torch.tensor([1, 2], dtype=torch.int32).nansum().dtype)", None),
    "nanmean of integers": ("torch.tensor([1, 2]).nanmean()",
                            "RuntimeError: nanmean(): expected input to have floating point or complex dtype but got "
                            "Long"),
    "topk beyond the size": ("torch.zeros(3).topk(4)", "RuntimeError: selected index k out of range"),
    "products of integers stay integers": ("""
        i = torch.tensor([[1, 2], [3, 4]])
        print(torch.kron(i, i[0]), torch.tensordot(i, i), torch.tensordot(i, i, ([0], [1])))
        print(torch.cartesian_prod(i[0], i[1]), torch.meshgrid(i[0], i[1], indexing="xy"))
        print(torch.cross(torch.tensor([1, 0, 0]), torch.tensor([0, 1, 0]), dim=0))
        print(torch.baddbmm(torch.zeros(1, 2, 2, dtype=torch.long), i[None], i[None], alpha=2))
    """, None),
    "cdist and dist": ("""
        a, b = torch.tensor([[0.0, 0.0], [3.0, 4.0]]), torch.tensor([[0.0, 0.0]])
        print(torch.cdist(a, b), torch.cdist(a, b, p=1), torch.cdist(a, b, 0), torch.dist(a, b), torch.dist(a, b, 1))
    """, None),
    "tensordot with mismatched sizes": (
        "torch.tensordot(torch.zeros(2, 3), torch.zeros(2, 3), 1)",
        "RuntimeError: contracted dimensions need to match, but first has size 3 in dim -1 and second has size 2 in "
        "dim 0"),
    "cross needs length 3": ("torch.cross(torch.zeros(2, 2), torch.zeros(2, 2), dim=1)",
                             "RuntimeError: linalg.cross: inputs dimension 1 must have length 3. Got 2 and 2"),
    "cdist needs matching columns": ("torch.cdist(torch.zeros(2, 3), torch.zeros(2, 2))",
                                     "RuntimeError: X1 and X2 must have the same number of columns. X1: 3 X2: 2"),
    "softmax, log_softmax and logsumexp over an empty dim": ("""
        x = torch.ones(2, 0, requires_grad=True)
        for f in (torch.softmax, torch.log_softmax, torch.nn.functional.softmax, torch.nn.functional.log_softmax):
            y = f(x, 1)
            y.sum().backward()
            print(y.shape, y.grad_fn.name(), x.grad.shape)
        print(torch.logsumexp(torch.ones(2, 0), 1), torch.ones(3, 0).log_softmax(0).shape)
    """, None),
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_matches_torch(oracle, name):
    source, error = SNIPPETS[name]
    oracle.check(source, error=error)
