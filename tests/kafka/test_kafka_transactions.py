"""Transactions: atomic writes, read_committed vs read_uncommitted, offsets in transactions, fencing."""

from __future__ import annotations

import pytest

from mqlab.kafka import Cluster, Consumer, KafkaException, Producer, TopicPartition
from mqlab.kafka.errors import InvalidTxnState, ProducerFenced
from mqlab.sim import Simulation


def reader(cluster: Cluster, isolation: str, group: str) -> Consumer:
    consumer = Consumer(cluster, {"group.id": group, "auto.offset.reset": "earliest", "isolation.level": isolation})
    consumer.assign([TopicPartition("t", 0)])
    return consumer


def values(consumer: Consumer) -> list:
    return [m.value() for m in consumer.consume(100, 0)]


def test_read_committed_stops_at_the_last_stable_offset(sim: Simulation, cluster: Cluster) -> None:
    """An open transaction's records are invisible to read_committed readers until it commits."""
    cluster.create_topic("t", 1, 1)
    producer = Producer(cluster, {"transactional.id": "tx-1"})
    producer.init_transactions()
    producer.begin_transaction()
    producer.produce("t", b"a")
    producer.produce("t", b"b")
    producer.flush()
    committed = reader(cluster, "read_committed", "rc")
    uncommitted = reader(cluster, "read_uncommitted", "ru")
    partition = cluster.partition("t", 0)
    assert partition.last_stable_offset == 0 and partition.high_watermark == 2
    assert values(committed) == []
    assert values(uncommitted) == [b"a", b"b"]
    producer.commit_transaction()
    assert values(committed) == [b"a", b"b"]
    assert partition.log_end_offset == 3  # the COMMIT marker takes an offset
    assert cluster.ledger().control_records == 1


def test_aborted_records_are_skipped_by_read_committed(cluster: Cluster) -> None:
    """After abort_transaction, read_committed readers skip the records; read_uncommitted ones see them."""
    cluster.create_topic("t", 1, 1)
    producer = Producer(cluster, {"transactional.id": "tx-1"})
    producer.init_transactions()
    producer.begin_transaction()
    producer.produce("t", b"bad")
    producer.flush()
    producer.abort_transaction()
    producer.begin_transaction()
    producer.produce("t", b"good")
    producer.commit_transaction()
    assert values(reader(cluster, "read_committed", "rc")) == [b"good"]
    assert values(reader(cluster, "read_uncommitted", "ru")) == [b"bad", b"good"]
    assert [m.offset() for m in reader(cluster, "read_committed", "rc2").consume(10, 0)] == [2]
    ledger = cluster.ledger()  # aborted records stay in the log: retained, not lost
    assert ledger.retained == 2 and ledger.control_records == 2 and ledger.balanced


def test_send_offsets_commits_input_and_output_together(cluster: Cluster) -> None:
    """Consume-transform-produce: the input offsets are committed only if the output transaction commits."""
    cluster.create_topic("in", 1, 1)
    cluster.create_topic("t", 1, 1)
    seed = Producer(cluster, {})
    for i in range(3):
        seed.produce("in", b"%d" % i)
    seed.flush()
    consumer = Consumer(cluster, {"group.id": "app", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition("in", 0)])
    producer = Producer(cluster, {"transactional.id": "app-tx"})
    producer.init_transactions()
    group = cluster.group("app")
    for outcome in ("abort", "commit"):
        consumer.seek(TopicPartition("in", 0, 0))
        producer.begin_transaction()
        for message in consumer.consume(10, 0):
            producer.produce("t", message.value() * 2)
        producer.send_offsets_to_transaction(consumer.position([TopicPartition("in", 0)]),
                                             consumer.consumer_group_metadata())
        if outcome == "abort":
            producer.abort_transaction()
            assert group.committed_offset("in", 0) is None
        else:
            producer.commit_transaction()
            assert group.committed_offset("in", 0) == 3
    assert values(reader(cluster, "read_committed", "check")) == [b"00", b"11", b"22"]


def test_a_new_instance_fences_the_old_one(cluster: Cluster) -> None:
    """init_transactions with the same transactional.id bumps the epoch; the old producer is fenced."""
    cluster.create_topic("t", 1, 1)
    old = Producer(cluster, {"transactional.id": "tx"})
    old.init_transactions()
    old.begin_transaction()
    old.produce("t", b"zombie")
    old.flush()
    new = Producer(cluster, {"transactional.id": "tx"})
    new.init_transactions()  # aborts the old instance's open transaction
    with pytest.raises(ProducerFenced) as info:
        old.commit_transaction()
    assert info.value.args[0].fatal()
    assert values(reader(cluster, "read_committed", "rc")) == []


def test_transactional_calls_out_of_order_are_refused(cluster: Cluster) -> None:
    """Producing or committing without begin_transaction() raises a _STATE error saying what to call."""
    producer = Producer(cluster, {"transactional.id": "tx"})
    with pytest.raises(InvalidTxnState, match="init_transactions"):
        producer.begin_transaction()
    producer.init_transactions()
    with pytest.raises(InvalidTxnState, match="begin_transaction"):
        producer.produce("t", b"v")
    with pytest.raises(InvalidTxnState, match="begin_transaction"):
        producer.commit_transaction()
    plain = Producer(cluster, {})
    with pytest.raises(KafkaException, match=r"transactional\.id"):
        plain.begin_transaction()


def test_transaction_timeout_aborts(sim: Simulation, cluster: Cluster) -> None:
    """A transaction open longer than transaction.timeout.ms is aborted by the coordinator; commit then fails."""
    cluster.create_topic("t", 1, 1)
    producer = Producer(cluster, {"transactional.id": "tx", "transaction.timeout.ms": 2000})
    producer.init_transactions()
    producer.begin_transaction()
    producer.produce("t", b"slow")
    producer.flush()
    sim.run(until=sim.now + 3)
    with pytest.raises(InvalidTxnState) as info:
        producer.commit_transaction()
    assert info.value.args[0].txn_requires_abort()
    producer.abort_transaction()
    assert values(reader(cluster, "read_committed", "rc")) == []
