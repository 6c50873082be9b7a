"""Events and processes: what a model waits on.

An :class:`Event` moves through three states, in this order and never back:

* **pending**: nobody has decided its outcome yet; callbacks may be added;
* **triggered**: :meth:`Event.succeed` or :meth:`Event.fail` fixed its outcome and the
  kernel has put it on the agenda for the current instant;
* **processed**: the kernel ran its callbacks (``callbacks`` is then ``None``).

A :class:`Process` drives a generator function: each ``yield`` hands the kernel an
event, and the generator resumes with that event's value when it is processed (or
with its exception thrown in, when it failed). A process is itself an event that
succeeds with the generator's return value, so processes can wait for each other.

The design follows SimPy's, kept small and with ``__slots__`` everywhere because
these objects sit on the hot path of every model.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Generator, Iterable, Iterator
from heapq import heappush
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from mqlab.sim.errors import EventAlreadyTriggered, Interrupt, InvalidYield, SchedulingError

if TYPE_CHECKING:
    from mqlab.sim.kernel import Simulation

__all__ = ["AllOf", "AnyOf", "Condition", "Event", "Process", "ProcessGenerator", "Timeout"]

ProcessGenerator = Generator["Event", Any, Any]
Callback = Callable[["Event"], None]

_PENDING = object()
_INF = math.inf


class Event:
    """Something that happens at one instant of virtual time, once.

    Invariants: ``callbacks`` is a list until the event is processed, then ``None``;
    ``ok`` is ``None`` while pending, then ``True`` or ``False`` for good.
    """

    __slots__ = ("_defused", "_ok", "_value", "callbacks", "sim")

    def __init__(self, sim: Simulation) -> None:
        # Simulation.event builds events without this call; keep the two in step.
        self.sim = sim
        self.callbacks: list[Callback] | None = []
        self._value: Any = _PENDING
        self._ok: bool | None = None
        self._defused = False

    # -- state -----------------------------------------------------------
    @property
    def triggered(self) -> bool:
        """True once the outcome is fixed (the event may not have been processed yet)."""
        return self._ok is not None

    @property
    def processed(self) -> bool:
        """True once the kernel has run the callbacks."""
        return self.callbacks is None

    @property
    def ok(self) -> bool | None:
        """``True`` if it succeeded, ``False`` if it failed, ``None`` while pending."""
        return self._ok

    @property
    def value(self) -> Any:
        """The value it succeeded with, or the exception it failed with."""
        if self._value is _PENDING:
            raise AttributeError(f"{self!r} has no value yet: it is still pending")
        return self._value

    @property
    def defused(self) -> bool:
        """True when a failure has been handled, so the kernel will not re-raise it."""
        return self._defused

    @defused.setter
    def defused(self, value: bool) -> None:
        self._defused = value

    # -- outcome ---------------------------------------------------------
    def succeed(self, value: Any = None) -> Event:
        """Fix the outcome as a success carrying ``value``; callbacks run at this instant."""
        if self._ok is not None:
            raise EventAlreadyTriggered(
                f"{self!r} already has an outcome; an event can succeed or fail only once"
            )
        self._ok = True
        self._value = value
        sim = self.sim
        heappush(sim._agenda, [sim.now, next(sim._serial), _process_event, self])
        return self

    def fail(self, exception: BaseException) -> Event:
        """Fix the outcome as a failure; waiting processes get ``exception`` thrown in.

        A failed event that nobody handles (no process waited on it and nobody set
        ``defused``) is re-raised by :meth:`Simulation.run`, so errors never vanish.
        """
        if self._ok is not None:
            raise EventAlreadyTriggered(
                f"{self!r} already has an outcome; an event can succeed or fail only once"
            )
        if not isinstance(exception, BaseException):
            raise TypeError(f"fail() needs an exception instance, got {exception!r}")
        self._ok = False
        self._value = exception
        sim = self.sim
        heappush(sim._agenda, [sim.now, next(sim._serial), _process_event, self])
        return self

    def add_callback(self, callback: Callback) -> None:
        """Call ``callback(event)`` when the event is processed (at once if it already was)."""
        if self.callbacks is None:
            callback(self)
        else:
            self.callbacks.append(callback)

    def __and__(self, other: Event) -> AllOf:
        return AllOf(self.sim, [self, other])

    def __or__(self, other: Event) -> AnyOf:
        return AnyOf(self.sim, [self, other])

    def __repr__(self) -> str:
        state = "pending" if self._ok is None else ("processed" if self.callbacks is None else "triggered")
        return f"<{type(self).__name__} {state}>"


def _process_event(event: Event) -> None:
    """Agenda entry point: run an event's callbacks and surface unhandled failures."""
    callbacks = event.callbacks
    event.callbacks = None
    for callback in callbacks:  # type: ignore[union-attr]
        callback(event)
    if event._ok is False and not event._defused:
        raise event._value


