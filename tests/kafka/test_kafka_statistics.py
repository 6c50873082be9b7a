"""Statistics, the log view and the ledger."""

from __future__ import annotations

import dataclasses

import pytest

from mqlab.kafka import Cluster, Consumer
from mqlab.sim import Simulation


def test_group_lag_per_partition(cluster: Cluster, produce_all) -> None:
    """Lag is high watermark minus committed offset, per partition, in frozen statistics."""
    cluster.create_topic("t", 2, 1)
    produce_all(cluster, "t", [(b"k%d" % i, b"v") for i in range(20)])
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["t"])
    consumer.poll(5.0)
    consumer.commit(asynchronous=False)
    stats = cluster.statistics()
    (group,) = stats.groups
    hw = {p.partition: p.high_watermark for p in stats.topics[0].partitions}
    for lag in group.lag:
        base = lag.committed if lag.committed is not None else 0
        assert lag.lag == hw[lag.partition] - base
    assert group.total_lag == 19
    with pytest.raises(dataclasses.FrozenInstanceError):
        group.total_lag = 0  # type: ignore[misc]


def test_log_view_describes_offsets_boundary_and_positions(sim: Simulation, cluster: Cluster,
                                                           produce_all) -> None:
    """The log view gives per partition the offsets, segments, retention boundary, commits and positions."""
    cluster.create_topic("t", 1, 1, {"retention.ms": 100_000, "segment.bytes": 500})
    produce_all(cluster, "t", [(None, b"x" * 100) for _ in range(6)])
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["t"])
    consumer.poll(5.0)
    consumer.commit(asynchronous=False)
    sim.run(until=200)
    view = cluster.log_view("t")
    (partition,) = view.partitions
    assert partition.retention_boundary_ms == view.now_ms - 100_000
    assert partition.high_watermark == 6 and partition.log_start_offset == 0
    assert partition.committed == (("g", 1),)
    assert partition.positions[0][0] == "g" and partition.positions[0][2] == 1
    assert all(segment.expired for segment in partition.segments)  # the cleaner runs at 300 s
    sim.run(until=301)
    assert cluster.log_view("t").partitions[0].log_start_offset == 6


def test_retention_waits_for_the_cleaner_check_interval(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """Expired segments are deleted at the next log.retention.check.interval.ms tick (every 5 minutes)."""
    cluster.create_topic("t", 1, 1, {"retention.ms": 10_000})
    produce_all(cluster, "t", [(None, b"v")])
    sim.run(until=299)
    assert cluster.ledger().retained == 1
    sim.run(until=300)
    ledger = cluster.ledger()
    assert ledger.retained == 0 and ledger.removed["retention"] == 1 and ledger.balanced


def test_compaction_through_the_cluster(sim: Simulation, cluster: Cluster, produce_all, drain) -> None:
    """A compacted topic keeps the last value per key once segments roll; readers see offset gaps."""
    cluster.create_topic("c", 1, 1, {"cleanup.policy": "compact", "segment.ms": 1000})
    for round_ in range(3):
        produce_all(cluster, "c", [(b"user-%d" % k, b"v%d" % round_) for k in range(3)])
        sim.run(until=sim.now + 2)
    produce_all(cluster, "c", [(b"user-0", None)])  # tombstone into the active segment
    sim.run(until=sim.now + 20)
    cluster.run_log_cleaner()
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "earliest"})
    consumer.subscribe(["c"])
    seen = [(m.offset(), m.key(), m.value()) for m in drain(consumer)]
    assert seen == [(6, b"user-0", b"v2"), (7, b"user-1", b"v2"), (8, b"user-2", b"v2"), (9, b"user-0", None)]
    ledger = cluster.ledger()
    assert ledger.removed["compaction"] == 6 and ledger.balanced


def test_compacted_topics_refuse_null_keys_not_values(cluster: Cluster, produce_all) -> None:
    """On a compacted topic a tombstone (null value) is accepted; a record without a key is INVALID_RECORD."""
    cluster.create_topic("c", 1, 1, {"cleanup.policy": "compact"})
    reports = produce_all(cluster, "c", [(b"k", None)]) + produce_all(cluster, "c", [(None, b"v")])
    assert [r[0] and r[0].name() for r in reports] == [None, "INVALID_RECORD"]
    assert cluster.ledger().failed == {"INVALID_RECORD": 1}


def test_trace_records_the_journey_with_stable_ids(sim, cluster: Cluster, produce_all) -> None:
    """The trace names each step of a record's journey with (topic, partition, offset)."""
    cluster.create_topic("t", 1, 3)
    produce_all(cluster, "t", [(b"k", b"v")])
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["t"])
    consumer.commit(consumer.poll(5.0), asynchronous=False)
    actions = [r.action for r in sim.trace.records]
    for action in ("produced", "appended", "replicated", "acked", "rebalanced", "fetched", "committed"):
        assert action in actions, action
    (appended,) = sim.trace.select(action="appended")
    assert (appended.details["topic"], appended.details["partition"], appended.details["offset"]) == ("t", 0, 0)


def test_a_blocking_call_without_timeout_stops_at_the_budget() -> None:
    """poll() with no timeout, while another process keeps the agenda busy, ends with BudgetExceeded."""
    from mqlab.sim import BudgetExceeded

    sim = Simulation(seed=1, max_events=1000)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("t", 1, 1)

    def ticker():
        while True:
            yield sim.timeout(1.0)

    sim.process(ticker())
    consumer = Consumer(cluster, {"group.id": "g"})
    consumer.assign([])
    with pytest.raises(BudgetExceeded, match="finite timeout"):
        consumer.poll()
