"""Anomaly mode state (process-wide, as in PyTorch)."""

from __future__ import annotations

_enabled = False
_check_nan = True


def is_anomaly_enabled() -> bool:
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _check_nan
