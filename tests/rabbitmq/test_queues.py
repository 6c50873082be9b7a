"""Queues: durability across restarts, TTL, length limits, dead-lettering, quorum delivery limit, priorities."""

from __future__ import annotations

import pytest
from rmq_support import Recorder, drain, make_world

from mqlab.rabbitmq import PERSISTENT, BasicProperties, ConnectionWrongStateError


def persistent(**kw):
    return BasicProperties(delivery_mode=PERSISTENT, **kw)


def test_restart_keeps_durable_queues_and_persistent_messages(world):
    """A restart keeps durable queues with their persistent messages; transient ones are lost and counted."""
    ch = world.ch
    ch.queue_declare("durable", durable=True)
    ch.queue_declare("transient")
    ch.basic_publish("", "durable", b"p", persistent())
    ch.basic_publish("", "durable", b"t")
    ch.basic_publish("", "transient", b"p2", persistent())
    world.broker.restart()
    assert world.broker.queues == ["durable"]
    ch2 = world.broker.connect().channel()
    assert drain(type(world)(world.sim, world.broker, ch2), "durable") == [b"p"]
    ledger = world.broker.ledger().check()
    assert ledger.lost_on_restart == 2


def test_restart_requeues_unacked_then_closes_connections(world):
    """Unacked persistent deliveries are requeued before the restart and survive it; clients are disconnected."""
    ch = world.ch
    ch.queue_declare("q", durable=True)
    ch.basic_consume("q", Recorder(ack=False))
    ch.basic_publish("", "q", b"m", persistent())
    world.sim.run()
    world.broker.restart()
    assert ch.is_closed and ch.close_reason.reply_code == 320
    with pytest.raises(Exception) as info:
        ch.basic_publish("", "q", b"again")
    assert "closed" in str(info.value)
    stats = world.broker.queue_statistics("q")
    assert (stats.ready, stats.unacked) == (1, 0)
    assert world.broker.queue("q").ready_entries()[0].redelivered
    world.broker.ledger().check()


def test_restart_keeps_quorum_messages_and_durable_bindings(world):
    """Quorum queues keep every message; durable exchanges and their bindings to durable queues survive."""
    ch = world.ch
    ch.exchange_declare("events", "topic", durable=True)
    ch.exchange_declare("scratch", "fanout")
    ch.queue_declare("qq", durable=True, arguments={"x-queue-type": "quorum"})
    ch.queue_bind("qq", "events", "#")
    ch.basic_publish("events", "a", b"transient but quorum")
    world.broker.restart()
    assert "scratch" not in world.broker.exchanges and "events" in world.broker.exchanges
    ch2 = world.broker.connect().channel()
    ch2.basic_publish("events", "b", b"after")
    assert world.broker.queue_statistics("qq").ready == 2


def test_in_flight_publishes_are_lost_on_restart():
    """Publishes still on the network when the broker restarts are lost, and the ledger says so."""
    w = make_world(latency=0.01)
    w.ch.queue_declare("q", durable=True)
    w.ch.basic_publish("", "q", b"m", persistent())
    assert w.broker.ledger().in_transit == 1
    w.broker.restart()
    w.sim.run()
    ledger = w.broker.ledger().check()
    assert (ledger.in_transit, ledger.lost_in_transit, ledger.routed) == (0, 1, 0)


def test_queue_ttl_expires_messages(world):
    """x-message-ttl: a message not consumed within the TTL expires (and is counted as expired)."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-message-ttl": 1000})
    ch.basic_publish("", "q", b"old")
    world.sim.run(until=0.5)
    ch.basic_publish("", "q", b"young")
    world.sim.run(until=1.2)
    assert drain(world, "q") == [b"young"]
    assert world.broker.queue_statistics("q").expired == 1


def test_per_message_ttl_expires_only_at_the_head(world):
    """A short-lived message behind a long-lived one stays until it reaches the head, as RabbitMQ does."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_publish("", "q", b"long", BasicProperties(expiration="10000"))
    ch.basic_publish("", "q", b"short", BasicProperties(expiration="1000"))
    world.sim.run(until=5)
    assert world.broker.queue_statistics("q").ready == 2  # 'short' expired but is not at the head
    method, _, body = ch.basic_get("q")
    ch.basic_ack(method.delivery_tag)
    assert body == b"long"
    assert ch.basic_get("q") == (None, None, None)
    assert world.broker.queue_statistics("q").expired == 1


