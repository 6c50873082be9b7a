"""Consumers: push delivery, round-robin, prefetch, acks, requeues, exclusivity, priorities, auto-ack."""

from __future__ import annotations

import pytest
from rmq_support import Recorder, make_world

from mqlab.rabbitmq import ExclusiveConsumerInUse


def test_competing_consumers_round_robin(world):
    """Messages on one queue are shared round-robin among its consumers."""
    ch = world.ch
    ch.queue_declare("tasks")
    a, b = Recorder(), Recorder()
    ch.basic_consume("tasks", a, consumer_tag="a")
    ch.basic_consume("tasks", b, consumer_tag="b")
    for i in range(6):
        ch.basic_publish("", "tasks", str(i).encode())
    world.sim.run()
    assert a.bodies == [b"0", b"2", b"4"] and b.bodies == [b"1", b"3", b"5"]


def test_delivery_frames_carry_pika_fields(world):
    """The callback gets (channel, method, properties, body) with pika's method attributes."""
    ch = world.ch
    ch.queue_declare("q")
    seen = []
    ch.basic_consume("q", lambda c, m, p, body: seen.append((c, m, p, body)), consumer_tag="ctag")
    ch.basic_publish("", "q", "text is encoded")
    world.sim.run()
    channel, method, properties, body = seen[0]
    assert channel is ch and body == b"text is encoded"
    assert (method.consumer_tag, method.delivery_tag, method.redelivered, method.exchange, method.routing_key) == (
        "ctag", 1, False, "", "q")
    assert properties.headers is None and properties.delivery_mode is None


def test_prefetch_limits_unacked_deliveries(world):
    """With basic_qos(prefetch_count=n) a consumer never holds more than n unacked deliveries."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_qos(prefetch_count=2)
    slow = Recorder(ack=False)
    ch.basic_consume("q", slow)
    for i in range(5):
        ch.basic_publish("", "q", str(i).encode())
    world.sim.run()
    stats = world.broker.queue_statistics("q")
    assert (len(slow.got), stats.unacked, stats.ready) == (2, 2, 3)
    ch.basic_ack(slow.got[0][0].delivery_tag)
    world.sim.run()
    assert len(slow.got) == 3 and world.broker.queue_statistics("q").unacked == 2


def test_prefetch_sends_work_to_the_free_consumer(world):
    """Fair dispatch: with prefetch 1, a busy consumer is skipped and the free one gets the next message."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_qos(prefetch_count=1)
    busy, free = Recorder(ack=False), Recorder()
    ch.basic_consume("q", busy, consumer_tag="busy")
    ch.basic_consume("q", free, consumer_tag="free")
    for i in range(4):
        ch.basic_publish("", "q", str(i).encode())
    world.sim.run()
    assert busy.bodies == [b"0"] and free.bodies == [b"1", b"2", b"3"]


def test_global_qos_limits_the_channel(world):
    """basic_qos(global_qos=True) limits unacked deliveries across all consumers of the channel."""
    ch = world.ch
    ch.queue_declare("q1")
    ch.queue_declare("q2")
    ch.basic_qos(prefetch_count=3, global_qos=True)
    r1, r2 = Recorder(ack=False), Recorder(ack=False)
    ch.basic_consume("q1", r1)
    ch.basic_consume("q2", r2)
    for _i in range(4):
        ch.basic_publish("", "q1", b"a")
        ch.basic_publish("", "q2", b"b")
    world.sim.run()
    assert len(r1.got) + len(r2.got) == 3


def test_nack_requeue_sets_redelivered_and_keeps_position(world):
    """A requeued message comes back with redelivered=True, in its original place (classic queue)."""
    ch = world.ch
    ch.queue_declare("q")
    for body in (b"a", b"b", b"c"):
        ch.basic_publish("", "q", body)
    first, _, _ = ch.basic_get("q")
    ch.basic_nack(first.delivery_tag, requeue=True)
    method, _, body = ch.basic_get("q")
    assert (body, method.redelivered) == (b"a", True)
    ch.basic_reject(method.delivery_tag, requeue=True)
    assert [e.message.body for e in world.broker.queue("q").ready_entries()] == [b"a", b"b", b"c"]


def test_channel_close_requeues_unacked(world):
    """A consumer whose channel closes loses nothing it had not acked: the broker requeues it."""
    conn = world.broker.connect()
    worker = conn.channel()
    world.ch.queue_declare("q")
    worker.basic_consume("q", Recorder(ack=False))
    for i in range(3):
        world.ch.basic_publish("", "q", str(i).encode())
    world.sim.run()
    assert world.broker.queue_statistics("q").unacked == 3
    worker.close()
    stats = world.broker.queue_statistics("q")
    assert (stats.ready, stats.unacked) == (3, 0)
    again = Recorder()
    world.ch.basic_consume("q", again)
    world.sim.run()
    assert again.bodies == [b"0", b"1", b"2"] and all(m.redelivered for m, _, _ in again.got)
    world.broker.ledger().check()


