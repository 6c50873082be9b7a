"""The faulty link: losses, duplicates, delays, partitions and scripted drops, all counted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqlab.faults import Direction, FaultLedger, HopFaults, InvalidParameter, Link
from mqlab.sim import Simulation


def _send_many(link: Link, n: int, direction: str = "to_broker", kind: str = "message") -> list[int]:
    arrived: list[int] = []
    for i in range(n):
        link.send(direction, kind, i, arrived.append, i)
    link.sim.run()
    return arrived


def test_reliable_link_delivers_every_frame_once_after_the_latency():
    """With no faults, each frame arrives exactly once, ``latency`` seconds after it was sent."""
    sim = Simulation()
    link = Link(sim, to_broker=HopFaults(latency=0.25))
    times: list[float] = []
    link.send(Direction.TO_BROKER, "message", "a", lambda: times.append(sim.now))
    sim.run()
    assert times == [0.25]
    assert link.statistics().to_broker_delivered == 1


@given(seed=st.integers(0, 2**20))
def test_delivered_equals_sent_minus_lost_plus_duplicated(seed):
    """Per direction, delivered == sent - lost + duplicated, and the fault ledger agrees with the link."""
    sim = Simulation(seed=seed)
    link = Link(sim, to_broker=HopFaults(loss=0.2, duplicate=0.1, delay_probability=0.1, extra_delay=0.5))
    arrived = _send_many(link, 200)
    s = link.statistics()
    assert s.to_broker_delivered == len(arrived) == s.to_broker_sent - s.to_broker_lost + s.to_broker_duplicated
    counts = link.ledger.counts()
    assert counts.lost_by("link.to_broker.loss") == s.to_broker_lost
    assert counts.total_duplicated == s.to_broker_duplicated


def test_loss_applies_only_to_the_kinds_named():
    """``kinds=('ack',)`` loses acks and leaves messages alone."""
    sim = Simulation(seed=3)
    link = Link(sim, to_client=HopFaults(loss=1.0, kinds=("ack",)))
    assert len(_send_many(link, 10, "to_client", "delivery")) == 10
    assert _send_many(link, 10, "to_client", "ack") == []


def test_partition_loses_frames_sent_inside_the_window_only():
    """Frames sent during the partition are lost as 'link.partition'; before and after they arrive."""
    sim = Simulation()
    link = Link(sim)
    link.partition(start=1.0, duration=2.0)
    arrived: list[float] = []
    for t in (0.5, 1.0, 2.5, 3.0, 4.0):
        sim.call_at(t, link.send, "to_broker", "message", t, arrived.append, t)
    sim.run()
    assert arrived == [0.5, 3.0, 4.0]
    assert link.ledger.counts().lost == {"link.partition": 2}


def test_drop_next_loses_exactly_the_scripted_frames():
    """A scripted drop loses the next N frames of that kind and direction, then stops."""
    sim = Simulation()
    link = Link(sim)
    link.drop_next("to_client", "ack", 2, fault="lost-ack")
    assert _send_many(link, 5, "to_client", "ack") == [2, 3, 4]
    assert link.ledger.counts().lost == {"lost-ack": 2}


def test_watchers_see_each_frame_and_its_fate():
    """A watcher gets one FrameFate per frame sent, with 'lost' and the fault for a dropped one."""
    sim = Simulation()
    link = Link(sim)
    link.drop_next("to_broker", "message", 1)
    fates = []
    link.watch(fates.append)
    _send_many(link, 2)
    assert [f.fate for f in fates] == ["lost", "delivered"]
    assert fates[0].fault == "link.to_broker.drop-message" and fates[0].arrives_at is None


def test_faults_are_in_the_trace():
    """A lost frame appears in the trace under the fault's name."""
    sim = Simulation(trace=True)
    link = Link(sim, to_broker=HopFaults(loss=1.0))
    _send_many(link, 1)
    assert sim.trace.select(actor="fault:link.to_broker.loss", action="lost")


def test_links_draw_from_their_own_stream():
    """Adding a second link does not change what the first one does with the same seed."""
    def losses(extra: bool) -> int:
        sim = Simulation(seed=11)
        link = Link(sim, "a", to_broker=HopFaults(loss=0.5))
        if extra:
            other = Link(sim, "b", to_broker=HopFaults(loss=0.5))
            _send_many(other, 50)
        _send_many(link, 50)
        return link.statistics().to_broker_lost

    assert losses(False) == losses(True)


@pytest.mark.parametrize(
    "kwargs",
    [dict(loss=1.5), dict(loss=-0.1), dict(duplicate="x"), dict(latency=-1), dict(extra_delay=float("inf")),
     dict(kinds=["ack"])],
)
def test_bad_hop_parameters_are_refused_with_the_name(kwargs):
    """Probabilities outside [0, 1], negative or infinite times and non-tuple kinds are refused by name."""
    name = next(iter(kwargs))
    with pytest.raises(InvalidParameter, match=name):
        HopFaults(**kwargs)


def test_bad_direction_and_partition_are_refused():
    """An unknown direction and a non-positive partition length are refused with a message naming them."""
    link = Link(Simulation())
    with pytest.raises(InvalidParameter, match="direction"):
        link.send("sideways", "message", 1, print)
    with pytest.raises(InvalidParameter, match="duration"):
        link.partition(1.0, 0)


def test_ledger_is_shared_when_given():
    """Two links given one ledger count into it together."""
    sim = Simulation()
    ledger = FaultLedger(sim)
    a = Link(sim, "a", to_broker=HopFaults(loss=1.0), ledger=ledger)
    b = Link(sim, "b", to_broker=HopFaults(loss=1.0), ledger=ledger)
    _send_many(a, 2)
    _send_many(b, 3)
    assert ledger.counts().lost == {"a.to_broker.loss": 2, "b.to_broker.loss": 3}
