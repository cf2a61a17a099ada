"""Numbers in the inspect report are honest (issue 13 §5): whole-tensor norms, four significant digits,
broken gradients listed first, never a number cut in a narrow terminal."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from gradscope.cli.render import parameter_table
from gradscope.trace.model import Parameter, PassRecord, TensorRecord, Trace


def _trace() -> Trace:
    """Three parameters in model order: a fine one, one with 8 NaN gradient entries, one without a gradient."""
    trace = Trace(meta={"script": "model.py"})
    record = PassRecord(index=0)
    weight = TensorRecord(values=np.ones((4, 250), dtype=np.float32))
    tiny = np.full((4, 250), 1e-19 / np.sqrt(1000), dtype=np.float32)
    broken = np.full((4, 250), 0.08 / np.sqrt(992), dtype=np.float32)
    broken[0, :8] = np.nan
    for node, (name, grad) in enumerate([("model.encoder.layers.0.self_attention.in_projection.weight", tiny),
                                         ("model.head.weight", broken), ("model.unused.weight", None)]):
        trace.parameters.append(Parameter(name, node if grad is not None else None, weight, name.rpartition(".")[0]))
        if grad is not None:
            record.leaf_grads[node] = TensorRecord(values=grad)
    trace.passes.append(record)
    return trace


def _render(width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None, force_terminal=False)
    console.print(parameter_table(_trace()))
    return console.export_text().splitlines()


def _cells(lines: list[str], name_start: str) -> list[str]:
    row = next(line for line in lines if line.startswith("│ " + name_start))
    return [cell.strip() for cell in row.split("│")[1:-1]]


def test_a_gradient_with_nan_entries_shows_a_nan_norm_and_comes_first():
    lines = _render(160)
    rows = [line for line in lines if line.startswith("│ model.")]
    assert rows[0].startswith("│ model.head.weight")  # not in second place, behind the finite gradient
    assert _cells(lines, "model.head")[2:] == ["nan", "—", "0%", "8"]  # not the finite part's norm 0.08


def test_tiny_norms_keep_four_significant_digits():
    assert _cells(_render(160), "model.encoder")[2:4] == ["1e-19", "3.162e-21"]


def test_a_narrow_terminal_never_cuts_a_number():
    for width in (80, 70):
        lines = _render(width)
        assert _cells(lines, "model.enc")[1:4] == ["[4, 250]", "1e-19", "3.162e-21"], "\n".join(lines)
        assert not any("…" in line for line in lines)
