"""The kernel's fast paths keep the documented semantics.

A process waiting for a timeout is resumed inline by ``Simulation.run`` from its
own agenda entry, timeouts and events are built without calling ``__init__``, and
handles point at plain-list entries. These tests pin what those shortcuts must not
change: same-instant order, interrupts, shared timeouts, conditions, failures,
budgets, and ``step()`` agreeing with ``run()``.
"""

from __future__ import annotations

import pytest

from mqlab.sim import BudgetExceeded, Event, Interrupt, Process, Simulation, Timeout


def test_interrupt_cancels_the_timeout_wait_and_rewaiting_it_resumes_once():
    """An interrupted timeout wait is abandoned: waiting again on the same timeout resumes the process once."""
    sim = Simulation()
    seen = []

    def sleeper():
        alarm = sim.timeout(5, "alarm")
        try:
            yield alarm
        except Interrupt:
            seen.append(("interrupted", sim.now))
        value = yield alarm  # the same timeout again
        seen.append((value, sim.now))
        yield sim.timeout(1)
        seen.append(("after", sim.now))

    process = sim.process(sleeper())
    sim.call_at(2, process.interrupt)
    sim.run()
    assert seen == [("interrupted", 2), ("alarm", 5), ("after", 6)]
    assert not process.is_alive


def test_an_abandoned_wait_does_not_decide_the_order_of_a_new_one():
    """Waiting again after an interrupt is a new wait: it queues behind what was scheduled meanwhile."""
    sim = Simulation()
    seen = []

    def sleeper():
        alarm = sim.timeout(5)
        try:
            yield alarm
        except Interrupt:
            seen.append("interrupted")
        yield alarm  # waits again at t=2, after the callback below was scheduled (at t=1)
        seen.append("process")

    process = sim.process(sleeper())
    sim.call_at(1, lambda: sim.call_at(5, seen.append, "callback"))
    sim.call_at(2, process.interrupt)
    sim.run()
    assert seen == ["interrupted", "callback", "process"]


def test_interrupted_timeout_wait_never_resumes_the_process_later():
    """After an interrupt, the timeout's instant passes without touching the process."""
    sim = Simulation()
    seen = []

    def worker():
        try:
            yield sim.timeout(10)
            seen.append("timeout")
        except Interrupt as interrupt:
            seen.append(("interrupt", sim.now, interrupt.cause))
        gate = sim.event()
        sim.call_at(20, gate.succeed, "gate")
        seen.append((yield gate))

    process = sim.process(worker())
    sim.call_at(4, process.interrupt, "stop")
    sim.run()
    assert seen == [("interrupt", 4, "stop"), "gate"]
    assert sim.now == 20


def test_target_names_the_timeout_while_waiting():
    """A process's target is None before its first step, then the timeout it waits for."""
    sim = Simulation()
    box = {}

    def worker():
        box["timeout"] = sim.timeout(3)
        yield box["timeout"]

    process = sim.process(worker())
    assert process.target is None
    sim.run(until=1)
    assert process.target is box["timeout"]
    sim.run()
    assert process.target is None


def test_interrupt_at_creation_arrives_after_the_first_step():
    """An interrupt sent as a process is created is queued behind its start: it hits the first yield."""
    sim = Simulation()
    seen = []

    def worker():
        seen.append(("started", sim.now))
        try:
            yield sim.timeout(5)
        except Interrupt as interrupt:
            seen.append(("interrupted", sim.now, interrupt.cause))
        yield sim.timeout(1)
        seen.append(("done", sim.now))

    process = sim.process(worker())
    process.interrupt("early")
    sim.run()
    assert seen == [("started", 0), ("interrupted", 0, "early"), ("done", 1)]


def test_shared_timeout_first_waiter_keeps_creation_order():
    """Two waiters of one timeout: the first keeps the creation serial, a later one queues behind others."""
    sim = Simulation()
    seen = []
    early = sim.timeout(3)  # created first
    late = sim.timeout(3)  # created second

    def waiter(name, timeout):
        yield timeout
        seen.append(name)

    sim.process(waiter("on-late", late))
    sim.process(waiter("on-early", early))
    sim.process(waiter("on-early-again", early))  # second waiter of `early`: scheduled when it waits
    sim.run()
    assert seen == ["on-early", "on-late", "on-early-again"]


