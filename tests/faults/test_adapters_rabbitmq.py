"""Faults on the RabbitMQ model: a lossy link under pika's API, crashing workers, restarts, poison."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import CrashSchedule, FaultLedger, HopFaults, InvalidParameter, Link, PoisonPredicate
from mqlab.faults.rabbitmq import RabbitPublisher, connect_faulty, restart_rabbit
from mqlab.faults.rabbitmq_worker import RabbitWorker
from mqlab.patterns import AtLeastOnceProducer, AtMostOnceProducer, EffectAuditor, IdempotentConsumer
from mqlab.rabbitmq import BasicProperties, Broker
from mqlab.sim import Simulation

N = 40


def _guarantee(strategy: str, seed: int, loss: float = 0.2):
    sim = Simulation(seed=seed)
    broker = Broker(sim)
    ledger = FaultLedger(sim)
    link = Link(sim, "net", to_broker=HopFaults(loss=loss), to_client=HopFaults(loss=loss), ledger=ledger)
    connection = connect_faulty(broker, link, name="producer")
    channel = connection.channel()
    channel.queue_declare("work", durable=True)
    audit = EffectAuditor(range(N))
    idempotent = IdempotentConsumer(lambda m, b: audit.effect(m))
    handler = (lambda m, b: idempotent(m, b)) if strategy == "idempotent" else (lambda m, b: audit.effect(m))
    RabbitWorker(broker, "work", handler, prefetch=5, service_time=0.001)
    publisher = RabbitPublisher(channel, "", "work")
    producer = AtMostOnceProducer(sim, publisher) if strategy == "at_most_once" else AtLeastOnceProducer(
        sim, publisher, timeout=0.5)
    for i in range(N):
        sim.call_at(i * 0.01, producer.send, i, b"{}")
    sim.run(until=60)
    return audit.report(), broker.ledger(), connection, ledger.counts()


def test_at_most_once_over_a_lossy_link_loses_and_never_duplicates():
    """Fire and forget through a link losing 20% of frames: some effects are lost, none duplicated; every lost
    publish is in the model's lost_in_transit and in the fault ledger."""
    report, model, connection, faults = _guarantee("at_most_once", seed=1)
    assert report.lost > 0 and report.duplicated == 0
    assert report.lost == model.lost_in_transit == connection.lost["message"]
    assert model.lost_in_transit_by == {"net.to_broker.loss": model.lost_in_transit}
    assert faults.lost_by("net.to_broker.loss") == connection.lost["message"] + connection.lost["ack"]
    assert model.balances


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16))
def test_guarantees_hold_on_rabbitmq_for_every_seed(seed):
    """Over seeds: at-most-once never duplicates; at-least-once with confirms never loses; with an idempotent
    consumer no effect is lost or duplicated; the model's ledger balances every time."""
    amo, amo_ledger, _, _ = _guarantee("at_most_once", seed)
    alo, alo_ledger, _, _ = _guarantee("at_least_once", seed)
    idem, idem_ledger, _, _ = _guarantee("idempotent", seed)
    assert amo.duplicated == 0 and amo.lost == amo_ledger.lost_in_transit
    assert alo.lost == 0
    assert idem.is_exactly_once
    assert amo_ledger.balances and alo_ledger.balances and idem_ledger.balances


def test_at_least_once_duplicates_when_confirms_are_lost():
    """A link that loses only confirms makes the at-least-once producer resend messages the broker has: every
    duplicate effect comes from a lost confirm."""
    sim = Simulation(seed=4)
    broker = Broker(sim)
    link = Link(sim, "net", to_client=HopFaults(loss=0.3, kinds=("ack",)))
    channel = connect_faulty(broker, link).channel()
    channel.queue_declare("work")
    audit = EffectAuditor(range(N))
    RabbitWorker(broker, "work", lambda m, b: audit.effect(m), service_time=0.001)
    producer = AtLeastOnceProducer(sim, RabbitPublisher(channel, "", "work"), timeout=0.5)
    for i in range(N):
        producer.send(i, b"{}")
    sim.run(until=60)
    report = audit.report()
    assert report.lost == 0 and report.duplicated > 0
    assert broker.ledger().lost_in_transit == 0
    assert producer.statistics().timeouts >= report.extra_effects


