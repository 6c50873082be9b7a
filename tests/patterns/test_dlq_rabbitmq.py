"""RabbitMQ: dead-lettering after N deliveries, TTL wait-queue retries with backoff, and DLQ replay."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter, PoisonPredicate
from mqlab.faults.rabbitmq import ID_HEADER, RabbitPublisher
from mqlab.faults.rabbitmq_worker import RabbitWorker
from mqlab.patterns import EffectAuditor, IdempotentConsumer, RetryPolicy
from mqlab.patterns.rabbitmq_dlq import RetryQueues, declare_with_dlq, rabbit_replayer
from mqlab.rabbitmq import BasicProperties, Broker
from mqlab.sim import Simulation


class Orders:
    """Ten orders on a quorum queue with a delivery limit; ids in ``poison`` fail until ``fixed``."""

    def __init__(self, poison: tuple[int, ...] = (3, 7), limit: int = 3, seed: int = 0) -> None:
        self.sim = Simulation(seed=seed)
        self.broker = Broker(self.sim)
        channel = self.broker.connect().channel()
        self.dlx, self.dlq = declare_with_dlq(channel, "orders", delivery_limit=limit)
        self.poison = PoisonPredicate.ids(*poison)
        self.fixed = False
        self.audit = EffectAuditor(range(10))
        self.idempotent = IdempotentConsumer(lambda m, b: self.audit.effect(m))
        self.worker = RabbitWorker(self.broker, "orders", self.handle)
        publisher = RabbitPublisher(channel, "", "orders")
        for i in range(10):
            publisher.publish(i, b"{}")
        self.sim.run(until=10)

    def handle(self, message_id: int, body: bytes) -> None:
        if not self.fixed:
            self.poison.check(message_id, body)
        self.idempotent(message_id, body)


def test_quorum_delivery_limit_dead_letters_after_limit_plus_one_deliveries_with_x_death():
    """A poison message on a quorum queue with x-delivery-limit=3 is delivered 4 times, then dead-lettered
    through the DLX with reason delivery_limit; the DLQ record names the origin queue and the attempts."""
    run = Orders()
    assert run.poison.hits == 8
    replayer = rabbit_replayer(run.broker, run.dlq, errors=run.worker.last_errors(kind_only=True))
    letters = replayer.list()
    assert [(d.message_id, d.reason, d.origin, d.attempts, d.error) for d in letters] == [
        (3, "delivery_limit", "orders", 4, "PoisonMessage"), (7, "delivery_limit", "orders", 4, "PoisonMessage")]
    assert replayer.groups()[0].key == ("delivery_limit", "PoisonMessage") and replayer.groups()[0].count == 2
    assert run.broker.ledger().dead_lettered == {"delivery_limit": 2}


def test_replay_after_the_fix_moves_the_messages_back_at_the_rate_and_reports_them():
    """Replay of the whole DLQ at 2 messages/s: both go back to 'orders', one every 0.5 s of virtual time, the
    DLQ is empty, the report lists them, and after the fix every order has exactly one effect."""
    run = Orders()
    run.fixed = True
    replayer = rabbit_replayer(run.broker, run.dlq)
    job = replayer.replay(rate=2.0)
    start = run.sim.now
    run.sim.run(until=job.done)
    report = job.done.value
    assert report.replayed_ids == (3, 7) and report.remaining_in_dlq == 0 and report.refused == 0
    assert report.finished_at - start == pytest.approx(1.0)
    run.sim.run(until=run.sim.now + 5)
    assert run.audit.report().is_exactly_once
    assert run.broker.ledger().balances


def test_replay_of_a_filtered_subset_moves_exactly_those():
    """replay(where=...) moves only the matching dead messages; the others stay in the DLQ."""
    run = Orders(poison=(1, 3, 7))
    run.fixed = True
    replayer = rabbit_replayer(run.broker, run.dlq)
    job = replayer.replay(lambda d: d.message_id != 3, rate=100.0)
    run.sim.run(until=job.done)
    assert job.done.value.replayed_ids == (1, 7)
    assert [d.message_id for d in replayer.list()] == [3]


def test_replay_to_a_missing_queue_is_refused_and_the_message_stays():
    """A destination that does not exist returns the mandatory publish: it counts as refused, stays in the DLQ."""
    run = Orders()
    replayer = rabbit_replayer(run.broker, run.dlq)
    job = replayer.replay(destination="no-such-queue", rate=10.0)
    run.sim.run(until=job.done)
    assert job.done.value.refused == 2 and len(replayer.list()) == 2


def test_replaying_twice_is_safe_with_an_idempotent_consumer():
    """A replayed message that was in fact processed already (its effect done, its ack lost) is skipped by the
    idempotent consumer: replay never duplicates an effect."""
    run = Orders(poison=())
    replayer = rabbit_replayer(run.broker, run.dlq)
    channel = run.broker.connect().channel()
    death = {"queue": "orders", "reason": "rejected", "count": 1, "time": 1.0}
    headers = {ID_HEADER: 4, "x-death": [death], "x-first-death-queue": "orders"}
    # order 4 sits in the DLQ although it was handled (a replay interrupted after publishing, say)
    channel.basic_publish("", run.dlq, b"{}", BasicProperties(message_id="4", headers=headers))
    run.sim.run(until=run.sim.now + 1)
    job = replayer.replay(rate=10.0)
    run.sim.run(until=run.sim.now + 5)
    assert job.done.value.replayed_ids == (4,)
    assert run.audit.count(4) == 1 and run.idempotent.skipped == 1


def test_retry_queues_back_off_then_park_with_the_error():
    """The wait-queue pattern: a failing message is retried after growing, jittered delays (each below the
    level's TTL), then parked with x-exception-message after max_attempts tries."""
    sim = Simulation(seed=5)
    broker = Broker(sim)
    channel = broker.connect().channel()
    channel.queue_declare("jobs", durable=True)
    policy = RetryPolicy(base=1.0, cap=30.0, jitter="full", max_attempts=4)
    retries = RetryQueues(channel, "jobs", policy, rng=sim.substream("retry"))
    retries.declare()
    tries: list[float] = []

    def fail(message_id, body):
        tries.append(sim.now)
        raise ValueError("payment service said no")

    RabbitWorker(broker, "jobs", fail, on_error=retries.on_error)
    RabbitPublisher(channel, "", "jobs").publish("job-1", b"{}")
    sim.run(until=120)
    assert len(tries) == 4 and retries.retried == 3 and retries.parked == 1
    for level, delay in enumerate(retries.delays, start=1):
        assert 0 < delay <= policy.ceiling(level)
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    assert all(gap >= delay for gap, delay in zip(gaps, retries.delays))
    (parked,) = rabbit_replayer(broker, retries.parking_lot).list()
    assert (parked.message_id, parked.reason, parked.attempts) == ("job-1", "retries_exhausted", 4)
    assert parked.origin == "jobs"
    assert parked.error == "ValueError: payment service said no"
    assert broker.ledger().balances


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), limit=st.integers(1, 4))
def test_every_poison_message_ends_in_the_dlq_after_limit_plus_one_deliveries(seed, limit):
    """For any seed and delivery limit, each poison message is delivered limit + 1 times and dead-lettered once;
    the good ones are processed once; the ledger balances."""
    run = Orders(limit=limit, seed=seed)
    assert run.poison.hits == 2 * (limit + 1)
    assert run.broker.ledger().dead_lettered == {"delivery_limit": 2}
    assert run.audit.report().lost_ids == (3, 7) and run.audit.report().duplicated == 0
    assert run.broker.ledger().balances


def test_bad_dead_letter_settings_are_refused():
    """A classic queue cannot have a delivery limit, and a retry policy must bound its attempts."""
    sim = Simulation()
    channel = Broker(sim).connect().channel()
    with pytest.raises(InvalidParameter, match="quorum"):
        declare_with_dlq(channel, "q", quorum=False, delivery_limit=3)
    with pytest.raises(InvalidParameter, match="max_attempts"):
        RetryQueues(channel, "q", RetryPolicy(), rng=sim.rng)
