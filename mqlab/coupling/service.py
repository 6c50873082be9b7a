"""Services that call each other synchronously, each with a fixed-size thread pool.

A :class:`Service` takes a request on one of its ``threads``; if all are busy
the request waits in an accept queue of ``queue_size`` places (Tomcat calls
these ``maxThreads``, default 200, and ``acceptCount``, default 100) and is
rejected when that is full too. A thread does the service's own work
(``work_time``), then, for a share of requests, calls its ``downstream``
service and *holds the thread while it waits*. That is the whole mechanism of
the cascade: when the dependency goes from 50 ms to 5 s, each thread is held
100 times longer, the pool fills, the queue fills, and the caller starts
failing its own callers, who hold *their* threads waiting for it.

The :class:`CallPolicy` of a caller sets its timeout, its retries (immediate or
with a :class:`~mqlab.patterns.backoff.RetryPolicy`) and the mitigations:

* a timeout shorter than its own caller's, so it gives up before it is given up on;
* a :class:`~mqlab.coupling.breaker.CircuitBreaker` that fails fast while the
  dependency is failing;
* a bulkhead: at most ``bulkhead`` threads may wait on this dependency at
  once, so requests that do not need it keep their threads.

A caller that times out stops waiting, but the callee does not know: it keeps
working on the abandoned request, and a retry adds one more. That is how
timeouts and retries feed the overload.

An ``outage`` window makes a service refuse every request (connection
refused), to show decoupling in availability. Simplifications: no network
latency between services, threads are the only resource (no CPU contention),
rejected requests cost nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mqlab.coupling.breaker import BreakerSettings, CircuitBreaker
from mqlab.faults.checks import check_count, check_duration, check_probability
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.slow import LatencyProfile
from mqlab.patterns.backoff import RetryPolicy

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = ["CallPolicy", "Completion", "Downstream", "Service"]

Done = Callable[[bool, str], None]


@dataclass(frozen=True)
class CallPolicy:
    """How a service calls its dependency: ``timeout`` (None: wait forever), retries and mitigations."""

    timeout: float | None = 1.0
    retries: int = 0
    backoff: RetryPolicy | None = None
    circuit_breaker: BreakerSettings | None = None
    bulkhead: int | None = None

    def __post_init__(self) -> None:
        if self.timeout is not None:
            check_duration("timeout", self.timeout, allow_zero=False)
        check_count("retries", self.retries)
        if self.backoff is not None and not isinstance(self.backoff, RetryPolicy):
            raise InvalidParameter(f"backoff must be a RetryPolicy or None, got {self.backoff!r}")
        if self.circuit_breaker is not None and not isinstance(self.circuit_breaker, BreakerSettings):
            raise InvalidParameter(f"circuit_breaker must be BreakerSettings or None, got {self.circuit_breaker!r}")
        if self.bulkhead is not None:
            check_count("bulkhead", self.bulkhead, minimum=1)


class Downstream:
    """Anything a service can call: ``handle(done)`` answers later with ``done(ok, reason)``."""

    name: str

    def handle(self, done: Done) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Completion:
    """One request answered by a service: when it arrived, how long it took, and how it ended."""

    arrived: float
    latency: float
    ok: bool
    reason: str


@dataclass
class _Request:
    arrived: float
    done: Done
    attempt: int = 0
    answered: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Service(Downstream):
    """A service with a pool of ``threads`` and an accept queue; see the module docstring.

    Reasons a request can end with: ``ok``, ``rejected`` (pool and queue full),
    ``unavailable`` (outage), ``timeout`` / ``downstream_error`` (the call to
    the dependency failed after its retries), ``circuit_open``, ``bulkhead_full``.
    Invariant: ``0 <= busy <= threads``.
    """

    def __init__(
        self,
        sim: Simulation,
        name: str,
        *,
        threads: int = 10,
        queue_size: int = 0,
        work_time: LatencyProfile | float = 0.005,
        downstream: Downstream | None = None,
        call: CallPolicy | None = None,
        dependency_share: float = 1.0,
        outage: tuple[float, float] | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.threads = check_count("threads", threads, minimum=1)
        self.queue_size = check_count("queue_size", queue_size)
        if not isinstance(work_time, LatencyProfile):
            work_time = LatencyProfile.constant(check_duration("work_time", work_time))
        self.work_time = work_time
        self.downstream = downstream
        self.call = call if call is not None else CallPolicy()
        self.dependency_share = check_probability("dependency_share", dependency_share)
        if outage is not None:
            if not (isinstance(outage, tuple) and len(outage) == 2):
                raise InvalidParameter(f"outage must be a (start, end) tuple of seconds or None, got {outage!r}")
            check_duration("outage start", outage[0])
            check_duration("outage end", outage[1])
        self.outage = outage
        self.breaker = CircuitBreaker(self.call.circuit_breaker) if self.call.circuit_breaker else None
        self._rng = sim.substream(f"service:{name}")
        self._waiting: deque[_Request] = deque()
        self.busy = 0
        self.waiting_on_downstream = 0
        self.max_busy = 0
        self.received = 0
        self.downstream_calls = 0
        self.completions: list[Completion] = []
        self._busy_since = 0.0
        self._busy_area = 0.0

    # -- entry --------------------------------------------------------------------------
    def handle(self, done: Done) -> None:
        now = self.sim.now
        self.received += 1
        if self.outage is not None and self.outage[0] <= now < self.outage[1]:
            self.completions.append(Completion(now, 0.0, False, "unavailable"))
            done(False, "unavailable")
            return
        request = _Request(now, done)
        if self.busy < self.threads:
            self._start(request)
        elif len(self._waiting) < self.queue_size:
            self._waiting.append(request)
        else:
            self.completions.append(Completion(now, 0.0, False, "rejected"))
            done(False, "rejected")

    def _set_busy(self, delta: int) -> None:
        now = self.sim.now
        self._busy_area += self.busy * (now - self._busy_since)
        self._busy_since = now
        self.busy += delta
        if self.busy > self.max_busy:
            self.max_busy = self.busy

    def _start(self, request: _Request) -> None:
        self._set_busy(+1)
        self.sim.call_later(self.work_time.sample(self.sim.now, self._rng), self._after_work, request)

    def _after_work(self, request: _Request) -> None:
        if self.downstream is None or (self.dependency_share < 1.0 and self._rng.random() >= self.dependency_share):
            self._finish(request, True, "ok")
            return
        self._call(request)

    # -- the call to the dependency ---------------------------------------------------------
    def _call(self, request: _Request) -> None:
        now = self.sim.now
        policy = self.call
        if policy.bulkhead is not None and self.waiting_on_downstream >= policy.bulkhead:
            self._finish(request, False, "bulkhead_full")
            return
        if self.breaker is not None and not self.breaker.allow(now):
            self._finish(request, False, "circuit_open")
            return
        request.attempt += 1
        self.downstream_calls += 1
        self.waiting_on_downstream += 1
        call = [False, None]  # [settled, timeout handle]
        if policy.timeout is not None:
            call[1] = self.sim.call_later(policy.timeout, self._timed_out, (request, call))
        self.downstream.handle(lambda ok, reason: self._answered(request, call, ok, reason))  # type: ignore[union-attr]

    def _answered(self, request: _Request, call: list[Any], ok: bool, reason: str) -> None:
        if call[0]:
            return  # the caller gave up already; the callee's work was wasted
        call[0] = True
        if call[1] is not None:
            call[1].cancel()
        self.waiting_on_downstream -= 1
        if self.breaker is not None:
            self.breaker.record(self.sim.now, ok)
        if ok:
            self._finish(request, True, "ok")
        else:
            self._retry_or_fail(request, "downstream_error")

    def _timed_out(self, item: tuple[_Request, list[Any]]) -> None:
        request, call = item
        if call[0]:
            return
        call[0] = True
        self.waiting_on_downstream -= 1
        if self.breaker is not None:
            self.breaker.record(self.sim.now, False)
        self._retry_or_fail(request, "timeout")

    def _retry_or_fail(self, request: _Request, reason: str) -> None:
        policy = self.call
        if request.attempt <= policy.retries:
            delay = 0.0 if policy.backoff is None else policy.backoff.delay(request.attempt, self._rng)
            self.sim.call_later(delay, self._call, request)
            return
        self._finish(request, False, reason)

    # -- answering ---------------------------------------------------------------------------
    def _finish(self, request: _Request, ok: bool, reason: str) -> None:
        now = self.sim.now
        self.completions.append(Completion(request.arrived, now - request.arrived, ok, reason))
        self._set_busy(-1)
        request.done(ok, reason)
        if self._waiting and self.busy < self.threads:
            self._start(self._waiting.popleft())

    @property
    def queued(self) -> int:
        return len(self._waiting)

    def busy_seconds(self) -> float:
        """Thread-seconds used so far (the area under the busy-threads curve)."""
        return self._busy_area + self.busy * (self.sim.now - self._busy_since)