def test_a_duplicated_publish_is_a_counted_duplicate():
    """A publish frame the link duplicates reaches the broker twice: one publish, one duplicate in the model's
    ledger (not a resend), two messages queued, the same sequence number confirmed twice; it balances."""
    sim = Simulation(seed=2)
    broker = Broker(sim)
    link = Link(sim, "net", to_broker=HopFaults(duplicate=1.0, kinds=("message",)))
    connection = connect_faulty(broker, link)
    channel = connection.channel()
    channel.queue_declare("q")
    publisher = RabbitPublisher(channel, "", "q")
    confirmed = []
    publisher.publish(1, b"x", lambda m, ok: confirmed.append((m, ok)))
    sim.run()
    ledger = broker.ledger()
    assert ledger.published == 1 and ledger.duplicated == 1 and ledger.ready == 2 and ledger.balances
    assert connection.resent == 0 and connection.duplicated["message"] == 1
    assert channel.confirms == [(1, True), (1, True)]
    assert confirmed == [(1, True)] and publisher.unknown_confirms == 1


def test_crash_before_ack_redelivers_with_redelivered_flag():
    """A worker that dies after the effect but before basic_ack: the broker requeues the delivery and the
    next delivery has redelivered=True, so the effect happens twice."""
    sim = Simulation(seed=0)
    broker = Broker(sim)
    channel = broker.connect().channel()
    channel.queue_declare("q", durable=True)
    audit = EffectAuditor(["m1"])
    worker = RabbitWorker(broker, "q", lambda m, b: audit.effect(m),
                          crash=CrashSchedule("before_ack", deliveries=(1,), restart_after=1.0))
    channel.basic_publish("", "q", b"x", BasicProperties(message_id="m1"))
    sim.run(until=10)
    assert [(d.message_id, d.redelivered) for d in worker.deliveries] == [("m1", False), ("m1", True)]
    assert audit.count("m1") == 2 and worker.crashes == 1
    assert broker.ledger().acked == 1 and broker.ledger().balances


def test_auto_ack_crash_loses_the_buffered_messages_and_counts_them():
    """An auto-ack consumer that crashes loses the message in hand and every delivery buffered in it; each
    is counted as lost by the crash fault, and the model counts them all as auto_acked."""
    sim = Simulation(seed=0)
    broker = Broker(sim)
    channel = broker.connect().channel()
    channel.queue_declare("q")
    ledger = FaultLedger(sim)
    audit = EffectAuditor(range(10))
    worker = RabbitWorker(broker, "q", lambda m, b: audit.effect(m), auto_ack=True, service_time=0.1,
                          crash=CrashSchedule("before_effect", deliveries=(3,), restart_after=1000), ledger=ledger)
    publisher = RabbitPublisher(channel, "", "q")
    for i in range(10):
        publisher.publish(i, b"x")
    sim.run(until=50)
    report = audit.report()
    assert report.lost == 8 and worker.lost_in_crash == 8
    assert ledger.counts().lost_by("crash-before_effect") == 8
    model = broker.ledger()
    assert model.auto_acked == 10 and model.balances


def test_ack_first_then_crash_loses_the_effect():
    """Acknowledging before the effect (at-most-once processing) and crashing in between loses that effect,
    counted as lost by crash-after_ack; nothing is redelivered."""
    sim = Simulation(seed=0)
    broker = Broker(sim)
    channel = broker.connect().channel()
    channel.queue_declare("q")
    audit = EffectAuditor(range(3))
    worker = RabbitWorker(broker, "q", lambda m, b: audit.effect(m), ack_mode="before_effect",
                          crash=CrashSchedule("after_ack", deliveries=(2,), restart_after=0.5))
    publisher = RabbitPublisher(channel, "", "q")
    for i in range(3):
        publisher.publish(i, b"x")
    sim.run(until=10)
    assert audit.report().lost_ids == (1,)
    assert worker.ledger.counts().lost_by("crash-after_ack") == 1
    assert broker.ledger().acked == 3


