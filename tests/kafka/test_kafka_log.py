"""The partition log: offsets, segments, retention per segment, compaction, truncation."""

from __future__ import annotations

from mqlab.kafka.log import RECORD_OVERHEAD, PartitionLog


def append(log: PartitionLog, keys: list, values: list, now_ms: int) -> int:
    size = sum(RECORD_OVERHEAD + len(k or b"") + len(v or b"") for k, v in zip(keys, values))
    return log.append(keys, values, None, [now_ms] * len(keys), size, now_ms)


def test_offsets_are_consecutive_from_zero() -> None:
    """Each appended record gets the next offset; the log end offset is the next one to assign."""
    log = PartitionLog()
    assert append(log, [None, None], [b"a", b"b"], 0) == 0
    assert append(log, [None], [b"c"], 0) == 2
    assert log.next_offset == 3 and log.log_start_offset == 0 and log.records == 3


def test_segment_rolls_at_segment_bytes_and_segment_ms() -> None:
    """A batch that would overflow segment.bytes, or arrives segment.ms after the segment began, rolls it."""
    log = PartitionLog(segment_bytes=200, segment_ms=1000)
    append(log, [None], [b"x" * 100], 0)
    append(log, [None], [b"x" * 100], 10)  # 170 + 170 > 200
    assert [s.base_offset for s in log.segments] == [0, 1]
    append(log, [None], [b"y"], 2000)  # the active segment is older than segment.ms
    assert [s.base_offset for s in log.segments] == [0, 1, 2]


def test_retention_deletes_whole_segments_by_their_newest_timestamp() -> None:
    """A segment goes only when its newest record is older than retention.ms; the log start offset moves."""
    log = PartitionLog(segment_bytes=200)
    for t in (0, 10, 20, 30):
        append(log, [None], [b"x" * 100], t)
    assert len(log.segments) == 4
    deleted = log.delete_expired(now_ms=1025, retention_ms=1000, retention_bytes=-1, upper=4)
    assert deleted == 3 and log.log_start_offset == 3  # segments with max ts 0, 10, 20 expired; 30 not yet
    assert log.next_offset == 4


def test_retention_rolls_an_expired_active_segment() -> None:
    """When the active segment expires too, it is deleted and a new empty one starts at the log end."""
    log = PartitionLog()
    append(log, [None, None], [b"a", b"b"], 0)
    assert log.delete_expired(now_ms=10_000, retention_ms=1000, retention_bytes=-1, upper=2) == 2
    assert log.log_start_offset == 2 and log.next_offset == 2 and log.records == 0
    assert append(log, [None], [b"c"], 10_000) == 2


def test_retention_never_passes_the_high_watermark() -> None:
    """Records not yet replicated (at or above the HW) are never deleted by retention."""
    log = PartitionLog(segment_bytes=200)
    for t in (0, 10):
        append(log, [None], [b"x" * 100], t)
    assert log.delete_expired(now_ms=10_000, retention_ms=1, retention_bytes=-1, upper=0) == 0


def test_size_retention_keeps_the_partition_under_retention_bytes() -> None:
    """retention.bytes deletes an oldest segment only if what remains is still >= the limit (Kafka's rule)."""
    log = PartitionLog(segment_bytes=200)
    for t in range(5):
        append(log, [None], [b"x" * 100], t)
    deleted = log.delete_expired(now_ms=5, retention_ms=-1, retention_bytes=350, upper=5)
    assert deleted == 2 and log.size == 3 * 170  # deleting a third would leave 340 < 350


def test_compaction_keeps_the_last_record_per_key_and_leaves_offset_gaps() -> None:
    """Only non-active segments are compacted; the latest value of each key stays at its offset."""
    log = PartitionLog(segment_bytes=250)
    for i, (k, v) in enumerate([(b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (b"c", b"1"), (b"a", b"3")]):
        append(log, [k], [v], i)
    removed = log.compact(now_ms=10, delete_retention_ms=86_400_000, upper=5)
    assert sorted(o for o, _ in removed) == [0]  # a=1 superseded within the cleanable segments
    offsets = [s.offset_at(i) for s in log.segments for i in range(len(s))]
    assert offsets == [1, 2, 3, 4]
    assert log.next_offset == 5


def test_tombstones_go_after_delete_retention() -> None:
    """A tombstone (value None) hides its key, and is itself removed after delete.retention.ms."""
    log = PartitionLog(segment_bytes=150)
    append(log, [b"a"], [b"1"], 0)
    append(log, [b"a"], [None], 1)
    append(log, [b"z"], [b"1"], 2)  # active segment
    log.compact(now_ms=5, delete_retention_ms=1000, upper=3)
    assert [s.values for s in log.segments if len(s)] == [[None], [b"1"]]
    log.compact(now_ms=5000, delete_retention_ms=1000, upper=3)
    assert log.records == 1


def test_truncate_removes_the_tail() -> None:
    """Truncation (a follower adopting a new leader's log) removes records at and above the offset."""
    log = PartitionLog(segment_bytes=200)
    for t in range(4):
        append(log, [None], [b"x" * 100], t)
    assert log.truncate(2) == 2
    assert log.next_offset == 2 and log.records == 2
    assert append(log, [None], [b"y"], 9) == 2


def test_offset_for_time_finds_the_first_record_at_or_after() -> None:
    """offset_for_time returns the earliest offset whose timestamp is >= the time, None past the end."""
    log = PartitionLog()
    for t in (100, 200, 300):
        append(log, [None], [b"v"], t)
    assert log.offset_for_time(150, 3) == 1
    assert log.offset_for_time(100, 3) == 0
    assert log.offset_for_time(301, 3) is None
