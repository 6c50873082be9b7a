"""One partition: its log, its replicas, and the broker-side state of producers and transactions.

The :class:`Partition` is where a produce request lands and where a fetch reads from.
It owns:

* the :class:`~mqlab.kafka.log.PartitionLog` (the leader's records);
* the :class:`~mqlab.kafka.replication.ReplicaState` (leader, ISR, high watermark);
* the idempotent-producer state: per producer id, the sequence numbers of its last five
  batches (Kafka keeps five), so a retried batch is recognised and not written twice;
* the transaction state: the first offset of each open transaction (which bounds the
  **last stable offset**, LSO) and the aborted-transaction index that ``read_committed``
  readers use to skip aborted records;
* which offsets were acknowledged to producers, so that a truncation can say how many
  acknowledged records it destroyed.

Reads return :class:`~mqlab.kafka.message.Message` tuples built column-wise.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from itertools import repeat
from typing import TYPE_CHECKING, Any

from mqlab.kafka.log import PartitionLog
from mqlab.kafka.message import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Message
from mqlab.kafka.replication import ReplicaState

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Topic

__all__ = ["Partition"]

_new_message = partial(tuple.__new__, Message)
_NONE = repeat(None)
IDEMPOTENT_BATCHES_KEPT = 5


class Partition:
    """A topic partition on the cluster. See the module docstring for what it holds."""

    __slots__ = ("topic", "index", "name", "log", "replicas", "producers", "open_txns", "aborted",
                 "acked", "waiting", "fetch_pending", "next_clean_ms", "next_compact_ms", "share",
                 "deleted", "watchers")

    def __init__(self, topic: Topic, index: int, replicas: list[int]) -> None:
        self.topic = topic
        self.index = index
        self.name = f"{topic.name}[{index}]"
        config = topic.config
        self.log = PartitionLog(config["segment.bytes"], config["segment.ms"])
        self.replicas = ReplicaState(replicas)
        self.producers: dict[int, list[Any]] = {}  # pid -> [epoch, next seq, deque of (first, last seq, base)]
        self.open_txns: dict[int, int] = {}  # pid -> first offset of its open transaction here
        self.aborted: dict[int, list[tuple[int, int]]] = {}  # pid -> [(first, last offset)] aborted
        self.acked: list[list[int]] = []  # merged [start, end) ranges acknowledged to producers
        self.waiting: deque[tuple[int, Any]] = deque()  # (end offset, request) waiting for the HW
        self.fetch_pending = False
        self.next_clean_ms = 0
        self.next_compact_ms = 0
        self.share: Any = None
        self.deleted = False
        self.watchers: list[Any] = []  # clients waiting for records (woken when the HW or LSO moves)

    # -- offsets ------------------------------------------------------------------
    @property
    def high_watermark(self) -> int:
        return self.replicas.hw

    @property
    def log_start_offset(self) -> int:
        return self.log.log_start_offset

    @property
    def log_end_offset(self) -> int:
        return self.log.next_offset

    @property
    def last_stable_offset(self) -> int:
        """The HW, or the first offset of the earliest open transaction if that is lower."""
        hw = self.replicas.hw
        if self.open_txns:
            first = min(self.open_txns.values())
            return first if first < hw else hw
        return hw

    def read_end(self, read_committed: bool) -> int:
        return self.last_stable_offset if read_committed and self.open_txns else self.replicas.hw

    def wake(self) -> None:
        """Tell clients waiting for records that the readable end may have moved."""
        watchers = self.watchers
        if watchers:
            self.watchers = []
            for client in watchers:
                client.wake()

    # -- idempotence ---------------------------------------------------------------
    def check_sequence(self, pid: int, epoch: int, base_seq: int, count: int) -> tuple[str | None, int]:
        """Kafka's duplicate check for an idempotent producer's batch.

        Returns ``(None, -1)`` to append, ``("DUPLICATE", base offset)`` for a batch already
        written (the producer gets the original offsets back), or an error name:
        ``OUT_OF_ORDER_SEQUENCE_NUMBER`` (a gap: an earlier batch is missing),
        ``DUPLICATE_SEQUENCE_NUMBER`` (older than the five batches remembered),
        ``INVALID_PRODUCER_EPOCH`` (a fenced producer instance).

        A producer id the partition has not seen, or a new epoch, must start at sequence 0
        (Kafka's ``ProducerAppendInfo``: "Invalid sequence number for new epoch", an
        ``OutOfOrderSequenceException``). Accepting a later batch first would record sequences
        below it as written, and the lost first batch, retried, would be refused as a
        duplicate although it was never appended. Kafka 1.0 to 2.4 answered the unknown
        producer id case ``UNKNOWN_PRODUCER_ID``; the model answers ``OUT_OF_ORDER_SEQUENCE_NUMBER``
        for both, which the idempotent producer retries in order.
        """
        state = self.producers.get(pid)
        if state is None or epoch > state[0]:
            return (None, -1) if base_seq == 0 else ("OUT_OF_ORDER_SEQUENCE_NUMBER", -1)
        last_epoch, expected, batches = state
        if epoch < last_epoch:
            return "INVALID_PRODUCER_EPOCH", -1
        if base_seq == expected:
            return None, -1
        for first, last, base in batches:
            if first == base_seq and last == base_seq + count - 1:
                return "DUPLICATE", base
        if base_seq < expected:
            return "DUPLICATE_SEQUENCE_NUMBER", -1
        return "OUT_OF_ORDER_SEQUENCE_NUMBER", -1

    def record_sequence(self, pid: int, epoch: int, base_seq: int, count: int, base_offset: int) -> None:
        state = self.producers.get(pid)
        if state is None or state[0] != epoch:
            state = self.producers[pid] = [epoch, 0, deque(maxlen=IDEMPOTENT_BATCHES_KEPT)]
        state[1] = base_seq + count
        state[2].append((base_seq, base_seq + count - 1, base_offset))

    # -- acknowledgements ------------------------------------------------------------
    def mark_acked(self, start: int, end: int) -> None:
        acked = self.acked
        if acked and acked[-1][1] == start:
            acked[-1][1] = end
        else:
            acked.append([start, end])

    def acked_at_or_above(self, offset: int) -> int:
        """Acknowledged offsets ``>= offset`` (and forget them: they are being truncated)."""
        count = 0
        acked = self.acked
        while acked and acked[-1][1] > offset:
            start, end = acked[-1]
            if start >= offset:
                count += end - start
                acked.pop()
            else:
                count += end - offset
                acked[-1][1] = offset
        return count

    def forget_acked_below(self, offset: int) -> None:
        acked = self.acked
        while acked and acked[0][1] <= offset:
            acked.pop(0)

    def forget_sequences_from(self, offset: int) -> None:
        """After a truncation: batches at or above ``offset`` are gone, so are their sequence numbers."""
        for state in self.producers.values():
            batches = state[2]
            while batches and batches[-1][2] >= offset:
                state[1] = batches.pop()[0]

    # -- transactions ------------------------------------------------------------------
    def is_aborted(self, pid: int, offset: int) -> bool:
        return any(first <= offset <= last for first, last in self.aborted.get(pid, ()))

    # -- reading -------------------------------------------------------------------------
    def fetch(self, offset: int, limit: int, read_committed: bool) -> tuple[list[Message], int]:
        """Records from ``offset`` up to the HW (or LSO), at most ``limit``; returns ``(messages, next offset)``.

        Control markers are skipped at both isolation levels; ``read_committed`` also skips
        records of aborted transactions. The caller checks the offset range first.
        """
        end = self.read_end(read_committed)
        if offset >= end:
            return [], offset
        runs = self.log.slices(offset, end, limit)
        if not runs:
            return [], end
        out: list[Message] = []
        name = self.topic.name
        index = self.index
        ts_type = TIMESTAMP_LOG_APPEND_TIME if self.topic.log_append_time else TIMESTAMP_CREATE_TIME
        topics = repeat(name)
        indexes = repeat(index)
        types = repeat(ts_type)
        nxt = offset
        for segment, a, b in runs:
            base = segment.base_offset
            offsets = range(base + a, base + b) if segment.offsets is None else segment.offsets[a:b]
            headers = segment.headers[a:b] if segment.headers is not None else _NONE
            if segment.control or (read_committed and segment.txn_batches and self.aborted):
                self._fetch_filtered(out, segment, a, b, read_committed, ts_type)
            else:
                out.extend(map(_new_message, zip(topics, indexes, offsets, segment.keys[a:b], segment.values[a:b],
                                                 headers, types, segment.timestamps[a:b], _NONE, _NONE, _NONE)))
            nxt = segment.offset_at(b - 1) + 1
        return out, nxt

    def _fetch_filtered(self, out: list[Message], segment: Any, a: int, b: int, read_committed: bool,
                        ts_type: int) -> None:
        control = segment.control or {}
        batches = segment.txn_batches or []
        name = self.topic.name
        for i in range(a, b):
            offset = segment.offset_at(i)
            if offset in control:
                continue
            if read_committed and batches:
                pid = -1
                for first, last, batch_pid in batches:
                    if first <= offset <= last:
                        pid = batch_pid
                        break
                if pid >= 0 and self.is_aborted(pid, offset):
                    continue
            headers = segment.headers[i] if segment.headers is not None else None
            out.append(_new_message((name, self.index, offset, segment.keys[i], segment.values[i], headers, ts_type,
                                     segment.timestamps[i], None, None, None)))

    def __repr__(self) -> str:
        r = self.replicas
        return (f"<Partition {self.name} leader={r.leader} isr={r.isr} log=[{self.log_start_offset}, "
                f"{self.log_end_offset}) hw={r.hw}>")