def test_restart_keeps_persistent_messages_in_durable_queues_and_counts_the_rest():
    """broker.restart(): a durable queue keeps persistent messages, loses transient ones; a transient queue
    loses everything. restart_rabbit puts the model's lost_on_restart into the fault ledger, and workers
    reconnect and finish the durable work."""
    sim = Simulation(seed=0)
    broker = Broker(sim)
    channel = broker.connect().channel()
    channel.queue_declare("durable", durable=True)
    channel.queue_declare("transient")
    for i in range(3):
        channel.basic_publish("", "durable", b"p", BasicProperties(message_id=f"p{i}", delivery_mode=2))
        channel.basic_publish("", "durable", b"t", BasicProperties(message_id=f"t{i}"))
        channel.basic_publish("", "transient", b"x", BasicProperties(delivery_mode=2))
    ledger = FaultLedger(sim)
    lost = restart_rabbit(broker, ledger)
    assert lost == 6 == ledger.counts().lost_by("rabbitmq.restart") == broker.ledger().lost_on_restart
    done: list[str] = []
    RabbitWorker(broker, "durable", lambda m, b: done.append(m))
    sim.run(until=5)
    assert done == ["p0", "p1", "p2"] and broker.ledger().balances


def test_worker_reconnects_after_a_restart_and_unacked_work_is_redelivered():
    """A restart while a worker holds an unacked delivery: the worker reconnects and gets it again
    (redelivered=True) from the durable queue."""
    sim = Simulation(seed=0)
    broker = Broker(sim)
    channel = broker.connect().channel()
    channel.queue_declare("q", durable=True)
    seen: list[str] = []
    worker = RabbitWorker(broker, "q", lambda m, b: seen.append(m), service_time=1.0, reconnect_after=0.5)
    channel.basic_publish("", "q", b"x", BasicProperties(message_id="a", delivery_mode=2))
    sim.call_at(0.5, restart_rabbit, broker)
    sim.run(until=10)
    assert seen == ["a"] and worker.reconnects == 1
    assert [d.redelivered for d in worker.deliveries] == [False, True]


def test_poison_message_is_requeued_and_recorded_without_crashing():
    """A handler that raises never crashes the run: the error is in worker.errors and the delivery is
    nacked with requeue, so it comes back (on a quorum queue with x-delivery-count)."""
    sim = Simulation(seed=0)
    broker = Broker(sim, quorum_delivery_limit=2)
    channel = broker.connect().channel()
    channel.queue_declare("q", durable=True, arguments={"x-queue-type": "quorum"})
    worker = RabbitWorker(broker, "q", PoisonPredicate.ids("bad").wrap(lambda m, b: None))
    channel.basic_publish("", "q", b"x", BasicProperties(message_id="bad"))
    sim.run(until=5)
    assert [d.attempt for d in worker.deliveries] == [1, 2, 3]
    assert len(worker.errors) == 3 and "PoisonMessage" in worker.errors[0].error
    ledger = broker.ledger()  # no dead-letter exchange: RabbitMQ drops it at the limit
    assert ledger.dead_lettered.get("delivery_limit", 0) + ledger.dropped.get("delivery_limit", 0) == 1


def test_partition_loses_publishes_in_the_window_only():
    """A partition of the producer's link loses the publishes sent inside the window, each counted in the
    model's lost_in_transit and under link.partition in the fault ledger."""
    sim = Simulation(seed=0)
    broker = Broker(sim)
    link = Link(sim, "net")
    link.partition(1.0, 1.0)
    connection = connect_faulty(broker, link)
    channel = connection.channel()
    channel.queue_declare("q")
    publisher = RabbitPublisher(channel, "", "q")
    for i in range(30):
        sim.call_at(i * 0.1, publisher.publish, i, b"x")
    sim.run()
    assert broker.ledger().lost_in_transit == 10 == link.ledger.counts().lost_by("net.partition")
    assert broker.ledger().lost_in_transit_by == {"net.partition": 10}


def test_bad_parameters_are_refused():
    """Adapters check their inputs and name the rule."""
    sim = Simulation()
    broker = Broker(sim)
    with pytest.raises(InvalidParameter, match="link"):
        connect_faulty(broker, "not a link")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="on_error"):
        RabbitWorker(broker, "q", lambda m, b: None, on_error="explode")
    with pytest.raises(InvalidParameter, match="handler"):
        RabbitWorker(broker, "q", None)  # type: ignore[arg-type]


