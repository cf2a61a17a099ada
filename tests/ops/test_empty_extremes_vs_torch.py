"""max/min/argmax/argmin/amax/amin of an empty tensor as PyTorch's: along an empty dim (or over every element)
PyTorch's IndexError/RuntimeError, not NumPy's ValueError ("attempt to get argmax of an empty sequence"); along a
non-empty dim an empty result."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")

CALLS = {
    "max_dim0": lambda T, z: T.max(z, 0), "max_dim1": lambda T, z: T.max(z, 1),
    "min_dim0": lambda T, z: z.min(0), "min_dim1_keepdim": lambda T, z: T.min(z, 1, keepdim=True),
    "argmax_all": lambda T, z: T.argmax(z), "argmax_dim0": lambda T, z: z.argmax(0),
    "argmax_dim1": lambda T, z: T.argmax(z, 1),
    "argmin_all": lambda T, z: z.argmin(), "argmin_dim_negative": lambda T, z: T.argmin(z, -2),
    "amax_all": lambda T, z: T.amax(z), "amax_dim0": lambda T, z: T.amax(z, 0),
    "amax_dims": lambda T, z: z.amax((0, 1)),
    "amax_dim1": lambda T, z: T.amax(z, 1), "amin_all": lambda T, z: z.amin(), "amin_dim0": lambda T, z: T.amin(z, 0),
}


def _outcome(lib, call):
    try:
        result = call(lib, lib.zeros(0, 3))
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return type(error), str(error)
    return [tuple(part.shape) for part in (result if isinstance(result, tuple) else (result,))]


@pytest.mark.parametrize("call", CALLS)
def test_as_pytorch(call):
    assert _outcome(gradscope, CALLS[call]) == _outcome(torch, CALLS[call])
