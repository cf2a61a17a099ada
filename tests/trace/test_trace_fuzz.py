"""Seeded mutation fuzzing: every mutant of a real trace file is loaded (then exported and browsed without
error) or refused with TraceFormatError, which the CLI turns into exit code 2.

The mutation classes live in trace_mutants.py, shared with bench/fuzz_traces.py (which runs ten thousand
and measures each one's time and memory). A failure names the seed: `mutant(original, seed)` rebuilds it.
"""

from collections import Counter

import pytest
from trace_mutants import CLASSES, exercise, legacy_sample_bytes, mutant, sample_bytes
from typer.testing import CliRunner

from gradscope.cli import app

PER_CLASS = 15  # mutants of each class per run: 210 in all


@pytest.fixture(scope="module", params=["packed", "schema 2"])
def original(request) -> bytes:
    """The real trace as this gradscope writes it, and as schema 2 did (its arrays as .npy members)."""
    return sample_bytes() if request.param == "packed" else legacy_sample_bytes()


def test_the_real_trace_loads_exports_and_browses(original, tmp_path):
    path = tmp_path / "sample.gstrace"
    path.write_bytes(original)
    assert exercise(path) == "loaded"


@pytest.mark.parametrize("kind", CLASSES)
def test_mutants_load_or_are_refused(kind, original, tmp_path):
    outcomes = Counter()
    for seed in range(CLASSES.index(kind), PER_CLASS * len(CLASSES), len(CLASSES)):
        _, data = mutant(original, seed)
        path = tmp_path / f"{seed}.gstrace"
        path.write_bytes(data)
        try:
            outcomes[exercise(path)] += 1
        except Exception as error:
            raise AssertionError(f"mutant {seed} ({kind}) crashed: {type(error).__name__}: {error}") from error
        path.unlink()
    assert sum(outcomes.values()) == PER_CLASS


def test_the_cli_exits_2_on_refused_mutants(tmp_path):
    """The first mutant refused by load_trace, and the first whose array fails only during export (a
    schema 2 file: packed arrays are all read, and checked, when the file is opened)."""
    original = legacy_sample_bytes()
    refused = {}
    for seed in range(PER_CLASS * len(CLASSES)):
        path = tmp_path / f"{seed}.gstrace"
        path.write_bytes(mutant(original, seed)[1])
        refused.setdefault(exercise(path), path)
        if {"refused", "refused late"} <= set(refused):
            break
    for outcome in ("refused", "refused late"):
        result = CliRunner().invoke(app, ["export", str(refused[outcome]), "--format", "json"])
        assert result.exit_code == 2, (outcome, refused[outcome].name, result.output)
        assert "error: " in result.output and "Traceback" not in result.output
