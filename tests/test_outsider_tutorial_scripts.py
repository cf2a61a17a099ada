"""Scripts written the way PyTorch's tutorials and examples write them (their sources in each file's header), run in
this process twice, unchanged: with PyTorch, and with `import torch` resolving to gradscope. Everything they print
must agree: exactly, except the digits float rounding may move (each number to 1e-9 relative, the printed layout
exactly). Each script is small enough to run in well under a second on gradscope."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from outsider_helpers import printed_by

torch = pytest.importorskip("torch")

SCRIPTS = Path(__file__).resolve().parent / "data" / "outsider_tutorials"
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


@pytest.fixture
def one_thread():
    """PyTorch on one thread: its worker threads spin for the machine's few cores (seconds a script, not ~0.1 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", sorted(path.stem for path in SCRIPTS.glob("*.py")))
def test_the_script_prints_what_it_prints_under_pytorch(name, one_thread):
    theirs = printed_by(SCRIPTS / f"{name}.py", on_gradscope=False)
    ours = printed_by(SCRIPTS / f"{name}.py", on_gradscope=True)
    assert len(ours) == len(theirs), (ours, theirs)
    assert len(theirs) >= 5
    for a, b in zip(ours, theirs, strict=True):
        assert NUMBER.sub("#", a) == NUMBER.sub("#", b), (a, b)  # the same layout: shapes, grad_fn, dtypes
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b), strict=True):
            assert float(x) == pytest.approx(float(y), rel=1e-9, abs=1e-12), (a, b)