def test_ttl_zero_delivers_only_to_a_waiting_consumer(world):
    """A TTL of 0 expires a message unless a consumer can take it at once."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-message-ttl": 0})
    ch.basic_publish("", "q", b"nobody")
    world.sim.run()
    rec = Recorder()
    ch.basic_consume("q", rec)
    ch.basic_publish("", "q", b"someone")
    world.sim.run()
    assert rec.bodies == [b"someone"] and world.broker.queue_statistics("q").expired == 1


def test_max_length_drop_head(world):
    """x-max-length with the default overflow drops the oldest ready messages."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-max-length": 2})
    for i in range(4):
        ch.basic_publish("", "q", str(i).encode())
    assert drain(world, "q") == [b"2", b"3"]
    assert world.broker.queue_statistics("q").dropped == {"maxlen": 2}


def test_max_length_bytes(world):
    """x-max-length-bytes counts the bodies of ready messages."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-max-length-bytes": 10})
    for body in (b"aaaa", b"bbbb", b"cccc"):
        ch.basic_publish("", "q", body)
    assert drain(world, "q") == [b"bbbb", b"cccc"]


def test_reject_publish_nacks_the_publisher(world):
    """x-overflow reject-publish refuses new messages when full; with confirms the publisher gets a nack."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    frames = []
    ch.confirm_delivery(frames.append)
    ch.basic_publish("", "q", b"1")
    ch.basic_publish("", "q", b"2")
    world.sim.run()
    assert [(f.method.NAME, f.method.delivery_tag) for f in frames] == [("Basic.Ack", 1), ("Basic.Nack", 2)]
    assert drain(world, "q") == [b"1"]
    assert world.broker.ledger().check().refused == 1


def test_reject_publish_dlx_dead_letters_the_refused(world):
    """x-overflow reject-publish-dlx refuses the new message and dead-letters it with reason maxlen."""
    ch = world.ch
    ch.exchange_declare("dlx", "fanout")
    ch.queue_declare("dead")
    ch.queue_bind("dead", "dlx")
    ch.queue_declare("q", arguments={"x-max-length": 1, "x-overflow": "reject-publish-dlx",
                                     "x-dead-letter-exchange": "dlx"})
    ch.basic_publish("", "q", b"1")
    ch.basic_publish("", "q", b"2")
    _method, props, body = ch.basic_get("dead")
    assert body == b"2" and props.headers["x-death"][0]["reason"] == "maxlen"
    world.broker.ledger().check()


def _dlx_world():
    w = make_world()
    ch = w.ch
    ch.exchange_declare("dlx", "direct")
    ch.queue_declare("dead")
    ch.queue_bind("dead", "dlx", "work")
    ch.queue_declare("work", arguments={"x-dead-letter-exchange": "dlx"})
    return w


def test_rejected_message_is_dead_lettered_with_x_death():
    """A message rejected with requeue=False goes to the DLX with an x-death entry and x-first-death headers."""
    w = _dlx_world()
    ch = w.ch
    ch.basic_publish("", "work", b"poison", BasicProperties(headers={"k": "v"}))
    method, _, _ = ch.basic_get("work")
    ch.basic_nack(method.delivery_tag, requeue=False)
    method, props, body = ch.basic_get("dead")
    assert (body, method.exchange, method.routing_key) == (b"poison", "dlx", "work")
    death = props.headers["x-death"]
    assert death == [{"count": 1, "reason": "rejected", "queue": "work", "time": 0.0, "exchange": "",
                      "routing-keys": ["work"]}]
    assert props.headers["k"] == "v"
    assert (props.headers["x-first-death-queue"], props.headers["x-first-death-reason"],
            props.headers["x-first-death-exchange"]) == ("work", "rejected", "")
    assert w.broker.queue_statistics("work").dead_lettered == {"rejected": 1}
    w.broker.ledger().check()


