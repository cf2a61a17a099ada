"""torch.signal: window functions (torch.signal.windows)."""

from gradscope.signal import windows

__all__ = ["windows"]