def test_connection_close_requeues_unacked(world):
    """Closing a connection requeues the unacked deliveries of all its channels."""
    conn = world.broker.connect()
    world.ch.queue_declare("q")
    conn.channel().basic_consume("q", Recorder(ack=False))
    world.ch.basic_publish("", "q", b"x")
    world.sim.run()
    conn.close()
    assert world.broker.queue_statistics("q").ready == 1
    assert conn.is_closed and all(c.is_closed for c in conn._channels.values())


def test_auto_ack_loses_messages_on_crash(world):
    """With auto_ack the broker forgets a message when it sends it: a crash before handling loses it."""
    crasher = world.broker.connect(latency=0.01)
    ch = crasher.channel()
    world.ch.queue_declare("q")
    handled = Recorder(ack=False)
    ch.basic_consume("q", handled, auto_ack=True)
    for i in range(3):
        world.ch.basic_publish("", "q", str(i).encode())
    world.sim.run(until=0.005)  # sent by the broker, still on the wire
    crasher.close()
    world.sim.run()
    ledger = world.broker.ledger().check()
    assert handled.got == [] and (ledger.auto_acked, ledger.ready) == (3, 0)


def test_multiple_ack_settles_everything_up_to_the_tag(world):
    """basic_ack(tag, multiple=True) acknowledges every outstanding delivery up to and including tag."""
    ch = world.ch
    ch.queue_declare("q")
    rec = Recorder(ack=False)
    ch.basic_consume("q", rec)
    for i in range(5):
        ch.basic_publish("", "q", str(i).encode())
    world.sim.run()
    ch.basic_ack(rec.got[2][0].delivery_tag, multiple=True)
    assert ch.unacked_delivery_tags == [4, 5]
    ch.basic_nack(0, multiple=True, requeue=True)
    assert world.broker.queue_statistics("q").acked == 3


def test_callback_error_is_recorded_and_requeued_on_close(world):
    """A callback that raises leaves its delivery unacked, is recorded in channel.errors, and is requeued
    when the channel closes; the simulation goes on."""
    ch = world.ch
    ch.queue_declare("q")

    def broken(channel, method, properties, body):
        raise ValueError("bad payload")

    ch.basic_consume("q", broken, consumer_tag="broken")
    ch.basic_publish("", "q", b"x")
    world.sim.run()
    assert len(ch.errors) == 1
    error = ch.errors[0]
    assert (error.consumer_tag, error.delivery_tag, error.error) == ("broken", 1, "ValueError('bad payload')")
    assert world.broker.queue_statistics("q").unacked == 1
    ch.close()
    assert world.broker.queue_statistics("q").ready == 1


def test_close_channel_on_callback_error_setting():
    """With Broker(close_channel_on_callback_error=True) a raising callback closes its channel at once."""
    w = make_world(close_channel_on_callback_error=True)
    w.ch.queue_declare("q")
    w.ch.basic_consume("q", lambda *a: 1 / 0)
    w.ch.basic_publish("", "q", b"x")
    w.sim.run()
    assert w.ch.is_closed and len(w.ch.errors) == 1
    assert w.broker.queue_statistics("q").ready == 1


def test_exclusive_consumer(world):
    """An exclusive consumer is the queue's only consumer: others are refused with 403."""
    other = world.broker.connect().channel()
    world.ch.queue_declare("q")
    world.ch.basic_consume("q", Recorder(), exclusive=True)
    with pytest.raises(ExclusiveConsumerInUse) as info:
        other.basic_consume("q", Recorder())
    assert info.value.reply_code == 403 and other.is_closed
    third = world.broker.connect().channel()
    world.ch.queue_declare("q2")
    third.basic_consume("q2", Recorder())
    with pytest.raises(ExclusiveConsumerInUse):
        world.ch.basic_consume("q2", Recorder(), exclusive=True)


def test_single_active_consumer(world):
    """With x-single-active-consumer only the first consumer gets messages until it goes away."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-single-active-consumer": True})
    first, second = Recorder(), Recorder()
    ch.basic_consume("q", first, consumer_tag="first")
    ch.basic_consume("q", second, consumer_tag="second")
    for _i in range(3):
        ch.basic_publish("", "q", b"a")
    world.sim.run()
    ch.basic_cancel("first")
    ch.basic_publish("", "q", b"b")
    world.sim.run()
    assert (len(first.got), second.bodies) == (3, [b"b"])


def test_consumer_priority(world):
    """Consumers with a higher x-priority get messages first while they have capacity."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_qos(prefetch_count=2)
    low, high = Recorder(ack=False), Recorder(ack=False)
    ch.basic_consume("q", low, arguments={"x-priority": 1})
    ch.basic_consume("q", high, arguments={"x-priority": 10})
    for i in range(3):
        ch.basic_publish("", "q", str(i).encode())
    world.sim.run()
    assert high.bodies == [b"0", b"1"] and low.bodies == [b"2"]


