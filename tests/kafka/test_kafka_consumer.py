"""The consumer and its group: positions, commits, offset reset, replay, rebalances, fencing."""

from __future__ import annotations

import pytest

from mqlab.kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Cluster,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from mqlab.kafka.errors import ClientClosed, IllegalGeneration, StateError, UnknownMemberId
from mqlab.sim import Simulation


def make_topic(cluster: Cluster, produce_all, count: int = 10, partitions: int = 1, **config) -> None:
    cluster.create_topic("t", partitions, 1, config or None)
    produce_all(cluster, "t", [(None, b"v%d" % i) for i in range(count)])


def earliest(cluster: Cluster, group: str = "g", **extra) -> Consumer:
    return Consumer(cluster, {"group.id": group, "auto.offset.reset": "earliest", **extra})


def test_subscribe_rebalances_then_reads_in_order(sim: Simulation, cluster: Cluster, produce_all, drain) -> None:
    """A new group waits group.initial.rebalance.delay.ms (3 s) before assigning; records come in offset order."""
    make_topic(cluster, produce_all)
    consumer = earliest(cluster)
    consumer.subscribe(["t"])
    start = sim.now
    messages = drain(consumer)
    assert [m.offset() for m in messages] == list(range(10))
    assert [m.value() for m in messages] == [b"v%d" % i for i in range(10)]
    assert consumer.assignment() == [TopicPartition("t", 0)]
    assert sim.now - start >= 3.0
    assert messages[0].timestamp()[0] == 1  # TIMESTAMP_CREATE_TIME


def test_latest_reset_skips_existing_records(cluster: Cluster, produce_all, drain) -> None:
    """auto.offset.reset=latest (the default) starts at the end: only new records are read."""
    make_topic(cluster, produce_all)
    consumer = Consumer(cluster, {"group.id": "g"})
    consumer.subscribe(["t"])
    assert drain(consumer) == []
    produce_all(cluster, "t", [(None, b"new")])
    assert [m.value() for m in drain(consumer)] == [b"new"]


def test_committed_offset_is_separate_from_position(cluster: Cluster, produce_all) -> None:
    """position() moves with poll(); committed() moves only on commit; a new member resumes from committed."""
    make_topic(cluster, produce_all)
    consumer = earliest(cluster, **{"enable.auto.commit": False})
    consumer.subscribe(["t"])
    for _ in range(4):
        consumer.poll(5.0)
    tp = [TopicPartition("t", 0)]
    assert consumer.position(tp)[0].offset == 4
    assert consumer.committed(tp)[0].offset == -1001
    consumer.commit(asynchronous=False)
    assert consumer.committed(tp)[0].offset == 4
    consumer.close()
    second = earliest(cluster, **{"enable.auto.commit": False})
    second.subscribe(["t"])
    assert second.poll(10.0).offset() == 4


def test_commit_message_commits_offset_plus_one(cluster: Cluster, produce_all) -> None:
    """commit(message) stores message.offset() + 1, the next record to read."""
    make_topic(cluster, produce_all)
    consumer = earliest(cluster, **{"enable.auto.commit": False})
    consumer.subscribe(["t"])
    message = consumer.poll(5.0)
    result = consumer.commit(message, asynchronous=False)
    assert [(tp.topic, tp.partition, tp.offset) for tp in result] == [("t", 0, 1)]


def test_commit_with_nothing_consumed_is_no_offset(cluster: Cluster) -> None:
    """A synchronous commit with no stored offset raises _NO_OFFSET, as librdkafka does."""
    consumer = earliest(cluster)
    with pytest.raises(KafkaException) as info:
        consumer.commit(asynchronous=False)
    assert info.value.args[0].code() == KafkaError._NO_OFFSET


def test_group_members_share_partitions_and_extras_idle(cluster: Cluster, produce_all) -> None:
    """Three members on two partitions: two get one each, the third is idle."""
    make_topic(cluster, produce_all, partitions=2)
    consumers = [earliest(cluster) for _ in range(3)]
    for c in consumers:
        c.subscribe(["t"])
    consumers[0].poll(5.0)
    for c in consumers:
        c.poll(0)
    sizes = sorted(len(c.assignment()) for c in consumers)
    assert sizes == [0, 1, 1]


