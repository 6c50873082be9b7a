"""The DLQ replay tool has one interface on the three models: the same calls, the same kind of report."""

from __future__ import annotations

import pytest

from mqlab.faults import PoisonPredicate
from mqlab.faults.kafka import KafkaPublisher
from mqlab.faults.kafka_worker import KafkaWorker
from mqlab.faults.rabbitmq import RabbitPublisher
from mqlab.faults.rabbitmq_worker import RabbitWorker
from mqlab.faults.sqs import SQSPublisher
from mqlab.faults.sqs_worker import SQSWorker
from mqlab.kafka import Cluster, Producer
from mqlab.patterns import DeadLetterStore, DLQReplayer, EffectAuditor, IdempotentConsumer
from mqlab.patterns.kafka_dlt import DeadLetterTopic, kafka_replayer
from mqlab.patterns.rabbitmq_dlq import declare_with_dlq, rabbit_replayer
from mqlab.patterns.sqs_dlq import create_with_dlq, sqs_replayer
from mqlab.rabbitmq import Broker
from mqlab.sim import Simulation
from mqlab.sqs import SQS

POISON = (2, 5, 8)


def _rabbitmq(sim, handler):
    broker = Broker(sim)
    channel = broker.connect().channel()
    _, dlq = declare_with_dlq(channel, "orders", delivery_limit=2)
    worker = RabbitWorker(broker, "orders", handler)
    publisher = RabbitPublisher(channel, "", "orders")
    return publisher, lambda: rabbit_replayer(broker, dlq, errors=worker.last_errors(kind_only=True))


def _sqs(sim, handler):
    client = SQS(sim, duplicate_probability=0.0).client()
    url, dlq_url = create_with_dlq(client, "orders", max_receive_count=2, visibility_timeout=1)
    worker = SQSWorker(client, url, handler, on_error="release")
    return SQSPublisher(client, url), lambda: sqs_replayer(client, dlq_url, errors=worker.last_errors(kind_only=True))


def _kafka(sim, handler):
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("orders", 1, 1)
    cluster.create_topic("orders.DLT", 1, 1)
    producer = Producer(cluster, {"linger.ms": 0})
    KafkaWorker(cluster, "orders", "billing", handler, on_error="dead_letter",
                dead_letter=DeadLetterTopic(producer).send)
    return KafkaPublisher(producer, "orders"), lambda: kafka_replayer(cluster, producer, "orders.DLT")


@pytest.mark.parametrize("build", [_rabbitmq, _sqs, _kafka], ids=["rabbitmq", "sqs", "kafka"])
def test_the_same_replay_calls_work_on_every_model(build):
    """On each model: the DLQ holds the three poison messages, grouped as one (reason, PoisonMessage) group;
    inspect() finds one; replay(where) at 5/s moves exactly the chosen two back to 'orders' 0.2 s apart and
    reports them; after the fix each replayed order has exactly one effect and the third stays dead."""
    sim = Simulation(seed=0)
    poison = PoisonPredicate.ids(*POISON)
    fixed = {"on": False}
    audit = EffectAuditor(range(10))
    idempotent = IdempotentConsumer(lambda m, b: audit.effect(m))

    def handler(message_id, body):
        if not fixed["on"]:
            poison.check(message_id, body)
        idempotent(message_id, body)

    publisher, make_replayer = build(sim, handler)
    for i in range(10):
        publisher.publish(i, "{}")
    sim.run(until=30)
    replayer = make_replayer()
    assert isinstance(replayer, DLQReplayer) and isinstance(replayer.store, DeadLetterStore)
    assert sorted(d.message_id for d in replayer.list()) == list(POISON)
    (group,) = replayer.groups()
    assert group.count == 3 and group.key[1] == "PoisonMessage"
    assert replayer.inspect(5).origin == "orders"
    fixed["on"] = True
    job = replayer.replay(lambda d: d.message_id in (2, 8), rate=5.0)
    start = sim.now
    sim.run(until=job.done)
    report = job.done.value
    assert sorted(report.replayed_ids) == [2, 8] and report.refused == 0 and report.remaining_in_dlq == 1
    assert report.finished_at - start == pytest.approx(0.4)
    sim.run(until=sim.now + 30)
    assert audit.count(2) == audit.count(8) == 1 and audit.count(5) == 0
    assert [d.message_id for d in replayer.list()] == [5]


@pytest.mark.parametrize("build", [_rabbitmq, _sqs], ids=["rabbitmq", "sqs"])
def test_release_gives_held_dead_messages_back_to_the_dlq(build):
    """Listing holds dead messages (unacked on RabbitMQ, invisible on SQS); release() gives them back, so a new
    store sees the same messages."""
    sim = Simulation(seed=0)
    publisher, make_replayer = build(sim, PoisonPredicate.ids(*POISON).wrap(lambda m, b: None))
    for i in range(10):
        publisher.publish(i, "{}")
    sim.run(until=30)
    first = make_replayer()
    assert len(first.list()) == 3
    assert first.store.release() == 3
    sim.run(until=sim.now + 1)
    assert sorted(d.message_id for d in make_replayer().list()) == list(POISON)
