"""The same learner code on the simulator and on a real broker, switched by one setting.

Each exercise below is written once against the client-shaped API, as a notebook cell would be,
and run on both backends; the results must match. Also: the setting read from the environment,
and the simulator's extras refused on a real broker.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mqlab.backends import KafkaBackend, NotAvailableOnRealBroker, RabbitMQBackend, SQSBackend


def work_queue_exercise(backend: RabbitMQBackend) -> dict[str, Any]:
    """Publish three tasks, consume them with a callback that acks two and rejects one to a dead-letter queue."""
    ch = backend.connect().channel()
    ch.exchange_declare("dead", "fanout")
    ch.queue_declare("failed")
    ch.queue_bind("failed", "dead")
    ch.queue_declare("tasks", arguments={"x-dead-letter-exchange": "dead"})
    for task in (b"resize", b"poison", b"email"):
        ch.basic_publish("", "tasks", task, backend.BasicProperties(delivery_mode=2))
    handled: list[str] = []

    def on_message(channel: Any, method: Any, properties: Any, body: bytes) -> None:
        handled.append(body.decode())
        if body == b"poison":
            channel.basic_reject(method.delivery_tag, requeue=False)
        else:
            channel.basic_ack(method.delivery_tag)

    ch.basic_qos(prefetch_count=1)
    ch.basic_consume("tasks", on_message)
    backend.run(1.0)
    _, properties, body = ch.basic_get("failed", auto_ack=True)
    death = properties.headers["x-death"][0]
    backend.close()
    return {"handled": handled, "dead": body.decode(), "reason": death["reason"], "queue": death["queue"]}


def test_the_same_rabbitmq_exercise_runs_on_both(rabbitmq_url: str) -> None:
    """A consume-with-callback exercise gives the same result on the simulator and on RabbitMQ."""
    expected = work_queue_exercise(RabbitMQBackend("simulator"))
    actual = work_queue_exercise(RabbitMQBackend(rabbitmq_url))
    assert expected == actual == {"handled": ["resize", "poison", "email"], "dead": "poison",
                                  "reason": "rejected", "queue": "tasks"}


def rides_exercise(backend: KafkaBackend, topic: str, group: str) -> list[tuple[str, int]]:
    """Produce rides keyed by rider, consume them in a group: each rider's rides stay in one partition, in order."""
    producer = backend.producer({"partitioner": "murmur2_random", "enable.idempotence": True})
    for number in range(6):
        producer.produce(topic, key=f"rider-{number % 2}".encode(), value=f"ride-{number}".encode())
    assert producer.flush(15) == 0
    consumer = backend.consumer({"group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen: list[tuple[str, int]] = []
    for _ in range(100):
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append((message.value().decode(), message.partition()))
        if len(seen) == 6:
            break
    consumer.close()
    backend.close()
    return sorted(seen)


def test_the_same_kafka_exercise_runs_on_both(kafka: Any) -> None:
    """A keyed produce and group consume exercise gives the same records and partitions on both."""
    topic, group = kafka.fresh("rides"), kafka.fresh("billing")
    expected = rides_exercise(KafkaBackend("simulator", num_partitions=kafka.partitions), topic, group)
    actual = rides_exercise(KafkaBackend(kafka.bootstrap), topic, group)
    assert expected == actual and len(actual) == 6


def redrive_exercise(backend: SQSBackend) -> dict[str, Any]:
    """A message that fails twice goes to the dead-letter queue with its receive count."""
    client = backend.client()
    dlq = client.create_queue(QueueName="orders-dlq")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2})
    url = client.create_queue(QueueName="orders", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="order 42")
    counts = []
    for _ in range(3):
        reply = client.receive_message(QueueUrl=url, VisibilityTimeout=0, AttributeNames=["ApproximateReceiveCount"])
        counts.extend(m["Attributes"]["ApproximateReceiveCount"] for m in reply.get("Messages", []))
    dead = client.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
    return {"counts": counts, "dead": [m["Body"] for m in dead]}


def test_the_same_sqs_exercise_runs_on_both(sqs_endpoint: str) -> None:
    """A redrive exercise gives the same receive counts and dead-letter contents on both."""
    expected = redrive_exercise(SQSBackend("simulator"))
    actual = redrive_exercise(SQSBackend(sqs_endpoint))
    assert expected == actual == {"counts": ["1", "2"], "dead": ["order 42"]}


def test_the_environment_variable_switches_to_the_real_broker(
    rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With MQLAB_RABBITMQ_URL set and no argument, the backend talks to the real broker through pika,
    and what only the simulator has is refused rather than faked."""
    monkeypatch.setenv("MQLAB_RABBITMQ_URL", rabbitmq_url)
    backend = RabbitMQBackend()
    assert backend.is_real
    connection = backend.connect()
    assert type(connection).__module__.startswith("pika")
    with pytest.raises(NotAvailableOnRealBroker):
        backend.broker.restart()
    backend.close()