def test_timeout_created_before_a_callback_resumes_its_process_first():
    """A timeout orders by its creation, not by when a process starts waiting for it."""
    sim = Simulation()
    seen = []
    alarm = sim.timeout(5)
    sim.call_at(5, seen.append, "callback")

    def waiter():
        yield alarm
        seen.append("process")

    sim.process(waiter())
    sim.run()
    assert seen == ["process", "callback"]


def test_same_instant_mix_runs_in_scheduling_order():
    """Callbacks, process starts, fresh timeouts and succeeded events at one instant keep scheduling order."""
    sim = Simulation()
    seen = []
    gate = sim.event()

    def sleeper(name, delay):
        yield sim.timeout(delay)
        seen.append(name)

    def waiter():
        yield gate
        seen.append("gate-waiter")

    def at_five():
        seen.append("cb-a")
        gate.succeed()  # its waiter runs after what is already due at 5
        sim.process(sleeper("zero-delay", 0))
        sim.call_soon(seen.append, "soon")

    sim.process(waiter())
    sim.call_at(5, at_five)
    sim.process(sleeper("sleeper", 5))  # its first step (at 0) comes after both call_at: so does its timeout
    sim.call_at(5, seen.append, "cb-b")
    sim.run()
    # "zero-delay" starts before "soon" runs, but its timeout(0) is created after call_soon was scheduled
    assert seen == ["cb-a", "cb-b", "sleeper", "gate-waiter", "soon", "zero-delay"]


def test_condition_over_timeouts_shared_with_a_process():
    """any_of/all_of over timeouts that a process also waits for: everyone resumes at the right instant."""
    sim = Simulation()
    seen = []
    short, long = sim.timeout(1, "short"), sim.timeout(4, "long")

    def direct():
        seen.append(("direct", (yield short), sim.now))

    def first():
        result = yield sim.any_of([long, short])
        seen.append(("any", list(result.values()), sim.now))

    def both():
        result = yield short & long
        seen.append(("all", list(result.values()), sim.now))

    for body in (direct, first, both):
        sim.process(body())
    sim.run()
    assert seen == [("direct", "short", 1), ("any", ["short"], 1), ("all", ["short", "long"], 4)]


def test_failure_after_a_timeout_reaches_the_waiting_parent():
    """A child that raises after a timeout fails; the parent waiting on it gets the exception."""
    sim = Simulation()

    def child():
        yield sim.timeout(2)
        raise KeyError("broken")

    def parent():
        try:
            yield sim.process(child())
        except KeyError as error:
            return ("caught", error.args[0], sim.now)
        return "not reached"

    assert sim.run(until=sim.process(parent())) == ("caught", "broken", 2)


def test_unhandled_failure_after_a_timeout_is_raised_by_run():
    """A process failing on the inline path surfaces from run(), naming the process (3.11+)."""
    sim = Simulation()

    def doomed():
        yield sim.timeout(1)
        yield sim.timeout(1)
        raise ArithmeticError("bad sum")

    sim.process(doomed())
    with pytest.raises(ArithmeticError) as info:
        sim.run()
    assert sim.now == 2
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:
        assert any("doomed" in note for note in notes)


def test_failed_event_then_timeout_continues_on_the_fast_path():
    """A process that handles a failed event and then waits for a timeout resumes normally."""
    sim = Simulation()
    seen = []
    bad = sim.event()

    def worker():
        try:
            yield bad
        except ValueError:
            seen.append(("handled", sim.now))
        yield sim.timeout(3)
        seen.append(("slept", sim.now))

    sim.process(worker())
    sim.call_at(1, bad.fail, ValueError("no"))
    sim.run()
    assert seen == [("handled", 1), ("slept", 4)]


