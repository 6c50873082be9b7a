"""Exercises of notebook 01, decoupling.

* ``01.call-policy``: choose checkout's timeout, retries and breaker for its call to inventory so
  that the front service (web) stays healthy while inventory is slow, without hammering inventory.
* ``01.bulkhead``: give checkout a bulkhead so that the requests that never call inventory keep
  succeeding while inventory is slow.
* ``01.backlog-forecast``: predict, from the flow balance behind Little's law, how many orders a
  queue holds at the end of a 10-minute slowdown and how long it takes to drain afterwards.

The first two checkers build the chain of :mod:`mqlab.scenarios.cascade` (web → checkout →
inventory, inventory slow from 50 ms to 5 s for 20 s) from :mod:`mqlab.coupling` with the
learner's :class:`~mqlab.coupling.CallPolicy` on checkout. The third runs a
:class:`~mqlab.coupling.QueuedDependency` fed by Poisson arrivals and compares the learner's
forecast with what the queue did.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mqlab.coupling import BreakerSettings, CallPolicy, LoadGenerator, QueuedDependency, Service
from mqlab.coupling.service import Done, Downstream
from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.faults import LatencyProfile
from mqlab.patterns import RetryPolicy
from mqlab.sim import Simulation

__all__ = ["backlog_forecast", "inventory_bulkhead", "inventory_call_policy"]

# The chain of the lesson (the defaults of mqlab.scenarios.cascade).
RATE = 40.0
DURATION = 60.0
SLOW_FROM, SLOW_UNTIL = 15.0, 35.0
NORMAL, SLOW = 0.05, 5.0
WEB_THREADS, CHECKOUT_THREADS, QUEUE_SIZE = 40, 20, 20
MAX_LOAD_FACTOR = 1.5  # inventory calls per accepted checkout request while inventory is slow
MAX_HEALTHY_FAILURES = 0.01  # share of requests that may fail while inventory is healthy


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _raised(misconception: str, function: str, error: BaseException) -> Verdict:
    return failed(
        misconception,
        f"{function} raised {_error_text(error)}",
        "read the exception: it names the parameter and the rule it broke",
        f"{function} must return a value without raising; run it by hand in a cell to see the traceback",
    )


# -- 01.call-policy ----------------------------------------------------------------------------------------


def inventory_call_policy(caller_timeout: float) -> CallPolicy:
    """How checkout calls inventory, given how long web (checkout's caller) waits for checkout."""
    # Inventory normally answers in 50 ms: a quarter of a second is plenty for a healthy call.
    # And give up well before the caller gives up on us: even if every attempt times out, the
    # attempts plus the pause between them must fit inside the caller's timeout.
    timeout = min(0.25, caller_timeout / 4)
    return CallPolicy(
        timeout=timeout,
        retries=1,  # one retry covers a blip; more would multiply the load on a struggling service
        backoff=RetryPolicy(base=0.05, cap=timeout, jitter="full"),  # wait a random moment before retrying
        circuit_breaker=BreakerSettings(),  # stop calling while most calls fail, probe again later
    )


class _Counted(Downstream):
    """Passes calls through to ``target`` and notes when each arrived."""

    def __init__(self, sim: Simulation, target: Downstream) -> None:
        self.sim = sim
        self.target = target
        self.name = getattr(target, "name", "dependency")
        self.arrivals: list[float] = []

    def handle(self, done: Done) -> None:
        self.arrivals.append(self.sim.now)
        self.target.handle(done)


@dataclass(frozen=True)
class _ChainRun:
    web: Service
    checkout: Service
    calls: tuple[float, ...]


def _chain(policy: CallPolicy, *, caller_timeout: float, seed: int, threads: int = CHECKOUT_THREADS,
           share: float = 1.0) -> _ChainRun:
    """web → checkout (``policy``) → inventory, inventory slow between SLOW_FROM and SLOW_UNTIL."""
    sim = Simulation(seed=seed)
    latency = LatencyProfile.step(NORMAL, SLOW, SLOW_FROM, SLOW_UNTIL)
    inventory = _Counted(sim, Service(sim, "inventory", threads=200, queue_size=10_000, work_time=latency))
    checkout = Service(sim, "checkout", threads=threads, queue_size=QUEUE_SIZE, downstream=inventory,
                       call=policy, dependency_share=share)
    web = Service(sim, "web", threads=WEB_THREADS, queue_size=QUEUE_SIZE, downstream=checkout,
                  call=CallPolicy(timeout=caller_timeout))
    LoadGenerator(sim, web, RATE, DURATION)
    sim.run(until=DURATION + 30)
    return _ChainRun(web, checkout, tuple(inventory.arrivals))


def _healthy(time: float) -> bool:
    """Inventory answers at its normal speed, and calls made during the slowdown are over (+6 s)."""
    return time < SLOW_FROM or SLOW_UNTIL + 6 <= time < DURATION


def _worst_case(policy: CallPolicy) -> float:
    if policy.timeout is None:
        return math.inf
    pauses = sum(policy.backoff.ceiling(n) for n in range(1, policy.retries + 1)) if policy.backoff else 0.0
    return (policy.retries + 1) * policy.timeout + pauses


def check_call_policy(inventory_call_policy: Callable[[float], Any], *, seed: int = 1) -> Verdict:
    """Web waits ``caller_timeout`` (3 s, then 1.5 s) for checkout; inventory slows from 50 ms to 5 s for 20 s.

    Healthy means: web never times out and never rejects (pool and accept queue full), fewer than 1 % of
    requests fail while inventory is fast, and while it is slow inventory gets at most 1.5 calls per
    request checkout accepted (retries must not multiply the load on a struggling service).
    """
    for caller_timeout in (3.0, 1.5):
        try:
            policy = inventory_call_policy(caller_timeout)
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:  # the learner's code: report it, do not crash
            return _raised("policy-raised", "inventory_call_policy", error)
        if not isinstance(policy, CallPolicy):
            return failed(
                "not-a-policy",
                f"inventory_call_policy({caller_timeout}) returned {policy!r}, not a CallPolicy",
                "return CallPolicy(timeout=..., retries=..., ...)",
                "for example: return CallPolicy(timeout=caller_timeout / 4, retries=0)",
            )
        run = _chain(policy, caller_timeout=caller_timeout, seed=seed)
        web, checkout = run.web, run.checkout
        web_timeouts = sum(1 for c in web.completions if c.reason == "timeout")
        if policy.timeout is None and web_timeouts:
            return failed(
                "no-timeout",
                f"with no timeout, checkout held a thread for as long as inventory took (5 s); web gave up on "
                f"{web_timeouts} requests after its {caller_timeout:g} s",
                "a call without a timeout lasts as long as the slowest answer; give the call a timeout",
                "a timeout well under the caller's, for example caller_timeout / 4, frees checkout's thread in time",
            )
        if web_timeouts:
            return failed(
                "timeout-longer-than-caller",
                f"web timed out on {web_timeouts} requests while checkout was still waiting for inventory: "
                f"checkout's worst case is {_worst_case(policy):.2f} s ((retries + 1) × timeout + backoff) "
                f"against web's {caller_timeout:g} s",
                "the caller gives up first, so checkout's answer arrives after nobody is listening; shorten the "
                "budget",
                "make (retries + 1) × timeout plus every backoff pause fit inside caller_timeout, with a margin",
            )
        healthy = [c for c in checkout.completions if _healthy(c.arrived + c.latency)]
        healthy_failures = sum(1 for c in healthy if not c.ok)
        if healthy and healthy_failures > MAX_HEALTHY_FAILURES * len(healthy):
            return failed(
                "timeout-too-short",
                f"{healthy_failures} of {len(healthy)} checkout requests failed while inventory answered in its "
                f"normal {NORMAL * 1000:.0f} ms (timeout {policy.timeout:g} s)",
                "a timeout must leave room for the dependency's normal answers",
                f"inventory normally answers in {NORMAL * 1000:.0f} ms: a timeout of a few hundred ms is short "
                "enough to protect web and long enough for healthy calls",
            )
        accepted = sum(1 for c in checkout.completions
                       if SLOW_FROM <= c.arrived < SLOW_UNTIL and c.reason != "rejected")
        calls = sum(1 for t in run.calls if SLOW_FROM <= t < SLOW_UNTIL)
        factor = calls / accepted if accepted else 0.0
        if factor > MAX_LOAD_FACTOR and policy.retries and policy.backoff is None:
            return failed(
                "retries-without-backoff",
                f"while inventory was slow it received {calls} calls for {accepted} requests checkout accepted "
                f"({factor:.1f} calls each): every timeout was retried at once",
                "an immediate retry to a slow service arrives while it is still busy with the abandoned call",
                "retry less, wait a random, growing pause between attempts (RetryPolicy), and add a circuit breaker "
                "so retries stop while most calls fail",
            )
        if factor > MAX_LOAD_FACTOR:
            return failed(
                "retries-multiply-load",
                f"while inventory was slow it received {calls} calls for {accepted} requests checkout accepted "
                f"({factor:.1f} calls each), although the retries waited first",
                "backoff spreads retries out but does not make them fewer; what stops them while the dependency "
                "is failing?",
                "add circuit_breaker=BreakerSettings(): once half the recent calls fail, calls fail fast for a "
                "while instead of going to inventory",
            )
        web_rejected = sum(1 for c in web.completions if c.reason == "rejected")
        if web_rejected:
            return failed(
                "pool-still-fills",
                f"web's pool filled ({web.max_busy} of {web.threads} threads busy, {web_rejected} rejected) "
                f"with checkout's timeout at {policy.timeout:g} s",
                "each second of waiting holds a thread: requests per second × seconds held = threads in use",
                f"at {RATE:g} requests/s, checkout's {CHECKOUT_THREADS} threads last only if each call is "
                "held for well under half a second, or if a circuit breaker makes the calls fail fast",
            )
    return passed(
        f"web stayed healthy with a {caller_timeout:g} s and a 3 s caller timeout: no timeouts or rejections at "
        f"web, at most {web.max_busy} of its {web.threads} threads busy, and inventory got {factor:.2f} calls per "
        "accepted request while it was slow"
    )


# -- 01.bulkhead -------------------------------------------------------------------------------------------


def inventory_bulkhead(threads: int) -> int | None:
    """How many of checkout's ``threads`` may wait on inventory at once (None: no limit)."""
    # Keep the other threads free for the requests that never call inventory.
    # Inventory's normal traffic needs about 1 thread (20 calls/s x 50 ms), with bursts
    # of 4 or 5: never go below that, or healthy calls are turned away.
    return max(5, threads // 2)


CALL_TIMEOUT = 2.0  # the timeout checkout keeps on inventory in 01.bulkhead


def check_bulkhead(inventory_bulkhead: Callable[[int], Any], *, seed: int = 2) -> Verdict:
    """Checkout (20, then 30 threads) serves 40 requests/s; half need inventory, which slows to 5 s for 20 s.

    Checkout waits up to 2 s for inventory. Passes when checkout rejects no request (so every request
    that does not need inventory succeeds) and, while inventory is healthy, at most 1 % of the requests
    that need it are turned away by the bulkhead.
    """
    for threads in (CHECKOUT_THREADS, 30):
        try:
            bulkhead = inventory_bulkhead(threads)
            policy = CallPolicy(timeout=CALL_TIMEOUT, bulkhead=bulkhead)
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:  # the learner's code, or a bulkhead CallPolicy refuses
            return _raised("bulkhead-raised", "inventory_bulkhead", error)
        run = _chain(policy, caller_timeout=3.0, seed=seed, threads=threads, share=0.5)
        completions = run.checkout.completions
        rejected = sum(1 for c in completions if c.reason == "rejected")
        if rejected:
            observed = (f"with {threads} threads, checkout's pool and queue filled while inventory was slow and it "
                        f"rejected {rejected} requests, including ones that never needed inventory")
            if policy.bulkhead is None:
                return failed(
                    "no-bulkhead", observed,
                    "every thread can end up waiting on inventory; cap how many may",
                    "return a number n: at most n threads then wait on inventory at once, and the calls beyond "
                    "fail fast with 'bulkhead_full' instead of taking the last free threads",
                )
            if policy.bulkhead >= threads:
                return failed(
                    "bulkhead-as-big-as-pool", observed + f" (bulkhead {policy.bulkhead} ≥ {threads} threads)",
                    "a bulkhead as large as the pool walls off nothing",
                    "keep the bulkhead well below the pool size, for example half of it",
                )
            return failed(
                "bulkhead-too-large", observed + f" (bulkhead {policy.bulkhead} of {threads} threads)",
                "the threads outside the bulkhead were not enough for everything else",
                "leave more threads outside the bulkhead, for example half the pool",
            )
        needing = [c for c in completions if _healthy(c.arrived + c.latency) and c.latency >= NORMAL]
        walled = [c for c in completions if _healthy(c.arrived + c.latency) and c.reason == "bulkhead_full"]
        attempts = len(needing) + len(walled)
        if attempts and len(walled) > MAX_HEALTHY_FAILURES * attempts:
            return failed(
                "bulkhead-too-small",
                f"with {threads} threads and a bulkhead of {policy.bulkhead}, {len(walled)} of {attempts} requests "
                "that needed inventory failed with 'bulkhead_full' while inventory was healthy",
                "random arrivals bunch up: even at 50 ms, several calls to inventory overlap now and then",
                f"{RATE / 2:g} calls/s × {NORMAL:g} s = {RATE / 2 * NORMAL:g} call in progress on average, but "
                "bursts reach 4 or 5: leave room for them (5 or more)",
            )
    walled_slow = sum(1 for c in completions if c.reason == "bulkhead_full")
    return passed(
        f"checkout rejected nothing with 20 or 30 threads: requests that never call inventory all succeeded, "
        f"while {walled_slow} that needed slow inventory failed fast with 'bulkhead_full' (last run)"
    )


# -- 01.backlog-forecast -----------------------------------------------------------------------------------


def backlog_forecast(arrival_rate: float, normal_rate: float, slow_rate: float,
                     slow_seconds: float) -> tuple[float, float]:
    """(messages waiting when the slowdown ends, seconds to drain them afterwards)."""
    # While the consumers are slow, the queue gains what arrives minus what they manage.
    growth = max(0.0, arrival_rate - slow_rate)
    backlog = growth * slow_seconds
    # Afterwards it shrinks only by the spare capacity: new orders keep arriving meanwhile.
    spare = normal_rate - arrival_rate
    drain_seconds = backlog / spare
    return backlog, drain_seconds


@dataclass(frozen=True)
class _Case:
    arrival_rate: float
    workers: int
    normal_time: float
    slow_time: float
    slow_seconds: float = 600.0

    @property
    def normal_rate(self) -> float:
        return self.workers / self.normal_time

    @property
    def slow_rate(self) -> float:
        return self.workers / self.slow_time


CASES = (_Case(20.0, 10, 0.1, 1.0), _Case(30.0, 8, 0.05, 0.5))
CALM = _Case(20.0, 10, 0.1, 0.4)  # slow consumers still keep up: 25/s against 20/s


def measure_backlog(case: _Case, *, seed: int = 3, start: float = 60.0) -> tuple[int, float]:
    """Run the queue: (backlog when the slowdown ends, seconds from then until the backlog is back to ~0)."""
    sim = Simulation(seed=seed)
    end = start + case.slow_seconds
    queue = QueuedDependency(sim, "orders", workers=case.workers,
                             work_time=LatencyProfile.step(case.normal_time, case.slow_time, start, end))
    LoadGenerator(sim, queue, case.arrival_rate, end + 3 * case.slow_seconds)
    sim.run(until=end)
    at_end = queue.backlog
    while queue.backlog > case.workers and sim.now < end + 3 * case.slow_seconds:
        sim.run(until=sim.now + 0.5)
    return at_end, sim.now - end


def _close(value: float, target: float, tolerance: float = 0.1, floor: float = 0.0) -> bool:
    return abs(value - target) <= max(tolerance * abs(target), floor)


def check_backlog_forecast(backlog_forecast: Callable[..., Any], *, seed: int = 3) -> Verdict:
    """Two 10-minute slowdowns of a queue's consumers are simulated; the forecast must be within 10 %.

    A third case, where the slow consumers still keep up, must forecast no backlog.
    """
    results = []
    for case in (*CASES, CALM):
        try:
            answer = backlog_forecast(case.arrival_rate, case.normal_rate, case.slow_rate, case.slow_seconds)
            backlog, drain = (float(answer[0]), float(answer[1]))
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:  # the learner's code, or an answer that is not two numbers
            return _raised("forecast-raised", "backlog_forecast", error)
        results.append((case, backlog, drain))
    for case, backlog, drain in results[:2]:
        measured, drained = measure_backlog(case, seed=seed)
        where = (f"arrivals {case.arrival_rate:g}/s, consumers {case.normal_rate:g}/s normally and "
                 f"{case.slow_rate:g}/s for {case.slow_seconds / 60:g} minutes")
        if not _close(backlog, measured):
            if _close(backlog, case.arrival_rate * case.slow_seconds):
                return failed(
                    "arrival-rate-not-difference",
                    f"{where}: you forecast {backlog:,.0f} waiting, the queue held {measured:,}",
                    "the slow consumers still take some messages off the queue",
                    "the backlog grows by (arrival rate − slow consumer rate) every second of the slowdown",
                )
            return failed(
                "backlog-off",
                f"{where}: you forecast {backlog:,.0f} waiting, the queue held {measured:,}",
                "what goes in minus what comes out stays in: how many more arrive than leave, per second?",
                "backlog = (arrival rate − slow consumer rate) × seconds of slowdown",
            )
        if not _close(drain, drained, floor=2.0):
            if backlog > 0 and _close(drain, backlog / case.normal_rate, 0.03):
                return failed(
                    "drain-uses-full-capacity",
                    f"{where}: you forecast {drain:,.0f} s to drain, the queue took {drained:,.0f} s",
                    "while the backlog drains, new orders keep arriving and take their share of the consumers",
                    "only the spare capacity, normal consumer rate − arrival rate, works the backlog down",
                )
            return failed(
                "drain-off",
                f"{where}: you forecast {drain:,.0f} s to drain, the queue took {drained:,.0f} s",
                "after the slowdown, by how much per second does the queue shrink?",
                "drain time = backlog / (normal consumer rate − arrival rate)",
            )
    _, calm_backlog, _ = results[2]
    if not 0 <= calm_backlog <= 50:
        return failed(
            "negative-backlog" if calm_backlog < 0 else "backlog-when-keeping-up",
            f"consumers slowed to {CALM.slow_rate:g}/s against {CALM.arrival_rate:g}/s arriving still keep up, "
            f"but you forecast a backlog of {calm_backlog:,.0f}",
            "a queue cannot hold fewer than zero messages, and consumers that keep up leave almost none",
            "when the slow rate is at least the arrival rate, the growth is zero: max(0, arrival − slow)",
        )
    return passed(
        "your forecasts matched the simulated queue within 10 % in both slowdowns "
        f"(for example {results[0][1]:,.0f} waiting, drained in {results[0][2]:,.0f} s), and a slowdown the "
        "consumers can absorb leaves no backlog"
    )


CALL_POLICY = register(Exercise(
    "01.call-policy", "A timeout and retry policy that keeps the front service healthy",
    check_call_policy, inventory_call_policy, handle="exercise_policy",
))
BULKHEAD = register(Exercise(
    "01.bulkhead", "A bulkhead for the requests that do not need inventory",
    check_bulkhead, inventory_bulkhead, handle="exercise_bulkhead",
))
BACKLOG = register(Exercise(
    "01.backlog-forecast", "How big the backlog gets and how long it takes to drain",
    check_backlog_forecast, backlog_forecast, handle="exercise_backlog",
))
