"""Regressions found while writing the course notebooks."""

from __future__ import annotations

from mqlab.kafka import Cluster, Consumer, Producer, ShareConsumer, TopicPartition
from mqlab.sim import Simulation


def test_on_assign_that_assigns_does_not_lose_a_poll():
    """An on_assign callback that calls assign() while a poll_event waits delivers every record once, in order."""
    sim = Simulation(seed=1)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("t", 1, 1)
    producer = Producer(cluster, {})
    producer.produce("t", b"x")
    producer.produce("t", b"y")
    producer.flush()
    consumer = Consumer(cluster, {"group.id": "g"})
    consumer.subscribe(["t"], on_assign=lambda c, parts: c.assign([TopicPartition("t", 0, 0)]))
    got = []

    def run():
        for _ in range(2):
            message = yield consumer.poll_event(10.0)
            got.append(message.value())

    sim.process(run())
    sim.run(until=20)
    assert got == [b"x", b"y"]


def test_share_consumers_created_together_have_distinct_names():
    """Share consumers created before any of them subscribes still get distinct names."""
    sim = Simulation(seed=1)
    cluster = Cluster(sim, brokers=1)
    names = [ShareConsumer(cluster, {"group.id": "workers"}).name for _ in range(3)]
    assert len(set(names)) == 3
