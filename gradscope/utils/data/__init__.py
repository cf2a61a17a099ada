"""torch.utils.data for gradscope: datasets, samplers, DataLoader and the default collate.

Loading runs in the calling process; `num_workers > 0` is accepted with a warning.

    from gradscope.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True)
"""

from gradscope.utils.data.collate import default_collate, default_convert
from gradscope.utils.data.dataloader import DataLoader, get_worker_info
from gradscope.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from gradscope.utils.data.distributed import DistributedSampler
from gradscope.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset",
    "RandomSampler",
    "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset",
    "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info", "random_split",
]
