"""Introspection as data: frozen statistics per topic, partition and group, and the log view.

``cluster.statistics()`` returns :class:`ClusterStatistics`; ``cluster.log_view(topic)``
returns :class:`LogView`, the description the course's plots draw: per partition the
segments, the log start offset, the retention boundary, the high watermark, the log end
offset, and each group's committed offset and consumers' positions.

**Lag** is Kafka's consumer lag: ``high watermark - committed offset`` per partition (the
whole partition when nothing is committed yet, counted from the log start offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Cluster, Topic
    from mqlab.kafka.group import GroupCoordinator
    from mqlab.kafka.partition import Partition

__all__ = [
    "ClusterStatistics",
    "GroupStatistics",
    "LogView",
    "PartitionLag",
    "PartitionStatistics",
    "PartitionView",
    "SegmentView",
    "TopicStatistics",
    "cluster_statistics",
    "log_view",
]


@dataclass(frozen=True)
class PartitionStatistics:
    topic: str
    partition: int
    leader: int | None
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    last_stable_offset: int
    records: int
    size_bytes: int
    segments: int


@dataclass(frozen=True)
class TopicStatistics:
    name: str
    partitions: tuple[PartitionStatistics, ...]
    records: int
    size_bytes: int
    replication_factor: int
    cleanup_policy: tuple[str, ...]
    retention_ms: int


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    high_watermark: int
    lag: int


@dataclass(frozen=True)
class GroupStatistics:
    group_id: str
    state: str
    generation: int
    protocol: str | None
    members: tuple[str, ...]
    assignment: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    lag: tuple[PartitionLag, ...]
    total_lag: int
    rebalances: int


@dataclass(frozen=True)
class ClusterStatistics:
    brokers: int
    brokers_alive: tuple[int, ...]
    topics: tuple[TopicStatistics, ...]
    groups: tuple[GroupStatistics, ...]
    offline_partitions: int
    under_replicated_partitions: int


def partition_statistics(p: Partition) -> PartitionStatistics:
    r = p.replicas
    return PartitionStatistics(p.topic.name, p.index, r.leader, tuple(r.replicas), tuple(r.isr), p.log_start_offset,
                               r.hw, p.log_end_offset, p.last_stable_offset, p.log.records, p.log.size,
                               len(p.log.segments))


def group_statistics(cluster: Cluster, group: GroupCoordinator) -> GroupStatistics:
    keys = sorted(set(group.committed) | {tp for m in group.members.values() for tp in m.assignment})
    lags = []
    for topic, index in keys:
        t = cluster.topics.get(topic)
        if t is None or index >= len(t.partitions):
            continue
        partition = t.partitions[index]
        committed = group.committed_offset(topic, index)
        base = committed if committed is not None else partition.log_start_offset
        lags.append(PartitionLag(topic, index, committed, partition.high_watermark,
                                 max(0, partition.high_watermark - base)))
    return GroupStatistics(
        group.group_id, group.state.value, group.generation, group.protocol, tuple(group.members),
        tuple((m.member_id, tuple(m.assignment)) for m in group.members.values()),
        tuple(lags), sum(lag.lag for lag in lags), group.rebalances,
    )


def cluster_statistics(cluster: Cluster) -> ClusterStatistics:
    topics = []
    offline = under = 0
    for topic in cluster.topics.values():
        parts = tuple(partition_statistics(p) for p in topic.partitions)
        for ps in parts:
            offline += ps.leader is None
            under += len(ps.isr) < len(ps.replicas)
        topics.append(TopicStatistics(topic.name, parts, sum(p.records for p in parts),
                                      sum(p.size_bytes for p in parts), topic.replication_factor,
                                      tuple(topic.config["cleanup.policy"]), topic.config["retention.ms"]))
    groups = tuple(group_statistics(cluster, g) for g in cluster.groups.values())
    return ClusterStatistics(len(cluster.brokers), tuple(b for b, up in cluster.alive.items() if up), tuple(topics),
                             groups, offline, under)


@dataclass(frozen=True)
class SegmentView:
    base_offset: int
    next_offset: int
    records: int
    size_bytes: int
    max_timestamp_ms: int
    expired: bool


@dataclass(frozen=True)
class PartitionView:
    partition: int
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    last_stable_offset: int
    retention_boundary_ms: int | None
    segments: tuple[SegmentView, ...]
    committed: tuple[tuple[str, int], ...]
    positions: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class LogView:
    """A topic's partitions for a plot; ``retention_boundary_ms`` is ``now - retention.ms``."""

    topic: str
    now_ms: int
    partitions: tuple[PartitionView, ...]


def log_view(cluster: Cluster, topic: Topic) -> LogView:
    now_ms = cluster.now_ms
    retention = topic.config["retention.ms"]
    boundary = now_ms - retention if topic.delete and retention >= 0 else None
    views = []
    for p in topic.partitions:
        key = (topic.name, p.index)
        segments = tuple(
            SegmentView(s.base_offset, s.next_offset, s.record_count(), s.size, s.max_timestamp,
                        boundary is not None and len(s) > 0 and s.max_timestamp < boundary)
            for s in p.log.segments
        )
        committed = tuple((g.group_id, g.committed_offset(*key)) for g in cluster.groups.values()
                          if g.committed_offset(*key) is not None)
        positions = []
        for consumer in cluster.consumers:
            if consumer.closed_or_crashed:
                continue
            position = consumer.position_of(key)
            if position is not None:
                positions.append((consumer.group_id, consumer.name, position))
        views.append(PartitionView(p.index, p.log_start_offset, p.high_watermark, p.log_end_offset,
                                   p.last_stable_offset, boundary, segments, committed, tuple(positions)))
    return LogView(topic.name, now_ms, tuple(views))
