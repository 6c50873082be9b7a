"""The consumer: ``Consumer(cluster, config)`` shaped like ``confluent_kafka.Consumer(config)``.

::

    consumer = Consumer(cluster, {"group.id": "billing", "auto.offset.reset": "earliest"})
    consumer.subscribe(["rides"], on_assign=lambda c, ps: print("got", ps))
    msg = consumer.poll(1.0)      # at the top level: runs the simulation up to 1 virtual second

Inside a kernel process, wait with an event instead (a plain ``poll()`` there returns at once)::

    def billing():
        consumer.subscribe(["rides"])
        while True:
            msg = yield consumer.poll_event(timeout=1.0)   # a Message, or None after 1 s
            if msg is not None and msg.error() is None:
                handle(msg)

    sim.process(billing())

What it models (librdkafka's behaviour unless stated):

* **positions and commits**: the *position* is the offset of the next record ``poll()`` will
  return; the *committed offset* is what the group stored. With ``enable.auto.offset.store``
  (default) a record's offset is stored as soon as ``poll()`` returns it, and with
  ``enable.auto.commit`` (default) stored offsets are committed every
  ``auto.commit.interval.ms`` (5 s), on revocation and on ``close()``. Hence both windows the
  course shows: a crash after processing but before the next auto-commit re-delivers
  (duplicates); an auto-commit between ``poll()`` and the end of processing, then a crash,
  skips records (loss);
* **auto.offset.reset**: where to start without a committed offset, and what to do when the
  position is out of range (below the log start offset after retention, or above the log end
  after an unclean election): ``earliest``/``latest`` reset (recorded in ``offset_resets`` and
  the trace); ``error`` stops the partition and ``poll()`` returns an ``_AUTO_OFFSET_RESET``
  error event until you ``seek()``;
* **isolation.level**: ``read_committed`` (librdkafka's default) reads up to the last stable
  offset and skips aborted transactions; control markers are never returned;
* **rebalances**: see :mod:`mqlab.kafka.group`. ``on_assign``, ``on_revoke`` and ``on_lost``
  are called from ``poll()``/``consume()``; ``on_assign`` may set ``tp.offset`` on the
  partitions it receives to choose where to start. A callback that raises is recorded in
  ``consumer.errors`` and the consumer carries on.

Simulator extras (not in confluent-kafka): ``poll_event(timeout)``, ``consume_event(...)``,
``crash()`` (stop without leaving the group: the session timeout will notice), ``errors``,
``offset_resets``.

Simplifications: records become readable the instant the high watermark covers them (no
fetch latency); a fetch returns up to ``max.poll.records`` records of one partition, and
partitions are served round-robin; pattern subscriptions (``^regex``) are expanded when
subscribing, not on later metadata changes.
"""

from __future__ import annotations

import contextlib
import re
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.kafka.config import CONSUMER_PROPERTIES, parse_config
from mqlab.kafka.driving import drive, in_process
from mqlab.kafka.errors import (
    ClientClosed,
    GroupIdRequired,
    KafkaError,
    KafkaException,
    OffsetOutOfRange,
    StateError,
    UnknownTopicOrPartition,
)
from mqlab.kafka.message import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_INVALID,
    OFFSET_STORED,
    Message,
    TopicPartition,
    error_message,
)

if TYPE_CHECKING:
    from mqlab.kafka.admin import ClusterMetadata
    from mqlab.kafka.cluster import Cluster
    from mqlab.kafka.group import GroupCoordinator
    from mqlab.kafka.partition import Partition
    from mqlab.sim import Event

__all__ = ["Consumer", "GroupMetadata"]


class GroupMetadata:
    """What ``consumer_group_metadata()`` returns, for ``send_offsets_to_transaction``."""

    __slots__ = ("group_id", "generation", "member_id")

    def __init__(self, group_id: str, generation: int, member_id: str | None) -> None:
        self.group_id = group_id
        self.generation = generation
        self.member_id = member_id

    def __repr__(self) -> str:
        return f"<GroupMetadata {self.group_id} generation={self.generation} member={self.member_id}>"


