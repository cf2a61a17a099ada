"""torch.utils for gradscope: `data` (datasets, samplers, DataLoader) and `checkpoint`."""

from gradscope.utils import checkpoint, data

__all__ = ["checkpoint", "data"]
