"""Share groups (KIP-932, Kafka 4.x): queue-style consumption of a topic.

In a share group, many consumers read the **same** partitions; the broker hands each
record to one consumer at a time with a **lock** (``group.share.record.lock.duration.ms``,
default 30 s). The consumer then acknowledges each record:

* ``ACCEPT``: processed; the record is done for this group;
* ``RELEASE``: give it back now, for another delivery (possibly to another consumer);
* ``REJECT``: unprocessable; the record is *archived* and never delivered again.

A lock that expires counts as a release. Each record carries a **delivery count**; when a
record that reached ``group.share.delivery.count.limit`` (default 5) is released again, it
is archived instead (a poison message stops being retried). There is no ordering guarantee:
a released record comes back after later ones.

Per partition the broker keeps the *share-partition start offset* (SPSO, below which every
record is done) and the state of each in-flight record: ``AVAILABLE``, ``ACQUIRED``,
``ACKNOWLEDGED`` or ``ARCHIVED``. A new share group starts at the log end
(``share.auto.offset.reset=latest``, a group config) unless configured ``earliest``.

:class:`ShareConsumer` mirrors confluent-kafka's ``ShareConsumer``: ``subscribe``, ``poll``
(returns a list of messages), ``acknowledge(message, AcknowledgeType.X)``,
``acknowledge_offset``, ``commit_sync``, ``commit_async``,
``set_acknowledgement_commit_callback``, ``close``. With
``share.acknowledgement.mode=implicit`` (default), the records of one poll are accepted by
the next poll or commit; with ``explicit`` each must be acknowledged before polling again.

Partitions are given to members by KIP-932's simple assignor: round-robin, and shared when
there are more members than partitions.

Every record the group archives is also written to its **archive log**
(:meth:`ShareGroup.archive_log`, a simulator extra for seeing which records a group gave up
on): when, which record, its delivery count, and why (``delivery_count_limit`` when a
release or an expired lock found it at ``group.share.delivery.count.limit``, ``rejected``
for a ``REJECT``, ``missing`` for a record no longer in the log). Kafka itself keeps no such
log: an archived record is simply never delivered again (KIP-932).

Simplifications: the assignment follows membership at once (no share-group heartbeats or
epochs); the in-flight window is not bounded by ``group.share.partition.max.record.locks``;
isolation is read_uncommitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any

from mqlab.kafka.config import SHARE_CONSUMER_PROPERTIES, parse_config
from mqlab.kafka.driving import drive, in_process
from mqlab.kafka.errors import ClientClosed, GroupIdRequired, KafkaError, KafkaException, StateError
from mqlab.kafka.message import Message, TopicPartition, make_message

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Cluster
    from mqlab.kafka.partition import Partition
    from mqlab.sim import Event

__all__ = ["AcknowledgeType", "ArchivedRecord", "RecordState", "ShareConsumer", "ShareGroup"]

ARCHIVE_REASONS = ("delivery_count_limit", "rejected", "missing")
"""Why a share group archived a record (see :class:`ArchivedRecord`)."""


@dataclass(frozen=True)
class ArchivedRecord:
    """One record a share group archived: it will never be delivered to this group again.

    ``reason`` is one of :data:`ARCHIVE_REASONS`; ``cause`` says what ended the last delivery
    (``lock_expired``, ``released``, ``member_left`` for the delivery-count limit; ``reject``;
    ``missing``); ``consumer`` is the member that held it last (None if none).
    """

    time: float
    topic: str
    partition: int
    offset: int
    delivery_count: int
    reason: str
    cause: str
    consumer: str | None


class AcknowledgeType(IntEnum):
    """How a share consumer settles a record (values as in confluent_kafka.AcknowledgeType)."""

    ACCEPT = 1
    RELEASE = 2
    REJECT = 3


class RecordState(Enum):
    AVAILABLE = "available"
    ACQUIRED = "acquired"
    ACKNOWLEDGED = "acknowledged"
    ARCHIVED = "archived"


_AVAILABLE, _ACQUIRED, _ACKED, _ARCHIVED = (RecordState.AVAILABLE, RecordState.ACQUIRED, RecordState.ACKNOWLEDGED,
                                           RecordState.ARCHIVED)


class _InFlight:
    __slots__ = ("state", "deliveries", "owner", "lock")

    def __init__(self) -> None:
        self.state = _AVAILABLE
        self.deliveries = 0
        self.owner: Any = None
        self.lock = 0


class SharePartition:
    """The share group's view of one partition: SPSO and in-flight record states."""

    __slots__ = ("partition", "start", "end", "records")

    def __init__(self, partition: Partition, start: int) -> None:
        self.partition = partition
        self.start = start  # SPSO
        self.end = start  # first offset never acquired
        self.records: dict[int, _InFlight] = {}

    def advance(self) -> None:
        records = self.records
        while self.start < self.end:
            record = records.get(self.start)
            if record is not None and record.state not in (_ACKED, _ARCHIVED):
                break
            records.pop(self.start, None)
            self.start += 1


