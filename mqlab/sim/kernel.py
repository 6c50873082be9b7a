"""The simulation kernel: a virtual clock, an agenda and a seeded random source.

The agenda is one heap of ``[time, serial, function, argument]`` entries (plain
lists: cheap to build and compare, and mutable so that cancelling is one store).
The serial number breaks ties, so entries scheduled for the same instant run in
the order they were scheduled: with the same seed, a model does the same thing
in the same order every time, on every machine. Nothing here reads the wall clock.

Running an entry normally means calling ``function(argument)``. One kind of
entry is handled inline instead, because it is most of the work of a process
model: a process waiting for a timeout puts ``[when, serial, process, timeout]``
on the agenda, and :meth:`Simulation.run` resumes the generator itself, saving a
Python call per event (see :class:`~mqlab.sim.events.Process`).

Speed notes, measured on CPython 3.11 against SimPy with the M/M/1 model of
``benchmarks/bench_kernel.py``: every change here was kept only if it made that
benchmark faster. What is left per event is mostly the model's own code
(random draws, the generator bodies) plus one heap push and one pop.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterable
from typing import Any

from mqlab.sim.errors import BudgetExceeded, SchedulingError
from mqlab.sim.events import _PENDING, AllOf, AnyOf, Event, Process, ProcessGenerator, Timeout, _bad_delay, _cancelled
from mqlab.sim.metrics import Metrics
from mqlab.sim.trace import Trace

__all__ = ["DEFAULT_MAX_EVENTS", "Handle", "Simulation"]

DEFAULT_MAX_EVENTS = 5_000_000
"""Events one call of :meth:`Simulation.run` may process before it stops (a few seconds of work)."""

_INF = math.inf


def _call_no_args(callback: Callable[[], Any]) -> None:
    callback()


def _call_with_args(pair: tuple[Callable[..., Any], tuple[Any, ...]]) -> None:
    pair[0](*pair[1])


class Handle:
    """A scheduled callback that can be cancelled before it runs.

    The handle points at its agenda entry ``[when, serial, function, argument]``.
    Cancelling swaps the entry's function for a no-op (the entry stays on the
    agenda until its time comes, which is cheaper than taking it out of the
    heap); cancelling a handle that has already run does nothing.

    Why not make the handle *be* the entry (a ``list`` subclass)? Measured on
    CPython 3.11: agenda entries that are exact lists keep the run loop's
    indexing specialised and die cheaply, which outweighs allocating this
    small object; a callback-style model runs about 10% faster.
    """

    __slots__ = ("_entry",)

    def __init__(self, entry: list[Any]) -> None:
        self._entry = entry

    @property
    def when(self) -> float:
        """The virtual time at which the callback runs."""
        return self._entry[0]  # type: ignore[no-any-return]

    def cancel(self) -> bool:
        """Stop the callback from running. Returns False if it was already cancelled."""
        entry = self._entry
        if entry[2] is _cancelled:
            return False
        entry[2] = _cancelled
        entry[3] = None
        return True

    @property
    def cancelled(self) -> bool:
        return self._entry[2] is _cancelled  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        function = self._entry[2]
        if function is _call_no_args:
            function = self._entry[3]
        elif function is _call_with_args:
            function = self._entry[3][0]
        name = getattr(function, "__qualname__", repr(function))
        return f"<Handle {name} at t={self._entry[0]:g}{' cancelled' if self.cancelled else ''}>"


_new_handle = object.__new__  # Handle(entry) without the __init__ call, on the hot path
_new_timeout = _new_event = object.__new__


class Simulation:
    """Virtual time, an agenda of what happens next, and the randomness of one run.

    ``now`` is in seconds of virtual time and starts at 0. ``rng`` is a
    :class:`random.Random` seeded with ``seed``: models must draw from it (or from
    :meth:`substream`), never from the global :mod:`random`, so that one seed
    always gives one history.

    Safety budgets: one call of :meth:`run` processes at most ``max_events``
    events, and virtual time never passes ``horizon`` (when given). Going past
    either raises :class:`BudgetExceeded` instead of hanging.

    Tracing is opt-in (``trace=True``): models call :meth:`log` only after
    checking ``sim.tracing``, so a run without a trace pays one attribute read.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        trace: bool = False,
        max_events: int = DEFAULT_MAX_EVENTS,
        horizon: float | None = None,
    ) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int, got {seed!r}")
        if not isinstance(max_events, int) or max_events <= 0:
            raise ValueError(f"max_events must be a positive int, got {max_events!r}")
        if horizon is not None and not (horizon > 0 and math.isfinite(horizon)):
            raise ValueError(f"horizon must be a positive finite number of seconds or None, got {horizon!r}")
        self.seed = seed
        self.now: float = 0.0
        self.rng = random.Random(seed)
        self.max_events = max_events
        self.horizon = horizon
        self.events_processed = 0
        self.active_process: Process | None = None
        self.tracing = trace
        self.trace: Trace | None = Trace() if trace else None
        self.metrics = Metrics(self)
        self._agenda: list[list[Any]] = []  # heap of [when, serial, function, argument]
        self._serial = itertools.count()

    # -- randomness --------------------------------------------------------
    def substream(self, name: str) -> random.Random:
        """An independent random stream derived from the seed and ``name``.

        Components that draw from their own stream do not disturb each other:
        adding a lossy link does not change the arrival times drawn elsewhere.
        """
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    # -- scheduling --------------------------------------------------------
    def _handle(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> Handle:
        """Put ``callback(*args)`` on the agenda at ``when`` (already checked) and return its handle."""
        if callback.__class__ is Process:
            raise TypeError(
                f"cannot schedule {callback!r} as a callback: a process is not callable; "
                f"to wait for it, yield it from another process, or add_callback() on it"
            )
        if len(args) == 1:
            entry = [when, next(self._serial), callback, args[0]]
        elif args:
            entry = [when, next(self._serial), _call_with_args, (callback, args)]
        else:
            entry = [when, next(self._serial), _call_no_args, callback]
        heapq.heappush(self._agenda, entry)
        handle = _new_handle(Handle)
        handle._entry = entry
        return handle  # type: ignore[no-any-return]

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback(*args)`` at virtual time ``when``; returns a cancellable :class:`Handle`."""
        if not self.now <= when < _INF:  # also rejects NaN
            if when != when:
                raise SchedulingError(f"cannot schedule at t={when!r}: time must be a number")
            if when == _INF:
                raise SchedulingError(f"cannot schedule at t={when!r}: time must be finite")
            raise SchedulingError(
                f"cannot schedule {getattr(callback, '__qualname__', callback)!s} at t={when!r}: "
                f"the clock is already at t={self.now!r}; schedule at now or later"
            )
        if len(args) == 1 and callback.__class__ is not Process:  # the common case inline, as in call_later
            entry = [when, next(self._serial), callback, args[0]]
            heapq.heappush(self._agenda, entry)
            handle = _new_handle(Handle)
            handle._entry = entry
            return handle  # type: ignore[no-any-return]
        return self._handle(when, callback, args)

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback(*args)`` after ``delay`` seconds; returns a cancellable :class:`Handle`."""
        if not 0 <= delay < _INF:  # also rejects NaN
            raise SchedulingError(
                f"cannot schedule {getattr(callback, '__qualname__', callback)!s} after delay={delay!r}: "
                f"a delay must be a finite number of seconds >= 0"
            )
        # The common case (one argument) inline: this is the hot path of callback-style models.
        if len(args) == 1 and callback.__class__ is not Process:
            entry = [self.now + delay, next(self._serial), callback, args[0]]
            heapq.heappush(self._agenda, entry)
            handle = _new_handle(Handle)
            handle._entry = entry
            return handle  # type: ignore[no-any-return]
        return self._handle(self.now + delay, callback, args)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback(*args)`` at the current instant, after what is already scheduled for it."""
        return self._handle(self.now, callback, args)

    # -- events and processes -----------------------------------------------
    def event(self) -> Event:
        """A new pending event, to be triggered with ``succeed`` or ``fail``."""
        # Event.__init__ inline: a call fewer.
        event = _new_event(Event)
        event.sim = self
        event.callbacks = []
        event._value = _PENDING
        event._ok = None
        event._defused = False
        return event  # type: ignore[no-any-return]

    def timeout(self, delay: float, value: Any = None) -> Timeout:
        """An event that succeeds with ``value`` after ``delay`` seconds."""
        # Timeout.__init__ inline (the most frequent call of any model): a call fewer.
        if not 0 <= delay < _INF:  # also catches NaN
            _bad_delay(delay)
        timeout = _new_timeout(Timeout)
        timeout.sim = self
        timeout._value = value
        timeout._when = self.now + delay
        timeout._serial = next(self._serial)
        return timeout  # type: ignore[no-any-return]

    def process(self, generator: ProcessGenerator, name: str | None = None) -> Process:
        """Start a process from a generator; it runs its first step at the current instant."""
        return Process(self, generator, name)

    def any_of(self, events: Iterable[Event]) -> AnyOf:
        """An event that succeeds when the first of ``events`` succeeds."""
        return AnyOf(self, events)

    def all_of(self, events: Iterable[Event]) -> AllOf:
        """An event that succeeds when all of ``events`` have succeeded."""
        return AllOf(self, events)

    # -- running -------------------------------------------------------------
    def peek(self) -> float:
        """The time of the next scheduled entry, or ``math.inf`` if the agenda is empty."""
        return self._agenda[0][0] if self._agenda else _INF

    @property
    def pending(self) -> int:
        """How many entries are on the agenda (cancelled handles included until reached)."""
        return len(self._agenda)

    def step(self) -> bool:
        """Process the next entry. Returns False if there was nothing to do."""
        agenda = self._agenda
        if not agenda:
            return False
        if self.horizon is not None and agenda[0][0] > self.horizon:
            self._horizon_exceeded(agenda[0][0])
        entry = heapq.heappop(agenda)
        self.now = entry[0]
        self.events_processed += 1
        function = entry[2]
        if function.__class__ is Process:  # a process waiting for a timeout (see Process)
            function._resume(entry[3])
        else:
            function(entry[3])
        return True

    def run(self, until: float | Event | None = None) -> Any:
        """Process entries in time order.

        * ``until=None``: until the agenda is empty;
        * ``until=t`` (seconds): every entry at a time <= ``t``, then the clock reads ``t``;
        * ``until=event``: until that event has been processed; returns its value.

        Raises :class:`BudgetExceeded` after ``max_events`` entries in this call, or
        when virtual time would pass ``horizon``.
        """
        stop_event: Event | None = None
        limit = _INF
        # The loop ends after an entry once ``done`` reaches ``stop_after[0]``: the
        # budget, or 0 once the stop event has been processed (one test per entry).
        stop_after = [self.max_events]
        if isinstance(until, Event):
            stop_event = until
            if stop_event.processed:
                return self._outcome(stop_event)
            stop_event.add_callback(lambda _: stop_after.__setitem__(0, 0))
        elif until is not None:
            if not until >= self.now or until != until:
                raise SchedulingError(
                    f"run(until={until!r}) is in the past: the clock is already at t={self.now!r}"
                )
            limit = until
        horizon = self.horizon if self.horizon is not None else _INF
        limit = min(limit, horizon)
        agenda = self._agenda
        pop = heapq.heappop
        push = heapq.heappush
        done = 0
        try:
            # ``while True`` and not ``while agenda``: CPython 3.11 specialises a function's
            # bytecode after eight calls or unconditional backward jumps. ``while agenda:``
            # ends in a conditional jump (POP_JUMP_BACKWARD_IF_TRUE) that does not count,
            # so the loop ran unspecialised (measured 12% to 2x slower) until run() had
            # been *called* eight times, which a model that calls run() once never does.
            while True:
                if not agenda:
                    break
                entry = pop(agenda)
                when = entry[0]
                if when > limit:
                    push(agenda, entry)
                    if when > horizon and (until is None or stop_event is not None or until > horizon):  # type: ignore[operator]
                        self._horizon_exceeded(when)
                    break
                self.now = when
                process = entry[2]
                if process.__class__ is Process:
                    # A process waiting for a timeout (or to start): the common case of
                    # Process._resume, inline to save a call per event. It resumes the
                    # generator with the timeout's value; if the generator yields a fresh
                    # timeout, the process goes straight back on the agenda with the
                    # timeout's own serial (creation order); if it yields a plain event
                    # that has not been processed, it joins the event's callbacks;
                    # anything else goes through Process._wait and Process._resume.
                    self.active_process = process
                    try:
                        target = process._generator.send(entry[3]._value)  # type: ignore[union-attr]
                    except BaseException as error:  # StopIteration included: it returned
                        process._finish(error)
                    else:
                        if (
                            target.__class__ is Timeout
                            and target._when >= when
                            and (serial := target._serial) is not None
                        ):
                            target._serial = None
                            process._target = entry = [target._when, serial, process, target]
                            push(agenda, entry)
                        elif target.__class__ is Event and target.callbacks is not None:
                            target.callbacks.append(process._resume_cb)  # a plain event, not processed yet
                            process._target = target
                        else:
                            event = process._wait(target)
                            if event is not None:
                                process._resume(event)
                    self.active_process = None
                else:
                    process(entry[3])
                done += 1
                if done >= stop_after[0]:
                    if stop_after[0] and agenda and agenda[0][0] <= limit:  # the budget ran out
                        self._events_exceeded(done)
                    break
        finally:
            self.events_processed += done
        if stop_event is not None:
            if stop_after[0]:  # the stop event was never processed
                raise RuntimeError(
                    f"run(until={stop_event!r}) ran out of things to do before that event happened; "
                    f"nothing was left that could trigger it"
                )
            return self._outcome(stop_event)
        if limit != _INF and self.now < limit:
            self.now = limit
        return None

    @staticmethod
    def _outcome(event: Event) -> Any:
        if event._ok is False:
            event._defused = True
            raise event._value
        return event._value

    def _events_exceeded(self, done: int) -> None:
        raise BudgetExceeded(
            f"simulation stopped at t={self.now:g} after {done:,} events in one run, its max_events budget; "
            f"if the model really needs more, create it with Simulation(max_events=...) larger, "
            f"or run in shorter slices with run(until=...); if not, look for a process or callback "
            f"that keeps rescheduling itself without end",
            budget="max_events",
            limit=self.max_events,
            now=self.now,
        )

    def _horizon_exceeded(self, when: float) -> None:
        raise BudgetExceeded(
            f"simulation stopped at t={self.now:g}: the next entry is at t={when:g}, past the horizon "
            f"of {self.horizon:g} s; raise it with Simulation(horizon=...) or pass horizon=None, "
            f"or run(until=...) a time within it",
            budget="horizon",
            limit=self.horizon if self.horizon is not None else _INF,
            now=self.now,
        )

    # -- observation -----------------------------------------------------------
    def log(self, actor: str, action: str, **details: Any) -> None:
        """Record a trace entry at the current time (a no-op when tracing is off).

        Hot paths should test ``sim.tracing`` first so they do not even build the
        keyword arguments when nobody is listening.
        """
        if self.trace is not None:
            self.trace.record(self.now, actor, action, details)

    def __repr__(self) -> str:
        return f"<Simulation seed={self.seed} t={self.now:g} pending={len(self._agenda)}>"
