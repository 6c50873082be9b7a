"""The broker's ``consumer_timeout``: a delivery left unacknowledged too long closes its channel.

RabbitMQ (3.8.15+, consumers guide, "Delivery Acknowledgement Timeout"): when a consumer does
not ack a delivery within ``consumer_timeout`` (rabbitmq.conf, milliseconds; 30 minutes by
default), its channel is closed with a PRECONDITION_FAILED channel exception and all the
outstanding deliveries on that channel are requeued; the timeout is evaluated once a minute.
"""

from __future__ import annotations

import pytest

from mqlab.rabbitmq import (
    DEFAULT_CONSUMER_TIMEOUT,
    Broker,
    ChannelClosedByBroker,
    DeliveryAcknowledgementTimeout,
)
from mqlab.sim import Simulation


def _world(timeout):
    sim = Simulation(seed=0)
    broker = Broker(sim, consumer_timeout=timeout)
    ch = broker.connect().channel()
    ch.queue_declare("q")
    for i in range(3):
        ch.basic_publish("", "q", f"m{i}".encode())
    return sim, broker, ch


def test_default_is_rabbitmqs_thirty_minutes_as_a_named_constant_and_off_in_the_model():
    """RabbitMQ's default consumer_timeout is 1,800,000 ms; the model's Broker leaves it off unless asked."""
    assert DEFAULT_CONSUMER_TIMEOUT == 1_800_000
    assert Broker(Simulation()).consumer_timeout is None


def test_an_unacked_delivery_past_the_timeout_closes_the_channel_with_406_and_requeues():
    """A consumer that never acks: at the first one-minute check after 30 min the channel closes with
    406 'delivery acknowledgement on channel 1 timed out. Timeout value used: 1800000 ms...' and the
    three unacked deliveries are ready again."""
    sim, broker, ch = _world(DEFAULT_CONSUMER_TIMEOUT)
    ch.basic_consume("q", lambda *a: None)
    sim.run(until=1799)
    assert broker.queue_statistics("q").unacked == 3 and ch.is_open
    sim.run(until=3600)
    stats = broker.queue_statistics("q")
    assert (stats.ready, stats.unacked) == (3, 0)
    assert isinstance(ch.close_reason, DeliveryAcknowledgementTimeout)
    assert isinstance(ch.close_reason, ChannelClosedByBroker) and ch.close_reason.reply_code == 406
    assert ch.close_reason.reply_text == (
        "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 1800000 ms. "
        "This timeout value can be configured, see consumers doc guide to learn more")
    broker.ledger().check()


def test_the_channel_closes_at_the_first_minute_check_strictly_after_the_deadline():
    """Checks run every 60 s from the channel's opening: a 2-minute timeout on a delivery at t=0 fires at
    t=180 (at t=120 it has waited exactly the timeout, not longer)."""
    sim, _, ch = _world(120_000)
    ch.basic_consume("q", lambda *a: None)
    sim.run(until=179)
    assert ch.is_open
    sim.run(until=180)
    assert isinstance(ch.close_reason, DeliveryAcknowledgementTimeout)


def test_acking_in_time_keeps_the_channel_open():
    """Each delivery acked after 20 minutes, under a 30-minute timeout: nothing closes."""
    sim, broker, ch = _world(DEFAULT_CONSUMER_TIMEOUT)
    ch.basic_consume("q", lambda c, m, p, b: sim.call_later(1200, c.basic_ack, m.delivery_tag))
    sim.run(until=7200)
    assert ch.is_open and broker.queue_statistics("q").acked == 3


def test_basic_get_deliveries_time_out_too():
    """A basic_get delivery left unacked counts: the channel closes and the message is ready again."""
    sim, broker, ch = _world(60_000)
    method, _, _ = ch.basic_get("q")
    assert method is not None
    sim.run(until=200)
    assert isinstance(ch.close_reason, DeliveryAcknowledgementTimeout)
    assert broker.queue_statistics("q").ready == 3


def test_none_disables_the_timeout():
    """consumer_timeout=None: a delivery may stay unacked for days of virtual time."""
    sim, broker, ch = _world(None)
    ch.basic_consume("q", lambda *a: None)
    sim.run(until=5 * 86400)
    assert ch.is_open and broker.queue_statistics("q").unacked == 3


@pytest.mark.parametrize("bad", [0, -5, "30m", float("inf"), True])
def test_a_bad_timeout_is_refused_naming_the_setting(bad):
    """consumer_timeout must be milliseconds > 0 or None; anything else raises naming the setting."""
    with pytest.raises(ValueError, match="consumer_timeout"):
        Broker(Simulation(), consumer_timeout=bad)
