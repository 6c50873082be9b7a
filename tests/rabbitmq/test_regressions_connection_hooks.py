"""Connection hooks for fault layers: ``drop(..., fault=...)`` and ``duplicate(...)``.

A fault layer that loses a publish names the fault, and the ledger splits ``lost_in_transit``
by cause; a fault layer that delivers a publish frame twice hands the copy to ``duplicate``,
and the ledger counts it as ``duplicated`` (one publish left the client), never as a resend.
"""

from __future__ import annotations

from typing import Any

from mqlab.rabbitmq import Broker, Connection
from mqlab.rabbitmq.connection import UNNAMED_FAULT
from mqlab.sim import Simulation


class _Lossy(Connection):
    """Drops every other publish (naming the fault on odd ones only) and doubles every third."""

    count = 0

    def transmit(self, handler: Any, *args: Any) -> None:
        if self.frame_kind(handler) != "publish":
            return super().transmit(handler, *args)
        self.count += 1
        if self.count % 2 == 0:
            self.drop(handler, *args, fault="net.loss" if self.count % 4 == 0 else None)
            return None
        super().transmit(handler, *args)
        if self.count % 3 == 0:
            self.sim.call_later(self.latency, self.duplicate, handler, *args)
        return None


def _run(latency: float):
    sim = Simulation(seed=0)
    broker = Broker(sim)
    connection = broker.connect(latency=latency, connection_class=_Lossy)
    channel = connection.channel()
    channel.queue_declare("q")
    channel.confirm_delivery(lambda frame: None)
    for i in range(12):
        channel.basic_publish("", "q", f"m{i}".encode())
    sim.run()
    return broker, channel


def test_a_duplicated_publish_is_a_duplicate_not_a_new_publish():
    """12 publishes, 6 dropped, 2 of the delivered ones doubled (3rd and 9th): published stays 12,
    duplicated is 2, 8 messages are queued, and the broker confirmed the doubled sequence numbers twice."""
    for latency in (0.0, 0.01):
        broker, channel = _run(latency)
        ledger = broker.ledger().check()
        assert (ledger.published, ledger.duplicated, ledger.routed, ledger.ready) == (12, 2, 8, 8)
        assert sorted(seq for seq, _ in channel.confirms) == [1, 3, 3, 5, 7, 9, 9, 11]
        assert ledger.in_transit == 0


def test_drop_names_the_fault_and_lost_in_transit_is_split_by_cause():
    """Dropped publishes are counted under the fault's name (unnamed ones under 'unnamed_fault'); publishes
    arriving at a closed channel under 'channel_closed'; the causes add up to lost_in_transit."""
    broker, _ = _run(0.0)
    ledger = broker.ledger()
    assert ledger.lost_in_transit == 6
    assert ledger.lost_in_transit_by == {"net.loss": 3, UNNAMED_FAULT: 3}
    sim = Simulation(seed=0)
    broker = Broker(sim)
    channel = broker.connect(latency=0.01).channel()
    channel.queue_declare("q")
    channel.basic_publish("", "q", b"x")
    channel.basic_publish("no-such-exchange", "q", b"y")  # a channel error: the next publish arrives closed
    channel.basic_publish("", "q", b"z")
    sim.run()
    ledger = broker.ledger().check()
    assert ledger.lost_in_transit == 1 and ledger.lost_in_transit_by == {"channel_closed": 1}


def test_an_imbalanced_breakdown_is_reported():
    """The ledger says so when the causes of lost_in_transit do not add up to it."""
    broker, _ = _run(0.0)
    ledger = broker.ledger()
    from dataclasses import replace

    bad = replace(ledger, lost_in_transit_by={"net.loss": 1})
    assert not bad.balances and "lost in transit" in bad.imbalances()[0]
