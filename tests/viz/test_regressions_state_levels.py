"""The time scrubber's queue levels are current after deliveries, acks and requeues.

RabbitMQ's queues write their ``ready`` level into the trace whenever it changes (enqueue,
delivery, requeue, expiry, drop), so :func:`state_at` reads the level as it was at any instant.
"""

from __future__ import annotations

from mqlab.rabbitmq import Broker
from mqlab.sim import Simulation
from mqlab.viz.state import state_at


def _traced_run():
    sim = Simulation(seed=0, trace=True)
    broker = Broker(sim)
    ch = broker.connect().channel()
    ch.queue_declare("q")
    for i in range(3):
        ch.basic_publish("", "q", f"m{i}".encode())
    ch.basic_qos(prefetch_count=2)
    seen: list[int] = []

    def on_message(channel, method, properties, body):
        seen.append(method.delivery_tag)
        if len(seen) == 1:  # the first delivery is nacked back to the queue at t=1, the rest acked at t=2
            sim.call_later(1.0, channel.basic_nack, method.delivery_tag)
        else:
            sim.call_at(max(sim.now, 2.0), channel.basic_ack, method.delivery_tag)

    ch.basic_consume("q", on_message)
    sim.run(until=10)
    return sim, broker


def test_ready_follows_deliveries_acks_and_requeues():
    """Three published, two delivered at once (prefetch 2): ready is 1 at t=0, back to 2 when the nack
    requeues one at t=1 (and 1 after it is redelivered at once), 0 once everything is delivered."""
    sim, broker = _traced_run()
    records = list(sim.trace)
    assert state_at(records, 0.0).gauges["queue:q"]["ready"] == 1
    at_1 = {r.action: r.details["ready"] for r in records if r.time == 1.0 and "ready" in r.details}
    assert at_1 == {"nacked": 1, "requeued": 2, "redelivered": 1}
    assert state_at(records, 1.0).gauges["queue:q"]["ready"] == 1
    assert state_at(records, 10.0).gauges["queue:q"]["ready"] == broker.queue_statistics("q").ready == 0


def test_every_ready_level_in_the_trace_is_the_queues_level_at_that_record():
    """Replaying the trace, each record's ready equals enqueues minus deliveries plus requeues so far."""
    sim, _ = _traced_run()
    level = 0
    for record in sim.trace:
        if record.actor != "queue:q":
            continue
        if record.action == "enqueued" or record.action == "requeued":
            level += 1
        elif record.action in ("delivered", "redelivered"):
            level -= 1
        if "ready" in record.details:
            assert record.details["ready"] == level, record
