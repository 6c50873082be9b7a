"""The generic broker and consumer stand-ins: acks, redelivery, crashes, delivery limits, ledgers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqlab.faults import (
    BrokerEndpoint,
    Connection,
    CrashSchedule,
    DeliverySource,
    GenericBroker,
    HopFaults,
    InvalidParameter,
    LatencyProfile,
    Link,
    PoisonPredicate,
    StandInConsumer,
)
from mqlab.sim import Simulation


def _run(n: int, **consumer_kwargs):
    sim = Simulation(seed=1)
    broker = GenericBroker(sim, ack_timeout=consumer_kwargs.pop("ack_timeout", None))
    effects: list[int] = []
    consumer = StandInConsumer(sim, broker, lambda i, body: effects.append(i), **consumer_kwargs)
    for i in range(n):
        broker.accept(i, b"x")
    sim.run()
    return broker, consumer, effects


def test_generic_broker_implements_both_protocols():
    """The stand-in offers the two protocols a model adapter must implement."""
    broker = GenericBroker(Simulation())
    assert isinstance(broker, BrokerEndpoint) and isinstance(broker, DeliverySource)


def test_every_message_is_handled_once_and_acked_without_faults():
    """No faults: each message is delivered once, handled once, acked; the ledger balances."""
    broker, _, effects = _run(20)
    assert effects == list(range(20))
    ledger = broker.ledger()
    assert ledger.acked == 20 and ledger.redelivered == 0 and ledger.balances()


def test_crash_before_ack_redelivers_and_duplicates_the_effect():
    """A consumer that dies after its effect and before its ack gets the message again: the effect repeats."""
    broker, consumer, effects = _run(5, crash=CrashSchedule("before_ack", deliveries=(2,), restart_after=0.5))
    assert effects.count(1) == 2 and sorted(set(effects)) == list(range(5))
    assert consumer.crashes == 1 and broker.ledger().redelivered == 1 and broker.ledger().balances()


def test_crash_after_ack_loses_the_effect_and_counts_it():
    """An ack-first consumer that dies after acking never performs that effect; the fault ledger counts it."""
    broker, consumer, effects = _run(
        5, ack_mode="before_effect", crash=CrashSchedule("after_ack", deliveries=(3,), restart_after=0.5)
    )
    assert 2 not in effects and len(effects) == 4
    assert consumer.ledger.counts().lost == {"crash-after_ack": 1}
    assert broker.ledger().acked == 5


def test_crash_before_effect_neither_loses_nor_duplicates():
    """Dying on receipt, before any effect, only delays the message: it is redelivered and handled once."""
    _, _, effects = _run(5, crash=CrashSchedule("before_effect", deliveries=(1,), restart_after=0.1))
    assert sorted(effects) == list(range(5))


def test_handler_error_is_recorded_and_the_message_requeued():
    """A raising handler does not crash the run: the error is kept and the message comes back."""
    sim = Simulation()
    broker = GenericBroker(sim)
    calls: list[int] = []

    def flaky(i, body):
        calls.append(i)
        if len(calls) == 1:
            raise ValueError("database busy")

    consumer = StandInConsumer(sim, broker, flaky)
    broker.accept("a", b"")
    sim.run()
    assert calls == ["a", "a"]
    assert consumer.errors[0].error == "ValueError: database busy" and consumer.errors[0].attempt == 1


def test_delivery_limit_dead_letters_a_poison_message():
    """With a delivery limit of 3, a poison message is delivered 3 times and then dead-lettered."""
    sim = Simulation()
    broker = GenericBroker(sim, delivery_limit=3)
    poison = PoisonPredicate.ids("bad")
    consumer = StandInConsumer(sim, broker, poison.wrap(lambda i, b: None))
    broker.accept("bad", b"")
    broker.accept("good", b"")
    sim.run()
    assert poison.hits == 3 and len(consumer.errors) == 3
    (letter,) = broker.dead_letters
    assert letter.reason == "delivery_limit" and letter.attempts == 3 and "PoisonMessage" in letter.error
    assert broker.ledger().balances() and broker.ledger().acked == 1


def test_reject_without_requeue_dead_letters_at_once():
    """``on_error='reject'`` dead-letters on the first failure."""
    sim = Simulation()
    broker = GenericBroker(sim)
    StandInConsumer(sim, broker, PoisonPredicate.ids(1).wrap(lambda i, b: None), on_error="reject")
    broker.accept(1, b"")
    sim.run()
    assert broker.dead_letters[0].reason == "handler_error" and broker.dead_letters[0].attempts == 1


def test_ack_timeout_redelivers_when_the_ack_is_lost():
    """A consumer ack lost on the link leaves the delivery unacked; the ack timeout redelivers it."""
    sim = Simulation()
    broker = GenericBroker(sim, ack_timeout=1.0)
    link = Link(sim)
    link.drop_next("to_broker", "ack", 1)
    effects: list[str] = []
    StandInConsumer(sim, Connection(link, broker), lambda i, b: effects.append(i))
    broker.accept("m", b"")
    sim.run()
    assert effects == ["m", "m"]
    assert broker.ledger().acked == 1 and broker.ledger().balances()


def test_max_length_refuses_publishes_when_full():
    """A queue at ``max_length`` refuses the publish (reject-publish), and counts it."""
    broker = GenericBroker(Simulation(), max_length=2)
    assert [broker.accept(i, b"") for i in range(3)] == [True, True, False]
    assert broker.ledger().refused == 1


@given(seed=st.integers(0, 2**20), loss=st.sampled_from([0.0, 0.1, 0.3]))
def test_ledger_balances_under_lossy_consumer_links(seed, loss):
    """Whatever the link loses, every accepted message ends acked (ack timeout redelivers the rest)."""
    sim = Simulation(seed=seed)
    broker = GenericBroker(sim, ack_timeout=0.5)
    link = Link(sim, to_broker=HopFaults(loss=loss), to_client=HopFaults(loss=loss))
    effects: list[int] = []
    StandInConsumer(sim, Connection(link, broker), lambda i, b: effects.append(i), prefetch=3)
    for i in range(30):
        broker.accept(i, b"")
    sim.run()
    ledger = broker.ledger()
    assert ledger.balances() and ledger.acked == 30 and set(effects) == set(range(30))


def test_consumer_parameters_are_validated():
    """Unknown ack modes or error policies and zero prefetch are refused by name."""
    sim = Simulation()
    broker = GenericBroker(sim)
    with pytest.raises(InvalidParameter, match="ack_mode"):
        StandInConsumer(sim, broker, print, ack_mode="sometimes")
    with pytest.raises(InvalidParameter, match="on_error"):
        StandInConsumer(sim, broker, print, on_error="ignore")
    with pytest.raises(InvalidParameter, match="prefetch"):
        StandInConsumer(sim, broker, print, prefetch=0)
    with pytest.raises(InvalidParameter, match="delivery_limit"):
        GenericBroker(sim, delivery_limit=0)


@pytest.mark.parametrize("durable, lost", [(True, 0), (False, 8)])
def test_broker_restart_keeps_durable_messages_and_loses_transient_ones(durable, lost):
    """A restart requeues unacked deliveries; a non-durable queue then loses all it holds, counted by fault."""
    sim = Simulation()
    broker = GenericBroker(sim)
    effects: list[int] = []
    consumer = StandInConsumer(sim, broker, lambda i, b: effects.append(i), service_time=1.0)
    broker.on_restart(consumer.reconnect)
    for i in range(10):
        broker.accept(i, b"")
    broker.schedule_restart(2.5, durable=durable)
    sim.run()
    ledger = broker.ledger()
    assert ledger.lost_by_fault == lost and ledger.balances()
    assert len(set(effects)) == 10 - lost
    assert broker.ledger_of_faults.counts().lost_by("broker.restart") == lost


def test_slow_consumer_builds_a_backlog_that_drains_when_it_recovers():
    """A consumer slowed from 10 ms to 1 s between t=1 and t=3 lets the queue grow, then catches up."""
    sim = Simulation()
    broker = GenericBroker(sim)
    StandInConsumer(sim, broker, lambda i, b: None, service_time=LatencyProfile.step(0.01, 1.0, start=1, end=3))
    depths: list[int] = []
    for i in range(400):
        sim.call_at(i * 0.01, broker.accept, i, b"")
    for t in (0.9, 3.0, 4.0):
        sim.call_at(t, lambda: depths.append(broker.depth))
    sim.run()
    assert depths[0] <= 1 and depths[1] > 150 and broker.ledger().acked == 400


def test_crashes_and_restarts_are_in_the_trace():
    """A scheduled crash is visible in the trace, with its point, and so is the restart."""
    sim = Simulation(trace=True)
    broker = GenericBroker(sim)
    StandInConsumer(sim, broker, lambda i, b: None, crash=CrashSchedule("before_ack", deliveries=(1,)))
    broker.accept("m", b"")
    sim.run()
    (crash,) = sim.trace.select(actor="consumer", action="crash")
    assert crash.details == {"id": "m", "point": "before_ack"}
    assert sim.trace.select(actor="consumer", action="restart")
