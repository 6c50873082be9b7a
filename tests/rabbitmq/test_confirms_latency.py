"""Publisher confirms, returns, network latency in virtual time, the trace, determinism."""

from __future__ import annotations

import pytest
from rmq_support import Recorder, make_world

from mqlab.rabbitmq import NackError, UnroutableError
from mqlab.sim import Simulation


def test_blocking_style_confirms_raise_like_pika(world):
    """Confirm mode without a callback raises UnroutableError / NackError from basic_publish, as pika's
    BlockingChannel does; acked publishes return quietly."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", "q", b"ok")
    with pytest.raises(UnroutableError):
        ch.basic_publish("", "nowhere", b"r", mandatory=True)
    with pytest.raises(NackError):
        ch.basic_publish("", "q", b"full")
    ch.basic_publish("", "nowhere", b"not mandatory: acked and dropped")
    world.sim.run()
    assert ch.confirms == [(1, True), (2, True), (3, False), (4, True)]


def test_confirm_callback_gets_frames(world):
    """With a callback, confirms arrive as Basic.Ack / Basic.Nack frames with the publish sequence number."""
    ch = world.ch
    ch.queue_declare("q")
    frames = []
    ch.confirm_delivery(lambda frame: frames.append(frame.method))
    assert ch.publish_seq_no == 1
    ch.basic_publish("", "q", b"1")
    ch.basic_publish("", "q", b"2")
    world.sim.run()
    assert [(f.NAME, f.delivery_tag, f.multiple) for f in frames] == [("Basic.Ack", 1, False), ("Basic.Ack", 2, False)]


def test_latency_delays_publish_delivery_and_ack():
    """One-way latency L: a publish reaches the queue after L, the delivery the consumer after 2L, the ack
    the broker after 3L."""
    w = make_world(latency=0.01)
    sim, ch = w.sim, w.ch
    ch.queue_declare("q")
    seen = []

    def on_message(channel, method, properties, body):
        seen.append(sim.now)
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume("q", on_message)
    ch.basic_publish("", "q", b"m")
    sim.run(until=0.005)
    assert w.broker.queue_statistics("q").published == 0 and w.broker.ledger().in_transit == 1
    sim.run(until=0.015)
    assert w.broker.queue_statistics("q").unacked == 1 and seen == []
    sim.run(until=0.025)
    assert seen == [pytest.approx(0.02)] and w.broker.queue_statistics("q").unacked == 1
    sim.run()
    assert w.broker.queue_statistics("q").acked == 1 and sim.now == pytest.approx(0.03)
    w.broker.ledger().check()


def test_per_connection_latency_override():
    """connect(latency=...) overrides the broker's default for one connection."""
    w = make_world(latency=0.5)
    fast = w.broker.connect(latency=0.0).channel()
    fast.queue_declare("q")
    fast.basic_publish("", "q", b"m")
    assert w.broker.queue_statistics("q").ready == 1


def test_close_is_ordered_after_earlier_frames():
    """A channel close travels behind the publishes and acks sent before it, as on one TCP connection."""
    w = make_world(latency=0.01)
    w.ch.queue_declare("q")
    w.ch.basic_publish("", "q", b"m")
    w.ch.close()
    w.sim.run()
    ledger = w.broker.ledger().check()
    assert (ledger.routed, ledger.lost_in_transit, ledger.ready) == (1, 0, 1)


def test_trace_reconstructs_a_journey():
    """With tracing on, every step of a message carries msg=msg-<n>: published, routed, delivered, nacked,
    dead-lettered, enqueued in the DLQ, acked."""
    w = make_world(trace=True)
    ch = w.ch
    ch.exchange_declare("dlx", "fanout")
    ch.queue_declare("dlq")
    ch.queue_bind("dlq", "dlx")
    ch.queue_declare("work", arguments={"x-dead-letter-exchange": "dlx"})

    def reject(channel, method, properties, body):
        channel.basic_reject(method.delivery_tag, requeue=False)

    ch.basic_consume("work", reject)
    ch.basic_consume("dlq", Recorder())
    ch.basic_publish("", "work", b"m")
    w.sim.run()
    journey = [(r.actor, r.action) for r in w.sim.trace.select(msg="msg-1")]
    assert journey == [
        ("channel:conn-1/1", "published"),
        ("exchange:(default)", "routed"),
        ("queue:work", "enqueued"),
        ("queue:work", "delivered"),
        ("queue:work", "nacked"),
        ("queue:work", "dead_lettered"),
        ("queue:dlq", "enqueued"),
        ("queue:dlq", "delivered"),
        ("queue:dlq", "acked"),
    ]
    dead = w.sim.trace.select(action="dead_lettered")[0]
    assert (dead.details["reason"], dead.details["count"]) == ("rejected", 1)


def test_untraced_run_records_nothing(world):
    """Without tracing the hot path records nothing."""
    world.ch.queue_declare("q")
    world.ch.basic_publish("", "q", b"m")
    assert world.sim.trace is None


def _scenario(seed: int) -> str:
    sim = Simulation(seed=seed, trace=True)
    from mqlab.rabbitmq import Broker

    broker = Broker(sim, latency=0.001)
    ch = broker.connect().channel()
    ch.exchange_declare("events", "topic")
    names = [ch.queue_declare("", exclusive=True).method.queue for _ in range(3)]
    for name, key in zip(names, ["a.*", "#", "*.b"]):
        ch.queue_bind(name, "events", key)
    rng = sim.substream("test-publisher")

    def flaky(channel, method, properties, body):
        if rng.random() < 0.3:
            channel.basic_nack(method.delivery_tag, requeue=rng.random() < 0.5)
        else:
            channel.basic_ack(method.delivery_tag)

    for name in names:
        ch.basic_consume(name, flaky)

    def publisher():
        for i in range(30):
            ch.basic_publish("events", rng.choice(["a.b", "a.c", "x.b"]), str(i).encode())
            yield sim.timeout(rng.expovariate(100.0))

    sim.process(publisher())
    sim.run()
    broker.ledger().check()
    return sim.trace.format()


def test_same_seed_same_trace():
    """The same seed gives the same trace, byte for byte; another seed gives another."""
    assert _scenario(7) == _scenario(7)
    assert _scenario(7) != _scenario(8)