def test_same_seed_same_trace():
    """The faulty RabbitMQ run is deterministic: the same seed gives the same trace."""
    def run() -> list:
        sim = Simulation(seed=9, trace=True)
        broker = Broker(sim)
        link = Link(sim, "net", to_broker=HopFaults(loss=0.3), to_client=HopFaults(loss=0.3))
        channel = connect_faulty(broker, link).channel()
        channel.queue_declare("q")
        RabbitWorker(broker, "q", lambda m, b: None, link=link)
        producer = AtLeastOnceProducer(sim, RabbitPublisher(channel, "", "q"), timeout=0.2)
        for i in range(10):
            producer.send(i, b"x")
        sim.run(until=20)
        return list(sim.trace.select())

    assert run() == run()


def test_faults_are_visible_in_the_trace():
    """A lost publish, the crash of a worker and a restart each leave a trace record naming the fault."""
    sim = Simulation(seed=0, trace=True)
    broker = Broker(sim)
    link = Link(sim, "net")
    link.drop_next("to_broker", "message")
    channel = connect_faulty(broker, link).channel()
    channel.queue_declare("q", durable=True)
    RabbitWorker(broker, "q", lambda m, b: None, name="w", crash=CrashSchedule("before_ack", deliveries=(1,)))
    publisher = RabbitPublisher(channel, "", "q")
    publisher.publish(1, b"x")
    publisher.publish(2, b"x")
    sim.run(until=5)
    restart_rabbit(broker)
    assert sim.trace.select(actor="fault:net.to_broker.drop-message", action="lost")
    assert sim.trace.select(actor="w", action="crash")
    assert sim.trace.select(actor="broker", action="restart")


def test_a_duplicated_delivery_double_acks_and_rabbitmq_closes_the_channel():
    """A delivery frame the link duplicates runs the handler twice; the second basic_ack names a delivery tag
    already acked, so RabbitMQ closes the channel with 406 PRECONDITION_FAILED. The worker reconnects and no
    message is lost (the cost is duplicated effects)."""
    sim = Simulation(seed=0)
    broker = Broker(sim)
    channel = broker.connect().channel()
    channel.queue_declare("q", durable=True)
    link = Link(sim, "net", to_client=HopFaults(duplicate=1.0, kinds=("delivery",)))
    audit = EffectAuditor(range(3))
    worker = RabbitWorker(broker, "q", lambda m, b: audit.effect(m), link=link, reconnect_after=0.5)
    publisher = RabbitPublisher(channel, "", "q")
    for i in range(3):
        publisher.publish(i, b"x")
    sim.run(until=5)
    report = audit.report()
    assert report.lost == 0 and report.duplicated == 3
    assert worker.reconnects >= 1 and "PRECONDITION_FAILED - unknown delivery tag" in worker.close_reasons[0]
    assert broker.ledger().balances and broker.ledger().acked == 3


def test_lost_deliveries_to_an_auto_ack_consumer_are_lost_messages():
    """With auto_ack the broker forgets a message when it sends it: each delivery the link loses is a lost
    effect, equal to the deliveries the fault ledger counts as lost, while the model counts all as auto_acked."""
    sim = Simulation(seed=3)
    broker = Broker(sim)
    channel = broker.connect().channel()
    channel.queue_declare("q")
    link = Link(sim, "net", to_client=HopFaults(loss=0.25, kinds=("delivery",)))
    audit = EffectAuditor(range(N))
    worker = RabbitWorker(broker, "q", lambda m, b: audit.effect(m), link=link, auto_ack=True, service_time=0.001)
    publisher = RabbitPublisher(channel, "", "q")
    for i in range(N):
        publisher.publish(i, b"x")
    sim.run(until=10)
    lost = worker.connection.lost["delivery"]
    assert audit.report().lost == lost == link.ledger.counts().lost_by("net.to_client.loss") > 0
    assert broker.ledger().auto_acked == N and broker.ledger().balances
