"""Hooks the Kafka model offers fault layers and notebooks: ``Cluster.drop_request``, the share group's
archive log, ``ShareConsumer.closed``."""

from __future__ import annotations

import pytest

from mqlab.kafka import AcknowledgeType, ArchivedRecord, Cluster, Producer, ShareConsumer
from mqlab.sim import Simulation


class _LoseEveryOther:
    """Loses every other produce request, through the cluster's drop_request hook."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.own = cluster.handle_produce
        self.count = 0
        cluster.handle_produce = self.handle_produce  # type: ignore[method-assign]

    def handle_produce(self, request) -> None:
        self.count += 1
        if self.count % 2 == 0:
            self.cluster.drop_request(request, "test.loss")
            return
        self.own(request)


@pytest.mark.parametrize(("acks", "lost"), [(0, 2), (1, 0)])
def test_drop_request_counts_acks_0_records_as_acknowledged_lost_under_the_fault(acks, lost):
    """A lost request of an acks=0 producer loses its records for good, counted under the fault's name in
    acknowledged_lost; with acks=1 the producer retries after request.timeout.ms and nothing is lost."""
    sim = Simulation(seed=0)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("t", 1, 1)
    _LoseEveryOther(cluster)
    producer = Producer(cluster, {"acks": acks, "linger.ms": 0, "request.timeout.ms": 1000})
    for i in range(4):
        producer.produce("t", b"v", str(i).encode())
        sim.run(until=sim.now + 0.01)
    producer.flush(60)
    ledger = cluster.ledger()
    assert ledger.acknowledged_lost.get("test.loss", 0) == lost
    assert ledger.retained == 4 - lost and ledger.balanced


def test_drop_request_needs_a_fault_name():
    """drop_request without a fault name raises, naming the rule."""
    sim = Simulation(seed=0)
    cluster = Cluster(sim, brokers=1)
    with pytest.raises(ValueError, match="fault's name"):
        cluster.drop_request(object(), "")


def _group(sim: Simulation, count: int) -> tuple[Cluster, ShareConsumer]:
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("jobs", 1, 1)
    cluster.share_group("workers", auto_offset_reset="earliest", delivery_count_limit=3)
    producer = Producer(cluster, {"linger.ms": 0})
    for i in range(count):
        producer.produce("jobs", b"job-%d" % i)
    producer.flush()
    consumer = ShareConsumer(cluster, {"group.id": "workers", "share.acknowledgement.mode": "explicit"})
    consumer.subscribe(["jobs"])
    return cluster, consumer


def test_archive_log_lists_records_archived_at_the_delivery_count_limit_and_rejected():
    """A record released at its 3rd delivery (limit 3) is logged as delivery_count_limit with cause
    'released'; a REJECT is logged as rejected; accepted records are not in the log; filters work."""
    sim = Simulation(seed=0)
    cluster, consumer = _group(sim, 3)
    group = cluster.share_group("workers")
    while batch := consumer.poll(0):
        for message in batch:
            kind = {0: AcknowledgeType.RELEASE, 1: AcknowledgeType.REJECT}.get(message.offset(), AcknowledgeType.ACCEPT)
            consumer.acknowledge(message, kind)
    log = group.archive_log()
    assert [(a.offset, a.reason, a.cause, a.delivery_count) for a in log] == [
        (1, "rejected", "reject", 1), (0, "delivery_count_limit", "released", 3)]
    assert all(isinstance(a, ArchivedRecord) and a.topic == "jobs" and a.consumer == consumer.name for a in log)
    assert group.archive_log(reason="rejected") == [log[0]]
    assert group.archive_log(topic="other") == [] and group.archive_log(partition=0) == log
    assert len(log) == cluster.ledger().share_archived
    with pytest.raises(ValueError, match="archive reason"):
        group.archive_log(reason="poison")


def test_archive_log_names_an_expired_lock_as_the_cause():
    """A record whose lock expires at the limit is archived with cause 'lock_expired', at the expiry time."""
    sim = Simulation(seed=0)
    cluster, consumer = _group(sim, 1)
    consumer.close()
    for _ in range(3):
        worker = ShareConsumer(cluster, {"group.id": "workers"})
        worker.subscribe(["jobs"])
        assert worker.poll(0)
        worker.crash()  # never acknowledges: the 30 s lock expires
        sim.run(until=sim.now + 31)
    (archived,) = cluster.share_group("workers").archive_log()
    assert (archived.offset, archived.reason, archived.cause, archived.delivery_count) == (
        0, "delivery_count_limit", "lock_expired", 3)


def test_share_consumer_closed_property():
    """closed is False while the consumer is a member and True after close() or crash()."""
    sim = Simulation(seed=0)
    cluster, consumer = _group(sim, 1)
    assert consumer.closed is False
    consumer.close()
    assert consumer.closed is True
    other = ShareConsumer(cluster, {"group.id": "workers"})
    other.crash()
    assert other.closed is True
