"""A dead-letter cycle with a rejection in it is a runaway the event budget stops, never a hang."""

from __future__ import annotations

import pytest

from mqlab.rabbitmq import Broker
from mqlab.sim import BudgetExceeded, Simulation


def test_rejected_message_in_a_ttl_cycle_hits_the_event_budget():
    """Rejected from q0 into q1 (TTL 0) <-> q2 (TTL 0): the copy cycles, as on RabbitMQ, until max_events stops it.

    RabbitMQ drops a copy that comes back to a queue only when its history has no rejection; this
    one was rejected first, so it goes round for ever.
    """
    sim = Simulation(seed=0, max_events=5_000)
    channel = Broker(sim).connect().channel()
    channel.exchange_declare("x0", "fanout")
    channel.exchange_declare("x1", "fanout")
    channel.queue_declare("q0", arguments={"x-dead-letter-exchange": "x0"})
    channel.queue_declare("q1", arguments={"x-message-ttl": 0, "x-dead-letter-exchange": "x1"})
    channel.queue_declare("q2", arguments={"x-message-ttl": 0, "x-dead-letter-exchange": "x0"})
    channel.queue_bind("q1", "x0")
    channel.queue_bind("q2", "x1")
    channel.basic_publish("", "q0", b"round and round")
    sim.run(until=0.01)
    method, _, _ = channel.basic_get("q0")
    channel.basic_reject(method.delivery_tag, requeue=False)
    with pytest.raises(BudgetExceeded, match="max_events"):
        sim.run(until=1.0)
    assert channel.connection.broker.queue_statistics("q1").dead_lettered.get("expired", 0) > 1_000


def test_automatic_cycle_without_rejection_is_dropped():
    """Without a rejection in the cycle, the copy is dropped when it would come back (RabbitMQ's cycle rule)."""
    sim = Simulation(seed=0)
    channel = Broker(sim).connect().channel()
    channel.exchange_declare("x0", "fanout")
    channel.queue_declare("q0", arguments={"x-message-ttl": 0, "x-dead-letter-exchange": "x0"})
    channel.queue_bind("q0", "x0")
    channel.basic_publish("", "q0", b"once")
    sim.run(until=1.0)
    assert channel.basic_get("q0") == (None, None, None)