def test_basic_get_and_empty_queue(world):
    """basic_get returns one message with a message_count of what remains, or (None, None, None)."""
    ch = world.ch
    ch.queue_declare("q")
    assert ch.basic_get("q") == (None, None, None)
    ch.basic_publish("", "q", b"1")
    ch.basic_publish("", "q", b"2")
    method, _, body = ch.basic_get("q", auto_ack=True)
    assert (body, method.message_count, method.delivery_tag) == (b"1", 1, 1)


def test_basic_recover_requeues(world):
    """basic_recover(requeue=True) requeues every unacked delivery; requeue=False is refused (540)."""
    from mqlab.rabbitmq import NotImplementedFeature

    ch = world.ch
    ch.queue_declare("q")
    ch.basic_publish("", "q", b"1")
    ch.basic_get("q")
    ch.basic_recover(requeue=True)
    assert world.broker.queue_statistics("q").ready == 1
    with pytest.raises(NotImplementedFeature) as info:
        ch.basic_recover()
    assert info.value.reply_code == 540 and ch.connection.is_closed


def test_cancel_keeps_unacked_until_acked(world):
    """After basic_cancel the consumer gets nothing new; its unacked deliveries can still be acked."""
    ch = world.ch
    ch.queue_declare("q")
    rec = Recorder(ack=False)
    tag = ch.basic_consume("q", rec)
    ch.basic_publish("", "q", b"1")
    world.sim.run()
    ch.basic_cancel(tag)
    ch.basic_publish("", "q", b"2")
    world.sim.run()
    ch.basic_ack(rec.got[0][0].delivery_tag)
    stats = world.broker.queue_statistics("q")
    assert (len(rec.got), stats.acked, stats.ready, stats.consumers) == (1, 1, 1, 0)


def test_consume_generator_in_a_kernel_process(world):
    """channel.consume() yields events a kernel process waits on; inactivity_timeout gives (None, None, None)."""
    sim, ch = world.sim, world.ch
    ch.queue_declare("q")
    log = []

    def worker():
        for event in ch.consume("q", inactivity_timeout=5.0):
            method, _properties, body = yield event
            if method is None:
                log.append(("idle", sim.now))
                break
            yield sim.timeout(1.0)
            ch.basic_ack(method.delivery_tag)
            log.append((body, sim.now))

    def producer():
        for i in range(3):
            ch.basic_publish("", "q", str(i).encode())
            yield sim.timeout(0.5)

    sim.process(worker())
    sim.process(producer())
    sim.run()
    assert log == [(b"0", 1.0), (b"1", 2.0), (b"2", 3.0), ("idle", 8.0)]
    assert world.broker.queue_statistics("q").acked == 3


def test_consume_cancel_requeues_buffered(world):
    """channel.cancel() ends the consume() streams and requeues what they had buffered."""
    ch = world.ch
    ch.queue_declare("q")
    stream = ch.consume("q")
    for i in range(3):
        ch.basic_publish("", "q", str(i).encode())
    world.sim.run()
    assert ch.cancel() == 3
    world.sim.run()
    assert world.broker.queue_statistics("q").ready == 3
    with pytest.raises(StopIteration):
        next(stream)


def test_auto_delete_queue_goes_with_its_last_consumer(world):
    """An auto-delete queue is deleted when its last consumer is cancelled."""
    ch = world.ch
    ch.queue_declare("temp", auto_delete=True)
    tag = ch.basic_consume("temp", Recorder())
    ch.basic_cancel(tag)
    assert "temp" not in world.broker.queues


def test_exclusive_queue_deleted_with_its_connection(world):
    """An exclusive queue belongs to its connection and is deleted when the connection closes."""
    conn = world.broker.connect()
    name = conn.channel().queue_declare("", exclusive=True).method.queue
    assert name.startswith("amq.gen-") and len(name) == len("amq.gen-") + 22
    conn.close()
    assert name not in world.broker.queues


def test_consume_stream_ends_when_its_channel_closes(world):
    """After the channel closes, a consume() stream yields nothing more (its buffered deliveries were
    requeued by the broker, so there is nothing left to ack)."""
    ch = world.ch
    ch.queue_declare("q")
    stream = ch.consume("q")
    for i in range(2):
        ch.basic_publish("", "q", str(i).encode())
    world.sim.run()
    ch.close()
    with pytest.raises(StopIteration):
        next(stream)
    assert world.broker.queue_statistics("q").ready == 2
