"""The cluster: brokers, topics and partitions, and the broker side of produce and fetch.

``Cluster(sim, brokers=3)`` is the simulated Kafka cluster that clients are given
instead of ``bootstrap.servers``::

    from mqlab.sim import Simulation
    from mqlab.kafka import Cluster, Producer, Consumer
    sim = Simulation(seed=1)
    cluster = Cluster(sim, brokers=3)
    cluster.create_topic("rides", num_partitions=6, replication_factor=3)

Broker defaults are Apache Kafka's: ``num.partitions=1`` and ``default.replication.factor=1``
for auto-created topics (``auto.create.topics.enable=true``), ``min.insync.replicas=1``,
``unclean.leader.election.enable=false``, ``log.retention.check.interval.ms=300000`` (the
retention cleaner runs every five minutes, so a record expires up to five minutes after
``retention.ms``), ``log.cleaner.backoff.ms=15000``, ``group.initial.rebalance.delay.ms=3000``.

Virtual time: a request takes ``network_delay`` seconds each way; followers copy new
records ``replication_delay`` seconds after the leader wrote them. The log cleaner does not
put entries on the agenda: every time a partition is touched (produce, fetch, statistics,
ledger) it applies what the periodic cleaner would have done at its last scheduled check, so
``sim.run()`` without ``until`` still ends, and the outcome is the same.

Hooks for fault injection: :meth:`handle_produce` (a produce request arriving at the
leader), :meth:`respond` (its response leaving), :meth:`fetch` (a consumer read),
:meth:`kill_broker` / :meth:`restart_broker`. A wrapper may intercept any of them; a wrapper
that loses a produce request calls :meth:`drop_request` with the fault's name, so the ledger
counts the records an ``acks=0`` producer already called delivered.

Simplifications: replica placement is round-robin (partition ``p``'s replicas are brokers
``p, p+1, ...`` modulo the broker count, not Kafka's random start); consumers read at the
instant records become visible (no fetch latency); a broker's failure is detected at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import count
from typing import TYPE_CHECKING, Any

from mqlab.kafka.config import parse_topic_config
from mqlab.kafka.errors import (
    InvalidPartitions,
    InvalidReplicationFactor,
    InvalidTopic,
    KafkaError,
    StateError,
    TopicAlreadyExists,
    UnknownTopicOrPartition,
)
from mqlab.kafka.ledger import REMOVAL_CAUSES, Ledger, LedgerCounters
from mqlab.kafka.partition import Partition

if TYPE_CHECKING:
    from mqlab.kafka.group import GroupCoordinator
    from mqlab.kafka.share import ShareGroup
    from mqlab.kafka.statistics import ClusterStatistics, LogView
    from mqlab.kafka.transactions import TransactionCoordinator
    from mqlab.sim import Simulation

__all__ = ["Broker", "Cluster", "Topic"]

_LEGAL_TOPIC = re.compile(r"^[a-zA-Z0-9._-]+$")


class Broker:
    """A broker: alive or dead. Dead brokers lead nothing and copy nothing."""

    __slots__ = ("id", "alive")

    def __init__(self, broker_id: int) -> None:
        self.id = broker_id
        self.alive = True

    def __repr__(self) -> str:
        return f"<Broker {self.id} {'up' if self.alive else 'down'}>"


class Topic:
    """A named, partitioned log with its configuration (``retention.ms``, ``cleanup.policy``, ...)."""

    __slots__ = ("name", "partitions", "config", "replication_factor", "log_append_time", "compact", "delete",
                 "max_message_bytes", "topic_id", "deleted")

    def __init__(self, name: str, config: dict[str, Any], replication_factor: int, topic_id: int) -> None:
        self.name = name
        self.partitions: list[Partition] = []
        self.config = config
        self.replication_factor = replication_factor
        self.topic_id = topic_id
        self.deleted = False
        self.refresh()

    def refresh(self) -> None:
        config = self.config
        self.log_append_time = config["message.timestamp.type"] == "LogAppendTime"
        self.compact = "compact" in config["cleanup.policy"]
        self.delete = "delete" in config["cleanup.policy"]
        self.max_message_bytes = config["max.message.bytes"]

    def __repr__(self) -> str:
        return f"<Topic {self.name!r} partitions={len(self.partitions)} rf={self.replication_factor}>"


class Cluster:
    """A simulated Kafka cluster of ``brokers`` brokers, driven by ``sim``'s virtual clock."""

    def __init__(
        self,
        sim: Simulation,
        brokers: int = 3,
        *,
        default_replication_factor: int = 1,
        num_partitions: int = 1,
        min_insync_replicas: int = 1,
        auto_create_topics: bool = True,
        unclean_leader_election: bool = False,
        network_delay: float = 0.0005,
        replication_delay: float = 0.005,
        retention_check_interval_ms: int = 300_000,
        cleaner_backoff_ms: int = 15_000,
        group_initial_rebalance_delay_ms: int = 3000,
        name: str = "kafka",
    ) -> None:
        if not isinstance(brokers, int) or brokers < 1:
            raise ValueError(f"Cluster(brokers={brokers!r}): a cluster needs at least one broker (an int >= 1)")
        if not 1 <= default_replication_factor <= brokers:
            raise InvalidReplicationFactor(KafkaError(
                "INVALID_REPLICATION_FACTOR",
                f"default_replication_factor={default_replication_factor} but the cluster has {brokers} "
                f"broker(s); choose 1..{brokers}",
            ))
        for label, delay in (("network_delay", network_delay), ("replication_delay", replication_delay)):
            if not delay >= 0:
                raise ValueError(f"Cluster({label}={delay!r}): a delay is a number of seconds >= 0")
        self.sim = sim
        self.name = name
        self.brokers = {i: Broker(i) for i in range(brokers)}
        self.alive = {i: True for i in range(brokers)}
        self.topics: dict[str, Topic] = {}
        self.default_replication_factor = default_replication_factor
        self.num_partitions = num_partitions
        self.auto_create_topics = auto_create_topics
        self.topic_defaults = {
            "min.insync.replicas": min_insync_replicas,
            "unclean.leader.election.enable": unclean_leader_election,
        }
        self.network_delay = network_delay
        self.replication_delay = replication_delay
        self.retention_check_interval_ms = retention_check_interval_ms
        self.cleaner_backoff_ms = cleaner_backoff_ms
        self.group_initial_rebalance_delay_ms = group_initial_rebalance_delay_ms
        self.counters = LedgerCounters()
        self.groups: dict[str, GroupCoordinator] = {}
        self.share_groups: dict[str, ShareGroup] = {}
        self.producers: list[Any] = []
        self.consumers: list[Any] = []
        self.errors: list[tuple[float, str, BaseException]] = []
        self._producer_ids = count(1000)
        self._topic_ids = count(1)
        self._txn: TransactionCoordinator | None = None

    # -- time ------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        """Virtual time in milliseconds, as Kafka timestamps are."""
        return int(self.sim.now * 1000)

    # -- topics ------------------------------------------------------------------------
    def create_topic(self, name: str, num_partitions: int | None = None, replication_factor: int | None = None,
                     config: Mapping[str, Any] | None = None) -> Topic:
        """Create a topic (what AdminClient.create_topics does); raises on a bad name, count or factor."""
        if not isinstance(name, str) or not name or len(name) > 249 or name in (".", "..") \
                or not _LEGAL_TOPIC.match(name):
            raise InvalidTopic(KafkaError(
                "TOPIC_EXCEPTION",
                f"topic name {name!r} is not legal: use 1..249 characters from [a-zA-Z0-9._-], not '.' or '..'",
            ))
        if name in self.topics:
            raise TopicAlreadyExists(KafkaError("TOPIC_ALREADY_EXISTS", f"Topic '{name}' already exists."))
        partitions = self.num_partitions if num_partitions in (None, -1) else num_partitions
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise InvalidPartitions(KafkaError(
                "INVALID_PARTITIONS",
                f"topic {name!r}: num_partitions={num_partitions!r}; a topic needs at least 1 partition",
            ))
        factor = self.default_replication_factor if replication_factor in (None, -1) else replication_factor
        if not isinstance(factor, int) or factor < 1 or factor > len(self.brokers):
            raise InvalidReplicationFactor(KafkaError(
                "INVALID_REPLICATION_FACTOR",
                f"topic {name!r}: replication_factor={replication_factor!r} but the cluster has "
                f"{len(self.brokers)} broker(s); choose 1..{len(self.brokers)}",
            ))
        topic_config = parse_topic_config(config, name, self.topic_defaults)
        topic = Topic(name, topic_config, factor, next(self._topic_ids))
        self.topics[name] = topic
        self._add_partitions(topic, partitions)
        if self.sim.tracing:
            self.sim.log(self.name, "topic_created", topic=name, partitions=partitions, replication_factor=factor)
        return topic

    def _add_partitions(self, topic: Topic, total: int) -> None:
        ids = sorted(self.brokers)
        n = len(ids)
        for index in range(len(topic.partitions), total):
            replicas = [ids[(index + i) % n] for i in range(topic.replication_factor)]
            partition = Partition(topic, index, replicas)
            partition.next_clean_ms = self.now_ms
            state = partition.replicas
            for broker in replicas:
                if not self.alive[broker]:
                    state.remove(broker)
            if state.leader is None:
                state.elect(self.alive, False)
            topic.partitions.append(partition)

    def create_partitions(self, name: str, new_total_count: int) -> None:
        """Grow a topic to ``new_total_count`` partitions. Existing records stay; keys map differently after."""
        topic = self.topic(name)
        current = len(topic.partitions)
        if not isinstance(new_total_count, int) or new_total_count <= current:
            raise InvalidPartitions(KafkaError(
                "INVALID_PARTITIONS",
                f"Topic currently has {current} partitions, which is higher than or equal to the requested "
                f"{new_total_count}: topic {name!r} can only grow; partitions are never removed",
            ))
        self._add_partitions(topic, new_total_count)
        if self.sim.tracing:
            self.sim.log(self.name, "partitions_created", topic=name, partitions=new_total_count)
        for group in list(self.groups.values()):
            group.metadata_changed(name)

    def delete_topic(self, name: str) -> None:
        """Delete a topic and all its records (counted as ``topic_deleted`` in the ledger)."""
        topic = self.topic(name)
        del self.topics[name]
        topic.deleted = True
        removed = 0
        for partition in topic.partitions:
            partition.deleted = True
            removed += partition.log.records
            while partition.waiting:
                _, request = partition.waiting.popleft()
                self.respond(request, "UNKNOWN_TOPIC_OR_PART", -1)
        self.counters.removed["topic_deleted"] += removed
        if self.sim.tracing:
            self.sim.log(self.name, "topic_deleted", topic=name, records=removed)
        for group in list(self.groups.values()):
            group.metadata_changed(name)

    def topic(self, name: str) -> Topic:
        topic = self.topics.get(name)
        if topic is None:
            raise UnknownTopicOrPartition(KafkaError(
                "UNKNOWN_TOPIC_OR_PART",
                f"topic {name!r} does not exist on cluster {self.name!r}; create it with "
                f"AdminClient.create_topics([NewTopic({name!r}, num_partitions=...)]) or cluster.create_topic",
            ))
        return topic

    def partition(self, name: str, index: int) -> Partition:
        topic = self.topic(name)
        if not isinstance(index, int) or not 0 <= index < len(topic.partitions):
            raise UnknownTopicOrPartition(KafkaError(
                "UNKNOWN_TOPIC_OR_PART",
                f"partition {index!r} of topic {name!r} does not exist: the topic has partitions "
                f"0..{len(topic.partitions) - 1}",
            ))
        return topic.partitions[index]

    def topic_for_produce(self, name: str) -> Topic:
        """The topic, auto-created with the broker defaults if allowed (``auto.create.topics.enable``)."""
        topic = self.topics.get(name)
        if topic is None:
            if not self.auto_create_topics:
                self.topic(name)  # raises UnknownTopicOrPartition
            topic = self.create_topic(name)
        return topic

    # -- the produce path ---------------------------------------------------------------
    def new_producer_id(self) -> int:
        return next(self._producer_ids)

    def handle_produce(self, request: Any) -> None:
        """A produce request arrives at the partition's leader (hook for fault injection)."""
        partition: Partition = request.partition
        if partition.deleted:
            self.respond(request, "UNKNOWN_TOPIC_OR_PART", -1)
            return
        state = partition.replicas
        if state.leader is None:
            self.respond(request, "LEADER_NOT_AVAILABLE", -1)
            return
        topic = partition.topic
        if request.max_size > topic.max_message_bytes:
            self.respond(request, "MSG_SIZE_TOO_LARGE", -1)
            return
        if topic.compact and None in request.keys:
            self.respond(request, "INVALID_RECORD", -1)  # "Compacted topic cannot accept message without key"
            return
        acks = request.acks
        if acks == -1 and len(state.isr) < topic.config["min.insync.replicas"]:
            self.respond(request, "NOT_ENOUGH_REPLICAS", -1)
            return
        pid = request.pid
        if pid >= 0:
            verdict, base = partition.check_sequence(pid, request.epoch, request.base_seq, len(request.keys))
            if verdict == "DUPLICATE":
                if self.sim.tracing:
                    self.sim.log(self.name, "duplicate_dropped", topic=topic.name, partition=partition.index,
                                 offset=base, count=len(request.keys))
                self._after_append(request, partition, base, acks)
                return
            if verdict is not None:
                self.respond(request, verdict, -1)
                return
        now_ms = self.now_ms
        self.maybe_clean(partition, now_ms)
        timestamps = [now_ms] * len(request.keys) if topic.log_append_time else request.timestamps
        txn_pid = pid if request.transactional else -1
        if txn_pid >= 0 and pid not in partition.open_txns:
            partition.open_txns[pid] = partition.log.next_offset
        base = partition.log.append(request.keys, request.values, request.headers, timestamps, request.size,
                                    now_ms, txn_pid)
        count = len(request.keys)
        leader = state.leader
        state.leo[leader] = base + count
        if pid >= 0:
            partition.record_sequence(pid, request.epoch, request.base_seq, count, base)
        counters = self.counters
        counters.appended += count
        if request.appended:
            counters.duplicates += count
        request.appended = True
        if self.sim.tracing:
            self.sim.log(self.name, "appended", topic=topic.name, partition=partition.index, offset=base,
                         count=count, leader=leader)
        if len(state.isr) == 1 and state.isr[0] == leader:
            state.hw = base + count
            if partition.watchers:
                partition.wake()
        self._after_append(request, partition, base, acks)
        if not partition.fetch_pending and state.lagging_followers(self.alive):
            partition.fetch_pending = True
            self.sim.call_later(self.replication_delay, self._replicate, (partition, base + count))

    def drop_request(self, request: Any, fault: str) -> int:
        """A fault layer lost ``request`` on its way to the leader; returns the records this loses for good.

        With ``acks=0`` the producer reported the records delivered when it sent them and will
        never retry: they are counted in the ledger's ``acknowledged_lost`` under ``fault``.
        With ``acks=1`` or ``all`` nothing is lost yet: the producer retries after
        ``request.timeout.ms`` (and reports a failure if ``message.timeout.ms`` runs out).
        """
        if not isinstance(fault, str) or not fault:
            raise ValueError(f"cluster {self.name!r}: drop_request needs the fault's name (a non-empty str), "
                             f"got {fault!r}")
        lost = len(request.keys) if request.acks == 0 else 0
        if lost:
            counters = self.counters.acknowledged_lost
            counters[fault] = counters.get(fault, 0) + lost
        if self.sim.tracing:
            partition = request.partition
            self.sim.log(self.name, "request_lost", topic=partition.topic.name, partition=partition.index,
                         count=len(request.keys), acks=request.acks, fault=fault, acknowledged_lost=lost)
        return lost

    def _after_append(self, request: Any, partition: Partition, base: int, acks: int) -> None:
        if acks == -1:
            end = base + len(request.keys)
            if partition.replicas.hw >= end:
                self._ack(request, partition, base)
            else:
                request.base_offset = base
                partition.waiting.append((end, request))
        else:
            self._ack(request, partition, base)

    def _ack(self, request: Any, partition: Partition, base: int) -> None:
        partition.mark_acked(base, base + len(request.keys))
        self.respond(request, None, base)

    def respond(self, request: Any, error: str | None, base_offset: int) -> None:
        """Send the produce response back to the producer (hook for fault injection).

        With ``acks=0`` there is no response; a request that was not written is counted as an
        acknowledged record lost (``not_written``), since the producer already reported success.
        """
        if request.acks == 0:
            if error is not None:
                self.counters.acknowledged_lost["not_written"] += len(request.keys)
            return
        self.sim.call_later(self.network_delay, request.producer.handle_response, (request, error, base_offset))

    def _replicate(self, job: tuple[Partition, int]) -> None:
        partition, target = job
        partition.fetch_pending = False
        if partition.deleted:
            return
        state = partition.replicas
        if state.leader is None:
            return
        before = state.hw
        state.follower_fetch(target, self.alive)
        hw = state.update_hw()
        if self.sim.tracing and hw > before:
            self.sim.log(self.name, "replicated", topic=partition.topic.name, partition=partition.index,
                         high_watermark=hw, isr=list(state.isr))
        self._complete_waits(partition)
        if partition.watchers and hw > before:
            partition.wake()
        if state.lagging_followers(self.alive):
            partition.fetch_pending = True
            self.sim.call_later(self.replication_delay, self._replicate, (partition, state.leo[state.leader]))

    def _complete_waits(self, partition: Partition) -> None:
        waiting = partition.waiting
        state = partition.replicas
        hw = state.hw
        short = len(state.isr) < partition.topic.config["min.insync.replicas"]
        while waiting and waiting[0][0] <= hw:
            _, request = waiting.popleft()
            if short:
                self.respond(request, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", -1)
            else:
                self._ack(request, partition, request.base_offset)

    # -- failures ---------------------------------------------------------------------------
    def kill_broker(self, broker_id: int) -> None:
        """Stop a broker: it leaves every ISR, and partitions it led elect a new leader."""
        broker = self._broker(broker_id)
        if not broker.alive:
            return
        broker.alive = False
        self.alive[broker_id] = False
        if self.sim.tracing:
            self.sim.log(self.name, "broker_killed", broker=broker_id)
        for topic in list(self.topics.values()):
            for partition in topic.partitions:
                state = partition.replicas
                if broker_id not in state.replicas:
                    continue
                was_leader = state.leader == broker_id
                state.remove(broker_id)
                if was_leader:
                    self._elect(partition)
                else:
                    state.update_hw()
                    self._complete_waits(partition)
                    partition.wake()

    def restart_broker(self, broker_id: int) -> None:
        """Start a stopped broker again: it catches up as a follower, or leads offline partitions it can."""
        broker = self._broker(broker_id)
        if broker.alive:
            return
        broker.alive = True
        self.alive[broker_id] = True
        if self.sim.tracing:
            self.sim.log(self.name, "broker_restarted", broker=broker_id)
        for topic in list(self.topics.values()):
            for partition in topic.partitions:
                state = partition.replicas
                if broker_id not in state.replicas:
                    continue
                if state.leader is None:
                    self._elect(partition)
                elif not partition.fetch_pending and state.lagging_followers(self.alive):
                    partition.fetch_pending = True
                    self.sim.call_later(self.replication_delay, self._replicate,
                                        (partition, state.leo[state.leader]))
                else:
                    state.follower_fetch(state.leo[state.leader], self.alive)

    def _broker(self, broker_id: int) -> Broker:
        broker = self.brokers.get(broker_id)
        if broker is None:
            raise StateError(KafkaError(
                "_STATE", f"broker {broker_id!r} is not in cluster {self.name!r}; brokers are {sorted(self.brokers)}"
            ))
        return broker

    def _elect(self, partition: Partition) -> None:
        state = partition.replicas
        unclean_allowed = partition.topic.config["unclean.leader.election.enable"]
        leader, clean = state.elect(self.alive, unclean_allowed)
        tracing = self.sim.tracing
        # requests waiting for the old leader's HW fail: the producer retries them
        # (a request whose records the new leader does not have will write them afresh: not a duplicate)
        survivor_end = state.leo[leader] if leader is not None else 0
        waiting = partition.waiting
        while waiting:
            _, request = waiting.popleft()
            if request.base_offset >= survivor_end:
                request.appended = False
            self.respond(request, "NOT_LEADER_FOR_PARTITION", -1)
        if leader is None:
            if tracing:
                self.sim.log(self.name, "offline", topic=partition.topic.name, partition=partition.index)
            return
        new_end = state.leo[leader]
        if new_end < partition.log.next_offset:
            self._truncate(partition, new_end, "leader_failover" if clean else "unclean_leader_election")
        state.truncate_all(new_end)
        state.update_hw()
        partition.wake()
        if tracing:
            self.sim.log(self.name, "leader_elected", topic=partition.topic.name, partition=partition.index,
                         leader=leader, clean=clean, epoch=state.epoch)
        if not partition.fetch_pending and state.lagging_followers(self.alive):
            partition.fetch_pending = True
            self.sim.call_later(self.replication_delay, self._replicate, (partition, new_end))

    def _truncate(self, partition: Partition, offset: int, cause: str) -> None:
        lost_acked = partition.acked_at_or_above(offset)
        log = partition.log
        first = offset
        removed = log.truncate(offset)
        partition.forget_sequences_from(offset)
        for pid in [p for p, start in partition.open_txns.items() if start >= offset]:
            del partition.open_txns[pid]
        self.counters.removed[cause] += removed
        self.counters.acknowledged_lost[cause] += lost_acked
        if self.sim.tracing:
            self.sim.log(self.name, "lost", topic=partition.topic.name, partition=partition.index, offset=first,
                         count=removed, acknowledged=lost_acked, cause=cause)

    # -- the log cleaner -----------------------------------------------------------------------
    def maybe_clean(self, partition: Partition, now_ms: int) -> None:
        """Apply retention and compaction as the periodic cleaner would have by now."""
        topic = partition.topic
        if now_ms >= partition.next_clean_ms and topic.delete:
            interval = self.retention_check_interval_ms
            tick = now_ms - now_ms % interval
            partition.next_clean_ms = tick + interval
            config = topic.config
            log = partition.log
            start = log.log_start_offset
            deleted = log.delete_expired(tick, config["retention.ms"], config["retention.bytes"],
                                         partition.replicas.hw)
            if log.log_start_offset > start:
                partition.forget_acked_below(log.log_start_offset)
                self.counters.removed["retention"] += deleted
                if self.sim.tracing:
                    self.sim.log(self.name, "deleted_by_retention", topic=topic.name, partition=partition.index,
                                 offset=start, count=deleted, log_start_offset=log.log_start_offset)
        if topic.compact and now_ms >= partition.next_compact_ms:
            interval = self.cleaner_backoff_ms
            tick = now_ms - now_ms % interval
            partition.next_compact_ms = tick + interval
            log = partition.log
            if log.dirty_ratio() >= topic.config["min.cleanable.dirty.ratio"] or \
                    (len(log.segments) > 1 and log.cleaned_upto < log.segments[-1].base_offset and
                     topic.config["min.cleanable.dirty.ratio"] == 0):
                removed = log.compact(tick, topic.config["delete.retention.ms"], partition.replicas.hw)
                if removed:
                    self.counters.removed["compaction"] += len(removed)
                    if self.sim.tracing:
                        self.sim.log(self.name, "compacted", topic=topic.name, partition=partition.index,
                                     offsets=[o for o, _ in removed], count=len(removed))

    def run_log_cleaner(self) -> None:
        """Apply retention and compaction to every partition now (as at the last scheduled check)."""
        now_ms = self.now_ms
        for topic in list(self.topics.values()):
            for partition in topic.partitions:
                self.maybe_clean(partition, now_ms)

    # -- the fetch path --------------------------------------------------------------------------
    def fetch(self, client: Any, partition: Partition, offset: int, limit: int,
              read_committed: bool) -> tuple[list[Any], int]:
        """A consumer reads from a partition's leader (hook for fault injection).

        Returns ``(messages, next offset)``; no messages if the partition is offline.
        """
        self.maybe_clean(partition, self.now_ms)
        if partition.replicas.leader is None:
            return [], offset
        return partition.fetch(offset, limit, read_committed)

    # -- groups and transactions ---------------------------------------------------------------------
    def group(self, group_id: str) -> GroupCoordinator:
        """The coordinator of consumer group ``group_id`` (created on first use, as Kafka does)."""
        group = self.groups.get(group_id)
        if group is None:
            from mqlab.kafka.group import GroupCoordinator

            group = self.groups[group_id] = GroupCoordinator(self, group_id)
        return group

    def share_group(self, group_id: str, **config: Any) -> ShareGroup:
        """The share group ``group_id``; keyword arguments set its group configs (see ShareGroup)."""
        group = self.share_groups.get(group_id)
        if group is None:
            from mqlab.kafka.share import ShareGroup

            group = self.share_groups[group_id] = ShareGroup(self, group_id)
        if config:
            group.configure(**config)
        return group

    @property
    def transactions(self) -> TransactionCoordinator:
        if self._txn is None:
            from mqlab.kafka.transactions import TransactionCoordinator

            self._txn = TransactionCoordinator(self)
        return self._txn

    # -- introspection -----------------------------------------------------------------------------
    def ledger(self) -> Ledger:
        """Where every record is now; see :mod:`mqlab.kafka.ledger` for the balances."""
        self.run_log_cleaner()
        c = self.counters
        retained = sum(p.log.records for t in self.topics.values() for p in t.partitions)
        pending = sum(p.pending_count() for p in self.producers)
        return Ledger(
            produced=c.produced + sum(p.produced for p in self.producers),
            pending=pending,
            acknowledged=c.acknowledged,
            failed=dict(sorted(c.failed.items())),
            appended=c.appended,
            retained=retained,
            removed={k: c.removed[k] for k in REMOVAL_CAUSES},
            acknowledged_lost=dict(c.acknowledged_lost),
            duplicates=c.duplicates,
            control_records=c.control_records,
            share_accepted=c.share_accepted,
            share_archived=c.share_archived,
        )

    def statistics(self) -> ClusterStatistics:
        """Frozen statistics per topic, partition and group."""
        from mqlab.kafka.statistics import cluster_statistics

        self.run_log_cleaner()
        return cluster_statistics(self)

    def log_view(self, topic: str) -> LogView:
        """A description of a topic's partitions for plots: offsets, retention boundary, group positions."""
        from mqlab.kafka.statistics import log_view

        self.run_log_cleaner()
        return log_view(self, self.topic(topic))

    def record_error(self, where: str, error: BaseException) -> None:
        """Keep a learner callback's exception where the learner can see it."""
        self.errors.append((self.sim.now, where, error))
        if self.sim.tracing:
            self.sim.log(self.name, "callback_error", where=where, error=repr(error))

    def __repr__(self) -> str:
        up = sum(self.alive.values())
        return f"<Cluster {self.name!r} brokers={up}/{len(self.brokers)} topics={len(self.topics)}>"