def test_x_death_counts_and_orders_most_recent_first():
    """Repeated deaths in the same (queue, reason) increment count and keep the first death's other fields;
    the most recent death comes first (RabbitMQ 3.10, checked on a live broker)."""
    w = make_world()
    ch = w.ch
    ch.exchange_declare("to_wait", "fanout")
    ch.exchange_declare("to_work", "fanout")
    ch.queue_declare("work", arguments={"x-dead-letter-exchange": "to_wait"})
    ch.queue_declare("wait", arguments={"x-dead-letter-exchange": "to_work", "x-message-ttl": 1000})
    ch.queue_bind("wait", "to_wait")
    ch.queue_bind("work", "to_work")
    ch.basic_publish("", "work", b"retry me")
    for _ in range(2):  # reject in work -> expire in wait -> back to work
        method, _, _ = ch.basic_get("work")
        ch.basic_reject(method.delivery_tag, requeue=False)
        w.sim.run(until=w.sim.now + 1.5)
    method, props, _ = ch.basic_get("work")
    deaths = [(d["queue"], d["reason"], d["count"], d["exchange"]) for d in props.headers["x-death"]]
    assert deaths == [("wait", "expired", 2, "to_wait"), ("work", "rejected", 2, "")]  # first death's exchange kept
    assert props.headers["x-last-death-queue"] == "wait" and props.headers["x-first-death-queue"] == "work"
    assert props.expiration is None


def test_dead_letter_routing_key_and_original_expiration():
    """x-dead-letter-routing-key replaces the routing key; an expired per-message TTL is kept as
    original-expiration and removed from the properties."""
    w = make_world()
    ch = w.ch
    ch.exchange_declare("dlx", "direct")
    ch.queue_declare("parking")
    ch.queue_bind("parking", "dlx", "parked")
    ch.queue_declare("q", arguments={"x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "parked"})
    ch.basic_publish("", "q", b"m", BasicProperties(expiration="100"))
    w.sim.run(until=1)
    method, props, _ = ch.basic_get("parking")
    assert method.routing_key == "parked" and props.expiration is None
    assert props.headers["x-death"][0]["original-expiration"] == "100"
    assert props.headers["x-death"][0]["reason"] == "expired"


def test_automatic_dead_letter_cycle_is_dropped():
    """A message that expires into its own queue again, with no rejection in the cycle, is dropped."""
    w = make_world()
    ch = w.ch
    ch.exchange_declare("loop", "fanout")
    ch.queue_declare("q", arguments={"x-message-ttl": 100, "x-dead-letter-exchange": "loop"})
    ch.queue_bind("q", "loop")
    ch.basic_publish("", "q", b"m")
    w.sim.run()
    ledger = w.broker.ledger().check()
    assert ledger.dead_lettered == {"expired": 1} and ledger.ready == 0 and w.sim.now == pytest.approx(0.1)


def test_maxlen_dead_letters_the_head():
    """With a DLX, drop-head overflow dead-letters the dropped head with reason maxlen."""
    w = _dlx_world()
    w.ch.queue_declare("bounded", arguments={"x-max-length": 1, "x-dead-letter-exchange": "dlx",
                                             "x-dead-letter-routing-key": "work"})
    w.ch.basic_publish("", "bounded", b"old")
    w.ch.basic_publish("", "bounded", b"new")
    _method, props, body = w.ch.basic_get("dead")
    assert body == b"old" and props.headers["x-death"][0]["reason"] == "maxlen"


def test_quorum_delivery_limit_dead_letters_poison_messages():
    """A quorum queue dead-letters a message returned more than its delivery limit, reason delivery_limit,
    and counts returns in x-delivery-count (on a push delivery, only once the message was returned)."""
    w = make_world()
    ch = w.ch
    ch.exchange_declare("dlx", "fanout")
    ch.queue_declare("poison")
    ch.queue_bind("poison", "dlx")
    ch.queue_declare("qq", durable=True, arguments={"x-queue-type": "quorum", "x-delivery-limit": 2,
                                                   "x-dead-letter-exchange": "dlx"})
    ch.basic_publish("", "qq", b"boom")
    counts = []

    def crash(channel, method, properties, body):
        counts.append((properties.headers or {}).get("x-delivery-count"))
        channel.basic_nack(method.delivery_tag, requeue=True)

    ch.basic_consume("qq", crash)
    w.sim.run()
    assert counts == [None, 1, 2]
    _, props, body = ch.basic_get("poison")
    assert body == b"boom" and props.headers["x-death"][0]["reason"] == "delivery_limit"
    w.broker.ledger().check()


def test_quorum_default_delivery_limit_is_a_broker_setting():
    """The default quorum delivery limit comes from the broker (20 as in RabbitMQ 4.0; None before 4.0)."""
    for limit, expected in ((20, 21), (3, 4)):
        w = make_world(quorum_delivery_limit=limit)
        w.ch.queue_declare("qq", durable=True, arguments={"x-queue-type": "quorum"})
        w.ch.basic_publish("", "qq", b"m")
        deliveries = []

        def nack(channel, method, properties, body, deliveries=deliveries):
            deliveries.append(1)
            channel.basic_nack(method.delivery_tag)

        w.ch.basic_consume("qq", nack)
        w.sim.run()
        assert len(deliveries) == expected
        assert w.broker.ledger().check().dropped == {"delivery_limit": 1}
    unlimited = make_world(quorum_delivery_limit=None)
    unlimited.ch.queue_declare("qq", durable=True, arguments={"x-queue-type": "quorum"})
    assert unlimited.broker.queue("qq").settings.delivery_limit is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"x-queue-type": "quorum"}, [b"b", b"a", b"c"]),                          # default limit: returns first
        ({"x-queue-type": "quorum", "x-delivery-limit": -1}, [b"c", b"b", b"a"]),  # no limit: to the back
        ({}, [b"a", b"b", b"c"]),                                                  # classic: original place
    ],
)
def test_where_a_nacked_message_goes(arguments, expected):
    """Requeued by nack: a classic queue puts it back in place; a quorum queue with a delivery limit serves
    returns first, one without a limit sends them to the back (RabbitMQ 3.10, checked on a live broker)."""
    w = make_world()
    w.ch.queue_declare("q", durable=True, arguments=arguments)
    for body in (b"a", b"b", b"c"):
        w.ch.basic_publish("", "q", body)
    first, _, _ = w.ch.basic_get("q")
    second, _, _ = w.ch.basic_get("q")
    w.ch.basic_nack(second.delivery_tag)
    w.ch.basic_nack(first.delivery_tag)
    assert drain(w, "q") == expected


