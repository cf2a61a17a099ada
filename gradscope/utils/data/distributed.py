"""DistributedSampler: each of `num_replicas` processes reads its own strided share of the (shuffled, padded or
trimmed) indices. Its shuffle is PyTorch's: randperm from a generator seeded with seed + epoch, so the shares
equal PyTorch's. Without num_replicas or rank it asks the process group, which gradscope never has (as
torch.distributed answers before init_process_group).

>>> list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False))
[1, 3, 0]
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from gradscope.autograd.factories import randperm
from gradscope.autograd.generator import Generator
from gradscope.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]

# NOTE: what gradscope.distributed.get_world_size()/get_rank() raise (that layer is not importable from here)
_NO_PROCESS_GROUP = ("Default process group has not been initialized, please make sure to call "
                     "init_process_group.")


class DistributedSampler(Sampler):
    """The indices of `dataset` this replica reads, `len(self)` of them; call `set_epoch` each epoch to reshuffle."""

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            raise ValueError(_NO_PROCESS_GROUP)
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        size = len(dataset)
        if drop_last and size % num_replicas != 0:
            self.num_samples = math.ceil((size - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(size / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        size = len(self.dataset)
        if self.shuffle:
            generator = Generator()
            generator.manual_seed(self.seed + self.epoch)
            indices = randperm(size, generator=generator).tolist()
        else:
            indices = list(range(size))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:  # padded with indices from the start (repeated as often as needed) to a multiple of the replicas
            missing = self.total_size - len(indices)
            indices += (indices * math.ceil(missing / len(indices)))[:missing] if missing > len(indices) else \
                indices[:missing]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        share = indices[self.rank:self.total_size:self.num_replicas]
        if len(share) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(share)}) does not match num_samples "
                                 f"({self.num_samples})")
        return iter(share)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose shuffle the next iteration uses (seed + epoch)."""
        self.epoch = epoch
