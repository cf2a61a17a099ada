"""torch.add, torch.div, torch.eq …: the binary arithmetic and comparison ops under their torch.* signatures,
which take `out=` (`torch.div(x, 0, out=x)`). The tensor methods and operators take none, as in PyTorch: they
stay the functions of gradscope.autograd.functions (one frame for the common case, see fused.py), and only a
call through the torch namespace pays for this one's frame."""

from __future__ import annotations

import functools
from collections.abc import Callable

from gradscope.autograd import functions as F
from gradscope.autograd.out_arg import write_out


def _with_out(name: str, function: Callable) -> Callable:
    """`function` taking `out=`; `name` is the op PyTorch's errors name (`div` for torch.divide too)."""

    @functools.wraps(function)
    def with_out(*args, out=None, **options):
        if out is None:
            return function(*args, **options)
        return write_out(name, function(*args, **options), out)

    return with_out


add = _with_out("add", F.add)
sub = subtract = _with_out("sub", F.sub)
mul = multiply = _with_out("mul", F.mul)
div = divide = true_divide = _with_out("div", F.div)
pow = _with_out("pow", F.pow)  # noqa: A001 - torch.pow
maximum = _with_out("maximum", F.maximum)
minimum = _with_out("minimum", F.minimum)
eq = _with_out("eq", F.eq)
ne = not_equal = _with_out("ne", F.ne)
lt = less = _with_out("lt", F.lt)
le = less_equal = _with_out("le", F.le)
gt = greater = _with_out("gt", F.gt)
ge = greater_equal = _with_out("ge", F.ge)
