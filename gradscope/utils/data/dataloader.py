"""DataLoader: batches from a dataset, in-process.

`num_workers > 0` is accepted and runs in the main process (with a warning): gradscope's tensors are
NumPy arrays and loading rarely dominates the small models it debugs.
"""

from __future__ import annotations

import itertools
import warnings

from gradscope.autograd.factories import draw_seed
from gradscope.utils.data.collate import default_collate, default_convert
from gradscope.utils.data.dataset import IterableDataset
from gradscope.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, optionally shuffled by `generator`.

        loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
        for xb, yb in loader:
            ...
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if num_workers > 0:
            warnings.warn(f"gradscope's DataLoader loads in the main process; num_workers={num_workers} is ignored",
                          stacklevel=2)
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers
        self._iterator_made = False  # PyTorch makes a persistent workers' iterator once, and resets it after
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    def __iter__(self):
        # PyTorch's iterator draws its workers' base seed when it is made (unused in-process, but it moves the
        # random stream the script's own draws come from): every epoch, except that persistent workers' iterator
        # is made once and only reset after
        if not (self._iterator_made and self.persistent_workers and self.num_workers > 0):
            if self.pin_memory:
                warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                              "memory won't be used.", UserWarning, stacklevel=2)
            draw_seed(self.generator)
        self._iterator_made = True
        if self._iterable:
            return self._iterate_stream()
        return self._iterate_map()

    def _iterate_map(self):
        if not self._auto_collation:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            samples = getitems(indices) if callable(getitems) else [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _iterate_stream(self):
        stream = iter(self.dataset)
        if not self._auto_collation:
            for sample in stream:
                yield self.collate_fn(sample)
            return
        while batch := list(itertools.islice(stream, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self.batch_sampler if self._auto_collation else self.sampler)


def get_worker_info() -> None:
    """Always None: gradscope loads in the main process, which is never a worker."""
    return None


class _InfiniteConstantSampler:
    """The placeholder sampler of an IterableDataset: the stream decides what comes next."""

    def __iter__(self):
        while True:
            yield None