class Timeout(Event):
    """An event that succeeds ``delay`` seconds of virtual time after it is created.

    Timeouts are the most common object in any model, so they take a shortcut:
    a timeout goes on the agenda only when something waits for it, and a process
    waiting for it is resumed directly by its agenda entry. The entry keeps the
    serial number drawn when the timeout was created, so same-instant ordering is
    exactly as if it had been scheduled at creation. A timeout counts as processed
    from its due instant on.

    ``_serial`` holds that serial until the first waiter's entry takes it, then
    ``None``: a second waiter of the same timeout draws a serial of its own.
    :meth:`Simulation.timeout` builds timeouts without calling ``__init__``
    (a call fewer per timeout); the two must set the same attributes.
    """

    __slots__ = ("_serial", "_when")
    _ok = True  # a timeout always succeeds: class-level, one store fewer per timeout
    _defused = False

    def __init__(self, sim: Simulation, delay: float, value: Any = None) -> None:
        if not 0 <= delay < _INF:  # also catches NaN
            _bad_delay(delay)
        self.sim = sim
        self._value = value
        self._when = sim.now + delay
        self._serial: int | None = next(sim._serial)

    @property  # type: ignore[override]
    def callbacks(self) -> _TimeoutWaiters | None:  # type: ignore[override]
        """``None`` once due; before that, a stand-in whose ``append`` calls :meth:`add_callback`.

        Waiters of a timeout get agenda entries of their own rather than a list,
        so SimPy's idiom ``timeout.callbacks.append(fn)`` keeps working here.
        """
        return None if self.sim.now >= self._when else _TimeoutWaiters(self)

    @property
    def processed(self) -> bool:
        return self.sim.now >= self._when

    @property
    def when(self) -> float:
        """The instant at which the timeout succeeds."""
        return self._when

    def add_callback(self, callback: Callback) -> None:
        """Call ``callback(timeout)`` at the timeout's instant (at once if it has passed)."""
        sim = self.sim
        if sim.now > self._when:
            callback(self)
            return
        serial = self._serial
        if serial is None:  # another waiter has taken the creation serial
            serial = next(sim._serial)
        else:
            self._serial = None
        heappush(sim._agenda, [self._when, serial, callback, self])

    def succeed(self, value: Any = None) -> Event:
        raise EventAlreadyTriggered("a timeout succeeds by itself when its delay has passed")

    def fail(self, exception: BaseException) -> Event:
        raise EventAlreadyTriggered("a timeout cannot fail; use sim.event() for an event you trigger yourself")

    def __repr__(self) -> str:
        return f"<Timeout at t={self._when:g}>"


class _TimeoutWaiters:
    """What ``Timeout.callbacks`` returns while pending: appending schedules the callback."""

    __slots__ = ("_timeout",)

    def __init__(self, timeout: Timeout) -> None:
        self._timeout = timeout

    def append(self, callback: Callback) -> None:
        self._timeout.add_callback(callback)

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Callback]:
        return iter(())

    def remove(self, callback: Callback) -> None:
        raise ValueError("a timeout's waiters cannot be removed; interrupt the waiting process instead")


def _bad_delay(delay: object) -> None:
    raise SchedulingError(f"timeout delay must be a finite, non-negative number of seconds, got {delay!r}")


class _Start:
    """What a new process waits for: nothing, its first step at the instant it was created."""

    __slots__ = ()
    _ok = True
    _value = None


_START = _Start()


def _cancelled(argument: Any) -> None:
    """What a cancelled agenda entry runs: nothing (see :meth:`Handle.cancel`)."""


