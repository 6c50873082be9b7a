"""Events, timeouts, processes, interrupts and conditions."""

from __future__ import annotations

import pytest

from mqlab.sim import EventAlreadyTriggered, Interrupt, InvalidYield, Simulation


def test_process_resumes_after_timeout_with_its_value():
    """A process that yields timeout(d, v) resumes d seconds later with v."""
    sim = Simulation()
    seen = []

    def proc():
        value = yield sim.timeout(2.5, value="ding")
        seen.append((sim.now, value))

    sim.process(proc())
    sim.run()
    assert seen == [(2.5, "ding")]


def test_process_is_an_event_with_its_return_value():
    """Waiting on a process gives its return value when it finishes."""
    sim = Simulation()

    def child():
        yield sim.timeout(1)
        return 42

    def parent():
        result = yield sim.process(child())
        return (sim.now, result)

    p = sim.process(parent())
    assert sim.run(until=p) == (1, 42)


def test_event_succeed_wakes_waiters_at_that_instant():
    """succeed() resumes every waiting process at the current time, in the order they waited."""
    sim = Simulation()
    gate = sim.event()
    seen = []

    def waiter(name):
        value = yield gate
        seen.append((name, sim.now, value))

    for name in "abc":
        sim.process(waiter(name))
    sim.call_at(7, gate.succeed, "open")
    sim.run()
    assert seen == [("a", 7, "open"), ("b", 7, "open"), ("c", 7, "open")]


def test_event_states():
    """An event moves pending -> triggered -> processed and its outcome is fixed once."""
    sim = Simulation()
    event = sim.event()
    assert not event.triggered and not event.processed and event.ok is None
    with pytest.raises(AttributeError, match="pending"):
        _ = event.value
    event.succeed(1)
    assert event.triggered and not event.processed
    with pytest.raises(EventAlreadyTriggered):
        event.succeed(2)
    sim.run()
    assert event.processed and event.ok is True and event.value == 1


def test_failed_event_throws_into_waiter():
    """A failed event raises its exception inside the waiting process, which may handle it."""
    sim = Simulation()
    event = sim.event()
    seen = []

    def proc():
        try:
            yield event
        except KeyError as error:
            seen.append(("caught", error.args[0]))

    sim.process(proc())
    sim.call_at(1, event.fail, KeyError("boom"))
    sim.run()
    assert seen == [("caught", "boom")]


def test_unhandled_failure_surfaces_from_run():
    """A failed event nobody waits for is re-raised by run(), never swallowed."""
    sim = Simulation()
    sim.event().fail(ValueError("lost"))
    with pytest.raises(ValueError, match="lost"):
        sim.run()


def test_crashing_process_names_itself():
    """An exception escaping a process surfaces from run() with a note naming the process."""
    sim = Simulation()

    def worker():
        yield sim.timeout(1)
        raise ZeroDivisionError("oops")

    sim.process(worker())
    with pytest.raises(ZeroDivisionError) as info:
        sim.run()
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:  # Python 3.11+
        assert any("worker" in note for note in notes)


def test_yielding_a_non_event_names_the_process():
    """Yielding something that is not an event raises InvalidYield naming the process and the value."""
    sim = Simulation()

    def sloppy():
        yield 5

    sim.process(sloppy())
    with pytest.raises(InvalidYield, match=r"sloppy.*yielded 5"):
        sim.run()


def test_process_needs_a_generator():
    """Passing the generator function instead of calling it gets a message with the fix."""
    sim = Simulation()

    def worker():
        yield sim.timeout(1)

    with pytest.raises(TypeError, match=r"sim.process\(worker\(\)\)"):
        sim.process(worker)  # type: ignore[arg-type]


def test_interrupt_stops_the_wait_and_the_old_timeout_is_ignored():
    """interrupt() throws Interrupt at once; the timeout it was waiting for no longer resumes it."""
    sim = Simulation()
    seen = []

    def sleeper():
        try:
            yield sim.timeout(10)
            seen.append("woke normally")
        except Interrupt as interrupt:
            seen.append(("interrupted", sim.now, interrupt.cause))
        yield sim.timeout(20)
        seen.append(("done", sim.now))

    p = sim.process(sleeper())
    sim.call_at(3, p.interrupt, "wake up")
    sim.run()
    assert seen == [("interrupted", 3, "wake up"), ("done", 23)]