class _Assigned:
    """A partition this consumer reads: where it is, what it stored, whether it is paused."""

    __slots__ = ("partition", "key", "position", "fetch_next", "stored", "committed_sent", "paused", "eof",
                 "failed")

    def __init__(self, partition: Partition, position: int | None) -> None:
        self.partition = partition
        self.key = (partition.topic.name, partition.index)
        self.position = position  # next offset to return; None until resolved
        self.fetch_next = position
        self.stored: int | None = None
        self.committed_sent: int | None = None
        self.paused = False
        self.eof = False
        self.failed = False


class Consumer:
    """A Kafka consumer on a simulated cluster. See the module docstring."""

    def __init__(self, cluster: Cluster, config: dict[str, Any] | None = None) -> None:
        self.config = conf = parse_config(CONSUMER_PROPERTIES, config, "consumer")
        if conf["group.id"] is None:
            raise GroupIdRequired("Failed to create consumer: group.id must be set (every Consumer names its group)")
        self.cluster = cluster
        self.sim = cluster.sim
        cluster.consumers.append(self)
        self.group_id: str = conf["group.id"]
        self.client_id: str = conf["client.id"]
        self.name = f"{self.client_id}#consumer-{len(cluster.consumers)}"
        self.read_committed = conf["isolation.level"] == "read_committed"
        self.reset_policy: str = conf["auto.offset.reset"]
        self.auto_commit: bool = conf["enable.auto.commit"]
        self.auto_store: bool = conf["enable.auto.offset.store"]
        self.commit_interval = conf["auto.commit.interval.ms"] / 1000.0
        self.max_poll_interval = conf["max.poll.interval.ms"] / 1000.0
        self.fetch_limit: int = conf["max.poll.records"]
        self.partition_eof: bool = conf["enable.partition.eof"]
        self.strategies: tuple[str, ...] = conf["partition.assignment.strategy"]
        self.on_commit: Callable[..., Any] | None = conf["on_commit"]
        self.errors: list[tuple[float, str, BaseException]] = []
        self.offset_resets: list[tuple[float, str, int, int, int, str]] = []
        self.fenced = False
        self.closed_or_crashed = False
        self._closed = False
        self._group: GroupCoordinator | None = None
        self.member_id: str | None = None
        self.generation = -1
        self._subscription: list[str] = []
        self._on_assign: Callable[..., Any] | None = None
        self._on_revoke: Callable[..., Any] | None = None
        self._on_lost: Callable[..., Any] | None = None
        self._parts: dict[tuple[str, int], _Assigned] = {}
        self._revoking: dict[tuple[str, int], _Assigned] = {}  # revoked, on_revoke not yet served
        self._order: list[_Assigned] = []
        self._cursor = 0
        self._chunk: list[Message] = []
        self._i = 0
        self._n = 0
        self._chunk_owner: _Assigned | None = None
        self._events: deque[tuple[str, Any]] = deque()
        self._waiters: list[Event] = []
        self._waking = False  # wake() re-entered from an on_assign callback: defer, don't nest
        self._wake_again = False
        self._last_poll = self.sim.now
        self._poll_timer: Any = None
        self._commit_timer: Any = None
        self._needs_rejoin = False

    # -- subscription ---------------------------------------------------------------------
    def subscribe(self, topics: list[str], on_assign: Callable[..., Any] | None = None,
                  on_revoke: Callable[..., Any] | None = None, on_lost: Callable[..., Any] | None = None) -> None:
        """Join ``group.id`` for ``topics``; partitions arrive with the rebalance (see ``on_assign``)."""
        self._check_open()
        if isinstance(topics, str) or not topics:
            raise TypeError(f"subscribe() takes a non-empty list of topic names, got {topics!r}")
        expanded: list[str] = []
        for topic in topics:
            if topic.startswith("^"):
                pattern = re.compile(topic)
                expanded.extend(t for t in self.cluster.topics if pattern.match(t) and t not in expanded)
            elif topic not in expanded:
                expanded.append(topic)
        self._subscription = expanded
        self._on_assign, self._on_revoke, self._on_lost = on_assign, on_revoke, on_lost
        group = self.cluster.group(self.group_id)
        if self._group is group and self.member_id in group.members:
            group.update_subscription(self.member_id, expanded)
            return
        self._group = group
        self._join()

    def _join(self) -> None:
        assert self._group is not None
        self._needs_rejoin = False
        self.member_id = self._group.join(self, self._subscription, self.strategies, self.config["group.instance.id"])
        self._last_poll = self.sim.now
        if self._poll_timer is None:
            self._poll_timer = self.sim.call_later(self.max_poll_interval, self._check_poll_interval)

    def unsubscribe(self) -> None:
        """Leave the group; the assignment is revoked."""
        self._check_open()
        if self._group is not None and self.member_id is not None:
            self._revoke(list(self._parts), lost=False, serve_now=True)
            self._group.leave(self.member_id, "unsubscribed")
        self._subscription = []
        self.member_id = None
        self.generation = -1

    def subscription(self) -> list[str]:
        return list(self._subscription)

    # -- called by the group coordinator ------------------------------------------------------
    def rebalance_started(self, group: GroupCoordinator, eager: bool) -> None:
        if eager and self._parts:
            self._revoke(list(self._parts), lost=False)

    def assignment_received(self, group: GroupCoordinator, generation: int, member_id: str,
                            partitions: list[tuple[str, int]]) -> None:
        if member_id != self.member_id or self._closed:
            return
        self.generation = generation
        new = set(partitions)
        revoked = [key for key in self._parts if key not in new]
        if revoked:
            self._revoke(revoked, lost=False)
        added = [key for key in partitions if key not in self._parts]
        self._events.append(("assign", added))
        self.wake()

    def fenced_by_instance(self) -> None:
        """Another consumer took this one's group.instance.id."""
        self.fenced = True
        self._events.append(("error", KafkaError(
            "FENCED_INSTANCE_ID",
            f"consumer {self.name}: another consumer joined group {self.group_id!r} with the same "
            f"group.instance.id {self.config['group.instance.id']!r}; this one is fenced: close it",
            fatal=True,
        )))
        self._drop_all()

    def _revoke(self, keys: list[tuple[str, int]], lost: bool, serve_now: bool = False) -> None:
        self._settle()
        if self.auto_commit and not lost and self._group is not None:
            self._commit_stored(keys, quiet=True)
        for key in keys:
            assigned = self._parts.pop(key, None)
            if assigned is not None:
                if self._chunk_owner is assigned:
                    self._drop_chunk()
                if not lost:
                    self._revoking[key] = assigned  # still committable from on_revoke
        self._order = list(self._parts.values())
        self._cursor = 0
        event = ("lost" if lost else "revoke", keys)
        if serve_now:
            self._serve_event(event)
        else:
            self._events.append(event)

    def _drop_all(self) -> None:
        self._settle()
        self._drop_chunk()
        self._parts.clear()
        self._order = []

    # -- manual assignment ------------------------------------------------------------------
    def assign(self, partitions: list[TopicPartition]) -> None:
        """Read exactly these partitions (no group membership); ``tp.offset`` may give the start."""
        self._check_open()
        self._settle()
        self._drop_chunk()
        self._parts = {}
        self._add(partitions)

    def incremental_assign(self, partitions: list[TopicPartition]) -> None:
        self._check_open()
        self._add(partitions)

    def incremental_unassign(self, partitions: list[TopicPartition]) -> None:
        self._check_open()
        self._settle()
        for tp in partitions:
            assigned = self._parts.pop((tp.topic, tp.partition), None)
            if assigned is not None and assigned is self._chunk_owner:
                self._drop_chunk()
        self._order = list(self._parts.values())

    def unassign(self) -> None:
        self._check_open()
        self._drop_all()

    def _add(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            partition = self.cluster.partition(tp.topic, tp.partition)
            offset = tp.offset
            assigned = _Assigned(partition, None)
            self._parts[assigned.key] = assigned
            if offset not in (OFFSET_INVALID, OFFSET_STORED):
                self._seek_to(assigned, offset)
        self._order = list(self._parts.values())
        self._cursor = 0
        self.wake()

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for (t, p) in self._parts]

    # -- positions ---------------------------------------------------------------------------
    def _settle(self) -> None:
        """Record how far the application got in the current chunk."""
        owner = self._chunk_owner
        if owner is None:
            return
        i = self._i
        if i >= self._n:
            owner.position = owner.fetch_next
        elif i > 0:
            owner.position = self._chunk[i - 1][2] + 1
        else:
            return
        if self.auto_store:
            owner.stored = owner.position

    def _drop_chunk(self) -> None:
        owner = self._chunk_owner
        if owner is not None:
            owner.fetch_next = owner.position
        self._chunk = []
        self._i = self._n = 0
        self._chunk_owner = None

    def _resolve(self, assigned: _Assigned) -> bool:
        """Give a new partition its starting position: committed offset, else the reset policy."""
        committed = None
        if self._group is not None or self.group_id:
            group = self.cluster.groups.get(self.group_id)
            if group is not None:
                committed = group.committed_offset(*assigned.key)
        if committed is not None:
            assigned.position = assigned.fetch_next = committed
            return True
        return self._reset(assigned, None)

    def _reset(self, assigned: _Assigned, bad_offset: int | None) -> bool:
        partition = assigned.partition
        policy = self.reset_policy
        topic, index = assigned.key
        if policy == "error":
            assigned.failed = True
            where = "no committed offset" if bad_offset is None else (
                f"offset {bad_offset} is out of range [{partition.log_start_offset}, {partition.log_end_offset})")
            self._events.append(("error", KafkaError(
                "_AUTO_OFFSET_RESET",
                f"{topic} [{index}]: {where} and auto.offset.reset=error: seek() to a valid offset "
                f"(or set auto.offset.reset to earliest or latest)",
            ), assigned.key))
            return False
        target = partition.log_start_offset if policy == "earliest" else partition.read_end(self.read_committed)
        assigned.position = assigned.fetch_next = target
        assigned.failed = False
        if bad_offset is not None:
            self.offset_resets.append((self.sim.now, topic, index, bad_offset, target, policy))
        if self.sim.tracing:
            self.sim.log(self.name, "offset_reset", topic=topic, partition=index, offset=target,
                         out_of_range=bad_offset, policy=policy)
        return True

    # -- polling -----------------------------------------------------------------------------------
    def poll(self, timeout: float | None = None) -> Message | None:
        """The next record (or error event), or None.

        At the top level a positive ``timeout`` (seconds, default -1 = wait as long as
        something is scheduled) runs the simulation until a record arrives; inside a kernel
        process, use ``yield consumer.poll_event(timeout)``.
        """
        self._last_poll = self.sim.now
        i = self._i
        if i < self._n and not self._events:
            self._i = i + 1
            return self._chunk[i]
        return self._poll_slow(timeout)

    def _poll_slow(self, timeout: float | None) -> Message | None:
        self._check_open()
        self._arm_poll_timer()
        message = self._next()
        if message is not None:
            return message
        if timeout != 0 and not in_process(self.sim):
            drive(self.sim, self._ready, -1 if timeout is None else timeout)
            self._last_poll = self.sim.now
            return self._next()
        return None

    def _arm_poll_timer(self) -> None:
        if self._poll_timer is None and self.member_id is not None and not self._closed:
            self._poll_timer = self.sim.call_at(self._last_poll + self.max_poll_interval, self._check_poll_interval)

    def _ready(self) -> bool:
        if self._events or self._needs_rejoin:
            return True
        for assigned in self._order:
            if not assigned.paused and not assigned.failed and (
                    assigned.fetch_next is None or
                    assigned.fetch_next < assigned.partition.read_end(self.read_committed)):
                return True
        return False

    def _next(self) -> Message | None:
        while True:
            if self._needs_rejoin and self._group is not None:
                self._join()
            while self._events:
                result = self._serve_event(self._events.popleft())
                if result is not None:
                    return result
            i = self._i
            if i < self._n:
                self._i = i + 1
                return self._chunk[i]
            if not self._fill():
                if self._events:
                    continue
                return None

    def _fill(self) -> bool:
        """Fetch the next chunk, round-robin over the assigned partitions."""
        self._settle()
        self._chunk_owner = None
        self._chunk = []
        self._i = self._n = 0
        order = self._order
        count = len(order)
        if not count:
            return False
        fetch = self.cluster.fetch
        for step in range(count):
            assigned = order[(self._cursor + step) % count]
            if assigned.paused or assigned.failed:
                continue
            partition = assigned.partition
            if partition.deleted:
                continue
            if assigned.fetch_next is None and not self._resolve(assigned):
                continue
            offset = assigned.fetch_next
            if offset < partition.log_start_offset or offset > partition.log_end_offset:
                self.cluster.maybe_clean(partition, self.cluster.now_ms)
                if offset < partition.log_start_offset or offset > partition.log_end_offset:
                    if not self._reset(assigned, offset):
                        continue
                    offset = assigned.fetch_next
            messages, nxt = fetch(self, partition, offset, self.fetch_limit, self.read_committed)
            if nxt != offset:
                assigned.fetch_next = nxt
            if messages:
                self._cursor = (self._cursor + step + 1) % count
                self._chunk = messages
                self._n = len(messages)
                self._chunk_owner = assigned
                assigned.eof = False
                if self.sim.tracing:
                    self.sim.log(self.name, "fetched", topic=assigned.key[0], partition=assigned.key[1],
                                 offset=messages[0][2], count=len(messages))
                self._arm_autocommit()
                return True
            if nxt != offset:
                assigned.position = nxt
                if self.auto_store:
                    assigned.stored = nxt
            if self.partition_eof and not assigned.eof:
                assigned.eof = True
                self._events.append(("eof", assigned))
        return False

    def _serve_event(self, event: tuple[Any, ...]) -> Message | None:
        kind = event[0]
        if kind == "assign":
            keys = [k for k in event[1] if k[0] in self.cluster.topics]
            tps = [TopicPartition(t, p) for t, p in keys]
            self._call(self._on_assign, "on_assign", tps)
            for tp in tps:
                if (tp.topic, tp.partition) in self._parts:
                    continue
                try:
                    partition = self.cluster.partition(tp.topic, tp.partition)
                except UnknownTopicOrPartition:
                    continue
                assigned = _Assigned(partition, None)
                self._parts[assigned.key] = assigned
                if tp.offset not in (OFFSET_INVALID, OFFSET_STORED):
                    self._seek_to(assigned, tp.offset)
            self._order = list(self._parts.values())
            if self.sim.tracing:
                self.sim.log(self.name, "assigned", generation=self.generation, partitions=keys)
            return None
        if kind in ("revoke", "lost"):
            tps = [TopicPartition(t, p) for t, p in event[1]]
            callback = self._on_lost if kind == "lost" and self._on_lost is not None else self._on_revoke
            self._call(callback, f"on_{kind}", tps)
            for key in event[1]:
                self._revoking.pop(key, None)
            if self.sim.tracing:
                self.sim.log(self.name, "revoked" if kind == "revoke" else "lost", partitions=list(event[1]))
            return None
        if kind == "eof":
            assigned = event[1]
            return error_message(KafkaError("_PARTITION_EOF", f"Fetch from broker reached end of partition at "
                                            f"offset {assigned.fetch_next} (HighwaterMark "
                                            f"{assigned.partition.high_watermark})"),
                                 assigned.key[0], assigned.key[1], assigned.fetch_next)
        if kind == "error":
            key = event[2] if len(event) > 2 else (None, None)
            return error_message(event[1], key[0], key[1])
        if kind == "commit":
            self._call(self.on_commit, "on_commit", event[1], event[2], pass_self=False)
            return None
        raise AssertionError(kind)

    def _call(self, callback: Callable[..., Any] | None, where: str, *args: Any, pass_self: bool = True) -> None:
        if callback is None:
            return
        try:
            if pass_self:
                callback(self, *args)
            else:
                callback(*args)
        except Exception as exc:  # a learner's callback never stops the consumer
            self.errors.append((self.sim.now, where, exc))
            self.cluster.record_error(f"{self.name}.{where}", exc)

    def consume(self, num_messages: int = 1, timeout: float | None = -1) -> list[Message]:
        """Up to ``num_messages`` records (and error events); at the top level waits up to ``timeout``."""
        if not isinstance(num_messages, int) or not 1 <= num_messages <= 1000000:
            raise ValueError(f"consume(num_messages={num_messages!r}): expected an int in 1..1000000")
        self._last_poll = self.sim.now
        out: list[Message] = []
        first = self.poll(timeout)
        if first is None:
            return out
        out.append(first)
        while len(out) < num_messages:
            i = self._i
            if i < self._n and not self._events:
                take = min(self._n - i, num_messages - len(out))
                out.extend(self._chunk[i:i + take])
                self._i = i + take
                continue
            message = self._next()
            if message is None:
                break
            out.append(message)
        return out

    # -- waiting inside kernel processes ---------------------------------------------------------------
    def poll_event(self, timeout: float | None = None) -> Event:
        """An event that succeeds with the next Message, or with None after ``timeout`` seconds.

        For kernel processes: ``msg = yield consumer.poll_event(1.0)``.
        """
        self._check_open()
        event = self.sim.event()
        self._last_poll = self.sim.now
        message = self._next()
        if message is not None:
            event.succeed(message)
            return event
        self._waiters.append(event)
        self._watch()
        if timeout is not None and timeout >= 0:
            self.sim.call_later(timeout, self._waiter_timeout, event)
        return event

    def _watch(self) -> None:
        for assigned in self._order:
            watchers = assigned.partition.watchers
            if self not in watchers:
                watchers.append(self)

    def wake(self) -> None:
        """Called when new records may be readable, or an assignment arrived.

        Reading the next record may run the learner's ``on_assign`` callback, which
        may call ``assign()`` or ``seek()`` and so wake the consumer again. A nested
        wake would hand the waiting poll a record and leave the outer one with a
        record and no waiter; instead it is deferred until the outer one is done.
        """
        if self._waking:
            self._wake_again = True
            return
        self._waking = True
        try:
            while True:
                self._wake_again = False
                self._wake_once()
                if not self._wake_again:
                    break
        finally:
            self._waking = False

    def _wake_once(self) -> None:
        if not self._waiters or self._closed:
            return
        self._last_poll = self.sim.now
        message = self._next()
        if message is None:
            self._watch()
            return
        waiter = self._waiters.pop(0)
        waiter.succeed(message)
        self._arm_poll_timer()
        if self._waiters:
            self._watch()

    def _waiter_timeout(self, event: Event) -> None:
        if event in self._waiters:
            self._waiters.remove(event)
            event.succeed(None)
            self._last_poll = self.sim.now
            self._arm_poll_timer()

    # -- committing ----------------------------------------------------------------------------------------
    def _arm_autocommit(self) -> None:
        if self.auto_commit and self._commit_timer is None:
            self._commit_timer = self.sim.call_later(self.commit_interval, self._autocommit)

    def _autocommit(self) -> None:
        self._commit_timer = None
        if self._closed or self.closed_or_crashed:
            return
        self._settle()
        self._commit_stored(list(self._parts), quiet=True)

    def _commit_stored(self, keys: list[tuple[str, int]], quiet: bool) -> list[TopicPartition]:
        offsets = {}
        for key in keys:
            assigned = self._parts.get(key)
            if assigned is not None and assigned.stored is not None and assigned.stored != assigned.committed_sent:
                offsets[key] = assigned.stored
        if not offsets:
            return []
        return self._send_commit(offsets, asynchronous=quiet)

    def _send_commit(self, offsets: dict[tuple[str, int], int], asynchronous: bool) -> list[TopicPartition]:
        group = self.cluster.group(self.group_id)
        member = self.member_id if self._group is not None else None
        tps = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        try:
            group.commit_offsets(offsets, member, self.generation if member else -1, consumer=self)
        except KafkaException as exc:
            if self.on_commit is not None:
                self._events.append(("commit", exc.args[0], tps))
            if asynchronous:
                self.errors.append((self.sim.now, "commit", exc))
                return []
            raise
        for key, offset in offsets.items():
            assigned = self._parts.get(key) or self._revoking.get(key)
            if assigned is not None:
                assigned.committed_sent = offset
        if self.on_commit is not None:
            self._events.append(("commit", None, tps))
        return tps

    def commit(self, message: Message | None = None, offsets: list[TopicPartition] | None = None,
               asynchronous: bool = True) -> list[TopicPartition] | None:
        """Commit ``message.offset() + 1``, explicit ``offsets``, or the stored offsets of the assignment.

        Fencing errors (``ILLEGAL_GENERATION``, ``UNKNOWN_MEMBER_ID``, ``FENCED_INSTANCE_ID``) raise
        for a synchronous commit; an asynchronous one reports them to ``on_commit`` and ``errors``.
        """
        self._check_open()
        if message is not None and offsets is not None:
            raise ValueError("commit() takes a message or offsets, not both")
        self._settle()
        if message is not None:
            if message.error() is not None:
                raise ValueError("cannot commit an error event; commit a record returned by poll()")
            wanted = {(message[0], message[1]): message[2] + 1}
        elif offsets is not None:
            wanted = {}
            for tp in offsets:
                if tp.offset < 0:
                    raise ValueError(f"commit offsets: {tp!r} has no offset; set tp.offset to the next offset to read")
                wanted[(tp.topic, tp.partition)] = tp.offset
        else:
            wanted = {k: a.stored for k, a in (*self._parts.items(), *self._revoking.items())
                      if a.stored is not None and a.stored != a.committed_sent}
            if not wanted:  # librdkafka: nothing stored since the last commit is "No offset stored"
                error = KafkaError("_NO_OFFSET", "Commit failed: Local: No offset stored")
                if asynchronous:
                    if self.on_commit is not None:
                        self._events.append(("commit", error, []))
                    return None
                raise KafkaException(error)
        result = self._send_commit(wanted, asynchronous)
        return None if asynchronous else result

    def store_offsets(self, message: Message | None = None, offsets: list[TopicPartition] | None = None) -> None:
        """Store an offset for the next (auto-)commit (with ``enable.auto.offset.store=false``)."""
        self._check_open()
        items = [((message[0], message[1]), message[2] + 1)] if message is not None else \
            [((tp.topic, tp.partition), tp.offset) for tp in offsets or []]
        for key, offset in items:
            assigned = self._parts.get(key)
            if assigned is None:
                raise StateError(KafkaError("_STATE", f"store_offsets: {key[0]} [{key[1]}] is not assigned"))
            assigned.stored = offset

    def committed(self, partitions: list[TopicPartition], timeout: float | None = None) -> list[TopicPartition]:
        """The group's committed offsets (``OFFSET_INVALID`` where nothing is committed)."""
        self._check_open()
        group = self.cluster.groups.get(self.group_id)
        result = []
        for tp in partitions:
            offset = group.committed_offset(tp.topic, tp.partition) if group else None
            result.append(TopicPartition(tp.topic, tp.partition, OFFSET_INVALID if offset is None else offset))
        return result

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """The offset of the next record poll() will return, per partition (``OFFSET_INVALID`` if unknown)."""
        self._check_open()
        self._settle()
        result = []
        for tp in partitions:
            assigned = self._parts.get((tp.topic, tp.partition))
            offset = assigned.position if assigned is not None and assigned.position is not None else OFFSET_INVALID
            result.append(TopicPartition(tp.topic, tp.partition, offset))
        return result

    def position_of(self, key: tuple[str, int]) -> int | None:
        """This consumer's position in one partition, if assigned (for statistics and the log view)."""
        assigned = self._parts.get(key)
        if assigned is None:
            return None
        if assigned is self._chunk_owner:
            self._settle()
        return assigned.position

    # -- seeking ------------------------------------------------------------------------------------------
    def seek(self, partition: TopicPartition) -> None:
        """Move the position: an offset, ``OFFSET_BEGINNING`` or ``OFFSET_END``. The partition must be assigned."""
        self._check_open()
        assigned = self._parts.get((partition.topic, partition.partition))
        if assigned is None:
            raise StateError(KafkaError(
                "_STATE",
                f"seek: {partition.topic} [{partition.partition}] is not assigned to consumer {self.name}; "
                f"seek inside on_assign, or after assign()",
            ))
        self._settle()
        if assigned is self._chunk_owner:
            self._drop_chunk()
        self._seek_to(assigned, partition.offset)

    def _seek_to(self, assigned: _Assigned, offset: int) -> None:
        partition = assigned.partition
        if offset == OFFSET_BEGINNING:
            offset = partition.log_start_offset
        elif offset == OFFSET_END:
            offset = partition.read_end(self.read_committed)
        elif offset < 0:
            raise OffsetOutOfRange(KafkaError(
                "OFFSET_OUT_OF_RANGE",
                f"seek {assigned.key[0]} [{assigned.key[1]}] to {offset}: use an offset >= 0, OFFSET_BEGINNING "
                f"or OFFSET_END (offsets_for_times() turns a time into an offset)",
            ))
        assigned.position = assigned.fetch_next = offset
        assigned.failed = False
        assigned.eof = False
        if self.sim.tracing:
            self.sim.log(self.name, "seek", topic=assigned.key[0], partition=assigned.key[1], offset=offset)
        self.wake()

    def offsets_for_times(self, partitions: list[TopicPartition], timeout: float | None = None) -> list[TopicPartition]:
        """For each ``tp.offset`` holding a timestamp (ms), the earliest offset with a timestamp at or after it.

        ``OFFSET_END`` (-1) where no such record exists, as Kafka answers.
        """
        self._check_open()
        result = []
        for tp in partitions:
            partition = self.cluster.partition(tp.topic, tp.partition)
            self.cluster.maybe_clean(partition, self.cluster.now_ms)
            found = partition.log.offset_for_time(tp.offset, partition.read_end(self.read_committed))
            result.append(TopicPartition(tp.topic, tp.partition, OFFSET_END if found is None else found))
        return result

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float | None = None,
                              cached: bool = False) -> tuple[int, int]:
        """``(low, high)``: the log start offset and the high watermark."""
        self._check_open()
        p = self.cluster.partition(partition.topic, partition.partition)
        self.cluster.maybe_clean(p, self.cluster.now_ms)
        return p.log_start_offset, p.high_watermark

    def pause(self, partitions: list[TopicPartition]) -> None:
        """Stop fetching these partitions (the assignment and position are kept)."""
        self._check_open()
        self._settle()
        for tp in partitions:
            assigned = self._parts.get((tp.topic, tp.partition))
            if assigned is not None:
                assigned.paused = True
                if assigned is self._chunk_owner:
                    self._drop_chunk()

    def resume(self, partitions: list[TopicPartition]) -> None:
        self._check_open()
        for tp in partitions:
            assigned = self._parts.get((tp.topic, tp.partition))
            if assigned is not None:
                assigned.paused = False
        self.wake()

    # -- group membership upkeep -----------------------------------------------------------------------
    def _check_poll_interval(self) -> None:
        self._poll_timer = None
        if self._closed or self.closed_or_crashed or self._group is None or self.member_id is None:
            return
        if self._waiters:
            return  # blocked in poll_event counts as polling; the timer is re-armed when it returns
        due = self._last_poll + self.max_poll_interval
        if self.sim.now < due:
            self._poll_timer = self.sim.call_at(due, self._check_poll_interval)
            return
        member_id = self.member_id
        self._revoke(list(self._parts), lost=True)
        self._events.append(("error", KafkaError(
            "_MAX_POLL_EXCEEDED",
            f"consumer {self.name}: Application maximum poll interval ({int(self.max_poll_interval * 1000)}ms) "
            f"exceeded by processing; the consumer left group {self.group_id!r} and will rejoin on the next poll",
        )))
        self._needs_rejoin = True  # the stale member id stays until the rejoin: commits get UNKNOWN_MEMBER_ID
        self._group.leave(member_id, "exceeded max.poll.interval.ms")

    def crash(self) -> None:
        """Simulator extra: the process dies. No leave, no commit: the group notices after session.timeout.ms."""
        if self._closed:
            return
        self.closed_or_crashed = True
        self._closed = True
        self._chunk = []
        self._i = self._n = 0  # nothing more comes out of poll()
        if self._group is not None and self.member_id is not None:
            self._group.member_crashed(self.member_id)
        self._cancel_timers()
        if self.sim.tracing:
            self.sim.log(self.name, "crashed", member=self.member_id)

    def close(self) -> None:
        """Commit stored offsets (with auto-commit), revoke, leave the group (static members stay)."""
        if self._closed:
            return
        if self._group is not None and self.member_id is not None:
            self._settle()
            if self.auto_commit and not self.fenced:
                with contextlib.suppress(KafkaException):
                    self._commit_stored(list(self._parts), quiet=True)
            keys = list(self._parts)
            self._drop_all()
            self._serve_event(("revoke", keys))
            if self.config["group.instance.id"] is None:
                self._group.leave(self.member_id, "closed")
            else:
                self._group.member_crashed(self.member_id)
        self._drop_all()
        self._closed = True
        self.closed_or_crashed = True
        self._cancel_timers()
        for waiter in self._waiters:
            waiter.succeed(None)
        self._waiters = []

    def _cancel_timers(self) -> None:
        for handle in (self._poll_timer, self._commit_timer):
            if handle is not None:
                handle.cancel()
        self._poll_timer = self._commit_timer = None

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosed(f"Consumer closed: consumer {self.name} was closed or crashed; create a new one")

    # -- metadata --------------------------------------------------------------------------------------------
    def memberid(self) -> str | None:
        return self.member_id

    def consumer_group_metadata(self) -> GroupMetadata:
        return GroupMetadata(self.group_id, self.generation, self.member_id)

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> ClusterMetadata:
        from mqlab.kafka.admin import cluster_metadata

        return cluster_metadata(self.cluster, topic)

    def __repr__(self) -> str:
        return f"<Consumer {self.name} group={self.group_id!r} member={self.member_id} parts={list(self._parts)}>"
