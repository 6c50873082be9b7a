"""The producer: partitioning, delivery reports, limits, retries and idempotence."""

from __future__ import annotations

import pytest

from mqlab.kafka import Cluster, KafkaException, Producer, default_partition
from mqlab.kafka.errors import MessageSizeTooLarge, StateError, UnknownTopicOrPartition
from mqlab.sim import Simulation


def test_keyed_records_go_where_the_java_client_puts_them(cluster: Cluster) -> None:
    """A keyed record lands on toPositive(murmur2(key)) % partitions."""
    cluster.create_topic("t", 6, 1)
    keys = [f"rider-{i}".encode() for i in range(50)]
    placed = {}
    producer = Producer(cluster, {})
    for key in keys:
        producer.produce("t", b"v", key, on_delivery=lambda err, msg: placed.__setitem__(msg.key(), msg.partition()))
    producer.flush()
    assert placed == {k: default_partition(k, 6) for k in keys}


def test_adding_partitions_remaps_keys_but_old_records_stay(cluster: Cluster, produce_all) -> None:
    """After create_partitions a key may map elsewhere; records already written do not move."""
    cluster.create_topic("t", 2, 1)
    keys = [f"k{i}".encode() for i in range(40)]
    before = produce_all(cluster, "t", [(k, b"old") for k in keys])
    cluster.create_partitions("t", 5)
    after = produce_all(cluster, "t", [(k, b"new") for k in keys])
    assert {p for _, p, _ in before} == {0, 1}
    assert {p for _, p, _ in after} - {0, 1}, "some keys must now map to the new partitions"
    assert [default_partition(k, 5) for k in keys] != [default_partition(k, 2) for k in keys]
    old_partitions = cluster.topic("t").partitions[:2]
    assert sum(p.log.records for p in old_partitions) == 40 + sum(1 for _, p, _ in after if p < 2)
    assert sum(p.log.records for p in cluster.topic("t").partitions[2:]) == sum(1 for _, p, _ in after if p >= 2)


def test_unkeyed_records_stick_to_one_partition_per_linger_window(sim: Simulation, cluster: Cluster) -> None:
    """Null-key records go to one partition until sticky.partitioning.linger.ms passes, then another."""
    cluster.create_topic("t", 4, 1)
    producer = Producer(cluster, {"sticky.partitioning.linger.ms": 10})
    first = [producer.produce("t", b"a") for _ in range(5)]
    assert len(first) == 5
    parts = {p.index for p in cluster.topic("t").partitions if p in producer._open}
    assert len(parts) == 1
    sim.run(until=sim.now + 0.02)
    producer.produce("t", b"b")
    assert len({p.index for p in producer._open}) == 1
    assert {p.index for p in producer._open} != parts


def test_delivery_reports_come_from_poll_and_flush(sim: Simulation, cluster: Cluster) -> None:
    """on_delivery runs only inside poll()/flush(), with the record's partition and offset."""
    cluster.create_topic("t", 1, 3)
    seen = []
    producer = Producer(cluster, {"linger.ms": 0})
    producer.produce("t", b"v", on_delivery=lambda err, msg: seen.append((err, msg.offset())))
    sim.run(until=1)
    assert seen == []
    assert producer.poll(0) == 1
    assert seen == [(None, 0)]


def test_a_raising_delivery_callback_is_recorded_not_raised(cluster: Cluster) -> None:
    """A callback that raises does not stop the producer; the error is kept in producer.errors."""
    cluster.create_topic("t", 1, 1)
    producer = Producer(cluster, {})

    def boom(err: object, msg: object) -> None:
        raise RuntimeError("learner bug")

    producer.produce("t", b"1", on_delivery=boom)
    producer.produce("t", b"2", on_delivery=boom)
    assert producer.flush() == 0
    assert [type(e).__name__ for _, _, e in producer.errors] == ["RuntimeError", "RuntimeError"]
    assert cluster.ledger().acknowledged == 2


def test_too_large_records_are_refused(cluster: Cluster, produce_all) -> None:
    """Over message.max.bytes, produce() raises MSG_SIZE_TOO_LARGE; over the topic's max.message.bytes,
    the delivery report carries it."""
    cluster.create_topic("t", 1, 1, {"max.message.bytes": 500})
    producer = Producer(cluster, {})
    with pytest.raises(MessageSizeTooLarge) as info:
        producer.produce("t", b"x" * 1_000_001)
    assert info.value.args[0].name() == "MSG_SIZE_TOO_LARGE"
    reports = produce_all(cluster, "t", [(None, b"x" * 600)])
    assert reports[0][0].name() == "MSG_SIZE_TOO_LARGE"
    assert cluster.ledger().failed == {"MSG_SIZE_TOO_LARGE": 1}


def test_queue_full_raises_buffer_error(cluster: Cluster) -> None:
    """Beyond queue.buffering.max.messages undelivered records, produce() raises BufferError."""
    cluster.create_topic("t", 1, 1)
    producer = Producer(cluster, {"queue.buffering.max.messages": 3})
    for _ in range(3):
        producer.produce("t", b"v")
    with pytest.raises(BufferError, match="Queue full"):
        producer.produce("t", b"v")
    producer.flush()
    producer.produce("t", b"v")


