"""Faults on the SQS model: lost requests and responses around the boto3-shaped client, crashing workers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import CrashSchedule, FaultLedger, HopFaults, InvalidParameter, Link
from mqlab.faults.sqs import FaultySQSClient, NoBrokerRestart, RequestLost, SQSPublisher, restart_sqs
from mqlab.faults.sqs_worker import SQSWorker
from mqlab.patterns import AtLeastOnceProducer, AtMostOnceProducer, EffectAuditor, IdempotentConsumer
from mqlab.sim import Simulation
from mqlab.sqs import SQS

N = 40


def _guarantee(strategy: str, seed: int):
    sim = Simulation(seed=seed)
    service = SQS(sim, duplicate_probability=0.0)  # no at-least-once duplicates of SQS's own: only the network's
    raw = service.client()
    url = raw.create_queue(QueueName="work")["QueueUrl"]
    link = Link(sim, "net", to_broker=HopFaults(loss=0.2), to_client=HopFaults(loss=0.2, kinds=("ack",)))
    client = FaultySQSClient(raw, link)
    audit = EffectAuditor(range(N))
    idempotent = IdempotentConsumer(lambda m, b: audit.effect(m))
    handler = (lambda m, b: idempotent(m, b)) if strategy == "idempotent" else (lambda m, b: audit.effect(m))
    SQSWorker(raw, url, handler, service_time=0.001)
    publisher = SQSPublisher(client, url)
    producer = AtMostOnceProducer(sim, publisher) if strategy == "at_most_once" else AtLeastOnceProducer(
        sim, publisher, timeout=0.5)
    for i in range(N):
        sim.call_at(i * 0.01, producer.send, i, "{}")
    sim.run(until=60)
    return audit.report(), service.ledger(), client, link.ledger.counts()


def test_at_most_once_send_loses_what_the_network_lost_and_nothing_else():
    """Fire-and-forget sends over a lossy link: each lost request is a lost message (never stored, so the
    SQS ledger does not see it: only the fault ledger does); a lost response still stored the message."""
    report, ledger, client, counts = _guarantee("at_most_once", seed=1)
    assert report.lost == client.lost["message"] == counts.lost_by("net.to_broker.loss") > 0
    assert report.duplicated == 0
    assert ledger.total("sent") == N - report.lost and ledger.balanced


@settings(max_examples=12)
@given(seed=st.integers(0, 2**16))
def test_guarantees_hold_on_sqs_for_every_seed(seed):
    """Over seeds: at-least-once never loses (a lost response makes a duplicate); with an idempotent consumer
    every effect happens exactly once; the SQS ledger balances."""
    alo, alo_ledger, client, _ = _guarantee("at_least_once", seed)
    idem, idem_ledger, _, _ = _guarantee("idempotent", seed)
    assert alo.lost == 0 and alo.duplicated <= client.lost["send-response"]
    assert idem.is_exactly_once
    assert alo_ledger.balanced and idem_ledger.balanced


def test_lost_receive_response_brings_the_message_back_after_the_visibility_timeout():
    """A receive response lost on the way: the message went in flight, so it reappears only after its
    visibility timeout, with ApproximateReceiveCount 2."""
    sim = Simulation(seed=0)
    raw = SQS(sim, duplicate_probability=0.0).client()
    url = raw.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    link = Link(sim, "net")
    link.drop_next("to_client", "delivery")
    client = FaultySQSClient(raw, link)
    worker = SQSWorker(client, url, lambda m, b: None)
    SQSPublisher(raw, url).publish("a", "x")
    sim.run(until=30)
    assert [(d.message_id, d.attempt) for d in worker.deliveries] == [("a", 2)]
    assert worker.deliveries[0].time >= 5.0
    assert client.lost["delivery"] == 1


def test_lost_delete_makes_a_redelivery():
    """A DeleteMessage request lost by the network leaves the message in SQS: it is received and handled again
    after the visibility timeout (a duplicate effect at-least-once must live with)."""
    sim = Simulation(seed=0)
    raw = SQS(sim, duplicate_probability=0.0).client()
    url = raw.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    link = Link(sim, "net")
    link.drop_next("to_broker", "ack")
    audit = EffectAuditor(["a"])
    worker = SQSWorker(FaultySQSClient(raw, link), url, lambda m, b: audit.effect(m))
    SQSPublisher(raw, url).publish("a", "x")
    sim.run(until=30)
    assert audit.count("a") == 2 and any("DeleteMessage" in e for e in worker.call_errors)


def test_sqs_crash_before_delete_redelivers_and_delete_first_loses():
    """Crash after the effect but before DeleteMessage: the message comes back (receive count 2) and the
    effect happens twice. Deleting on receipt then crashing loses the effect (counted as crash-after_ack)."""
    for ack_mode, point, expected in (("after_effect", "before_ack", 2), ("before_effect", "after_ack", 0)):
        sim = Simulation(seed=0)
        raw = SQS(sim, duplicate_probability=0.0).client()
        url = raw.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
        audit = EffectAuditor(["a"])
        ledger = FaultLedger(sim)
        SQSWorker(raw, url, lambda m, b, audit=audit: audit.effect(m), ack_mode=ack_mode, ledger=ledger,
                  crash=CrashSchedule(point, deliveries=(1,), restart_after=1.0))
        SQSPublisher(raw, url).publish("a", "x")
        sim.run(until=30)
        assert audit.count("a") == expected
        assert ledger.counts().lost_by("crash-after_ack") == (1 if expected == 0 else 0)


def test_sqs_has_no_restart():
    """SQS is a managed service: asking for a broker restart raises NoBrokerRestart saying what to do instead."""
    with pytest.raises(NoBrokerRestart, match="partition"):
        restart_sqs()


def test_lost_send_raises_request_lost_naming_the_fault():
    """A lost SendMessage request raises RequestLost naming the fault; nothing was stored."""
    sim = Simulation()
    raw = SQS(sim).client()
    url = raw.create_queue(QueueName="q")["QueueUrl"]
    link = Link(sim, "net")
    link.drop_next("to_broker", "message", fault="cable-cut")
    with pytest.raises(RequestLost, match="cable-cut") as caught:
        FaultySQSClient(raw, link).send_message(QueueUrl=url, MessageBody="x")
    assert not caught.value.stored
    assert raw.service.ledger().total("sent") == 0
    with pytest.raises(InvalidParameter, match="on_error"):
        SQSWorker(raw, url, lambda m, b: None, on_error="explode")


def test_same_seed_same_sqs_story():
    """The faulty SQS run is deterministic: the same seed gives the same trace, byte for byte."""
    def run() -> list:
        sim = Simulation(seed=5, trace=True)
        raw = SQS(sim).client()
        url = raw.create_queue(QueueName="q")["QueueUrl"]
        client = FaultySQSClient(raw, Link(sim, "net", to_broker=HopFaults(loss=0.3), to_client=HopFaults(loss=0.3)))
        SQSWorker(client, url, lambda m, b: None)
        producer = AtLeastOnceProducer(sim, SQSPublisher(client, url), timeout=0.5)
        for i in range(10):
            producer.send(i, "x")
        sim.run(until=60)
        return [repr(r) for r in sim.trace.select()]

    first = run()
    assert first == run() and any("fault:net" in line for line in first)


def test_a_partition_window_fails_calls_until_it_heals():
    """During a partition every SQS call fails with RequestLost (counted under net.partition); an at-least-once
    producer keeps retrying and gets every message through once the link heals."""
    sim = Simulation(seed=0)
    raw = SQS(sim, duplicate_probability=0.0).client()
    url = raw.create_queue(QueueName="q")["QueueUrl"]
    link = Link(sim, "net")
    link.partition(0.0, 3.0)
    audit = EffectAuditor(range(5))
    SQSWorker(raw, url, lambda m, b: audit.effect(m))
    producer = AtLeastOnceProducer(sim, SQSPublisher(FaultySQSClient(raw, link), url), timeout=0.5)
    for i in range(5):
        producer.send(i, "x")
    sim.run(until=60)
    assert link.ledger.counts().lost_by("net.partition") >= 5
    assert audit.report().is_exactly_once
