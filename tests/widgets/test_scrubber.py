"""The time-travel scrubber, driven headless."""

from __future__ import annotations

from mqlab.sim import Simulation, TraceRecord
from mqlab.widgets import TimeScrubber

TRACE = [
    TraceRecord(0.0, "queue:work", "enqueued", {"msg": "msg-1", "ready": 1}),
    TraceRecord(1.0, "queue:work", "delivered", {"msg": "msg-1", "ready": 0, "unacked": 1}),
    TraceRecord(2.5, "queue:work", "acked", {"msg": "msg-1", "unacked": 0}),
]


def test_starts_at_the_end_and_moves_with_the_slider():
    """The scrubber opens on the last instant; moving the slider shows the state at the chosen instant."""
    scrubber = TimeScrubber(TRACE)
    assert scrubber.snapshot.time == 2.5
    assert scrubber.snapshot.gauges["queue:work"] == {"ready": 0, "unacked": 0}
    scrubber.slider.value = 1
    assert scrubber.snapshot.time == 1.0
    assert scrubber.snapshot.in_flight == {"queue:work": ("msg-1",)}
    assert scrubber.clock.value == "t = 1 s (2 of 3)"
    assert "delivered" in scrubber.log.value
    assert "enqueued 1, delivered 1" in scrubber.log.value  # counts so far, per actor
    assert scrubber.figure.layout.title.text.startswith("State at t = 1 s")
    assert "1 message(s) in flight" in scrubber.note()


def test_buttons_step_one_instant_and_stop_at_the_ends():
    """◀ and ▶ move one instant and do not run past either end."""
    scrubber = TimeScrubber(TRACE)
    scrubber.forward.click()
    assert scrubber.position == 2
    scrubber.back.click()
    scrubber.back.click()
    scrubber.back.click()
    assert scrubber.position == 0


def test_seek_to_a_virtual_time():
    """seek(t) shows the last instant at or before t."""
    scrubber = TimeScrubber(TRACE)
    assert scrubber.seek(2.0).time == 1.0
    assert scrubber.seek(99).time == 2.5


def test_an_untraced_run_is_explained_not_raised():
    """A simulation without trace=True has an empty trace: the status says how to get one."""
    sim = Simulation()
    sim.run(until=1)
    assert "trace=True" in TimeScrubber(sim.trace).status.value  # None: tracing was off
    scrubber = TimeScrubber(sim)
    assert "trace=True" in scrubber.status.value
