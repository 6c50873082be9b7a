"""Synchronous services: pools, timeouts, retries, breakers, bulkheads; the queued dependency."""

from __future__ import annotations

import pytest

from mqlab.coupling import (
    BreakerSettings,
    BreakerState,
    CallPolicy,
    CircuitBreaker,
    LoadGenerator,
    QueuedDependency,
    Service,
    percentile,
)
from mqlab.faults import InvalidParameter, LatencyProfile
from mqlab.patterns import RetryPolicy
from mqlab.sim import Simulation


def _call(sim: Simulation, service: Service) -> list[tuple[float, bool, str]]:
    answers: list[tuple[float, bool, str]] = []
    service.handle(lambda ok, reason: answers.append((sim.now, ok, reason)))
    return answers


def test_a_request_holds_a_thread_for_the_whole_downstream_call():
    """The caller's thread is busy for its own work plus the dependency's latency."""
    sim = Simulation()
    dep = Service(sim, "dep", work_time=0.5)
    caller = Service(sim, "caller", threads=1, work_time=0.1, downstream=dep)
    answers = _call(sim, caller)
    sim.run(until=0.3)
    assert caller.busy == 1
    sim.run()
    assert answers == [(pytest.approx(0.6), True, "ok")] and caller.busy == 0


def test_full_pool_and_queue_reject():
    """With 1 thread and a queue of 1, the third concurrent request is rejected at once."""
    sim = Simulation()
    service = Service(sim, "s", threads=1, queue_size=1, work_time=1.0)
    results = [_call(sim, service) for _ in range(3)]
    sim.run()
    assert [r[0][1:] for r in results] == [(True, "ok"), (True, "ok"), (False, "rejected")]
    assert results[2][0][0] == 0.0 and results[1][0][0] == 2.0


def test_timeout_frees_the_caller_but_the_callee_keeps_working():
    """After a timeout the caller answers with an error; the dependency still finishes the abandoned work."""
    sim = Simulation()
    dep = Service(sim, "dep", work_time=5.0)
    caller = Service(sim, "caller", work_time=0.0, downstream=dep, call=CallPolicy(timeout=1.0))
    answers = _call(sim, caller)
    sim.run()
    assert answers == [(1.0, False, "timeout")]
    assert dep.completions[0].ok and dep.completions[0].latency == 5.0


def test_retries_multiply_the_load_on_a_slow_dependency():
    """Two retries after timeouts send three calls to the dependency for one request."""
    sim = Simulation()
    dep = Service(sim, "dep", work_time=5.0)
    caller = Service(sim, "caller", work_time=0.0, downstream=dep, call=CallPolicy(timeout=1.0, retries=2))
    answers = _call(sim, caller)
    sim.run()
    assert dep.received == 3 and answers == [(3.0, False, "timeout")]


def test_backoff_spaces_the_retries():
    """With a 1 s fixed backoff, the retries start one second after each timeout."""
    sim = Simulation()
    dep = Service(sim, "dep", work_time=5.0)
    caller = Service(sim, "caller", work_time=0.0, downstream=dep,
                     call=CallPolicy(timeout=1.0, retries=2, backoff=RetryPolicy(base=1.0, cap=1.0, jitter="none")))
    answers = _call(sim, caller)
    sim.run()
    assert answers == [(5.0, False, "timeout")]


def test_breaker_opens_after_failures_and_fails_fast():
    """After enough timeouts the breaker opens: calls fail at once as 'circuit_open' without a downstream call."""
    sim = Simulation()
    dep = Service(sim, "dep", work_time=5.0)
    caller = Service(sim, "caller", work_time=0.0, downstream=dep,
                     call=CallPolicy(timeout=0.5, circuit_breaker=BreakerSettings(minimum_calls=3, window=3)))
    for t in range(5):
        sim.call_at(t, caller.handle, lambda ok, reason: None)
    sim.run()
    reasons = [c.reason for c in caller.completions]
    assert reasons == ["timeout", "timeout", "timeout", "circuit_open", "circuit_open"]
    assert dep.received == 3 and caller.breaker.state is BreakerState.OPEN


