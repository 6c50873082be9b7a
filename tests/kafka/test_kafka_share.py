"""Share groups (KIP-932): locks, ACCEPT/RELEASE/REJECT, delivery count limit, many consumers per partition."""

from __future__ import annotations

import pytest

from mqlab.kafka import AcknowledgeType, Cluster, ShareConsumer
from mqlab.kafka.errors import StateError
from mqlab.kafka.share import RecordState
from mqlab.sim import Simulation


def setup(cluster: Cluster, produce_all, count: int = 4, **group: object) -> None:
    cluster.create_topic("jobs", 1, 1)
    cluster.share_group("workers", auto_offset_reset="earliest", **group)
    produce_all(cluster, "jobs", [(None, b"job-%d" % i) for i in range(count)])


def share(cluster: Cluster, mode: str = "explicit", **config: object) -> ShareConsumer:
    consumer = ShareConsumer(cluster, {"group.id": "workers", "share.acknowledgement.mode": mode, **config})
    consumer.subscribe(["jobs"])
    return consumer


def test_two_consumers_share_one_partition(cluster: Cluster, produce_all) -> None:
    """Records of one partition are split between consumers; none is delivered to both."""
    setup(cluster, produce_all)
    a, b = share(cluster, **{"max.poll.records": 2}), share(cluster, **{"max.poll.records": 2})
    first, second = a.poll(0), b.poll(0)
    assert [m.offset() for m in first] == [0, 1]
    assert [m.offset() for m in second] == [2, 3]
    assert all(m.delivery_count() == 1 for m in first + second)


def test_lock_expiry_redelivers_with_a_higher_delivery_count(sim: Simulation, cluster: Cluster,
                                                            produce_all) -> None:
    """An unacknowledged record becomes available again after the lock (30 s by default)."""
    setup(cluster, produce_all, count=1)
    a = share(cluster)
    assert [m.offset() for m in a.poll(0)] == [0]
    b = share(cluster)
    assert b.poll(0) == []
    sim.run(until=sim.now + 29)
    assert b.poll(0) == []
    sim.run(until=sim.now + 2)
    again = b.poll(0)
    assert [(m.offset(), m.delivery_count()) for m in again] == [(0, 2)]


def test_accept_release_reject(cluster: Cluster, produce_all) -> None:
    """ACCEPT finishes a record, RELEASE makes it available now, REJECT archives it."""
    setup(cluster, produce_all, count=3)
    a = share(cluster)
    m0, m1, m2 = a.poll(0)
    a.acknowledge(m0, AcknowledgeType.ACCEPT)
    a.acknowledge(m1, AcknowledgeType.RELEASE)
    a.acknowledge(m2, AcknowledgeType.REJECT)
    a.commit_sync()
    states = cluster.share_group("workers").record_states("jobs", 0)
    assert states[1] == (RecordState.AVAILABLE, 1)
    assert states[2] == (RecordState.ARCHIVED, 1)
    assert [m.offset() for m in a.poll(0)] == [1]
    ledger = cluster.ledger()
    assert ledger.share_accepted == 1 and ledger.share_archived == 1


def test_delivery_count_limit_archives_a_poison_record(cluster: Cluster, produce_all) -> None:
    """After group.share.delivery.count.limit deliveries (default 5), a released record is archived."""
    setup(cluster, produce_all, count=1)
    a = share(cluster)
    deliveries = []
    while True:
        batch = a.poll(0)
        if not batch:
            break
        deliveries.append(batch[0].delivery_count())
        a.acknowledge(batch[0], AcknowledgeType.RELEASE)
    assert deliveries == [1, 2, 3, 4, 5]
    assert cluster.share_group("workers").record_states("jobs", 0) == {}  # archived, then below the SPSO
    assert cluster.ledger().share_archived == 1


def test_explicit_mode_requires_acknowledging_every_record(cluster: Cluster, produce_all) -> None:
    """In explicit mode, polling again with unacknowledged records is an error naming the fix."""
    setup(cluster, produce_all, count=2)
    a = share(cluster)
    a.poll(0)
    with pytest.raises(StateError, match="acknowledge"):
        a.poll(0)


def test_implicit_mode_accepts_on_the_next_poll(cluster: Cluster, produce_all) -> None:
    """In implicit mode (the default), the records of a poll are accepted by the next poll."""
    setup(cluster, produce_all, count=2)
    a = share(cluster, mode="implicit")
    assert len(a.poll(0)) == 2
    assert a.poll(0) == []
    assert cluster.ledger().share_accepted == 2


def test_acknowledging_after_the_lock_expired_is_invalid_record_state(sim: Simulation, cluster: Cluster,
                                                                     produce_all) -> None:
    """An acknowledgement for a record whose lock expired is refused with INVALID_RECORD_STATE."""
    setup(cluster, produce_all, count=1)
    outcomes = []
    a = share(cluster)
    a.set_acknowledgement_commit_callback(lambda offsets, exc: outcomes.append(exc and exc.args[0].name()))
    (message,) = a.poll(0)
    sim.run(until=sim.now + 31)
    a.acknowledge(message)
    a.commit_sync()
    assert outcomes == ["INVALID_RECORD_STATE"]


def test_close_releases_acquired_records(cluster: Cluster, produce_all) -> None:
    """Closing a share consumer gives its acquired records back at once."""
    setup(cluster, produce_all, count=1)
    a, b = share(cluster), share(cluster)
    a.poll(0)
    a.close()
    assert [m.offset() for m in b.poll(0)] == [0]


def test_share_poll_event_in_a_process(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """poll_event fires when records become available to the share group."""
    cluster.create_topic("jobs", 1, 1)
    worker = share(cluster, mode="implicit")
    got = []

    def run():
        batch = yield worker.poll_event(10.0)
        got.append((round(sim.now, 2), [m.value() for m in batch]))

    sim.process(run())
    sim.call_at(2.0, lambda: produce_all(cluster, "jobs", [(None, b"late")]))
    sim.run(until=20)
    assert got and got[0][1] == [b"late"] and 2.0 <= got[0][0] < 2.1


def test_simple_assignor_spreads_then_shares_partitions(cluster: Cluster) -> None:
    """With as many partitions as members each gets its own; with more members, they share partitions."""
    cluster.create_topic("jobs", 2, 1)
    group = cluster.share_group("workers")
    a, b = share(cluster), share(cluster)
    assert [p.index for p in group.assignment(a)] == [0]
    assert [p.index for p in group.assignment(b)] == [1]
    c = share(cluster)
    assert [p.index for p in group.assignment(c)] == [0]  # three members, two partitions: shared
    solo = ShareConsumer(cluster, {"group.id": "solo"})
    solo.subscribe(["jobs"])
    assert [p.index for p in cluster.share_group("solo").assignment(solo)] == [0, 1]
