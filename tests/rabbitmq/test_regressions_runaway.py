"""A consumer that requeues for ever is a runaway the event budget stops, never a hang."""

from __future__ import annotations

import pytest

from mqlab.rabbitmq import Broker
from mqlab.sim import BudgetExceeded, Simulation


def test_nack_requeue_loop_without_latency_hits_the_event_budget():
    """With zero latency, a callback that always nacks with requeue=True stops at max_events instead of hanging."""
    sim = Simulation(seed=0, max_events=20_000)
    broker = Broker(sim, quorum_delivery_limit=None)
    setup = broker.connect().channel()
    setup.queue_declare("orders")
    channel = broker.connect().channel()
    channel.basic_qos(prefetch_count=1)
    redeliveries = []

    def refuse(ch, method, properties, body):
        redeliveries.append(method.redelivered)
        ch.basic_nack(method.delivery_tag, requeue=True)

    channel.basic_consume("orders", refuse)
    setup.basic_publish("", "orders", b"{}")
    with pytest.raises(BudgetExceeded, match="max_events"):
        sim.run(until=0.1)
    assert len(redeliveries) > 100
    assert redeliveries[0] is False and all(redeliveries[1:])