def test_breaker_half_opens_and_closes_after_successful_trials():
    """Open for open_for seconds, then trial calls; all succeed and it closes."""
    breaker = CircuitBreaker(BreakerSettings(minimum_calls=2, window=2, open_for=10, trial_calls=2))
    breaker.record(0, False)
    breaker.record(0, False)
    assert breaker.state is BreakerState.OPEN and not breaker.allow(5)
    assert breaker.allow(10) and breaker.state is BreakerState.HALF_OPEN
    breaker.record(10, True)
    assert breaker.allow(10)
    breaker.record(10, True)
    assert breaker.state is BreakerState.CLOSED


def test_bulkhead_keeps_threads_for_requests_that_do_not_need_the_dependency():
    """With a bulkhead of 2, only 2 threads wait on the slow dependency; the third asks fails fast."""
    sim = Simulation()
    dep = Service(sim, "dep", work_time=5.0)
    caller = Service(sim, "caller", threads=4, work_time=0.0, downstream=dep, call=CallPolicy(timeout=10, bulkhead=2))
    results = [_call(sim, caller) for _ in range(3)]
    sim.run()
    assert [r[0][2] for r in results] == ["ok", "ok", "bulkhead_full"] and results[2][0][0] == 0.0


def test_outage_refuses_requests():
    """During its outage a service refuses every request as 'unavailable'."""
    sim = Simulation()
    service = Service(sim, "s", outage=(0.0, 1.0))
    assert _call(sim, service) == [(0.0, False, "unavailable")]


def test_queued_dependency_answers_at_publish_and_works_later():
    """The caller gets its answer after the publish latency; the slow work happens behind the queue."""
    sim = Simulation()
    queue = QueuedDependency(sim, workers=1, work_time=LatencyProfile.constant(5.0), publish_latency=0.002)
    caller = Service(sim, "caller", work_time=0.0, downstream=queue)
    answers = [_call(sim, caller) for _ in range(3)]
    sim.run(until=1)
    assert [a[0][0] for a in answers] == [0.002] * 3 and queue.backlog == 2
    sim.run()
    assert queue.processed == 3 and [d for _, d in queue.job_delays] == pytest.approx([5.0, 10.0, 15.0])


def test_queue_workers_down_hold_the_jobs_until_they_return():
    """With the workers down for 10 s, published jobs wait and are processed once they are back."""
    sim = Simulation()
    queue = QueuedDependency(sim, workers=2, work_time=0.1, outage=(0.0, 10.0))
    for _ in range(4):
        queue.handle(lambda ok, reason: None)
    sim.run(until=9)
    assert queue.backlog == 4
    sim.run()
    assert queue.processed == 4 and queue.job_delays[-1][0] == pytest.approx(10.2)


def test_load_generator_is_deterministic_and_rate_shaped():
    """Poisson arrivals at 100/s for 10 s send about 1000 requests, the same number for the same seed."""
    def sent(seed):
        sim = Simulation(seed=seed)
        load = LoadGenerator(sim, Service(sim, "s", threads=1000, work_time=0.0), 100, 10)
        sim.run()
        return load.sent

    assert sent(1) == sent(1) and 900 < sent(1) < 1100


def test_percentile_nearest_rank():
    """p50 of 1..10 is 5, p99 is 10, and no values give NaN."""
    assert (percentile(range(1, 11), 50), percentile(range(1, 11), 99)) == (5, 10)
    assert percentile([], 50) != percentile([], 50)


def test_bad_service_parameters_are_refused():
    """Zero threads, negative timeouts and bad outages are refused with the parameter named."""
    sim = Simulation()
    with pytest.raises(InvalidParameter, match="threads"):
        Service(sim, "s", threads=0)
    with pytest.raises(InvalidParameter, match="timeout"):
        CallPolicy(timeout=-1)
    with pytest.raises(InvalidParameter, match="outage"):
        Service(sim, "s", outage=5)  # type: ignore[arg-type]
