"""Introspection and lifecycle extras: statistics, topology, x-expires, cancel notices, fault hooks."""

from __future__ import annotations

import pytest
from rmq_support import Recorder, make_world

from mqlab.rabbitmq import BasicProperties, Connection, ConnectionClosedByBroker


def test_queue_expires_when_unused(world):
    """x-expires deletes a queue unused for that long (no consumers, no basic_get, no redeclare)."""
    ch, sim = world.ch, world.sim
    ch.queue_declare("lease", arguments={"x-expires": 1000})
    ch.basic_publish("", "lease", b"m")
    sim.run(until=0.8)
    ch.queue_declare("lease", arguments={"x-expires": 1000})  # redeclare renews the lease
    sim.run(until=1.5)
    assert "lease" in world.broker.queues
    tag = ch.basic_consume("lease", Recorder(ack=False))
    sim.run(until=5)
    assert "lease" in world.broker.queues  # a consumer keeps it alive
    ch.basic_cancel(tag)
    ch.close()  # requeues the unacked message
    sim.run(until=5.9)
    assert "lease" in world.broker.queues
    sim.run(until=6.1)
    assert "lease" not in world.broker.queues
    assert world.broker.ledger().check().dropped == {"queue_expired": 1}


def test_broker_cancels_consumers_of_a_deleted_queue(world):
    """Deleting a queue cancels its consumers; their channels hear it through add_on_cancel_callback."""
    listener = world.broker.connect().channel()
    notices = []
    listener.add_on_cancel_callback(lambda frame: notices.append(frame.method.consumer_tag))
    world.ch.queue_declare("q")
    listener.basic_consume("q", Recorder(), consumer_tag="watcher")
    world.ch.queue_delete("q")
    world.sim.run()
    assert notices == ["watcher"] and listener.consumer_tags == []


def test_consume_generator_fails_on_broker_restart(world):
    """A consume() generator gets the connection error when the broker restarts, as pika raises it; a worker
    that catches it can reconnect."""
    sim, broker = world.sim, world.broker
    world.ch.queue_declare("jobs", durable=True)
    events = []

    def worker():
        ch = broker.connect().channel()
        while True:
            try:
                for event in ch.consume("jobs"):
                    method, _, body = yield event
                    ch.basic_ack(method.delivery_tag)
                    events.append(body)
            except ConnectionClosedByBroker as error:
                events.append(error.reply_code)
                yield sim.timeout(1.0)
                ch = broker.connect().channel()

    def producer():
        ch = broker.connect().channel()
        ch.basic_publish("", "jobs", b"before", BasicProperties(delivery_mode=2))
        yield sim.timeout(0.5)
        broker.restart()
        ch = broker.connect().channel()
        ch.basic_publish("", "jobs", b"after", BasicProperties(delivery_mode=2))

    sim.process(worker())
    sim.process(producer())
    sim.run(until=3)
    assert events == [b"before", 320, b"after"]


def test_statistics_are_frozen_records(world):
    """Queue and broker statistics are frozen dataclasses with the counts of what happened."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_publish("", "q", b"abc")
    ch.basic_publish("", "nowhere", b"x")
    stats = world.broker.queue_statistics("q")
    with pytest.raises(AttributeError):
        stats.ready = 0  # type: ignore[misc]
    assert (stats.ready, stats.ready_bytes, stats.messages, stats.published) == (1, 3, 1, 1)
    broker_stats = world.broker.statistics()
    assert (broker_stats.published, broker_stats.routed, broker_stats.unroutable, broker_stats.queues) == (2, 1, 1, 1)
    assert (broker_stats.connections, broker_stats.channels) == (1, 1)


def test_topology_describes_the_graph(world):
    """topology() lists exchanges, bindings with keys and arguments, queues, consumers and DLX/AE edges."""
    ch = world.ch
    ch.exchange_declare("orders", "topic", arguments={"alternate-exchange": "unrouted"})
    ch.exchange_declare("unrouted", "fanout")
    ch.queue_declare("dlq")
    ch.queue_declare("eu", arguments={"x-dead-letter-exchange": "unrouted"})
    ch.queue_bind("eu", "orders", "order.eu.*")
    ch.basic_consume("eu", Recorder(), consumer_tag="eu-worker")
    topology = world.broker.topology()
    assert [e["name"] for e in topology["exchanges"]] == ["orders", "unrouted"]
    assert topology["bindings"] == [{"source": "orders", "destination": "eu", "destination_type": "queue",
                                     "routing_key": "order.eu.*", "arguments": {}}]
    assert [q["name"] for q in topology["queues"]] == ["dlq", "eu"]
    assert topology["consumers"][0]["consumer_tag"] == "eu-worker"
    assert topology["dead_letter_edges"] == [{"queue": "eu", "exchange": "unrouted", "routing_key": None}]
    assert topology["alternate_edges"] == [{"exchange": "orders", "alternate_exchange": "unrouted"}]
    with_amq = world.broker.topology(include_predeclared=True)
    assert {"", "amq.direct", "amq.topic"} <= {e["name"] for e in with_amq["exchanges"]}


def test_auto_delete_exchange_goes_with_its_last_binding(world):
    """An auto-delete exchange is deleted when its last binding is removed."""
    ch = world.ch
    ch.exchange_declare("temp", "fanout", auto_delete=True)
    ch.queue_declare("q")
    ch.queue_bind("q", "temp", "a")
    ch.queue_bind("q", "temp")  # pika's default routing key: the queue name
    ch.queue_unbind("q", "temp", "a")
    assert "temp" in world.broker.exchanges
    ch.queue_unbind("q", "temp")
    assert "temp" not in world.broker.exchanges


class DroppingConnection(Connection):
    """A fault layer in miniature: every second publish frame is lost on the way to the broker."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frames = 0

    def transmit(self, handler, *args):
        if self.frame_kind(handler) == "publish":
            self.frames += 1
            if self.frames % 2 == 0:
                self.drop(handler, *args)
                return
        super().transmit(handler, *args)


def test_transmit_is_a_hook_for_fault_layers():
    """A Connection subclass can intercept client-to-broker frames; drop() keeps the ledger whole."""
    for latency in (0.0, 0.01):
        w = make_world()
        ch = w.broker.connect(latency=latency, connection_class=DroppingConnection).channel()
        ch.queue_declare("q")
        for i in range(4):
            ch.basic_publish("", "q", str(i).encode())
        w.sim.run()
        ledger = w.broker.ledger().check()
        assert (ledger.published, ledger.routed, ledger.lost_in_transit) == (4, 2, 2)
        assert [e.message.body for e in w.broker.queue("q").ready_entries()] == [b"0", b"2"]


def test_latency_can_change_while_running():
    """A connection's latency can be changed; later frames take the new delay."""
    w = make_world()
    w.ch.queue_declare("q")
    w.ch.connection.latency = 0.25
    w.ch.basic_publish("", "q", b"m")
    assert w.broker.queue_statistics("q").ready == 0
    w.sim.run()
    assert w.sim.now == 0.25 and w.broker.queue_statistics("q").ready == 1
    with pytest.raises(ValueError):
        w.ch.connection.latency = -1
