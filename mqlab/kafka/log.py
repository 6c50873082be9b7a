"""The partition log: an append-only sequence of records stored in segments.

A partition's log is a list of :class:`Segment` objects. Each segment stores its
records *column-wise* (parallel lists/arrays of keys, values, timestamps), not one
object per record: a retained record costs a few pointers and two machine words,
which is what lets a notebook keep a million records in memory.

Vocabulary (Kafka's):

* **log start offset**: the first offset still in the log (moves up when retention
  deletes whole segments);
* **log end offset** (LEO): the offset the next record will get;
* **segment**: the unit of retention and compaction; the last one is the *active*
  segment, which new records go to. A segment rolls when it reaches ``segment.bytes``
  or is older than ``segment.ms``;
* **retention** (``cleanup.policy=delete``): a whole segment is deleted when its newest
  timestamp is older than ``retention.ms``, or while the partition is larger than
  ``retention.bytes`` without it. Kafka rolls the active segment when it expires too;
* **compaction** (``cleanup.policy=compact``): the cleaner keeps, in the segments before
  the active one, only the last record of each key; a tombstone (``value=None``) stays
  ``delete.retention.ms`` then goes. Offsets never change: compaction leaves gaps.

Consumption never deletes anything: only retention, compaction and truncation (on a
leader change) remove records. Control records (transaction markers) take an offset
like Kafka's, and readers skip them.

Simplifications: a record's size is ``len(key) + len(value) + headers + 70`` bytes (a
one-record batch's overhead); aborted transactional records are not removed by
compaction; the cleaner compacts all non-active segments in one pass.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Any

__all__ = ["RECORD_OVERHEAD", "PartitionLog", "Segment", "record_size"]

RECORD_OVERHEAD = 70
"""Bytes counted per record on top of key, value and headers (v2 batch header 61 + record header ~9)."""


def record_size(key: Any, value: Any, headers: Any) -> int:
    size = RECORD_OVERHEAD
    if key is not None:
        size += len(key)
    if value is not None:
        size += len(value)
    if headers:
        for name, data in headers:
            size += len(name) + (len(data) if data is not None else 0)
    return size


class Segment:
    """A run of records with consecutive (or, after compaction, increasing) offsets.

    Invariants: all column lists have the same length; ``offsets`` is ``None`` while the
    offsets are ``base_offset + index`` (no gaps), an array once compaction removed some.
    """

    __slots__ = ("base_offset", "offsets", "timestamps", "keys", "values", "headers", "size",
                 "max_timestamp", "created_ms", "control", "txn_batches")

    def __init__(self, base_offset: int, created_ms: int) -> None:
        self.base_offset = base_offset
        self.offsets: array[int] | None = None
        self.timestamps: array[int] = array("q")
        self.keys: list[Any] = []
        self.values: list[Any] = []
        self.headers: list[Any] | None = None
        self.size = 0
        self.max_timestamp = -1
        self.created_ms = created_ms
        self.control: dict[int, tuple[int, bool]] | None = None  # offset -> (producer id, committed?)
        self.txn_batches: list[tuple[int, int, int]] | None = None  # (first offset, last offset, pid)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def next_offset(self) -> int:
        """The offset after this segment's last record (base offset if empty)."""
        if not self.keys:
            return self.base_offset
        if self.offsets is None:
            return self.base_offset + len(self.keys)
        return self.offsets[-1] + 1

    def offset_at(self, index: int) -> int:
        return self.base_offset + index if self.offsets is None else self.offsets[index]

    def index_of(self, offset: int) -> int:
        """Index of the first record with an offset >= ``offset``."""
        if self.offsets is None:
            index = offset - self.base_offset
            return 0 if index < 0 else min(index, len(self.keys))
        return bisect_left(self.offsets, offset)

    def record_count(self) -> int:
        """Data records (control markers excluded)."""
        return len(self.keys) - (len(self.control) if self.control else 0)