def test_unlimited_quorum_queue_returns_closed_channel_deliveries_first():
    """Even without a delivery limit, a quorum queue puts deliveries of a closed channel back at the front."""
    w = make_world()
    w.ch.queue_declare("q", durable=True, arguments={"x-queue-type": "quorum", "x-delivery-limit": -1})
    for body in (b"x", b"y"):
        w.ch.basic_publish("", "q", body)
    other = w.ch.connection.channel()
    other.basic_get("q")
    other.close()
    method, properties, body = w.ch.basic_get("q")
    assert (body, method.redelivered, properties.headers["x-delivery-count"]) == (b"x", True, 1)


def test_quorum_queue_properties_are_checked(world):
    """Quorum queues must be durable, not exclusive, not auto-delete (406)."""
    from mqlab.rabbitmq import InvalidArgument

    with pytest.raises(InvalidArgument) as info:
        world.ch.queue_declare("qq", arguments={"x-queue-type": "quorum"})
    assert "non-durable" in info.value.reply_text and world.ch.is_closed


def test_priority_queue_delivers_highest_first(world):
    """With x-max-priority, higher-priority messages are delivered first; priorities above the max count as
    the max; no priority counts as 0."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-max-priority": 5})
    for body, priority in ((b"low", 1), (b"none", None), (b"high", 5), (b"too-high", 200), (b"mid", 3)):
        ch.basic_publish("", "q", body, BasicProperties(priority=priority))
    assert drain(world, "q") == [b"high", b"too-high", b"mid", b"low", b"none"]


def test_purge_and_delete_are_counted(world):
    """queue_purge drops ready messages and queue_delete the rest; the ledger names both."""
    ch = world.ch
    ch.queue_declare("q")
    for _ in range(3):
        ch.basic_publish("", "q", b"m")
    ch.basic_get("q")
    assert ch.queue_purge("q").method.message_count == 2
    ch.basic_publish("", "q", b"m")
    assert ch.queue_delete("q").method.message_count == 1
    ledger = world.broker.ledger().check()
    assert ledger.dropped == {"purged": 2, "queue_deleted": 2}
    assert ch.queue_delete("q").method.message_count == 0  # deleting a missing queue is fine


def test_queue_declare_returns_counts_and_passive(world):
    """queue_declare reports message and consumer counts; passive declare checks existence."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_publish("", "q", b"m")
    ch.basic_consume("q", Recorder(ack=False))
    ch.basic_publish("", "q", b"m")
    world.sim.run()
    ok = ch.queue_declare("q", passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == ("q", 0, 1)


def test_closed_connection_refuses_channels(world):
    """A closed connection cannot open channels."""
    conn = world.broker.connect()
    conn.close()
    with pytest.raises(ConnectionWrongStateError):
        conn.channel()


def test_dead_letter_exchange_missing_drops_the_message():
    """Dead-lettering to an exchange that does not exist loses the message (it still counts as dead-lettered),
    as RabbitMQ's at-most-once dead-lettering does."""
    w = make_world(trace=True)
    w.ch.queue_declare("q", arguments={"x-dead-letter-exchange": "gone"})
    w.ch.basic_publish("", "q", b"m")
    method, _, _ = w.ch.basic_get("q")
    w.ch.basic_reject(method.delivery_tag, requeue=False)
    ledger = w.broker.ledger().check()
    assert ledger.dead_lettered == {"rejected": 1} and ledger.dead_letter_copies == 0
    assert w.sim.trace.select(action="dropped", policy="dead_letter_exchange_missing")


def test_mandatory_message_refused_by_a_full_queue_is_nacked_not_returned(world):
    """A routed message that a reject-publish queue refuses is nacked; it is not returned (it was routable)."""
    ch = world.ch
    ch.queue_declare("q", arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    returned, frames = [], []
    ch.add_on_return_callback(lambda *args: returned.append(args))
    ch.confirm_delivery(frames.append)
    ch.basic_publish("", "q", b"m", mandatory=True)
    world.sim.run()
    assert returned == [] and frames[0].method.NAME == "Basic.Nack"


def test_expired_head_is_dropped_after_a_get(world):
    """After basic_get, an expired copy that became the head is dropped at once, so message_count does not
    count it (found by the differential test against RabbitMQ 3.10)."""
    ch = world.ch
    ch.queue_declare("q")
    ch.basic_publish("", "q", b"m0")
    ch.basic_publish("", "q", b"m1", BasicProperties(expiration="0"))
    method, _, body = ch.basic_get("q")
    assert (body, method.message_count) == (b"m0", 0)
    assert world.broker.queue_statistics("q").expired == 1


def test_dead_lettering_during_routing_comes_after_the_publish(world):
    """A copy dead-lettered while its publish is being routed (TTL 0 here) reaches its dead-letter target after
    the publish reached every queue, as RabbitMQ's asynchronous dead-lettering does (found by the differential
    test against RabbitMQ 3.10)."""
    ch = world.ch
    ch.exchange_declare("x0", "fanout")
    ch.queue_declare("q1")
    ch.queue_declare("q2", arguments={"x-dead-letter-exchange": "", "x-message-ttl": 0})
    ch.queue_bind("q2", "x0", "a")
    ch.queue_bind("q1", "x0", "a")
    ch.basic_publish("x0", "q1", b"m0")
    first, _, _ = ch.basic_get("q1", auto_ack=True)
    second, props, _ = ch.basic_get("q1", auto_ack=True)
    assert (first.exchange, second.exchange) == ("x0", "")
    assert props.headers["x-death"][0]["reason"] == "expired"


def test_x_delivery_count_on_get_and_on_push():
    """From a quorum queue, basic_get always carries x-delivery-count (0 the first time), a push delivery only
    once the message was returned; classic queues never send it (RabbitMQ 3.10, checked on a live broker)."""
    w = make_world()
    w.ch.queue_declare("qq", durable=True, arguments={"x-queue-type": "quorum"})
    w.ch.queue_declare("classic")
    for queue in ("qq", "classic"):
        w.ch.basic_publish("", queue, b"m")
    _, quorum_props, _ = w.ch.basic_get("qq", auto_ack=True)
    _, classic_props, _ = w.ch.basic_get("classic", auto_ack=True)
    assert quorum_props.headers == {"x-delivery-count": 0} and classic_props.headers is None
    pushed = Recorder()
    w.ch.basic_consume("qq", pushed)
    w.ch.basic_publish("", "qq", b"m")
    w.sim.run()
    assert pushed.got[0][1].headers is None


def test_quorum_reject_publish_refuses_once_over_the_limit(world):
    """reject-publish on a quorum queue refuses only once the queue is over x-max-length, so it holds one message
    more than a classic queue would (RabbitMQ 3.10, checked on a live broker)."""
    accepted = {}
    for queue_type in ("classic", "quorum"):
        w = make_world()
        w.ch.queue_declare("q", durable=True, arguments={"x-queue-type": queue_type, "x-max-length": 2,
                                                         "x-overflow": "reject-publish"})
        for i in range(5):
            w.ch.basic_publish("", "q", str(i).encode())
        accepted[queue_type] = w.broker.queue_statistics("q").ready
    assert accepted == {"classic": 2, "quorum": 3}
