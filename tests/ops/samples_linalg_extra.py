"""Sample calls of the torch.linalg functions added in session 17 (multi_dot, vecdot, vander, cross, diagonal, and
the LU, least-squares and eigen families as they land). Each is `(name, fn, shapes, options)`, as in
samples_linalg_nn.py; samples.py turns them into Samples on float64 inputs."""

from __future__ import annotations

Call = tuple  # (name, fn(lib, *inputs), input shapes, Sample options)


def _call(name: str, fn, shapes, **options) -> Call:
    return name, fn, shapes, options


def _products() -> list[Call]:
    return [
        _call("linalg_multi_dot_two", lambda lib, a, b: lib.linalg.multi_dot([a, b]), ((2, 3), (3, 2))),
        _call("linalg_multi_dot_three", lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), ((4, 1), (1, 4), (4, 1))),
        _call("linalg_multi_dot_chain", lambda lib, a, b, c, d: lib.linalg.multi_dot((a, b, c, d)),
              ((3,), (3, 2), (2, 4), (4,))),
        _call("linalg_vecdot", lambda lib, x, y: lib.linalg.vecdot(x, y), ((2, 3), (3,))),
        _call("linalg_vecdot_dim", lambda lib, x, y: lib.linalg.vecdot(x, y, dim=0), ((2, 3), (2, 1))),
        _call("linalg_vander", lambda lib, x: lib.linalg.vander(x), ((3,),)),
        _call("linalg_vander_batched_N", lambda lib, x: lib.linalg.vander(x, N=4), ((2, 2),)),
        _call("linalg_cross", lambda lib, x, y: lib.linalg.cross(x, y), ((2, 3), (1, 3))),
        _call("linalg_diagonal", lambda lib, a: lib.linalg.diagonal(a, offset=1), ((2, 3, 3),)),
    ]


def linalg_extra_calls() -> list[Call]:
    return _products()
