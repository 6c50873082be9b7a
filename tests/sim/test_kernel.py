"""The agenda, the clock and the budgets of mqlab.sim.Simulation."""

from __future__ import annotations

import math

import pytest

from mqlab.sim import BudgetExceeded, SchedulingError, Simulation


def test_callbacks_run_in_time_order():
    """Entries run in order of their time, whatever order they were scheduled in."""
    sim = Simulation()
    seen = []
    for t in (3.0, 1.0, 2.0):
        sim.call_at(t, seen.append, t)
    sim.run()
    assert seen == [1.0, 2.0, 3.0]
    assert sim.now == 3.0


def test_same_instant_keeps_scheduling_order():
    """Entries at the same instant run in the order they were scheduled (FIFO tie-break)."""
    sim = Simulation()
    seen = []
    for label in "abcdef":
        sim.call_at(5.0, seen.append, label)
    sim.call_later(5.0, seen.append, "g")
    sim.run()
    assert seen == list("abcdefg")


def test_call_later_is_relative_to_now():
    """call_later(d) runs d seconds after the current virtual time."""
    sim = Simulation()
    seen = []
    sim.call_at(10.0, lambda: sim.call_later(2.5, lambda: seen.append(sim.now)))
    sim.run()
    assert seen == [12.5]


def test_call_soon_runs_after_what_is_already_due_now():
    """call_soon queues behind entries already scheduled for this instant."""
    sim = Simulation()
    seen = []

    def first():
        seen.append("first")
        sim.call_soon(seen.append, "soon")

    sim.call_at(1.0, first)
    sim.call_at(1.0, seen.append, "second")
    sim.run()
    assert seen == ["first", "second", "soon"]


def test_callbacks_take_any_number_of_arguments():
    """call_at passes through zero, one or several positional arguments."""
    sim = Simulation()
    seen = []
    sim.call_at(1, lambda: seen.append("none"))
    sim.call_at(2, seen.append, "one")
    sim.call_at(3, lambda a, b, c: seen.append((a, b, c)), 1, 2, 3)
    sim.run()
    assert seen == ["none", "one", (1, 2, 3)]


def test_cancelled_handle_never_runs():
    """A cancelled handle's callback does not run; cancelling twice reports False."""
    sim = Simulation()
    seen = []
    handle = sim.call_at(1.0, seen.append, "x")
    assert handle.when == 1.0
    assert handle.cancel() is True
    assert handle.cancelled
    assert handle.cancel() is False
    sim.run()
    assert seen == []


@pytest.mark.parametrize("delay", [-1, -0.001, math.nan, math.inf])
def test_bad_delays_are_refused(delay):
    """Negative, NaN and infinite delays raise SchedulingError naming the value."""
    sim = Simulation()
    with pytest.raises(SchedulingError, match="delay"):
        sim.call_later(delay, print)
    with pytest.raises(SchedulingError, match="delay"):
        sim.timeout(delay)


def test_scheduling_in_the_past_is_refused():
    """call_at a time before now raises SchedulingError naming both times."""
    sim = Simulation()
    sim.run(until=10)
    with pytest.raises(SchedulingError, match=r"t=5.*already at t=10"):
        sim.call_at(5, print)
    with pytest.raises(SchedulingError, match="number"):
        sim.call_at(math.nan, print)
    with pytest.raises(SchedulingError, match="finite"):
        sim.call_at(math.inf, print)


def test_run_until_time_is_inclusive_and_sets_the_clock():
    """run(until=t) runs entries at times <= t and leaves the clock at t."""
    sim = Simulation()
    seen = []
    for t in (1, 2, 3, 4):
        sim.call_at(t, seen.append, t)
    sim.run(until=2)
    assert seen == [1, 2]
    assert sim.now == 2
    sim.run(until=2.5)
    assert sim.now == 2.5 and seen == [1, 2]
    sim.run()
    assert seen == [1, 2, 3, 4]


