"""Sequence diagrams of a delivery protocol, from steps or from a faulty link's trace."""

from __future__ import annotations

import pytest

from mqlab.faults.link import HopFaults, Link
from mqlab.sim import Simulation
from mqlab.viz import InvalidFigureInput, ProtocolStep, protocol_from_trace, sequence_figure


def _lossy_run() -> Simulation:
    """Three messages; the broker's ack to the first is dropped on cue, the third message is duplicated."""
    sim = Simulation(seed=3, trace=True)
    link = Link(sim, to_broker=HopFaults(latency=0.01), to_client=HopFaults(latency=0.02))
    link.drop_next("to_client", "ack", 1)

    def at_broker(i: int) -> None:
        link.send("to_client", "ack", i, lambda: None)

    for i in range(3):
        sim.call_at(i * 0.1, link.send, "to_broker", "message", i, at_broker, i)
    sim.run()
    return sim


def test_protocol_from_link_trace_marks_the_lost_ack():
    """Sends pair with arrivals; the fault ledger's loss record marks the dropped ack as lost."""
    steps = protocol_from_trace(_lossy_run().trace)
    assert [(s.label, s.sender, s.receiver, s.fate) for s in steps] == [
        ("message 0", "client", "broker", "delivered"),
        ("ack 0", "broker", "client", "lost"),
        ("message 1", "client", "broker", "delivered"),
        ("ack 1", "broker", "client", "delivered"),
        ("message 2", "client", "broker", "delivered"),
        ("ack 2", "broker", "client", "delivered"),
    ]
    assert steps[0].arrival == pytest.approx(0.01)
    assert steps[1].arrival is None


def test_duplicate_arrivals_and_frames_in_flight():
    """A second arrival of one frame is a duplicate; a frame that never arrived and was not lost is in flight."""
    sim = Simulation(seed=1, trace=True)
    link = Link(sim, to_broker=HopFaults(latency=0.5, duplicate=1.0))
    link.send("to_broker", "message", "a", lambda: None)
    sim.run(until=0.2)
    assert [s.fate for s in protocol_from_trace(sim.trace)] == ["in flight"]
    sim.run()
    assert [(s.fate, s.arrival) for s in protocol_from_trace(sim.trace)] == [("delivered", 0.5), ("duplicated", 0.5)]


def test_figure_draws_lost_frames_half_way_with_a_cross():
    """A lost frame stops half way between lifelines with an x; acks and messages have their own traces."""
    fig = sequence_figure(protocol_from_trace(_lossy_run().trace))
    traces = {t.name: t for t in fig.data}
    lost = traces["lost in transit (✕)"]
    assert list(lost.x)[:2] == [1, 0.5]  # from the broker's lifeline (1) towards the client's (0)
    assert list(lost.marker.symbol)[1] == "x"
    assert lost.line.dash == "dash"
    assert list(traces["ack / confirm delivered labels"].text) == ["ack 1", "ack 2"]
    assert list(fig.layout.xaxis.ticktext) == ["client", "broker"]
    assert fig.layout.yaxis.autorange == "reversed"


def test_steps_are_validated():
    """An unknown fate or a participant missing from the list raises with the allowed values."""
    with pytest.raises(InvalidFigureInput, match="not one of delivered"):
        ProtocolStep(0, "a", "b", "x", fate="vanished")
    with pytest.raises(InvalidFigureInput, match="'b'"):
        sequence_figure([ProtocolStep(0, "a", "b", "x")], participants=["a"])


def test_sequence_figure_is_deterministic():
    """Two identical runs draw byte-identical figures."""
    a = sequence_figure(protocol_from_trace(_lossy_run().trace)).to_json()
    assert a == sequence_figure(protocol_from_trace(_lossy_run().trace)).to_json()
