"""Delivery guarantees over a lossy link: at-most-once loses, at-least-once duplicates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqlab.faults import Connection, GenericBroker, HopFaults, InvalidParameter, Link, StandInConsumer
from mqlab.patterns import AtLeastOnceProducer, AtMostOnceProducer, EffectAuditor, IdempotentConsumer, RetryPolicy
from mqlab.sim import Simulation


def _run(kind: str, loss: float, seed: int, n: int = 60, idempotent: bool = False):
    sim = Simulation(seed=seed)
    broker = GenericBroker(sim)
    hop = HopFaults(loss=loss)
    link = Link(sim, to_broker=hop, to_client=hop)
    conn = Connection(link, broker)
    auditor = EffectAuditor(range(n))
    handler = auditor.effect
    handler2 = IdempotentConsumer(lambda i, b: handler(i)) if idempotent else (lambda i, b: handler(i))
    StandInConsumer(sim, broker, handler2, service_time=0.001)
    if kind == "at_most_once":
        producer = AtMostOnceProducer(sim, conn)
    else:
        producer = AtLeastOnceProducer(sim, conn, timeout=0.1, retry=RetryPolicy(base=0.01, cap=0.5))
    for i in range(n):
        sim.call_at(i * 0.001, producer.send, i, b"")
    sim.run()
    return auditor.report(), producer, broker, link


@given(seed=st.integers(0, 2**20))
def test_at_most_once_loses_at_positive_loss_and_never_duplicates(seed):
    """Fire and forget at 30 % loss: effects are lost (as many as messages the link lost), none duplicated."""
    report, _, broker, link = _run("at_most_once", 0.3, seed)
    assert report.duplicated == 0
    assert report.lost == link.statistics().to_broker_lost
    assert broker.ledger().balances()


def test_at_most_once_loses_something_at_thirty_percent():
    """With a fixed seed and 30 % loss, at-most-once loses at least one effect."""
    report, *_ = _run("at_most_once", 0.3, seed=5)
    assert report.lost > 0


@given(seed=st.integers(0, 2**20))
def test_at_least_once_never_loses(seed):
    """Retry until confirmed at 30 % loss: no effect is lost, every message is confirmed in the end."""
    report, producer, broker, _ = _run("at_least_once", 0.3, seed)
    assert report.lost == 0
    assert producer.pending == 0 and producer.confirmed == 60
    assert broker.ledger().balances()


def test_at_least_once_duplicates_when_confirms_are_lost():
    """With a fixed seed and 30 % loss, some confirm is lost and its message is stored and handled twice."""
    report, producer, broker, _ = _run("at_least_once", 0.3, seed=5)
    assert report.duplicated > 0
    assert broker.ledger().accepted > 60 and producer.attempts > producer.sent


@given(seed=st.integers(0, 2**20))
def test_at_least_once_with_idempotent_consumer_is_exactly_once(seed):
    """At-least-once plus an idempotent consumer: zero lost and zero duplicated effects."""
    report, *_ = _run("at_least_once", 0.3, seed, idempotent=True)
    assert report.is_exactly_once and report.exactly_once == 60


def test_gives_up_after_max_attempts():
    """A producer with max_attempts=3 on a dead link tries three times and gives up."""
    sim = Simulation()
    link = Link(sim, to_broker=HopFaults(loss=1.0))
    producer = AtLeastOnceProducer(sim, Connection(link, GenericBroker(sim)), timeout=0.1,
                                   retry=RetryPolicy(base=0.0, cap=0.0, jitter="none", max_attempts=3))
    producer.send("x", b"")
    sim.run()
    stats = producer.statistics()
    assert stats.attempts == 3 and stats.gave_up == 1 and stats.timeouts == 3 and stats.pending == 0


def test_a_nack_is_retried():
    """A broker nack (queue full) makes the producer retry; the retry succeeds once there is room."""
    sim = Simulation()
    broker = GenericBroker(sim, max_length=1)
    producer = AtLeastOnceProducer(sim, Connection(Link(sim), broker), timeout=1.0,
                                   retry=RetryPolicy(base=0.5, cap=0.5, jitter="none"))
    broker.accept("occupant", b"")
    producer.send("x", b"")
    sim.call_at(0.1, lambda: StandInConsumer(sim, broker, lambda i, b: None))
    sim.run()
    assert producer.nacked == 1 and producer.confirmed == 1


def test_reusing_a_pending_id_is_refused():
    """Sending a second message with the id of one still awaiting its confirm is refused."""
    sim = Simulation()
    producer = AtLeastOnceProducer(sim, Connection(Link(sim), GenericBroker(sim)))
    producer.send("x", b"")
    with pytest.raises(InvalidParameter, match="own id"):
        producer.send("x", b"")
    with pytest.raises(InvalidParameter, match="timeout"):
        AtLeastOnceProducer(sim, Connection(Link(sim), GenericBroker(sim)), timeout=0)
