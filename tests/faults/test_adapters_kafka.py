"""Faults on the Kafka model: lost requests and responses, lost fetches, crashing consumers, broker kills."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import CrashSchedule, FaultLedger, HopFaults, InvalidParameter, Link
from mqlab.faults.kafka import KafkaFaults, KafkaPublisher, kill_kafka_broker, restart_kafka_broker
from mqlab.faults.kafka_worker import KafkaWorker
from mqlab.kafka import Cluster, Producer
from mqlab.patterns import EffectAuditor
from mqlab.sim import Simulation

N = 30


def _run(config: dict, seed: int, *, to_broker: HopFaults | None = None, to_client: HopFaults | None = None):
    sim = Simulation(seed=seed)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("work", 1, 1)
    link = Link(sim, "net", to_broker=to_broker, to_client=to_client)
    faults = KafkaFaults(cluster, link)
    producer = Producer(cluster, {"linger.ms": 0, "request.timeout.ms": 1000, **config})
    publisher = KafkaPublisher(producer, "work")
    audit = EffectAuditor(range(N))
    KafkaWorker(cluster, "work", "g", lambda m, b: audit.effect(m), service_time=0.001)
    for i in range(N):
        sim.call_at(i * 0.01, publisher.publish, i, b"x", None)
    sim.run(until=120)
    return audit.report(), cluster.ledger(), faults, link.ledger.counts()


def test_acks_0_over_a_lossy_link_loses_and_the_model_ledger_names_the_fault():
    """acks=0 is at-most-once: lost produce requests are lost records, counted in the model's
    acknowledged_lost under the link's fault name, equal to the fault ledger's count; no duplicates."""
    report, ledger, _, counts = _run({"acks": 0}, seed=1, to_broker=HopFaults(loss=0.3))
    assert report.lost > 0 and report.duplicated == 0
    assert report.lost == ledger.acknowledged_lost["net.to_broker.loss"] == counts.lost_by("net.to_broker.loss")
    assert ledger.balanced


def test_lost_responses_make_duplicates_without_idempotence():
    """acks=all without idempotence: a lost produce response makes the producer retry a batch the leader
    already wrote; the model counts the copies in duplicates and each one is a duplicated effect."""
    report, ledger, faults, _ = _run({"acks": "all", "enable.idempotence": False}, seed=2,
                                     to_client=HopFaults(loss=0.3, kinds=("ack",)))
    assert report.lost == 0 and report.duplicated > 0
    assert report.extra_effects == ledger.duplicates and faults.lost["response"] > 0
    assert ledger.balanced


@settings(max_examples=8)
@given(seed=st.integers(0, 2**16))
def test_idempotent_producer_never_duplicates_nor_loses_silently(seed):
    """With enable.idempotence, lost requests and lost responses cost retries but never a duplicated record,
    for every seed, and no record is reported failed (a retried sequence already written is a success, a
    batch arriving before a lost earlier one is refused and retried in order): each record's effect happens
    exactly once; both model balances close."""
    report, ledger, _, _ = _run({"enable.idempotence": True}, seed, to_broker=HopFaults(loss=0.2),
                                to_client=HopFaults(loss=0.2, kinds=("ack", "nack")))
    assert report.duplicated == 0 and ledger.duplicates == 0 and ledger.balanced
    assert report.is_exactly_once and ledger.failed == {}


def test_lost_fetches_delay_but_never_lose():
    """A lost fetch response gives the consumer nothing this time; it reads the same offsets later, so every
    record is handled exactly once."""
    report, _, faults, _ = _run({"acks": "all"}, seed=3, to_client=HopFaults(loss=0.5, kinds=("delivery",)))
    assert faults.lost["fetch"] > 0 and report.is_exactly_once


def _consume_with_crash(point: str, ack_mode: str):
    sim = Simulation(seed=0)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("work", 1, 1)
    producer = Producer(cluster, {"linger.ms": 0})
    audit = EffectAuditor(range(5))
    ledger = FaultLedger(sim)
    worker = KafkaWorker(cluster, "work", "g", lambda m, b: audit.effect(m), ack_mode=ack_mode, ledger=ledger,
                         crash=CrashSchedule(point, deliveries=(2,), restart_after=1.0),
                         config={"session.timeout.ms": 6000})
    publisher = KafkaPublisher(producer, "work")
    for i in range(5):
        publisher.publish(i, b"x")
    sim.run(until=60)
    return audit.report(), worker, ledger.counts()


def test_kafka_crash_before_commit_rereads_the_record():
    """A consumer that dies after the effect, before committing, leaves the offset behind: its replacement
    reads the record again (attempt 2) and the effect happens twice."""
    report, worker, _ = _consume_with_crash("before_ack", "after_effect")
    assert report.lost == 0 and report.duplicated_ids == (1,)
    assert [(d.message_id, d.attempt) for d in worker.deliveries if d.message_id == 1] == [(1, 1), (1, 2)]


def test_kafka_commit_before_processing_then_crash_loses_the_record():
    """Committing before processing and dying in between skips the record for good, counted as lost by
    crash-after_ack in the fault ledger."""
    report, worker, counts = _consume_with_crash("after_ack", "before_effect")
    assert report.lost_ids == (1,) and report.duplicated == 0
    assert counts.lost_by("crash-after_ack") == 1 == worker.lost_in_crash


def test_kill_and_restart_with_acks_1_can_lose_acknowledged_records():
    """With replication factor 2, acks=1 and unclean leader election, killing the leader before followers
    copy loses acknowledged records; kill_kafka_broker reports the model's count in the fault ledger."""
    sim = Simulation(seed=0)
    cluster = Cluster(sim, brokers=2, replication_delay=1.0, unclean_leader_election=True)
    cluster.create_topic("t", 1, 2)
    producer = Producer(cluster, {"acks": 1, "linger.ms": 0})
    for i in range(5):
        producer.produce("t", value=b"v", key=str(i).encode())
    sim.run(until=0.1)
    leader = cluster.partition("t", 0).replicas.leader
    ledger = FaultLedger(sim)
    lost = kill_kafka_broker(cluster, leader, ledger)
    assert lost == 5 == ledger.counts().lost_by(f"kafka.kill-broker-{leader}") == cluster.ledger().lost
    assert restart_kafka_broker(cluster, leader, ledger) == 0
    assert cluster.ledger().balanced


