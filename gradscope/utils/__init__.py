"""torch.utils for gradscope: `data` (datasets, samplers, DataLoader)."""

from gradscope.utils import data

__all__ = ["data"]
