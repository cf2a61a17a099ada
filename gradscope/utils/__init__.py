"""torch.utils for gradscope: `data` (datasets, samplers, DataLoader), `checkpoint` and `benchmark`."""

from gradscope.utils import benchmark, checkpoint, data

__all__ = ["benchmark", "checkpoint", "data"]