def test_uninstall_restores_the_cluster_hooks():
    """KafkaFaults wraps the hooks of one cluster instance and puts them back on uninstall."""
    sim = Simulation()
    cluster = Cluster(sim, brokers=1)
    original = cluster.handle_produce
    faults = KafkaFaults(cluster, Link(sim))
    assert cluster.handle_produce == faults.handle_produce
    faults.uninstall()
    assert cluster.handle_produce == original
    with pytest.raises(InvalidParameter, match="link"):
        KafkaFaults(cluster, None)  # type: ignore[arg-type]


def test_same_seed_same_kafka_story():
    """The faulty Kafka run is deterministic: the same seed gives the same trace, byte for byte."""
    def run() -> list:
        sim = Simulation(seed=5, trace=True)
        cluster = Cluster(sim, brokers=1)
        cluster.create_topic("t", 1, 1)
        KafkaFaults(cluster, Link(sim, "net", to_broker=HopFaults(loss=0.3), to_client=HopFaults(loss=0.3)))
        publisher = KafkaPublisher(Producer(cluster, {"linger.ms": 0, "request.timeout.ms": 500}), "t")
        KafkaWorker(cluster, "t", "g", lambda m, b: None)
        for i in range(10):
            publisher.publish(i, b"x")
        sim.run(until=30)
        return [repr(r) for r in sim.trace.select()]

    first = run()
    assert first == run() and any("fault:net" in line for line in first)


def test_a_partition_window_delays_produce_until_it_heals():
    """A 2 s partition of the producer's link: requests sent in the window are lost (counted under
    net.partition), the producer retries after request.timeout.ms, and every record arrives exactly once."""
    sim = Simulation(seed=0)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("t", 1, 1)
    link = Link(sim, "net")
    link.partition(0.0, 2.0)
    KafkaFaults(cluster, link)
    producer = Producer(cluster, {"linger.ms": 0, "request.timeout.ms": 1000, "enable.idempotence": True})
    audit = EffectAuditor(range(5))
    KafkaWorker(cluster, "t", "g", lambda m, b: audit.effect(m))
    publisher = KafkaPublisher(producer, "t")
    for i in range(5):
        publisher.publish(i, b"x")
    sim.run(until=30)
    assert link.ledger.counts().lost_by("net.partition") >= 1
    assert audit.report().is_exactly_once and cluster.ledger().balanced
