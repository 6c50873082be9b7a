"""Kafka: a consumer-side dead-letter topic, retry topics with backoff, share-group archiving, DLT replay."""

from __future__ import annotations

import itertools

import pytest

from mqlab.faults import InvalidParameter, PoisonPredicate
from mqlab.faults.kafka import KafkaPublisher
from mqlab.faults.kafka_worker import KafkaWorker
from mqlab.kafka import Cluster, Producer
from mqlab.patterns import EffectAuditor, IdempotentConsumer, RetryPolicy
from mqlab.patterns.kafka_dlt import DeadLetterTopic, RetryTopics, ShareWorker, kafka_replayer
from mqlab.sim import Simulation


class Orders:
    """Ten records on 'orders' (2 partitions); ids in ``poison`` fail until ``fixed``; failures go to the DLT."""

    def __init__(self, poison: tuple[int, ...] = (3, 7)) -> None:
        self.sim = Simulation(seed=0)
        self.cluster = Cluster(self.sim, brokers=1)
        self.cluster.create_topic("orders", 2, 1)
        self.cluster.create_topic("orders.DLT", 2, 1)
        self.producer = Producer(self.cluster, {"linger.ms": 0})
        self.poison = PoisonPredicate.ids(*poison)
        self.fixed = False
        self.audit = EffectAuditor(range(10))
        self.idempotent = IdempotentConsumer(lambda m, b: self.audit.effect(m))
        self.dlt = DeadLetterTopic(self.producer)
        self.worker = KafkaWorker(self.cluster, "orders", "billing", self.handle, on_error="dead_letter",
                                  dead_letter=self.dlt.send)
        publisher = KafkaPublisher(self.producer, "orders")
        for i in range(10):
            publisher.publish(i, b"{}")
        self.sim.run(until=20)

    def handle(self, message_id: int, body: bytes) -> None:
        if not self.fixed:
            self.poison.check(message_id, body)
        self.idempotent(message_id, body)


def test_failed_records_go_to_the_dlt_with_springs_headers_and_the_partition_moves_on():
    """A record the handler fails on is produced to orders.DLT (original topic, partition, offset, exception
    class) and the consumer commits past it: the other records are processed, none blocked."""
    run = Orders()
    assert run.dlt.sent == 2 and run.poison.hits == 2
    assert run.audit.report().lost_ids == (3, 7)
    replayer = kafka_replayer(run.cluster, run.producer, "orders.DLT")
    assert [(d.message_id, d.reason, d.origin, d.error) for d in replayer.list()] == [
        (3, "handler_error", "orders", "PoisonMessage"), (7, "handler_error", "orders", "PoisonMessage")]
    assert replayer.groups()[0].count == 2


def test_kafka_replay_republishes_to_the_origin_at_the_rate_and_reports():
    """Replay of the DLT after the fix: both records are produced to 'orders' again, 0.5 s apart at 2/s, the
    store holds nothing unreplayed, and every order has exactly one effect."""
    run = Orders()
    run.fixed = True
    replayer = kafka_replayer(run.cluster, run.producer, "orders.DLT")
    job = replayer.replay(rate=2.0)
    start = run.sim.now
    run.sim.run(until=job.done)
    assert job.done.value.replayed_ids == (3, 7) and job.done.value.remaining_in_dlq == 0
    assert job.done.value.finished_at - start == pytest.approx(1.0)
    run.sim.run(until=run.sim.now + 10)
    assert run.audit.report().is_exactly_once
    assert run.cluster.ledger().balanced


def test_kafka_replay_of_a_subset_leaves_the_rest():
    """replay(where=...) on the DLT replays only the chosen records; the others stay listed."""
    run = Orders(poison=(1, 3, 7))
    run.fixed = True
    replayer = kafka_replayer(run.cluster, run.producer, "orders.DLT")
    job = replayer.replay(lambda d: d.message_id in (1, 7), rate=50.0)
    run.sim.run(until=job.done)
    assert job.done.value.replayed_ids == (1, 7)
    assert [d.message_id for d in replayer.list()] == [3]


def test_retry_topics_back_off_then_dead_letter():
    """Non-blocking retries: a failing record is retried through orders-retry-1..3, each try no earlier than
    its jittered delay, then sent to the DLT after max_attempts tries."""
    sim = Simulation(seed=2)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("jobs", 1, 1)
    producer = Producer(cluster, {"linger.ms": 0})
    tries: list[float] = []

    def fail(message_id, body):
        tries.append(sim.now)
        raise ValueError("downstream said no")

    policy = RetryPolicy(base=1.0, cap=30.0, jitter="full", max_attempts=4)
    retries = RetryTopics(cluster, producer, "jobs", "g", fail, policy, rng=sim.substream("retry"))
    KafkaPublisher(producer, "jobs").publish("job-1", b"{}")
    sim.run(until=120)
    assert len(tries) == 4 and retries.dlt.sent == 1
    assert [attempt for _, attempt, _ in retries.scheduled] == [2, 3, 4]
    for (_, attempt, delay), (before, after) in zip(retries.scheduled, itertools.pairwise(tries)):
        assert 0 <= delay <= policy.ceiling(attempt - 1) and after - before >= delay
    (dead,) = kafka_replayer(cluster, producer, "jobs.DLT").list()
    assert (dead.message_id, dead.reason, dead.attempts, dead.origin) == ("job-1", "retries_exhausted", 4, "jobs")


def test_share_group_archives_a_record_at_the_delivery_count_limit():
    """In a share group with delivery limit 3, a record released on every failure is delivered 3 times and
    then archived by the broker (the model's share_archived); the worker's archive lists it for replay."""
    sim = Simulation(seed=0)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("tasks", 1, 1)
    cluster.share_group("sg", auto_offset_reset="earliest", delivery_count_limit=3)
    producer = Producer(cluster, {"linger.ms": 0})
    publisher = KafkaPublisher(producer, "tasks")
    for i in range(5):
        publisher.publish(i, b"{}")
    poison = PoisonPredicate.ids(2)
    worker = ShareWorker(cluster, "tasks", "sg", poison.wrap(lambda m, b: None))
    sim.run(until=60)
    assert poison.hits == 3 and worker.accepted == 4
    (archived,) = worker.archive.messages()
    assert (archived.message_id, archived.reason, archived.attempts) == (2, "delivery_count_limit", 3)
    assert cluster.ledger().share_archived == 1


def test_share_reject_archives_at_once():
    """on_error='reject' acknowledges a failure with REJECT: archived after one delivery."""
    sim = Simulation(seed=0)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("tasks", 1, 1)
    cluster.share_group("sg", auto_offset_reset="earliest")
    producer = Producer(cluster, {"linger.ms": 0})
    KafkaPublisher(producer, "tasks").publish(1, b"{}")
    worker = ShareWorker(cluster, "tasks", "sg", PoisonPredicate.ids(1).wrap(lambda m, b: None), on_error="reject")
    sim.run(until=30)
    assert [(d.reason, d.attempts) for d in worker.archive.messages()] == [("rejected", 1)]
    assert cluster.ledger().share_archived == 1


def test_kafka_dead_letter_settings_are_checked():
    """A dead_letter error mode needs a function, and retry topics need a bounded policy."""
    sim = Simulation()
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("t", 1, 1)
    with pytest.raises(InvalidParameter, match="dead_letter"):
        KafkaWorker(cluster, "t", "g", lambda m, b: None, on_error="dead_letter")
    with pytest.raises(InvalidParameter, match="max_attempts"):
        RetryTopics(cluster, Producer(cluster), "t", "g", lambda m, b: None, RetryPolicy(), rng=sim.rng)
