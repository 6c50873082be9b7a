"""Regressions of the idempotent producer's sequence accounting (KIP-98).

The leader accepts a producer id's batches only in sequence order, starting at 0 for a new
producer id or a new epoch; a retried batch whose sequence was already written is answered
with success and its original offset. So a batch is never reported failed as a duplicate
when it was never written.
"""

from __future__ import annotations

from mqlab.faults import HopFaults, Link
from mqlab.faults.kafka import KafkaFaults, KafkaPublisher
from mqlab.kafka import Cluster, Producer
from mqlab.sim import Simulation


def test_first_batch_of_a_new_producer_id_must_start_at_sequence_zero():
    """A new producer id's first batch must carry sequence 0 (Kafka: 'Invalid sequence number for new
    epoch'); a later batch arriving first is refused OUT_OF_ORDER_SEQUENCE_NUMBER, not written."""
    sim = Simulation(seed=0)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("t", 1, 1)
    partition = cluster.partition("t", 0)
    assert partition.check_sequence(1000, 0, 1, 1) == ("OUT_OF_ORDER_SEQUENCE_NUMBER", -1)
    assert partition.check_sequence(1000, 0, 0, 1) == (None, -1)
    partition.record_sequence(1000, 0, 0, 1, 0)
    assert partition.check_sequence(1000, 1, 3, 1) == ("OUT_OF_ORDER_SEQUENCE_NUMBER", -1)
    assert partition.check_sequence(1000, 1, 0, 1) == (None, -1)


def test_a_lost_first_request_is_retried_and_written_not_failed_as_duplicate():
    """The first produce request is lost and the second arrives first: the second is refused (a gap),
    both are retried in order and written once; no record is reported failed (seed 68 reproduced
    record 0 failed DUPLICATE_SEQUENCE_NUMBER although it was never appended)."""
    sim = Simulation(seed=68)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("work", 1, 1)
    link = Link(sim, "net", to_broker=HopFaults(loss=0.2), to_client=HopFaults(loss=0.2, kinds=("ack", "nack")))
    KafkaFaults(cluster, link)
    producer = Producer(cluster, {"linger.ms": 0, "request.timeout.ms": 1000, "enable.idempotence": True})
    publisher = KafkaPublisher(producer, "work")
    for i in range(30):
        sim.call_at(i * 0.01, publisher.publish, i, b"x", None)
    sim.run(until=120)
    ledger = cluster.ledger()
    assert publisher.failed == [] and ledger.failed == {}
    keys = [m.key() for m in cluster.partition("work", 0).fetch(0, 100, False)[0]]
    assert sorted(keys, key=int) == [str(i).encode() for i in range(30)]
    assert ledger.duplicates == 0 and ledger.balanced


def _lossy_idempotent_run(seed: int):
    sim = Simulation(seed=seed)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("work", 1, 1)
    link = Link(sim, "net", to_broker=HopFaults(loss=0.2), to_client=HopFaults(loss=0.2, kinds=("ack", "nack")))
    KafkaFaults(cluster, link)
    producer = Producer(cluster, {"linger.ms": 0, "request.timeout.ms": 1000, "enable.idempotence": True})
    publisher = KafkaPublisher(producer, "work")
    reports: list = []
    for i in range(30):
        sim.call_at(i * 0.01, publisher.publish, i, b"x", lambda m, ok: reports.append((m, ok)))
    sim.run(until=120)
    return cluster, publisher, reports


def test_a_retry_older_than_the_five_remembered_batches_is_reported_delivered():
    """A written batch whose response was lost, retried after more than five later batches were written,
    gets DUPLICATE_SEQUENCE_NUMBER from the leader: the producer reports it delivered without an offset
    (Java client Sender.completeBatch; librdkafka alike), never failed; each record is written once."""
    cluster, publisher, reports = _lossy_idempotent_run(seed=1)
    ledger = cluster.ledger()
    assert publisher.failed == [] and ledger.failed == {}
    assert sorted(m for m, ok in reports if ok) == list(range(30))
    assert ledger.appended == 30 and ledger.duplicates == 0 and ledger.balanced
