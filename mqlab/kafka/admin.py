"""Administration: ``AdminClient(cluster)`` shaped like ``confluent_kafka.admin.AdminClient``.

As in confluent-kafka, the calls return a dict of *futures*, one per topic, group or
partition: ``fs = admin.create_topics([NewTopic("rides", 6, 3)])`` then
``fs["rides"].result()`` (``None`` on success, raises ``KafkaException`` on failure). In the
simulator an admin operation completes at once, so each future is already done
(simplification: no controller latency).

Also here: the metadata returned by ``list_topics()`` (``ClusterMetadata`` with ``topics``
and ``brokers``), ``describe_consumer_groups``, ``list_consumer_group_offsets``,
``list_offsets`` with ``OffsetSpec.earliest()/latest()/for_timestamp(ms)``, and
``alter_share_group_config`` (a simulator extra: share group configs are group configs in Kafka).

Simplifications: ``list_consumer_group_offsets`` takes group ids (confluent-kafka takes
``ConsumerGroupTopicPartitions``) and returns every committed partition; timeouts are accepted
and ignored; ``replica_assignment`` is not honoured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mqlab.kafka.errors import KafkaError, KafkaException
from mqlab.kafka.message import TopicPartition

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Cluster

__all__ = [
    "AdminClient",
    "ClusterMetadata",
    "ConsumerGroupDescription",
    "Future",
    "ListOffsetsResultInfo",
    "MemberDescription",
    "NewPartitions",
    "NewTopic",
    "OffsetSpec",
    "cluster_metadata",
]


class Future:
    """A completed future, like ``concurrent.futures.Future`` after the operation finished."""

    __slots__ = ("_value", "_error")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value = value
        self._error = error

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def result(self, timeout: float | None = None) -> Any:
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self._error

    def __repr__(self) -> str:
        return f"<Future {'error' if self._error else 'done'}>"


def _run(fn: Any, *args: Any) -> Future:
    try:
        return Future(fn(*args))
    except KafkaException as exc:
        return Future(error=exc)


@dataclass
class NewTopic:
    """A topic to create; ``-1`` means the broker default (``num.partitions``, ``default.replication.factor``)."""

    topic: str
    num_partitions: int = -1
    replication_factor: int = -1
    replica_assignment: list[list[int]] | None = None
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class NewPartitions:
    """Grow ``topic`` to ``new_total_count`` partitions."""

    topic: str
    new_total_count: int
    replica_assignment: list[list[int]] | None = None


class OffsetSpec:
    """Which offset ``list_offsets`` returns: ``earliest()``, ``latest()`` or ``for_timestamp(ms)``."""

    __slots__ = ("kind", "timestamp")

    def __init__(self, kind: str, timestamp: int = -1) -> None:
        self.kind = kind
        self.timestamp = timestamp

    @classmethod
    def earliest(cls) -> OffsetSpec:
        return cls("earliest")

    @classmethod
    def latest(cls) -> OffsetSpec:
        return cls("latest")

    @classmethod
    def max_timestamp(cls) -> OffsetSpec:
        return cls("max_timestamp")

    @classmethod
    def for_timestamp(cls, timestamp: int) -> OffsetSpec:
        return cls("timestamp", timestamp)


@dataclass(frozen=True)
class ListOffsetsResultInfo:
    offset: int
    timestamp: int
    leader_epoch: int | None


@dataclass(frozen=True)
class MemberDescription:
    member_id: str
    client_id: str
    host: str
    assignment: list[TopicPartition]
    group_instance_id: str | None = None


@dataclass(frozen=True)
class ConsumerGroupDescription:
    group_id: str
    is_simple_consumer_group: bool
    members: list[MemberDescription]
    partition_assignor: str
    state: str
    coordinator: int
    generation: int


@dataclass(frozen=True)
class PartitionMetadata:
    id: int
    leader: int
    replicas: list[int]
    isrs: list[int]
    error: KafkaError | None = None


@dataclass(frozen=True)
class TopicMetadata:
    topic: str
    partitions: dict[int, PartitionMetadata]
    error: KafkaError | None = None


@dataclass(frozen=True)
class BrokerMetadata:
    id: int
    host: str
    port: int


@dataclass(frozen=True)
class ClusterMetadata:
    cluster_id: str
    controller_id: int
    brokers: dict[int, BrokerMetadata]
    topics: dict[str, TopicMetadata]
    orig_broker_id: int = -1
    orig_broker_name: str = ""


def cluster_metadata(cluster: Cluster, topic: str | None = None) -> ClusterMetadata:
    """What a Metadata request returns (all topics, or one)."""
    brokers = {b: BrokerMetadata(b, f"broker-{b}", 9092) for b, up in cluster.alive.items() if up}
    names = [topic] if topic is not None else list(cluster.topics)
    topics = {}
    for name in names:
        t = cluster.topics.get(name)
        if t is None:
            topics[name] = TopicMetadata(name, {}, KafkaError("UNKNOWN_TOPIC_OR_PART"))
            continue
        topics[name] = TopicMetadata(name, {
            p.index: PartitionMetadata(
                p.index, -1 if p.replicas.leader is None else p.replicas.leader, list(p.replicas.replicas),
                list(p.replicas.isr),
                KafkaError("LEADER_NOT_AVAILABLE") if p.replicas.leader is None else None,
            )
            for p in t.partitions
        })
    controller = min((b for b, up in cluster.alive.items() if up), default=-1)
    return ClusterMetadata(cluster.name, controller, brokers, topics)


class AdminClient:
    """Topic and group administration on a simulated cluster (cluster first, then an optional config)."""

    def __init__(self, cluster: Cluster, config: dict[str, Any] | None = None) -> None:
        self.cluster = cluster
        self.config = dict(config or {})

    def create_topics(self, new_topics: list[NewTopic], operation_timeout: float = 0,
                      request_timeout: float = -1, validate_only: bool = False) -> dict[str, Future]:
        def create(nt: NewTopic) -> None:
            if validate_only:
                return
            self.cluster.create_topic(nt.topic, nt.num_partitions, nt.replication_factor, nt.config)

        return {nt.topic: _run(create, nt) for nt in new_topics}

    def delete_topics(self, topics: list[str], operation_timeout: float = 0,
                      request_timeout: float = -1) -> dict[str, Future]:
        return {name: _run(self.cluster.delete_topic, name) for name in topics}

    def create_partitions(self, new_partitions: list[NewPartitions], operation_timeout: float = 0,
                          request_timeout: float = -1, validate_only: bool = False) -> dict[str, Future]:
        return {np.topic: _run(self.cluster.create_partitions, np.topic, np.new_total_count)
                for np in new_partitions}

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> ClusterMetadata:
        return cluster_metadata(self.cluster, topic)

    def describe_consumer_groups(self, group_ids: list[str], request_timeout: float = -1) -> dict[str, Future]:
        def describe(group_id: str) -> ConsumerGroupDescription:
            group = self.cluster.groups.get(group_id)
            if group is None:
                return ConsumerGroupDescription(group_id, False, [], "", "Dead", 0, -1)
            members = [
                MemberDescription(m.member_id, m.client_id, "/127.0.0.1",
                                  [TopicPartition(t, p) for t, p in m.assignment], m.instance_id)
                for m in group.members.values()
            ]
            return ConsumerGroupDescription(group_id, False, members, group.protocol or "", group.state.value, 0,
                                            group.generation)

        return {g: _run(describe, g) for g in group_ids}

    def list_consumer_group_offsets(self, group_ids: list[str]) -> dict[str, Future]:
        def offsets(group_id: str) -> list[TopicPartition]:
            group = self.cluster.groups.get(group_id)
            if group is None:
                return []
            return [TopicPartition(t, p, o) for (t, p), (o, _) in sorted(group.committed.items())]

        return {g: _run(offsets, g) for g in group_ids}

    def list_offsets(self, topic_partition_offsets: dict[TopicPartition, OffsetSpec],
                     isolation_level: str = "read_uncommitted") -> dict[TopicPartition, Future]:
        def one(tp: TopicPartition, spec: OffsetSpec) -> ListOffsetsResultInfo:
            partition = self.cluster.partition(tp.topic, tp.partition)
            self.cluster.maybe_clean(partition, self.cluster.now_ms)
            end = partition.read_end(isolation_level == "read_committed")
            if spec.kind == "earliest":
                return ListOffsetsResultInfo(partition.log_start_offset, -1, partition.replicas.epoch)
            if spec.kind == "latest":
                return ListOffsetsResultInfo(end, -1, partition.replicas.epoch)
            if spec.kind == "max_timestamp":
                best = (-1, -1)
                for segment in partition.log.segments:
                    for i, ts in enumerate(segment.timestamps):
                        if ts > best[1]:
                            best = (segment.offset_at(i), ts)
                return ListOffsetsResultInfo(best[0], best[1], partition.replicas.epoch)
            offset = partition.log.offset_for_time(spec.timestamp, end)
            if offset is None:
                return ListOffsetsResultInfo(-1, -1, partition.replicas.epoch)
            record = partition.log.record_at(offset)
            return ListOffsetsResultInfo(offset, record[4] if record else -1, partition.replicas.epoch)

        return {tp: _run(one, tp, spec) for tp, spec in topic_partition_offsets.items()}

    def alter_share_group_config(self, group_id: str, **config: Any) -> None:
        """Simulator extra: set a share group's ``record_lock_duration_ms``, ``delivery_count_limit``,
        ``auto_offset_reset``."""
        self.cluster.share_group(group_id, **config)