def test_unknown_topic_and_partitions(sim: Simulation) -> None:
    """Without auto-creation, an unknown topic raises UNKNOWN_TOPIC_OR_PART; bad partitions raise too."""
    cluster = Cluster(sim, brokers=1, auto_create_topics=False)
    producer = Producer(cluster, {})
    with pytest.raises(UnknownTopicOrPartition, match="does not exist"):
        producer.produce("nope", b"v")
    cluster.create_topic("t", 2, 1)
    with pytest.raises(UnknownTopicOrPartition, match=r"0\.\.1"):
        producer.produce("t", b"v", partition=2)
    with pytest.raises(UnknownTopicOrPartition, match="never negative"):
        producer.produce("t", b"v", partition=-5)


def test_auto_created_topics_get_broker_defaults(cluster: Cluster, produce_all) -> None:
    """Producing to a new topic creates it with num.partitions=1 and default.replication.factor=1."""
    produce_all(cluster, "fresh", [(None, b"v")])
    topic = cluster.topic("fresh")
    assert len(topic.partitions) == 1 and topic.replication_factor == 1


def test_flush_inside_a_process_points_to_flush_event(sim: Simulation, cluster: Cluster) -> None:
    """flush() cannot block in a kernel process; flush_event() is the way to wait there."""
    cluster.create_topic("t", 1, 1)
    producer = Producer(cluster, {})
    outcome = []

    def app():
        producer.produce("t", b"v")
        try:
            producer.flush()
        except StateError as exc:
            outcome.append("flush_event" in str(exc))
        yield producer.flush_event()
        outcome.append(len(producer))

    sim.process(app())
    sim.run()
    assert outcome == [True, 0]


def _drop_first_response(cluster: Cluster) -> list:
    """Wrap cluster.respond (a fault-injection hook) so the first successful response is lost."""
    dropped: list = []
    original = cluster.respond

    def respond(request, error, base):
        if error is None and not dropped:
            dropped.append(base)
            return
        original(request, error, base)

    cluster.respond = respond  # type: ignore[method-assign]
    return dropped


def test_lost_ack_without_idempotence_writes_the_batch_twice(cluster: Cluster, produce_all) -> None:
    """A retry after a lost response appends the batch again: a duplicate."""
    cluster.create_topic("t", 1, 1)
    dropped = _drop_first_response(cluster)
    reports = produce_all(cluster, "t", [(None, b"once")], **{"request.timeout.ms": 1000})
    assert dropped == [0]
    assert reports == [(None, 0, 1)]  # the retry's offsets
    ledger = cluster.ledger()
    assert ledger.appended == 2 and ledger.duplicates == 1 and ledger.balanced


def test_idempotent_producer_does_not_write_a_retried_batch_twice(cluster: Cluster, produce_all) -> None:
    """With enable.idempotence, the leader recognises the retried sequence and returns the original offset."""
    cluster.create_topic("t", 1, 1)
    _drop_first_response(cluster)
    reports = produce_all(cluster, "t", [(None, b"once")], **{"enable.idempotence": True,
                                                               "request.timeout.ms": 1000})
    assert reports == [(None, 0, 0)]
    ledger = cluster.ledger()
    assert ledger.appended == 1 and ledger.duplicates == 0 and ledger.balanced


def test_message_timeout_fails_records_when_no_leader(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """With the only replica down, retries continue until message.timeout.ms, then _MSG_TIMED_OUT."""
    cluster.create_topic("t", 1, 1)
    cluster.kill_broker(0)
    reports = produce_all(cluster, "t", [(None, b"v")], **{"message.timeout.ms": 2000})
    assert reports[0][0].name() == "_MSG_TIMED_OUT"
    assert 2.0 <= sim.now < 2.5
    assert cluster.ledger().failed == {"_MSG_TIMED_OUT": 1}


def test_produce_after_close_is_refused(cluster: Cluster) -> None:
    """A closed producer refuses produce() with _STATE."""
    producer = Producer(cluster, {})
    producer.close()
    with pytest.raises(KafkaException, match="after close"):
        producer.produce("t", b"v")


def test_idempotent_producer_recovers_after_a_failed_batch(cluster: Cluster, produce_all) -> None:
    """A permanently failed batch leaves no sequence gap: the next records are still delivered."""
    cluster.create_topic("t", 1, 1, {"max.message.bytes": 300})
    reports = []
    producer = Producer(cluster, {"enable.idempotence": True, "linger.ms": 0})
    producer.produce("t", b"x" * 500, on_delivery=lambda e, m: reports.append(e and e.name()))
    producer.flush()
    producer.produce("t", b"ok", on_delivery=lambda e, m: reports.append(e and e.name()))
    producer.flush()
    assert reports == ["MSG_SIZE_TOO_LARGE", None]
