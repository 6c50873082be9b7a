"""Adapters from the live models and the walkthrough to the figures' inputs."""

from __future__ import annotations

import json

from mqlab.kafka import AdminClient, Cluster, Consumer, NewTopic, Producer
from mqlab.rabbitmq import Broker
from mqlab.scenarios import lost_ack_walkthrough
from mqlab.sim import Simulation
from mqlab.sqs import SQS
from mqlab.viz import (
    from_kafka,
    from_rabbitmq,
    from_sqs,
    journey_figure,
    journey_from_trace,
    logview_figure,
    logview_from_kafka,
    sequence_figure,
    steps_from_walkthrough,
    topology_figure,
)


def _rabbit() -> tuple[Simulation, Broker]:
    sim = Simulation(seed=1, trace=True)
    broker = Broker(sim)
    ch = broker.connect().channel()
    ch.exchange_declare("rides", "topic")
    ch.exchange_declare("dlx", "fanout")
    ch.queue_declare("dead")
    ch.queue_bind("dead", "dlx", "")
    ch.queue_declare("nyc", arguments={"x-dead-letter-exchange": "dlx"})
    ch.queue_bind("nyc", "rides", "geo.us.nyc.#")
    ch.basic_publish("rides", "geo.us.nyc.brooklyn", b"ride")
    ch.basic_consume("nyc", lambda ch, m, p, b: ch.basic_nack(m.delivery_tag, requeue=False))
    sim.run()
    return sim, broker


def test_rabbitmq_topology_from_the_broker():
    """Exchanges, the binding key, ready counts, the consumer and the DLX edge come from broker.topology()."""
    _, broker = _rabbit()
    topo = from_rabbitmq(broker)
    assert [(n.id, n.kind, n.count) for n in topo.nodes][:4] == [
        ("x:rides", "exchange", None), ("x:dlx", "exchange", None), ("q:nyc", "queue", 0), ("q:dead", "dlq", 1),
    ]
    kinds = [(e.source, e.target, e.kind, e.label) for e in topo.edges]
    assert ("x:rides", "q:nyc", "binding", "geo.us.nyc.#") in kinds
    assert ("q:nyc", "x:dlx", "dead-letter", "(same key)") in kinds
    consumer = next(n for n in topo.nodes if n.kind == "consumer")
    assert len(consumer.label) <= 12 and consumer.label.startswith("ctag")
    assert topology_figure(topo).to_json() == topology_figure(from_rabbitmq(_rabbit()[1])).to_json()


def test_rabbitmq_trace_draws_a_dead_lettered_journey():
    """The broker's trace names msg-1 through routing, delivery, nack and dead-lettering (with its x-death count)."""
    sim, _ = _rabbit()
    steps = journey_from_trace(sim.trace, "msg-1")
    assert [(s.place, s.action) for s in steps] == [
        ("channel:conn-1/1", "published"), ("exchange:rides", "routed"), ("queue:nyc", "enqueued"),
        ("queue:nyc", "delivered"), ("queue:nyc", "nacked"), ("queue:nyc", "dead_lettered"),
        ("queue:dead", "enqueued"),
    ]
    fig = journey_figure(steps)
    failed = next(t for t in fig.data if t.name == "lost, expired or dead-lettered")
    assert list(failed.text) == ["dead_lettered (count 1)"]


def _kafka() -> Cluster:
    sim = Simulation(seed=7)
    cluster = Cluster(sim, brokers=3)
    AdminClient(cluster).create_topics([NewTopic("rides", num_partitions=3, replication_factor=1)])
    producer = Producer(cluster, {"acks": "all"})
    for i in range(30):
        producer.produce("rides", key=f"k{i}".encode(), value=b"v")
    producer.flush()
    consumer = Consumer(cluster, {"group.id": "billing", "auto.offset.reset": "earliest",
                                  "enable.auto.commit": False})
    consumer.subscribe(["rides"])
    received = 0
    while received < 10:
        if consumer.poll(1.0) is not None:
            received += 1
    consumer.commit(asynchronous=False)
    return cluster


def test_kafka_topology_and_log_view_agree_with_statistics():
    """Partitions carry their record counts; the log view's lag is the model's own lag for the group."""
    cluster = _kafka()
    stats = cluster.statistics()
    topo = from_kafka(cluster)
    partitions = [n for n in topo.nodes if n.kind == "partition"]
    assert [n.count for n in partitions] == [p.records for p in stats.topics[0].partitions]
    assert sum(n.count for n in partitions) == 30
    assert any(e.kind == "assignment" for e in topo.edges)
    view = logview_from_kafka(cluster, "rides")
    model_lag = {lag.partition: lag.lag for lag in stats.groups[0].lag}
    shown = {p.partition: p.lag("billing") for p in view.partitions if p.lag("billing") is not None}
    assert shown == {k: v for k, v in model_lag.items() if k in shown}
    assert [p.high_watermark for p in view.partitions] == [p.high_watermark for p in stats.topics[0].partitions]
    logview_figure(view)


def test_sqs_redrive_topology():
    """An SQS queue with a redrive policy points at its DLQ with maxReceiveCount; counts are visible messages."""
    sim = Simulation(seed=1)
    sqs = SQS(sim)
    client = sqs.client()
    dlq = client.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = client.create_queue(QueueName="jobs", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="x")
    topo = from_sqs(client)
    assert [(n.label, n.kind, n.count) for n in topo.nodes] == [("jobs-dlq", "dlq", 0), ("jobs", "queue", 1)]
    assert [(e.source, e.target, e.label) for e in topo.edges] == [("q:jobs", "q:jobs-dlq", "maxReceiveCount=3")]


def test_walkthrough_becomes_a_sequence_diagram_with_the_lost_ack():
    """The lost-ack walkthrough's steps keep their participants; the lost confirm is marked; notes stay notes."""
    steps = steps_from_walkthrough(lost_ack_walkthrough())
    lost = [s for s in steps if s.fate == "lost"]
    assert [(s.sender, s.receiver, s.kind) for s in lost] == [("broker", "producer", "ack")]
    assert "lost: lost-ack" in lost[0].label
    assert any(s.fate == "note" and "resend" in s.label for s in steps)
    fig = sequence_figure(steps, participants=("producer", "broker", "consumer"))
    assert "note" in [t.name for t in fig.data]
