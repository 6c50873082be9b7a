"""The opt-in trace."""

from __future__ import annotations

from mqlab.sim import Simulation


def test_trace_select_and_format():
    """Records can be selected by actor, action and details, and print as stable text."""
    sim = Simulation(trace=True)
    sim.call_at(1, lambda: sim.log("broker", "published", id=1))
    sim.call_at(2, lambda: sim.log("worker", "acked", id=1))
    sim.call_at(3, lambda: sim.log("broker", "published", id=2))
    sim.run()
    assert [r.time for r in sim.trace.select(actor="broker")] == [1, 3]
    assert [r.time for r in sim.trace.select(id=1)] == [1, 2]
    assert len(sim.trace.until(2)) == 2
    assert sim.trace.format(limit=1) == "t=1          broker           published      id=1"
