"""float_text writes float32 and float16 values exactly as json.dumps writes the doubles they convert to."""

import json

import numpy as np
import pytest

from gradscope.trace import float_text


def _reference(values: np.ndarray, separators: list[str], kinds: np.ndarray) -> str:
    """Each value as the export's reference writes it (non-finite ones as strings), then its separator."""
    texts = []
    for value, kind in zip(values.ravel().tolist(), kinds.tolist()):
        if value != value or value in (float("inf"), float("-inf")):
            value = "nan" if value != value else "inf" if value > 0 else "-inf"
        texts.append(json.dumps(value) + separators[kind])
    return "".join(texts)


def _edges() -> np.ndarray:
    """Zeros, non-finite values, the extremes, every power of two and of ten and their neighbours."""
    with np.errstate(over="ignore"):
        exact = np.array([0.0, np.nan, np.inf, 1.5, 123456.75, 9.999999e15, 1e-4, 9.9999e-5, 3.4028235e38,
                          1.4e-45, 1.17549435e-38, *(10.0**k for k in range(-45, 39))], np.float32)
        exact = np.concatenate([exact, np.ldexp(np.float32(1), np.arange(-149, 128)).astype(np.float32)])
        near = np.concatenate([np.nextafter(exact, np.float32(np.inf)), np.nextafter(exact, np.float32(-np.inf))])
    every = np.concatenate([exact, near])
    return np.concatenate([every, -every])


def _random_bits(count: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 2**32, count, dtype=np.uint64).astype(np.uint32).view(np.float32)


@pytest.mark.parametrize("values", [
    _edges(),
    _random_bits(50_000),  # every exponent, sign, subnormals, NaN payloads
    np.random.default_rng(1).uniform(-0.25, 0.25, 20_000).astype(np.float32),  # a layer's weights
    np.arange(-3000, 3000, dtype=np.float32) / 8,  # short decimals, integers
    np.arange(2**16, dtype=np.uint16).view(np.float16),  # every float16
], ids=["edges", "random bits", "weights", "short decimals", "every float16"])
def test_values_are_written_as_json_writes_their_doubles(values):
    separators = [",", ";\n  ", "]END"]
    kinds = np.arange(values.size, dtype=np.int8) % 3
    assert float_text.join(values, separators, kinds) == _reference(values, separators, kinds)


def test_values_the_margin_leaves_in_doubt_are_written_by_repr(monkeypatch):
    monkeypatch.setattr(float_text, "_MARGIN", 0.3)  # most values in doubt: repr writes them
    values = np.concatenate([_edges(), np.random.default_rng(2).standard_normal(5_000).astype(np.float32)])
    kinds = np.zeros(values.size, np.int8)
    assert float_text.join(values, [", "], kinds) == _reference(values, [", "], kinds)


def test_no_values_no_text():
    assert float_text.join(np.zeros(0, np.float32), [","], np.zeros(0, np.int8)) == ""