def test_leave_triggers_a_rebalance_that_moves_partitions(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """When a member closes, the group rebalances and the survivor owns every partition."""
    make_topic(cluster, produce_all, partitions=2)
    a, b = earliest(cluster), earliest(cluster)
    a.subscribe(["t"])
    b.subscribe(["t"])
    a.poll(5.0)
    b.poll(0)
    generation = cluster.group("g").generation
    b.close()
    sim.run(until=sim.now + 5)
    a.poll(0)
    assert len(a.assignment()) == 2
    assert cluster.group("g").generation == generation + 1


def test_crashed_member_is_removed_after_session_timeout(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """A member that stops heartbeating keeps its partitions until session.timeout.ms, then loses them."""
    make_topic(cluster, produce_all, partitions=2)
    a = earliest(cluster, **{"session.timeout.ms": 10_000, "heartbeat.interval.ms": 1000})
    b = earliest(cluster, **{"session.timeout.ms": 10_000, "heartbeat.interval.ms": 1000})
    a.subscribe(["t"])
    b.subscribe(["t"])
    a.poll(5.0)
    crash_time = sim.now
    b.crash()
    sim.run(until=crash_time + 9)
    a.poll(0)
    assert len(a.assignment()) == 1
    sim.run(until=crash_time + 12)
    a.poll(0)
    assert len(a.assignment()) == 2
    with pytest.raises(ClientClosed):
        b.poll(0)


def test_auto_commit_duplicate_window(sim: Simulation, cluster: Cluster, produce_all, drain) -> None:
    """Records processed after the last auto-commit are read again by the next owner after a crash."""
    make_topic(cluster, produce_all)
    a = earliest(cluster, **{"auto.commit.interval.ms": 5000, "session.timeout.ms": 6000})
    a.subscribe(["t"])
    first = [a.poll(5.0) for _ in range(3)]
    sim.run(until=sim.now + 6)  # auto-commit of offset 3 happens
    rest = drain(a, timeout=0)
    assert len(first) + len(rest) == 10
    a.crash()  # before the next auto-commit: offsets 3..9 were processed but not committed
    b = earliest(cluster)
    b.subscribe(["t"])
    again = drain(b, timeout=10)
    assert [m.offset() for m in again] == list(range(3, 10))


def test_auto_commit_loss_window(sim: Simulation, cluster: Cluster, produce_all, drain) -> None:
    """An auto-commit after poll() but before processing finished, then a crash, skips those records."""
    make_topic(cluster, produce_all)
    a = earliest(cluster, **{"auto.commit.interval.ms": 1000, "session.timeout.ms": 6000})
    a.subscribe(["t"])
    polled = drain(a)  # polled, stored, not yet processed
    assert len(polled) == 10
    sim.run(until=sim.now + 1.5)  # auto-commit commits offset 10
    a.crash()
    b = earliest(cluster)
    b.subscribe(["t"])
    assert drain(b, timeout=10) == []
    assert cluster.group("g").committed_offset("t", 0) == 10


def test_reset_after_retention_deleted_the_committed_offset(sim: Simulation, cluster: Cluster, produce_all,
                                                           drain) -> None:
    """A committed offset below the log start offset is out of range: earliest resets to the log start."""
    cluster.create_topic("t", 1, 1, {"retention.ms": 60_000, "segment.bytes": 1000})
    produce_all(cluster, "t", [(None, b"x" * 100) for _ in range(20)])
    cluster.group("g").commit_offsets({("t", 0): 2}, None, -1)
    sim.run(until=600)
    produce_all(cluster, "t", [(None, b"late")])
    consumer = earliest(cluster)
    consumer.assign([TopicPartition("t", 0)])
    records = drain(consumer, timeout=0)
    low, high = consumer.get_watermark_offsets(TopicPartition("t", 0))
    assert low == 20 and high == 21
    assert [m.offset() for m in records] == [20]
    assert consumer.offset_resets[0][3:] == (2, 20, "earliest")
    assert cluster.ledger().removed["retention"] == 20


def test_reset_error_policy_reports_auto_offset_reset(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """With auto.offset.reset=error, an out-of-range position yields an _AUTO_OFFSET_RESET error event."""
    make_topic(cluster, produce_all)
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "error"})
    consumer.assign([TopicPartition("t", 0, 50)])
    event = consumer.poll(0)
    assert event.error().code() == KafkaError._AUTO_OFFSET_RESET
    assert "out of range" in event.error().str()
    assert consumer.poll(0) is None
    consumer.seek(TopicPartition("t", 0, 8))
    assert consumer.poll(0).offset() == 8


def test_seek_beginning_end_and_time(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """seek() to OFFSET_BEGINNING, OFFSET_END or an offset from offsets_for_times() moves the position."""
    cluster.create_topic("t", 1, 1)
    for second in range(5):
        sim.run(until=second * 10)
        produce_all(cluster, "t", [(None, b"at-%d" % second)])
    consumer = earliest(cluster)
    consumer.assign([TopicPartition("t", 0)])
    tp = TopicPartition("t", 0)
    found = consumer.offsets_for_times([TopicPartition("t", 0, 25_000)])
    assert found[0].offset == 3
    consumer.seek(TopicPartition("t", 0, found[0].offset))
    assert consumer.poll(0).value() == b"at-3"
    consumer.seek(TopicPartition("t", 0, OFFSET_BEGINNING))
    assert consumer.poll(0).offset() == 0
    consumer.seek(TopicPartition("t", 0, OFFSET_END))
    assert consumer.poll(0) is None
    assert consumer.offsets_for_times([TopicPartition("t", 0, 999_999)])[0].offset == OFFSET_END
    assert consumer.position([tp])[0].offset == 5


def test_replay_from_a_fresh_group_does_not_disturb_others(cluster: Cluster, produce_all, drain) -> None:
    """A new group reads the whole log from the beginning; the live group's committed offsets do not move."""
    make_topic(cluster, produce_all)
    live = earliest(cluster, "live", **{"enable.auto.commit": False})
    live.subscribe(["t"])
    drain(live)
    live.commit(asynchronous=False)
    replay = earliest(cluster, "replay")
    replay.subscribe(["t"])
    assert [m.offset() for m in drain(replay)] == list(range(10))
    assert cluster.group("live").committed_offset("t", 0) == 10
    assert cluster.partition("t", 0).log.records == 10  # consumption deletes nothing


def test_pause_and_resume(cluster: Cluster, produce_all) -> None:
    """A paused partition returns nothing; resume() continues from the same position."""
    make_topic(cluster, produce_all)
    consumer = earliest(cluster)
    consumer.assign([TopicPartition("t", 0)])
    assert consumer.poll(0).offset() == 0
    consumer.pause([TopicPartition("t", 0)])
    assert consumer.poll(0) is None
    consumer.resume([TopicPartition("t", 0)])
    assert consumer.poll(0).offset() == 1


def test_consume_returns_a_batch(cluster: Cluster, produce_all) -> None:
    """consume(num_messages) returns up to that many records."""
    make_topic(cluster, produce_all)
    consumer = earliest(cluster)
    consumer.assign([TopicPartition("t", 0)])
    assert [m.offset() for m in consumer.consume(4, 0)] == [0, 1, 2, 3]
    assert len(consumer.consume(100, 0)) == 6


def test_commit_from_an_old_generation_is_illegal_generation(sim: Simulation, cluster: Cluster,
                                                             produce_all) -> None:
    """After a rebalance the consumer has not seen yet, a commit with its old generation is fenced."""
    make_topic(cluster, produce_all, partitions=2)
    a = earliest(cluster, **{"enable.auto.commit": False})
    a.subscribe(["t"])
    message = a.poll(5.0)
    b = earliest(cluster)
    b.subscribe(["t"])
    sim.run(until=sim.now + 10)  # the rebalance completes; a has not polled since
    stale = a.generation
    a.generation = stale - 1  # what a client that missed the rebalance still carries
    with pytest.raises(IllegalGeneration) as info:
        a.commit(message, asynchronous=False)
    assert info.value.args[0].name() == "ILLEGAL_GENERATION"
    assert "rebalance" in info.value.args[0].str()


def test_commit_after_max_poll_interval_is_unknown_member(sim: Simulation, cluster: Cluster,
                                                           produce_all) -> None:
    """A consumer that does not poll within max.poll.interval.ms leaves the group; its commit is refused,
    and its next poll reports _MAX_POLL_EXCEEDED and rejoins."""
    make_topic(cluster, produce_all)
    a = earliest(cluster, **{"enable.auto.commit": False, "max.poll.interval.ms": 20_000})
    a.subscribe(["t"])
    message = a.poll(5.0)
    sim.run(until=sim.now + 30)
    with pytest.raises(UnknownMemberId):
        a.commit(message, asynchronous=False)
    event = a.poll(0)
    assert event.error().name() == "_MAX_POLL_EXCEEDED"
    assert a.poll(10.0) is not None  # rejoined and consuming again


def test_asynchronous_commit_errors_go_to_on_commit(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """An asynchronous commit does not raise: on_commit(err, partitions) receives the error at the next poll."""
    make_topic(cluster, produce_all)
    seen = []
    a = earliest(cluster, **{"enable.auto.commit": False, "max.poll.interval.ms": 20_000,
                             "on_commit": lambda err, parts: seen.append(err and err.name())})
    a.subscribe(["t"])
    message = a.poll(5.0)
    a.commit(message)
    a.poll(0)
    sim.run(until=sim.now + 30)
    a.commit(message)
    assert a.poll(0).error().name() == "_MAX_POLL_EXCEEDED"
    a.poll(0)
    assert seen == [None, "UNKNOWN_MEMBER_ID"]


def test_rebalance_callbacks_and_a_raising_on_assign(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """on_assign/on_revoke run from poll(); one that raises is recorded and the assignment still applies."""
    make_topic(cluster, produce_all, partitions=2)
    calls = []

    def on_assign(consumer, partitions):
        calls.append(("assign", [p.partition for p in partitions]))
        raise ValueError("learner bug")

    a = earliest(cluster)
    a.subscribe(["t"], on_assign=on_assign, on_revoke=lambda c, ps: calls.append(("revoke", len(ps))))
    assert a.poll(5.0) is not None
    assert calls == [("assign", [0, 1])]
    assert [w for _, w, _ in a.errors] == ["on_assign"]
    b = earliest(cluster)
    b.subscribe(["t"])
    sim.run(until=sim.now + 10)
    a.poll(0)
    assert calls[1] == ("revoke", 2)  # eager (range): everything is revoked
    assert len(a.assignment()) == 1


def test_on_assign_can_choose_the_starting_offset(cluster: Cluster, produce_all) -> None:
    """Setting tp.offset in on_assign starts the partition there (rewinding on every assignment)."""
    make_topic(cluster, produce_all)

    def rewind(consumer, partitions):
        for tp in partitions:
            tp.offset = 7

    consumer = Consumer(cluster, {"group.id": "g"})
    consumer.subscribe(["t"], on_assign=rewind)
    assert consumer.poll(5.0).offset() == 7


def test_cooperative_sticky_keeps_consuming_unmoved_partitions(sim: Simulation, cluster: Cluster,
                                                              produce_all) -> None:
    """With cooperative-sticky, a join revokes only the partitions that move, in two rebalances."""
    make_topic(cluster, produce_all, partitions=4)
    strategy = {"partition.assignment.strategy": "cooperative-sticky"}
    revoked = []
    a = earliest(cluster, **strategy)
    a.subscribe(["t"], on_revoke=lambda c, ps: revoked.append(sorted(p.partition for p in ps)))
    a.poll(5.0)
    assert len(a.assignment()) == 4
    generation = cluster.group("g").generation
    b = earliest(cluster, **strategy)
    b.subscribe(["t"])
    sim.run(until=sim.now + 10)
    a.poll(0)
    b.poll(0)
    assert revoked == [[2, 3]]
    assert sorted(p.partition for p in a.assignment()) == [0, 1]
    assert sorted(p.partition for p in b.assignment()) == [2, 3]
    assert cluster.group("g").generation == generation + 2


def test_static_member_rejoins_without_a_rebalance(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """A static member (group.instance.id) that restarts within the session timeout gets its partitions back
    without a rebalance; the old instance is fenced."""
    make_topic(cluster, produce_all, partitions=2)
    conf = {"group.instance.id": "billing-1", "session.timeout.ms": 30_000}
    a, other = earliest(cluster, **conf), earliest(cluster)
    a.subscribe(["t"])
    other.subscribe(["t"])
    a.poll(5.0)
    other.poll(0)
    generation = cluster.group("g").generation
    mine = a.assignment()
    a.close()  # a static member does not leave
    sim.run(until=sim.now + 5)
    assert cluster.group("g").generation == generation
    a2 = earliest(cluster, **conf)
    a2.subscribe(["t"])
    a2.poll(0)
    assert a2.assignment() == mine
    assert cluster.group("g").generation == generation


def test_poll_event_inside_a_process(sim: Simulation, cluster: Cluster) -> None:
    """In a kernel process, yield consumer.poll_event(t): it fires when a record arrives, or with None."""
    cluster.create_topic("t", 1, 1)
    consumer = earliest(cluster)
    consumer.subscribe(["t"])
    got = []

    def reader():
        while len(got) < 3:
            message = yield consumer.poll_event(2.0)
            got.append((round(sim.now, 3), None if message is None else message.value()))

    def writer():
        producer = Producer(cluster, {"linger.ms": 0})
        yield sim.timeout(5.0)
        producer.produce("t", b"hello")

    sim.process(reader())
    sim.process(writer())
    sim.run(until=20)
    assert got[0] == (2.0, None)
    assert got[1][1] is None or got[1][1] == b"hello"
    assert any(v == b"hello" for _, v in got)
    hello_time = next(t for t, v in got if v == b"hello")
    assert 5.0 <= hello_time < 5.1


def test_closed_consumer_refuses_calls(cluster: Cluster) -> None:
    """Every call on a closed consumer raises RuntimeError (ClientClosed), as confluent-kafka does."""
    consumer = earliest(cluster)
    consumer.close()
    with pytest.raises(RuntimeError, match="closed"):
        consumer.poll(0)


def test_seek_on_an_unassigned_partition_is_refused(cluster: Cluster, produce_all) -> None:
    """seek() needs the partition to be assigned; the error says where to seek instead."""
    make_topic(cluster, produce_all)
    consumer = earliest(cluster)
    with pytest.raises(StateError, match="on_assign"):
        consumer.seek(TopicPartition("t", 0, 3))


def test_partition_eof_events(cluster: Cluster, produce_all) -> None:
    """With enable.partition.eof, reaching the end yields one _PARTITION_EOF event."""
    make_topic(cluster, produce_all, count=2)
    consumer = earliest(cluster, **{"enable.partition.eof": True})
    consumer.assign([TopicPartition("t", 0)])
    assert [consumer.poll(0).offset() for _ in range(2)] == [0, 1]
    event = consumer.poll(0)
    assert event.error().code() == KafkaError._PARTITION_EOF
    assert consumer.poll(0) is None


def test_replaced_static_member_is_fenced(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """When a new instance takes a group.instance.id, the old instance's commits fail with FENCED_INSTANCE_ID."""
    make_topic(cluster, produce_all)
    conf = {"group.instance.id": "worker-1", "enable.auto.commit": False}
    old = earliest(cluster, **conf)
    old.subscribe(["t"])
    message = old.poll(5.0)
    new = earliest(cluster, **conf)
    new.subscribe(["t"])
    with pytest.raises(KafkaException) as info:
        old.commit(message, asynchronous=False)
    assert info.value.args[0].name() == "FENCED_INSTANCE_ID"
    assert old.poll(0).error().name() == "FENCED_INSTANCE_ID"


def test_assigned_consumer_auto_commits(sim: Simulation, cluster: Cluster, produce_all, drain) -> None:
    """A consumer using assign() (no subscription) still auto-commits to its group.id."""
    make_topic(cluster, produce_all)
    consumer = earliest(cluster, **{"auto.commit.interval.ms": 1000})
    consumer.assign([TopicPartition("t", 0)])
    drain(consumer, timeout=2.0)
    assert cluster.group("g").committed_offset("t", 0) == 10


def test_nothing_comes_out_of_a_closed_or_crashed_consumer(cluster: Cluster, produce_all) -> None:
    """After close() or crash(), poll() raises even if records were already fetched into the client."""
    make_topic(cluster, produce_all)
    for stop in ("close", "crash"):
        consumer = earliest(cluster)
        consumer.assign([TopicPartition("t", 0)])
        assert consumer.poll(0).offset() == 0  # nine more are buffered in the client
        getattr(consumer, stop)()
        with pytest.raises(ClientClosed):
            consumer.poll(0)


def test_commit_with_nothing_new_stored_is_no_offset(cluster: Cluster, produce_all) -> None:
    """Committing again when every stored offset is already committed raises _NO_OFFSET, as librdkafka does."""
    make_topic(cluster, produce_all)
    consumer = earliest(cluster, **{"enable.auto.commit": False})
    consumer.assign([TopicPartition("t", 0)])
    consumer.poll(0)
    consumer.commit(asynchronous=False)
    with pytest.raises(KafkaException) as info:
        consumer.commit(asynchronous=False)
    assert info.value.args[0].name() == "_NO_OFFSET"


def test_on_revoke_can_commit_what_was_processed(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """The classic idiom works: with manual commits, on_revoke commits the offsets of the partitions it loses."""
    make_topic(cluster, produce_all, partitions=2)
    a = earliest(cluster, **{"enable.auto.commit": False})
    a.subscribe(["t"], on_revoke=lambda c, ps: c.commit(asynchronous=False))
    while a.poll(5.0) is not None:
        pass
    b = earliest(cluster)
    b.subscribe(["t"])
    sim.run(until=sim.now + 1)  # the rebalance has started: a's partitions are being revoked
    a.poll(0)
    assert a.errors == []
    group = cluster.group("g")
    assert sum(group.committed_offset("t", p) or 0 for p in (0, 1)) == 10