class ShareGroup:
    """A share group on the cluster: its configs, members and per-partition record states."""

    def __init__(self, cluster: Cluster, group_id: str) -> None:
        self.cluster = cluster
        self.sim = cluster.sim
        self.group_id = group_id
        self.record_lock_duration_ms = 30_000
        self.delivery_count_limit = 5
        self.auto_offset_reset = "latest"
        self.members: list[ShareConsumer] = []
        self.partitions: dict[tuple[str, int], SharePartition] = {}
        self._locks = 0
        self._archived: list[ArchivedRecord] = []
        self.consumers_created = 0  # numbers each ShareConsumer's name, as librdkafka numbers its handles

    def configure(self, *, record_lock_duration_ms: int | None = None, delivery_count_limit: int | None = None,
                  auto_offset_reset: str | None = None) -> None:
        """Set the group configs (``group.share.record.lock.duration.ms``, ``group.share.delivery.count.limit``,
        ``share.auto.offset.reset``), with Kafka's ranges (lock 1 s..1 h, limit 2..10)."""
        if record_lock_duration_ms is not None:
            if not 1000 <= record_lock_duration_ms <= 3_600_000:
                raise ValueError(f"share group {self.group_id!r}: record_lock_duration_ms="
                                 f"{record_lock_duration_ms} must be in 1000..3600000 ms")
            self.record_lock_duration_ms = record_lock_duration_ms
        if delivery_count_limit is not None:
            if not 2 <= delivery_count_limit <= 10:
                raise ValueError(f"share group {self.group_id!r}: delivery_count_limit={delivery_count_limit} "
                                 f"must be in 2..10")
            self.delivery_count_limit = delivery_count_limit
        if auto_offset_reset is not None:
            if auto_offset_reset not in ("earliest", "latest"):
                raise ValueError(f"share group {self.group_id!r}: share.auto.offset.reset must be earliest or latest")
            self.auto_offset_reset = auto_offset_reset

    def assignment(self, consumer: ShareConsumer) -> list[Partition]:
        """The partitions ``consumer`` fetches from: the simple assignor of KIP-932.

        Per topic, partitions are dealt round-robin to the subscribed members in join order;
        with fewer partitions than members, members share partitions (member ``i`` gets
        partition ``i % partitions``), so every member has something to read.
        """
        out: list[Partition] = []
        for name in consumer._topics:
            topic = self.cluster.topics.get(name)
            if topic is None:
                continue
            members = [m for m in self.members if name in m._topics]
            if consumer not in members:
                continue
            index, count = members.index(consumer), len(members)
            partitions = topic.partitions
            if len(partitions) >= count:
                out.extend(p for p in partitions if p.index % count == index)
            else:
                out.append(partitions[index % len(partitions)])
        return out

    def _share_partition(self, partition: Partition) -> SharePartition:
        key = (partition.topic.name, partition.index)
        share = self.partitions.get(key)
        if share is None:
            self.cluster.maybe_clean(partition, self.cluster.now_ms)
            start = partition.log_start_offset if self.auto_offset_reset == "earliest" else partition.high_watermark
            share = self.partitions[key] = SharePartition(partition, start)
        return share

    def acquire(self, consumer: ShareConsumer, partition: Partition, limit: int) -> list[Message]:
        """Lock up to ``limit`` available records of ``partition`` for ``consumer``."""
        share = self._share_partition(partition)
        cluster = self.cluster
        cluster.maybe_clean(partition, cluster.now_ms)
        if share.start < partition.log_start_offset:  # retention removed records before they were delivered
            for offset in [o for o in share.records if o < partition.log_start_offset]:
                del share.records[offset]
            share.start = max(share.start, partition.log_start_offset)
            share.end = max(share.end, share.start)
        deadline = self.sim.now + self.record_lock_duration_ms / 1000.0
        acquired: list[tuple[int, _InFlight]] = []
        for offset in sorted(share.records):
            if len(acquired) >= limit:
                break
            record = share.records[offset]
            if record.state is _AVAILABLE:
                acquired.append((offset, record))
        hw = partition.high_watermark
        while len(acquired) < limit and share.end < hw:
            messages, nxt = partition.fetch(share.end, limit - len(acquired), False)
            for message in messages:
                record = share.records[message[2]] = _InFlight()
                acquired.append((message[2], record))
            for offset in range(share.end, nxt):  # control markers and compacted gaps are done at once
                if offset not in share.records:
                    share.records[offset] = done = _InFlight()
                    done.state = _ACKED
            if nxt <= share.end:
                break
            share.end = nxt
        if not acquired:
            share.advance()
            return []
        self._locks += 1
        lock = self._locks
        out = []
        for offset, record in acquired:
            record.state = _ACQUIRED
            record.deliveries += 1
            record.owner = consumer
            record.lock = lock
            found = partition.log.record_at(offset)
            if found is None or found[0] != offset:
                record.state = _ARCHIVED
                self._archive(partition, offset, record.deliveries, "missing", "missing", consumer)
                continue
            _, key, value, headers, ts = found
            out.append(make_message(partition.topic.name, partition.index, offset, key, value, headers, 1, ts,
                                    None, record.deliveries))
            if self.sim.tracing:
                self.sim.log(self.group_id, "share_acquire", topic=partition.topic.name, partition=partition.index,
                             offset=offset, consumer=consumer.name, delivery_count=record.deliveries)
        self.sim.call_at(deadline, self._expire, (share, lock))
        share.advance()
        return out

    def _expire(self, job: tuple[SharePartition, int]) -> None:
        share, lock = job
        released = False
        for offset, record in list(share.records.items()):
            if record.state is _ACQUIRED and record.lock == lock:
                self._release(share, offset, record, "lock_expired")
                released = True
        share.advance()
        if released:
            self._wake(share.partition)

    def _archive(self, partition: Partition, offset: int, deliveries: int, reason: str, cause: str,
                 consumer: Any) -> None:
        self._archived.append(ArchivedRecord(self.sim.now, partition.topic.name, partition.index, offset, deliveries,
                                             reason, cause, consumer.name if consumer is not None else None))

    def archive_log(self, topic: str | None = None, partition: int | None = None,
                    reason: str | None = None) -> list[ArchivedRecord]:
        """The records this group archived, oldest first, optionally only those of ``topic``,
        ``partition`` or ``reason`` (one of ``delivery_count_limit``, ``rejected``, ``missing``)."""
        if reason is not None and reason not in ARCHIVE_REASONS:
            raise ValueError(f"share group {self.group_id!r}: archive reason {reason!r} is not one of "
                             f"{', '.join(ARCHIVE_REASONS)}")
        return [a for a in self._archived
                if (topic is None or a.topic == topic) and (partition is None or a.partition == partition)
                and (reason is None or a.reason == reason)]

    def _release(self, share: SharePartition, offset: int, record: _InFlight, why: str) -> None:
        owner = record.owner
        record.owner = None
        if record.deliveries >= self.delivery_count_limit:
            record.state = _ARCHIVED
            self.cluster.counters.share_archived += 1
            self._archive(share.partition, offset, record.deliveries, "delivery_count_limit", why, owner)
            action = "share_archive"
        else:
            record.state = _AVAILABLE
            action = "share_release"
        if self.sim.tracing:
            self.sim.log(self.group_id, action, topic=share.partition.topic.name, partition=share.partition.index,
                         offset=offset, delivery_count=record.deliveries, reason=why)

    def acknowledge(self, consumer: ShareConsumer,
                    acks: list[tuple[tuple[str, int], int, AcknowledgeType]]) -> dict[tuple[str, int], Any]:
        """Apply acknowledgements; returns per partition the offsets settled and any error."""
        results: dict[tuple[str, int], Any] = {}
        touched = []
        for key, offset, kind in acks:
            share = self.partitions.get(key)
            record = share.records.get(offset) if share is not None else None
            entry = results.setdefault(key, [set(), None])
            if record is None or record.state is not _ACQUIRED or record.owner is not consumer:
                entry[1] = KafkaError(
                    "INVALID_RECORD_STATE",
                    f"share group {self.group_id!r}: {key[0]} [{key[1]}] offset {offset} is not acquired by "
                    f"{consumer.name} (its lock expired after {self.record_lock_duration_ms} ms, or it was "
                    f"already acknowledged); acknowledge within the lock duration",
                )
                continue
            entry[0].add(offset)
            if kind == AcknowledgeType.ACCEPT:
                record.state = _ACKED
                record.owner = None
                self.cluster.counters.share_accepted += 1
                if self.sim.tracing:
                    self.sim.log(self.group_id, "share_accept", topic=key[0], partition=key[1], offset=offset)
            elif kind == AcknowledgeType.REJECT:
                record.state = _ARCHIVED
                record.owner = None
                self.cluster.counters.share_archived += 1
                self._archive(share.partition, offset, record.deliveries, "rejected", "reject", consumer)
                if self.sim.tracing:
                    self.sim.log(self.group_id, "share_reject", topic=key[0], partition=key[1], offset=offset)
            else:
                self._release(share, offset, record, "released")
                touched.append(share.partition)
            share.advance()
        for partition in touched:
            self._wake(partition)
        return results

    def release_all(self, consumer: ShareConsumer) -> None:
        """A member left: its acquired records become available again."""
        for share in self.partitions.values():
            released = False
            for offset, record in share.records.items():
                if record.state is _ACQUIRED and record.owner is consumer:
                    self._release(share, offset, record, "member_left")
                    released = True
            share.advance()
            if released:
                self._wake(share.partition)

    def _wake(self, partition: Partition) -> None:
        for member in list(self.members):
            member.wake()

    def available(self, partition: Partition) -> bool:
        share = self.partitions.get((partition.topic.name, partition.index))
        if share is None:
            return partition.high_watermark > (partition.log_start_offset if self.auto_offset_reset == "earliest"
                                               else partition.high_watermark)
        if share.end < partition.high_watermark:
            return True
        return any(r.state is _AVAILABLE for r in share.records.values())

    def record_states(self, topic: str, partition: int) -> dict[int, tuple[RecordState, int]]:
        """``offset -> (state, delivery count)`` of the in-flight records (for notebooks and tests)."""
        share = self.partitions.get((topic, partition))
        if share is None:
            return {}
        return {o: (r.state, r.deliveries) for o, r in sorted(share.records.items())}