class PartitionLog:
    """The records of one partition, as stored by its leader.

    ``segment_bytes`` and ``segment_ms`` decide when the active segment rolls.
    """

    __slots__ = ("segments", "bases", "log_start_offset", "next_offset", "segment_bytes", "segment_ms",
                 "size", "records", "controls", "cleaned_upto", "cleaner_checked_ms")

    def __init__(self, segment_bytes: int = 1073741824, segment_ms: int = 7 * 86_400_000) -> None:
        self.segments: list[Segment] = [Segment(0, 0)]
        self.bases: list[int] = [0]
        self.log_start_offset = 0
        self.next_offset = 0
        self.segment_bytes = segment_bytes
        self.segment_ms = segment_ms
        self.size = 0
        self.records = 0  # data records retained
        self.controls = 0  # control markers retained
        self.cleaned_upto = 0  # compaction checkpoint: offsets below were cleaned
        self.cleaner_checked_ms = -1

    # -- appending --------------------------------------------------------------
    def _active_for(self, size: int, now_ms: int) -> Segment:
        active = self.segments[-1]
        if active.keys and (active.size + size > self.segment_bytes or now_ms - active.created_ms >= self.segment_ms):
            return self.roll(now_ms)
        if not active.keys:
            active.created_ms = now_ms
        return active

    def roll(self, now_ms: int) -> Segment:
        """Start a new active segment at the log end offset."""
        segment = Segment(self.next_offset, now_ms)
        if not self.segments[-1].keys:
            self.segments[-1] = segment
            self.bases[-1] = self.next_offset
        else:
            self.segments.append(segment)
            self.bases.append(self.next_offset)
        return segment

    def append(self, keys: list[Any], values: list[Any], headers: list[Any] | None, timestamps: list[int],
               size: int, now_ms: int, pid: int = -1) -> int:
        """Append a batch; returns the offset of its first record. ``pid >= 0`` marks a transactional batch."""
        segment = self._active_for(size, now_ms)
        base = self.next_offset
        count = len(keys)
        if headers is not None or segment.headers is not None:
            if segment.headers is None:
                segment.headers = [None] * len(segment.keys)
            segment.headers.extend(headers if headers is not None else [None] * count)
        segment.keys.extend(keys)
        segment.values.extend(values)
        segment.timestamps.extend(timestamps)
        if segment.offsets is not None:
            segment.offsets.extend(range(base, base + count))
        top = max(timestamps)
        if top > segment.max_timestamp:
            segment.max_timestamp = top
        if pid >= 0:
            if segment.txn_batches is None:
                segment.txn_batches = []
            segment.txn_batches.append((base, base + count - 1, pid))
        segment.size += size
        self.size += size
        self.records += count
        self.next_offset = base + count
        return base

    def append_control(self, pid: int, committed: bool, now_ms: int) -> int:
        """Append a transaction marker (COMMIT or ABORT); returns its offset."""
        segment = self._active_for(RECORD_OVERHEAD, now_ms)
        offset = self.next_offset
        if segment.headers is not None:
            segment.headers.append(None)
        segment.keys.append(None)
        segment.values.append(None)
        segment.timestamps.append(now_ms)
        if segment.offsets is not None:
            segment.offsets.append(offset)
        if segment.control is None:
            segment.control = {}
        segment.control[offset] = (pid, committed)
        if now_ms > segment.max_timestamp:
            segment.max_timestamp = now_ms
        segment.size += RECORD_OVERHEAD
        self.size += RECORD_OVERHEAD
        self.controls += 1
        self.next_offset = offset + 1
        return offset

    # -- reading ----------------------------------------------------------------
    def segment_for(self, offset: int) -> int:
        """Index of the segment that holds ``offset`` (or the next record after it)."""
        index = bisect_right(self.bases, offset) - 1
        return 0 if index < 0 else index

    def slices(self, offset: int, end: int, limit: int) -> list[tuple[Segment, int, int]]:
        """``(segment, start index, stop index)`` runs covering offsets ``[offset, end)``, at most ``limit`` records."""
        runs = []
        segments = self.segments
        i = self.segment_for(offset)
        while i < len(segments) and limit > 0:
            segment = segments[i]
            start = segment.index_of(offset)
            stop = segment.index_of(end)
            if stop - start > limit:
                stop = start + limit
            if stop > start:
                runs.append((segment, start, stop))
                limit -= stop - start
            if segment.next_offset >= end:
                break
            i += 1
        return runs

    def record_at(self, offset: int) -> tuple[int, Any, Any, Any, int] | None:
        """``(offset, key, value, headers, timestamp)`` of the first record at or after ``offset``."""
        for segment, start, _ in self.slices(offset, self.next_offset, 1):
            headers = segment.headers[start] if segment.headers is not None else None
            return (segment.offset_at(start), segment.keys[start], segment.values[start], headers,
                    segment.timestamps[start])
        return None

    def offset_for_time(self, timestamp_ms: int, end: int) -> int | None:
        """The earliest offset below ``end`` whose timestamp is >= ``timestamp_ms`` (Kafka's ListOffsets)."""
        for segment in self.segments:
            if segment.max_timestamp < timestamp_ms or not segment.keys:
                continue
            control = segment.control
            for index, ts in enumerate(segment.timestamps):
                offset = segment.offset_at(index)
                if offset >= end:
                    return None
                if ts >= timestamp_ms and (control is None or offset not in control):
                    return offset
        return None

    # -- removing ---------------------------------------------------------------
    def truncate(self, offset: int) -> int:
        """Remove every record at or above ``offset`` (a follower catching up with a new leader).

        Returns the number of data records removed.
        """
        removed = 0
        while offset < self.next_offset:
            segment = self.segments[-1]
            keep = segment.index_of(offset)
            dropped = len(segment.keys) - keep
            control = segment.control
            if control:
                for off in [o for o in control if o >= offset]:
                    del control[off]
                    self.controls -= 1
                    dropped -= 1
            removed += dropped
            if segment.txn_batches:
                segment.txn_batches = [b for b in segment.txn_batches if b[0] < offset]
            for column in (segment.keys, segment.values, segment.headers):
                if column is not None:
                    del column[keep:]
            del segment.timestamps[keep:]
            if segment.offsets is not None:
                del segment.offsets[keep:]
            if keep == 0 and len(self.segments) > 1:
                self.segments.pop()
                self.bases.pop()
                self.size -= segment.size
                self.next_offset = self.segments[-1].next_offset
                continue
            self._resize(segment)
            self.next_offset = max(offset, self.log_start_offset) if keep == 0 else segment.next_offset
            if keep == 0:
                segment.base_offset = self.bases[-1] = self.next_offset
            break
        self.records -= removed
        self.cleaned_upto = min(self.cleaned_upto, self.next_offset)
        return removed

    def _resize(self, segment: Segment) -> None:
        old = segment.size
        size = 0
        headers = segment.headers
        for i, (key, value) in enumerate(zip(segment.keys, segment.values)):
            size += record_size(key, value, headers[i] if headers is not None else None)
        segment.size = size
        self.size += size - old
        segment.max_timestamp = max(segment.timestamps) if segment.timestamps else -1

    def delete_expired(self, now_ms: int, retention_ms: int, retention_bytes: int, upper: int) -> int:
        """Delete whole segments past ``retention.ms`` or beyond ``retention.bytes``; returns records deleted.

        Only segments entirely below ``upper`` (the high watermark) are eligible, as in Kafka.
        When the active segment itself expires it is rolled first, so the log stays appendable.
        """
        deleted = 0
        excess = self.size - retention_bytes if retention_bytes >= 0 else -1
        while self.segments:
            segment = self.segments[0]
            if not segment.keys or segment.next_offset > upper:
                break
            by_time = retention_ms >= 0 and now_ms - segment.max_timestamp > retention_ms
            by_size = excess >= 0 and excess - segment.size >= 0
            if not (by_time or by_size):
                break
            if len(self.segments) == 1:
                self.roll(now_ms)
            self.segments.pop(0)
            self.bases.pop(0)
            excess -= segment.size
            self.size -= segment.size
            count = segment.record_count()
            deleted += count
            self.records -= count
            self.controls -= len(segment.keys) - count
            self.log_start_offset = self.segments[0].base_offset
        self.cleaned_upto = max(self.cleaned_upto, self.log_start_offset)
        return deleted

    def dirty_ratio(self) -> float:
        """Share of the non-active bytes the cleaner has not compacted yet."""
        total = dirty = 0
        for segment in self.segments[:-1]:
            total += segment.size
            if segment.next_offset > self.cleaned_upto:
                dirty += segment.size
        return dirty / total if total else 0.0

    def compact(self, now_ms: int, delete_retention_ms: int, upper: int) -> list[tuple[int, Any]]:
        """Keep the last record per key in the segments before the active one.

        Returns ``(offset, key)`` of each record removed. Tombstones older than
        ``delete.retention.ms`` go too. Only records below ``upper`` (the high watermark)
        are cleaned.
        """
        cleanable = [s for s in self.segments[:-1] if s.next_offset <= upper]
        if not cleanable:
            return []
        last: dict[Any, int] = {}
        for segment in cleanable:
            control = segment.control
            for index, key in enumerate(segment.keys):
                offset = segment.offset_at(index)
                if control is None or offset not in control:
                    last[key] = offset
        removed: list[tuple[int, Any]] = []
        for segment in cleanable:
            control = segment.control
            keep: list[int] = []
            old_tombstone = now_ms - segment.max_timestamp > delete_retention_ms
            for index, key in enumerate(segment.keys):
                offset = segment.offset_at(index)
                is_marker = control is not None and offset in control
                latest = not is_marker and last[key] == offset
                expired_tombstone = segment.values[index] is None and old_tombstone
                if is_marker or (latest and not expired_tombstone):
                    keep.append(index)
                else:
                    removed.append((offset, key))
            if len(keep) == len(segment.keys):
                continue
            offsets = array("q", (segment.offset_at(i) for i in keep))
            segment.timestamps = array("q", (segment.timestamps[i] for i in keep))
            segment.keys = [segment.keys[i] for i in keep]
            segment.values = [segment.values[i] for i in keep]
            if segment.headers is not None:
                segment.headers = [segment.headers[i] for i in keep]
            segment.offsets = offsets
            self._resize(segment)
        self.records -= len(removed)
        self.cleaned_upto = max(self.cleaned_upto, cleanable[-1].next_offset)
        return removed