class Process(Event):
    """A generator function running in virtual time.

    The generator yields events; it resumes with the event's value once the event
    is processed. If the event failed, the exception is thrown into the generator
    at the ``yield``. The process itself is an event that succeeds with the
    generator's return value or fails with the exception that escaped it.

    How a process waits (the kernel's hot path):

    * for a :class:`Timeout` (and for its first step), it puts its own agenda
      entry ``[when, serial, process, timeout]`` on the agenda and keeps that
      entry in ``_target``; :meth:`Simulation.run` resumes such entries inline,
      without a call (a subclass of Process puts ``_resume_cb`` in the entry
      instead, and is called like any other entry). An interrupt cancels the
      entry, so it can never resume the process at the wrong ``yield``;
    * for any other event, it appends ``_resume_cb`` to the event's callbacks and
      keeps the event in ``_target``; an interrupt removes the callback.
    """

    __slots__ = ("_generator", "_resume_cb", "_target", "name")

    def __init__(self, sim: Simulation, generator: ProcessGenerator, name: str | None = None) -> None:
        if generator.__class__ is not GeneratorType and (
            not hasattr(generator, "send") or not hasattr(generator, "throw")
        ):
            raise TypeError(
                f"process() needs a generator (call your generator function: "
                f"sim.process(worker()) not sim.process(worker)), got {generator!r}"
            )
        # Event.__init__ inline (processes are created per message in some models).
        self.sim = sim
        self.callbacks = []
        self._value = _PENDING
        self._ok = None
        self._defused = False
        self._generator: ProcessGenerator | None = generator
        self.name = name or getattr(generator, "__qualname__", None) or repr(generator)
        self._resume_cb = self._resume
        # The first step runs at this instant, after what is already scheduled for it.
        entry = [sim.now, next(sim._serial), self if self.__class__ is Process else self._resume_cb, _START]
        self._target: Event | list[Any] | None = entry
        heappush(sim._agenda, entry)

    @property
    def is_alive(self) -> bool:
        """True until the generator has returned or raised."""
        return self._generator is not None

    @property
    def target(self) -> Event | None:
        """The event the process is waiting for, if any."""
        target = self._target
        if target.__class__ is list:  # an agenda entry: waiting for a timeout, or to start
            target = target[3]  # type: ignore[index]
            return None if target is _START else target
        return target  # type: ignore[return-value]

    def interrupt(self, cause: object = None) -> None:
        """Throw :class:`Interrupt` (carrying ``cause``) into the process at this instant.

        The process stops waiting for its current event; it may catch the
        interrupt and go on. Interrupting a finished process is an error.
        """
        if self._generator is None:
            raise RuntimeError(f"process {self.name!r} has finished and cannot be interrupted")
        sim = self.sim
        heappush(sim._agenda, [sim.now, next(sim._serial), _deliver_interrupt, (self, cause)])

    def _resume(self, event: Event) -> None:
        """Resume the generator with ``event``'s outcome, then wait for what it yields next.

        This is the callback a process leaves on the events it waits for. The
        common case of a process that then waits for a fresh timeout is handled
        here without a further call; :meth:`Simulation.run` has the same fast
        path for processes resumed by a timeout.
        """
        generator = self._generator
        if generator is None:  # finished (say, interrupted) before this callback ran
            return
        sim = self.sim
        sim.active_process = self
        while True:
            try:
                if event._ok:
                    target = generator.send(event._value)
                else:
                    event._defused = True
                    target = generator.throw(event._value)
            except BaseException as error:  # StopIteration included: the generator returned
                self._finish(error)
                break
            if (
                target.__class__ is Timeout
                and target._when >= sim.now
                and (serial := target._serial) is not None  # type: ignore[attr-defined]
                and self.__class__ is Process
            ):
                target._serial = None  # type: ignore[attr-defined]
                self._target = entry = [target._when, serial, self, target]  # type: ignore[attr-defined]
                heappush(sim._agenda, entry)
                break
            event = self._wait(target)  # type: ignore[assignment]
            if event is None:
                break
        sim.active_process = None

    def _wait(self, target: Any) -> Event | None:
        """Arrange to be resumed when ``target`` is processed.

        Returns ``None`` once the process is waiting, or the event to resume it
        with at once: ``target`` itself if it was already processed, or a failed
        event carrying :class:`InvalidYield` if ``target`` is not an event.
        """
        sim = self.sim
        if target.__class__ is Timeout:
            when = target._when
            if when < sim.now:
                return target  # its instant has passed: resume with its value at once
            serial = target._serial
            if serial is None:  # shared with another waiter: an entry of its own
                serial = next(sim._serial)
            else:  # the first waiter takes the serial drawn at creation (creation order)
                target._serial = None
            entry = [when, serial, self if self.__class__ is Process else self._resume_cb, target]
            self._target = entry
            heappush(sim._agenda, entry)
            return None
        try:
            callbacks = target.callbacks
        except AttributeError:
            error = InvalidYield(
                f"process {self.name!r} yielded {target!r}, which is not an event; "
                f"yield sim.timeout(seconds), an event, or another process"
            )
            event = Event(sim)
            event._ok = False
            event._value = error
            return event  # thrown into the generator, so its traceback points at the yield
        if callbacks is None:
            return target  # type: ignore[no-any-return]  # already processed: resume at once
        callbacks.append(self._resume_cb)
        self._target = target
        return None

    def _finish(self, error: BaseException) -> None:
        """The generator has ended: succeed with its return value, or fail with what escaped it."""
        sim = self.sim
        self._generator = None
        self._target = None
        if isinstance(error, StopIteration):
            self._ok = True
            self._value = error.value
        else:
            self._ok = False
            self._value = error
            _add_note(error, f"raised by process {self.name!r} at t={sim.now:g}")
        heappush(sim._agenda, [sim.now, next(sim._serial), _process_event, self])

    def __repr__(self) -> str:
        return f"<Process {self.name} {'alive' if self._generator is not None else 'finished'}>"


