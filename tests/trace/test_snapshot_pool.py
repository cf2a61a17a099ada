"""Snapshots: copies of recorded arrays in recycled memory, summarised when first read."""

import copy
import threading

import numpy as np

from gradscope._stats import compute_stats
from gradscope.trace import snapshots
from gradscope.trace.model import TensorRecord


def test_a_snapshot_keeps_the_memory_order_of_its_array():
    array = np.random.default_rng(0).standard_normal((40, 30)).T  # F-ordered
    for _ in range(2):  # fresh memory, then the same memory recycled
        copied = snapshots.snapshot(array)
        assert copied.flags.f_contiguous and np.array_equal(copied, array)
        assert compute_stats(copied) == compute_stats(array)
        snapshots.release(copied)


def test_recycled_memory_never_changes_what_a_record_shows():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((70, 80)) for _ in range(3)]
    records = [TensorRecord.capture(array, keep_limit=100) for array in arrays]
    records[0].stats  # noqa: B018 - its memory goes back to the pool ...
    later = TensorRecord.capture(rng.standard_normal((70, 80)), keep_limit=100)  # ... and is written again
    for record, array in zip(records, arrays):
        assert record.stats == compute_stats(array)
    assert later.stats.shape == (70, 80)


def test_a_copied_record_shares_no_snapshot():
    array = np.arange(5000.0)
    record = TensorRecord.capture(array, keep_limit=100)
    twin = copy.deepcopy(record)
    assert record.pending_bytes == twin.pending_bytes == 0
    assert twin.stats == record.stats == compute_stats(array)


def test_records_read_from_several_threads_give_their_memory_back_once():
    arrays = [np.full((60, 70), float(i)) for i in range(8)]
    records = [TensorRecord.capture(array, keep_limit=100) for array in arrays]
    threads = [threading.Thread(target=lambda: [record.stats for record in records]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pooled = [buffer.__array_interface__["data"][0] for buffers in snapshots._free.values() for buffer in buffers]
    assert len(pooled) == len(set(pooled))
    assert [record.stats.mean for record in records] == [float(i) for i in range(8)]


def test_a_record_dropped_unread_gives_its_snapshot_back_to_the_pool():
    """A snapshot made as the record is (a copy), for memory it could not hold, or before a write into memory it
    held: a record dropped unread gives its memory back, once."""
    from gradscope.autograd import writes

    def pooled():
        return [buffer.__array_interface__["data"][0] for buffers in snapshots._free.values() for buffer in buffers]

    def written_while_held(array):
        record = TensorRecord.hold(writes.allocated(array))
        writes.before_write(array)
        return record

    unowned = np.frombuffer(bytearray(np.arange(4000.0).tobytes()), dtype=np.float64)  # memory NumPy doesn't own
    for make, array in ((lambda a: TensorRecord.capture(a, keep_limit=100), np.arange(4000.0)),
                        (TensorRecord.hold, unowned), (written_while_held, np.arange(4000.0))):
        record = make(array)
        address = record._snapshot.__array_interface__["data"][0]
        assert address not in pooled()
        del record
        assert pooled().count(address) == 1
        copied = copy.copy(make(array))  # the copy's original is summarised: its memory is back, its drop gives none
        assert pooled().count(address) == 1 and copied.stats == compute_stats(array)


def test_captured_values_are_kept_for_the_dtypes_trace_files_store_in_either_byte_order():
    """bool, integers and float16/32/64 keep their values, in either byte order; others are a snapshot (statistics)."""
    stored = ["?", "i1", "u1", "<i2", ">i2", "<u4", ">u4", "<i8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8"]
    for code in [*stored, "<c8", ">c16"] + ([] if np.dtype("g").itemsize == 8 else ["g"]):
        array = np.zeros(3, dtype=code)
        record = TensorRecord.capture(array, 3)
        assert record.has_values == (code in stored), code
        assert record.stats.dtype == array.dtype.name and record.stats.numel == 3