def _busy_model(sim: Simulation, seen: list) -> None:
    gate = sim.event()

    def ticker(name, delay, count):
        for _ in range(count):
            yield sim.timeout(delay)
            seen.append((sim.now, name))
        if not gate.triggered:
            gate.succeed(name)

    def waiter():
        seen.append((sim.now, "gate", (yield gate)))
        yield sim.timeout(0.5)
        seen.append((sim.now, "waiter"))

    sim.process(ticker("a", 1.0, 4))
    sim.process(ticker("b", 1.5, 3))
    sim.process(waiter())
    sim.call_at(2.0, lambda: seen.append((sim.now, "callback")))


def test_step_agrees_with_run():
    """Stepping one entry at a time gives exactly the history that run() gives."""
    by_run: list = []
    sim = Simulation()
    _busy_model(sim, by_run)
    sim.run()
    by_step: list = []
    stepped = Simulation()
    _busy_model(stepped, by_step)
    while stepped.step():
        pass
    assert by_step == by_run
    assert stepped.events_processed == sim.events_processed
    assert stepped.now == sim.now


def test_process_subclass_runs_without_the_inline_path():
    """A subclass of Process still waits for timeouts and events correctly."""

    class Named(Process):
        __slots__ = ()

    sim = Simulation()
    seen = []

    def body():
        yield sim.timeout(2)
        seen.append(sim.now)
        yield sim.timeout(1)
        seen.append(sim.now)
        return "done"

    process = Named(sim, body())
    assert sim.run(until=process) == "done"
    assert seen == [2, 3]


def test_a_process_is_not_a_callback():
    """Scheduling a process as a callback is refused with a message saying what to do instead."""
    sim = Simulation()

    def body():
        yield sim.timeout(1)

    process = sim.process(body())
    for schedule in (lambda: sim.call_later(1, process, None), lambda: sim.call_at(1, process),
                     lambda: sim.call_soon(process)):
        with pytest.raises(TypeError, match="not callable"):
            schedule()


def test_budget_reached_with_the_stop_event_is_not_an_error():
    """run(until=event) that processes the event as its last budgeted entry returns its value."""
    sim = Simulation(max_events=3)

    def body():
        yield sim.timeout(1)
        return "ok"

    process = sim.process(body())
    # start, timeout, the process's own completion: exactly three entries
    assert sim.run(until=process) == "ok"
    assert sim.events_processed == 3


def test_budget_runs_out_before_the_stop_event():
    """run(until=event) still stops a runaway model with BudgetExceeded."""
    sim = Simulation(max_events=50)

    def spinner():
        while True:
            yield sim.timeout(1)

    sim.process(spinner())
    with pytest.raises(BudgetExceeded, match="max_events"):
        sim.run(until=sim.event())
    assert sim.events_processed == 50


def test_timeouts_and_events_from_the_shortcuts_match_their_constructors():
    """sim.timeout and sim.event build the same objects as Timeout(...) and Event(...)."""
    sim = Simulation()
    sim.run(until=2)
    made, built = sim.timeout(3, "v"), Timeout(sim, 3, "v")
    assert (made.when, made.value, made.ok, made.processed) == (built.when, built.value, built.ok, built.processed)
    fresh, plain = sim.event(), Event(sim)
    for event in (fresh, plain):
        assert (event.triggered, event.processed, event.ok, event.defused) == (False, False, None, False)
        assert event.callbacks == []
    with pytest.raises(ValueError, match="delay"):
        sim.timeout(-1)


def test_handle_reports_and_cancels_its_entry():
    """A handle knows its time, cancels once, and a cancelled entry still counts as processed."""
    sim = Simulation()
    seen = []
    keep = sim.call_later(2, seen.append, "kept")
    drop = sim.call_later(1, seen.append, "dropped")
    assert (keep.when, drop.when) == (2, 1)
    assert "append" in repr(keep)
    assert drop.cancel() and not drop.cancel()
    assert drop.cancelled and not keep.cancelled
    sim.run()
    assert seen == ["kept"]
    assert sim.events_processed == 2
    keep.cancel()  # cancelling after it ran does nothing
    sim.run()
    assert seen == ["kept"]