def _deliver_interrupt(arg: tuple[Process, object]) -> None:
    process, cause = arg
    if process._generator is None:
        return
    target = process._target
    if target.__class__ is list:  # waiting on the agenda: cancel that entry
        target[2] = _cancelled  # type: ignore[index]
        target[3] = None  # type: ignore[index]
    elif target is not None and target.callbacks is not None:  # type: ignore[union-attr]
        with contextlib.suppress(ValueError):
            target.callbacks.remove(process._resume_cb)  # type: ignore[union-attr]
    process._target = None
    signal = Event(process.sim)
    signal._ok = False
    signal._value = Interrupt(cause)
    signal._defused = True
    process._resume(signal)


def _add_note(error: BaseException, note: str) -> None:
    add_note = getattr(error, "add_note", None)  # Python 3.11+
    if add_note is not None and note not in getattr(error, "__notes__", ()):
        add_note(note)


class Condition(Event):
    """Waits for a combination of events; succeeds with ``{event: value}`` of those that fired.

    The dict keeps the order in which the events were given, so its contents are
    deterministic. If any awaited event fails first, the condition fails with
    the same exception.
    """

    __slots__ = ("_count", "_events", "_needed")

    def __init__(self, sim: Simulation, events: Iterable[Event], needed: Callable[[int], int]) -> None:
        super().__init__(sim)
        self._events = list(events)
        for event in self._events:
            if not isinstance(event, Event):
                raise InvalidYield(f"conditions combine events; {event!r} is not an event")
            if event.sim is not sim:
                raise ValueError("cannot combine events that belong to different simulations")
        self._count = 0
        self._needed = needed(len(self._events))
        if self._needed == 0:
            self.succeed({})
            return
        for event in self._events:
            event.add_callback(self._check)

    def _check(self, event: Event) -> None:
        if self._ok is not None:
            return
        if event._ok is False:
            event._defused = True
            self.fail(event._value)
            return
        self._count += 1
        if self._count >= self._needed:
            self.succeed({e: e._value for e in self._events if e.processed and e._ok})


class AnyOf(Condition):
    """Succeeds as soon as one of the events has succeeded."""

    __slots__ = ()

    def __init__(self, sim: Simulation, events: Iterable[Event]) -> None:
        super().__init__(sim, events, lambda n: min(n, 1))


class AllOf(Condition):
    """Succeeds once every event has succeeded."""

    __slots__ = ()

    def __init__(self, sim: Simulation, events: Iterable[Event]) -> None:
        super().__init__(sim, events, lambda n: n)