def test_interrupt_while_waiting_on_an_event():
    """An interrupted process is removed from the event it waited for."""
    sim = Simulation()
    gate = sim.event()
    seen = []

    def waiter():
        try:
            yield gate
        except Interrupt:
            seen.append("interrupted")
            return
        seen.append("gate")

    p = sim.process(waiter())
    sim.call_at(1, p.interrupt)
    sim.call_at(2, gate.succeed)
    sim.run()
    assert seen == ["interrupted"]


def test_interrupting_a_finished_process_is_an_error():
    """A finished process cannot be interrupted."""
    sim = Simulation()

    def quick():
        yield sim.timeout(1)

    p = sim.process(quick())
    sim.run()
    assert not p.is_alive
    with pytest.raises(RuntimeError, match="finished"):
        p.interrupt()


def test_any_of_fires_on_first_and_reports_it():
    """any_of succeeds at the first event, with a dict of the events that had fired."""
    sim = Simulation()
    fast, slow = sim.timeout(1, "fast"), sim.timeout(5, "slow")

    def proc():
        result = yield sim.any_of([fast, slow])
        return sim.now, list(result.values())

    assert sim.run(until=sim.process(proc())) == (1, ["fast"])


def test_all_of_waits_for_every_event():
    """all_of succeeds when the last event has, with all values in the given order."""
    sim = Simulation()

    def proc():
        result = yield sim.timeout(3, "c") & sim.timeout(1, "a")
        return sim.now, list(result.values())

    assert sim.run(until=sim.process(proc())) == (3, ["c", "a"])


def test_any_of_fails_if_an_event_fails_first():
    """A failure among the awaited events fails the condition."""
    sim = Simulation()
    bad = sim.event()

    def proc():
        try:
            yield bad | sim.timeout(5)
        except RuntimeError:
            return "failed", sim.now

    sim.call_at(2, bad.fail, RuntimeError("x"))
    assert sim.run(until=sim.process(proc())) == ("failed", 2)


def test_empty_conditions_succeed_at_once():
    """all_of([]) and any_of([]) succeed immediately with an empty dict."""
    sim = Simulation()
    assert sim.run(until=sim.all_of([])) == {}


def test_timeout_shared_by_two_processes():
    """Two processes can wait for the same timeout; both resume at its instant."""
    sim = Simulation()
    shared = sim.timeout(4, "t")
    seen = []

    def waiter(name):
        value = yield shared
        seen.append((name, sim.now, value))

    sim.process(waiter("a"))
    sim.process(waiter("b"))
    sim.run()
    assert seen == [("a", 4, "t"), ("b", 4, "t")]


def test_waiting_on_a_timeout_that_has_passed_resumes_at_once():
    """A timeout whose instant has passed counts as processed: yielding it resumes immediately."""
    sim = Simulation()
    old = sim.timeout(1, "old")
    seen = []

    def late():
        yield sim.timeout(5)
        value = yield old
        seen.append((sim.now, value))

    sim.process(late())
    sim.run()
    assert old.processed
    assert seen == [(5, "old")]


def test_timeout_keeps_creation_order_at_the_same_instant():
    """Same-instant timeouts resume their processes in the order the timeouts were created."""
    sim = Simulation()
    seen = []
    first, second = sim.timeout(2), sim.timeout(2)

    def waiter(name, t):
        yield t
        seen.append(name)

    sim.process(waiter("second", second))
    sim.process(waiter("first", first))
    sim.run()
    assert seen == ["first", "second"]


def test_run_until_event_that_can_never_happen():
    """run(until=event) reports when the agenda empties before the event could fire."""
    sim = Simulation()
    with pytest.raises(RuntimeError, match="ran out"):
        sim.run(until=sim.event())


def test_simpy_style_callback_append_on_a_timeout():
    """timeout.callbacks.append(fn), SimPy's idiom, schedules fn at the timeout's instant."""
    sim = Simulation()
    seen = []
    sim.timeout(3, "v").callbacks.append(lambda t: seen.append((sim.now, t.value)))
    sim.run()
    assert seen == [(3, "v")]