class ShareConsumer:
    """A share-group consumer, shaped like ``confluent_kafka.ShareConsumer`` (cluster passed first)."""

    def __init__(self, cluster: Cluster, config: dict[str, Any] | None = None) -> None:
        self.config = conf = parse_config(SHARE_CONSUMER_PROPERTIES, config, "share consumer")
        if conf["group.id"] is None:
            raise GroupIdRequired("Failed to create share consumer: group.id must be set")
        self.cluster = cluster
        self.sim = cluster.sim
        self.group = cluster.share_group(conf["group.id"])
        self.client_id: str = conf["client.id"]
        self.group.consumers_created += 1
        self.name = f"{self.client_id}#share-{self.group.consumers_created}-{conf['group.id']}"
        self.explicit = conf["share.acknowledgement.mode"] == "explicit"
        self.max_records: int = conf["max.poll.records"]
        self.errors: list[tuple[float, str, BaseException]] = []
        self._topics: list[str] = []
        self._last: list[Message] = []
        self._acked: set[tuple[str, int, int]] = set()
        self._pending: list[tuple[tuple[str, int], int, AcknowledgeType]] = []
        self._callback: Any = None
        self._cursor = 0
        self._waiters: list[Event] = []
        self._closed = False

    def subscribe(self, topics: list[str]) -> None:
        self._check_open()
        if isinstance(topics, str) or len(set(topics)) != len(topics) or any(not t for t in topics):
            raise ValueError(f"subscribe() takes a list of distinct, non-empty topic names, got {topics!r}")
        self._topics = list(topics)
        if self not in self.group.members:
            self.group.members.append(self)

    def subscription(self) -> list[str]:
        return list(self._topics)

    def unsubscribe(self) -> None:
        self._check_open()
        self._flush_acks()
        self.group.release_all(self)
        if self in self.group.members:
            self.group.members.remove(self)
        self._topics = []

    def _partitions(self) -> list[Partition]:
        return self.group.assignment(self)

    # -- acknowledging ---------------------------------------------------------------------------
    def acknowledge(self, message: Message, ack_type: AcknowledgeType = AcknowledgeType.ACCEPT) -> None:
        """Record how this polled message is settled; sent with the next poll or commit."""
        if not isinstance(message, Message):
            raise TypeError(f"acknowledge() takes a Message returned by poll(), got {type(message).__name__}")
        self.acknowledge_offset(message[0], message[1], message[2], ack_type)

    def acknowledge_offset(self, topic: str, partition: int, offset: int,
                           ack_type: AcknowledgeType = AcknowledgeType.ACCEPT) -> None:
        self._check_open()
        ack_type = AcknowledgeType(ack_type)
        self._pending.append(((topic, partition), offset, ack_type))
        self._acked.add((topic, partition, offset))

    def set_acknowledgement_commit_callback(self, callback: Any) -> None:
        """``callback(offsets: dict[TopicPartition, set[int]], exception | None)`` after each acknowledgement commit."""
        self._callback = callback

    def _flush_acks(self) -> None:
        if not self.explicit:
            for message in self._last:
                if (message[0], message[1], message[2]) not in self._acked:
                    self._pending.append(((message[0], message[1]), message[2], AcknowledgeType.ACCEPT))
        self._last = []
        self._acked = set()
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        results = self.group.acknowledge(self, pending)
        if self._callback is not None:
            for key, (offsets, error) in results.items():
                try:
                    self._callback({TopicPartition(key[0], key[1]): offsets},
                                   KafkaException(error) if error is not None else None)
                except Exception as exc:  # a learner's callback never stops the consumer
                    self.errors.append((self.sim.now, "acknowledgement_commit_callback", exc))
                    self.cluster.record_error(f"{self.name}.acknowledgement_commit_callback", exc)
        else:
            for key, (_, error) in results.items():
                if error is not None:
                    self.errors.append((self.sim.now, f"acknowledge {key}", KafkaException(error)))

    def commit_sync(self, timeout: float | None = 60) -> None:
        self._check_open()
        self._flush_acks()

    def commit_async(self) -> None:
        self._check_open()
        self._flush_acks()

    # -- polling ---------------------------------------------------------------------------------
    def poll(self, timeout: float | None = -1) -> list[Message]:
        """Acquire up to ``max.poll.records`` records; at the top level waits up to ``timeout`` seconds."""
        self._check_open()
        if not self._topics:
            raise StateError(KafkaError("_STATE", f"share consumer {self.name}: subscribe() before poll()"))
        if self.explicit:
            missing = [m for m in self._last if (m[0], m[1], m[2]) not in self._acked]
            if missing:
                raise StateError(KafkaError(
                    "_STATE",
                    f"share consumer {self.name}: share.acknowledgement.mode=explicit and {len(missing)} record(s) "
                    f"of the previous poll are not acknowledged (first: {missing[0]!r}); acknowledge each one",
                ))
        self._flush_acks()
        batch = self._acquire()
        if not batch and timeout != 0 and not in_process(self.sim):
            drive(self.sim, self._ready, timeout)
            batch = self._acquire()
        self._last = list(batch)
        return batch

    def _acquire(self) -> list[Message]:
        partitions = self._partitions()
        out: list[Message] = []
        count = len(partitions)
        for step in range(count):
            if len(out) >= self.max_records:
                break
            partition = partitions[(self._cursor + step) % count]
            if partition.deleted or partition.replicas.leader is None:
                continue
            out.extend(self.group.acquire(self, partition, self.max_records - len(out)))
        if count:
            self._cursor = (self._cursor + 1) % count
        return out

    def _ready(self) -> bool:
        return any(self.group.available(p) for p in self._partitions())

    def poll_event(self, timeout: float | None = None) -> Event:
        """An event that succeeds with the next batch (a possibly empty list after ``timeout`` seconds)."""
        self._check_open()
        self._flush_acks()
        event = self.sim.event()
        batch = self._acquire()
        if batch:
            self._last = list(batch)
            event.succeed(batch)
            return event
        self._waiters.append(event)
        self._watch()
        if timeout is not None and timeout >= 0:
            self.sim.call_later(timeout, self._waiter_timeout, event)
        return event

    def _watch(self) -> None:
        for partition in self._partitions():
            if self not in partition.watchers:
                partition.watchers.append(self)

    def wake(self) -> None:
        if not self._waiters or self._closed:
            return
        batch = self._acquire()
        if not batch:
            self._watch()
            return
        self._last = list(batch)
        self._waiters.pop(0).succeed(batch)

    def _waiter_timeout(self, event: Event) -> None:
        if event in self._waiters:
            self._waiters.remove(event)
            event.succeed([])

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Commit pending acknowledgements, release what is still acquired, and leave the group."""
        if self._closed:
            return
        self._flush_acks()
        self.group.release_all(self)
        if self in self.group.members:
            self.group.members.remove(self)
        self._closed = True
        for waiter in self._waiters:
            waiter.succeed([])
        self._waiters = []

    def crash(self) -> None:
        """Simulator extra: stop without acknowledging or releasing; the locks expire on their own."""
        if self in self.group.members:
            self.group.members.remove(self)
        self._closed = True

    @property
    def closed(self) -> bool:
        """True once :meth:`close` (or the simulator's :meth:`crash`) has run: the consumer left its group."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosed(f"share consumer {self.name} is closed; create a new one")

    def __repr__(self) -> str:
        return f"<ShareConsumer {self.name} topics={self._topics}>"
