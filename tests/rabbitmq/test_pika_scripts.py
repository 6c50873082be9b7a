"""pika-shaped code runs unchanged: the tutorials' publishers and workers, with pika's own objects."""

from __future__ import annotations

import pytest
from rmq_support import make_world


def test_work_queue_tutorial_with_pika_properties():
    """Tutorial two (work queues): durable queue, persistent messages built with pika.BasicProperties,
    prefetch 1, manual acks, start_consuming until stop_consuming."""
    pika = pytest.importorskip("pika")
    w = make_world()
    channel = w.ch
    channel.queue_declare(queue="task_queue", durable=True)
    for message in ("first.", "second..", "third..."):
        channel.basic_publish(
            exchange="",
            routing_key="task_queue",
            body=message,
            properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
        )
    done = []

    def callback(ch, method, properties, body):
        done.append((body.decode(), properties.delivery_mode, w.sim.now))
        ch.basic_ack(delivery_tag=method.delivery_tag)
        if len(done) == 3:
            ch.stop_consuming()

    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue="task_queue", on_message_callback=callback)
    channel.start_consuming()
    assert [(body, mode) for body, mode, _ in done] == [("first.", 2), ("second..", 2), ("third...", 2)]
    assert channel.consumer_tags == [] and w.broker.ledger().check().acked == 3


def test_start_consuming_returns_when_nothing_can_happen(world):
    """start_consuming returns once the simulation has nothing left to do (pika would block forever)."""
    world.ch.queue_declare("q")
    world.ch.basic_consume("q", lambda ch, m, p, b: ch.basic_ack(m.delivery_tag))
    world.ch.basic_publish("", "q", b"only one")
    world.ch.start_consuming()
    assert world.broker.queue_statistics("q").acked == 1


def test_process_data_events_and_sleep_advance_virtual_time():
    """process_data_events(time_limit) and sleep(duration) let virtual time pass, as pika's blocking calls."""
    w = make_world(latency=0.1)
    w.ch.queue_declare("q")
    got = []
    w.ch.basic_consume("q", lambda ch, m, p, body: got.append(body), auto_ack=True)
    w.ch.basic_publish("", "q", b"m")
    w.ch.connection.process_data_events(time_limit=0.15)
    assert got == [] and w.sim.now == pytest.approx(0.15)
    w.ch.connection.sleep(0.1)
    assert got == [b"m"]


def test_blocking_helpers_refuse_to_run_inside_a_process(world):
    """Calling start_consuming inside a kernel process is refused with a message saying to yield events."""
    world.ch.queue_declare("q")
    world.ch.basic_consume("q", lambda *a: None)
    errors = []

    def process():
        try:
            world.ch.start_consuming()
        except RuntimeError as error:
            errors.append(str(error))
        yield world.sim.timeout(0)

    world.sim.process(process())
    world.sim.run()
    assert "yield events" in errors[0]