def test_run_until_in_the_past_is_refused():
    """run(until=t) with t before now is an error, not a silent no-op."""
    sim = Simulation()
    sim.run(until=5)
    with pytest.raises(SchedulingError, match="past"):
        sim.run(until=4)


def test_step_runs_one_entry():
    """step() runs exactly one entry and reports whether there was one."""
    sim = Simulation()
    seen = []
    sim.call_at(1, seen.append, 1)
    sim.call_at(2, seen.append, 2)
    assert sim.peek() == 1
    assert sim.step() is True
    assert seen == [1] and sim.now == 1
    assert sim.step() is True
    assert sim.step() is False
    assert sim.peek() == math.inf


def test_event_budget_stops_a_runaway_model():
    """A callback that reschedules itself forever stops with BudgetExceeded naming max_events."""
    sim = Simulation(max_events=1000)

    def forever():
        sim.call_soon(forever)

    sim.call_soon(forever)
    with pytest.raises(BudgetExceeded, match="max_events") as info:
        sim.run()
    assert info.value.budget == "max_events"
    assert info.value.limit == 1000
    assert "Simulation(max_events=" in str(info.value)


def test_budget_is_per_run_call():
    """Running a long model in slices is fine: each run() call has its own budget."""
    sim = Simulation(max_events=100)
    for t in range(250):
        sim.call_at(t, lambda: None)
    for until in (90, 180, 260):
        sim.run(until=until)
    assert sim.events_processed == 250


def test_budget_exactly_reached_is_not_an_error():
    """A run that needs exactly max_events entries completes."""
    sim = Simulation(max_events=10)
    for t in range(10):
        sim.call_at(t, lambda: None)
    sim.run()
    assert sim.events_processed == 10


def test_horizon_stops_virtual_time():
    """Virtual time never passes the horizon: run() raises BudgetExceeded naming it."""
    sim = Simulation(horizon=100)

    def tick():
        sim.call_later(30, tick)

    sim.call_soon(tick)
    with pytest.raises(BudgetExceeded, match="horizon") as info:
        sim.run()
    assert info.value.budget == "horizon"
    assert sim.now == 90


def test_run_until_within_horizon_is_fine():
    """run(until=t) with t inside the horizon stops quietly at t."""
    sim = Simulation(horizon=100)
    sim.call_at(150, lambda: None)
    sim.run(until=50)
    assert sim.now == 50


def test_constructor_validates_its_arguments():
    """Bad seeds, budgets and horizons are refused with the rule named."""
    with pytest.raises(TypeError, match="seed"):
        Simulation(seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_events"):
        Simulation(max_events=0)
    with pytest.raises(ValueError, match="horizon"):
        Simulation(horizon=-1)


def test_rng_is_seeded_and_substreams_are_independent():
    """sim.rng depends only on the seed; substreams depend on seed and name, not on each other."""
    a, b = Simulation(seed=3), Simulation(seed=3)
    assert [a.rng.random() for _ in range(5)] == [b.rng.random() for _ in range(5)]
    assert Simulation(seed=4).rng.random() != Simulation(seed=3).rng.random()
    s1 = Simulation(seed=3).substream("link")
    sim = Simulation(seed=3)
    sim.substream("other").random()
    s2 = sim.substream("link")
    assert s1.random() == s2.random()
    assert Simulation(seed=3).substream("x").random() != Simulation(seed=3).substream("y").random()


def test_log_is_a_no_op_without_tracing():
    """log() does nothing when tracing is off, and records (time, actor, action, details) when on."""
    quiet = Simulation()
    quiet.log("broker", "published", id=1)
    assert quiet.trace is None and quiet.tracing is False
    loud = Simulation(trace=True)
    loud.run(until=2)
    loud.log("broker", "published", id=1)
    record = loud.trace[0]
    assert (record.time, record.actor, record.action, dict(record.details)) == (2, "broker", "published", {"id": 1})
