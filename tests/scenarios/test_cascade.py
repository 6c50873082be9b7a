"""The cascade scenario: synchronous coupling spreads a slowdown upstream; a queue absorbs it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter
from mqlab.scenarios import cascade


@pytest.fixture(scope="module")
def result():
    return cascade(seed=3)


def _window(metrics, series, start, end):
    return [v for t, v in zip(metrics.times, getattr(metrics, series)) if start <= t < end]


def test_sync_caller_pool_saturates_and_its_errors_rise_when_the_dependency_slows(result):
    """Sync: checkout's pool fills up during the slowdown and it starts failing; before, it made no errors."""
    checkout = result.sync.service("checkout")
    assert checkout.max_busy == checkout.threads
    assert sum(_window(checkout, "error_rate", 0, result.slow_from)) == 0
    assert sum(_window(checkout, "error_rate", result.slow_from, result.slow_until + 5)) > 0


def test_sync_failure_travels_up_to_the_healthy_front_service(result):
    """Sync: web does nothing slow itself, yet its pool fills and its errors rise during the slowdown."""
    web = result.sync.service("web")
    assert web.max_busy == web.threads
    assert sum(_window(web, "error_rate", 0, result.slow_from)) == 0
    assert sum(_window(web, "error_rate", result.slow_from, result.slow_until + 5)) > 100
    assert result.sync.client_errors > 0


def test_sync_timeouts_leave_abandoned_work_on_the_dependency(result):
    """Callers that gave up still cost the dependency threads: inventory runs more calls than checkout answered ok."""
    assert result.sync.service("inventory").requests > result.sync.service("checkout").ok


def test_queue_keeps_the_producer_latency_flat_and_error_free(result):
    """Queue: web and checkout answer fast all through the slowdown and make no errors."""
    for name in ("web", "checkout"):
        metrics = result.queue.service(name)
        assert metrics.errors == 0 and metrics.p99 < 0.1
    assert result.queue.client_errors == 0


def test_queue_backlog_grows_during_the_slowdown_then_drains(result):
    """Queue: the backlog is empty before, peaks inside the slow window, and is drained by the end."""
    run = result.queue
    before = [b for t, b in zip(run.times, run.backlog) if t < result.slow_from]
    peak_time = run.times[run.backlog.index(max(run.backlog))]
    assert max(before) < 5 and run.max_backlog > 100
    assert result.slow_from <= peak_time <= result.slow_until + 1
    assert run.final_backlog == 0 and run.job_delay_p99 > 1.0


def test_short_timeouts_and_a_breaker_stop_the_cascade():
    """With a timeout shorter than the caller's, no retries and a circuit breaker, web's pool never fills."""
    mitigated = cascade(seed=3, timeout=0.5, retries=0, circuit_breaker=True).sync
    web = mitigated.service("web")
    assert web.max_busy < web.threads and "rejected" not in web.errors_by_reason
    assert mitigated.service("checkout").errors_by_reason.get("circuit_open", 0) > 0
    assert web.p99 < 1.0


def test_bulkhead_protects_requests_that_do_not_need_the_dependency():
    """Half of checkout's requests need inventory; a bulkhead of 5 keeps the other half succeeding."""
    plain = cascade(seed=1, dependency_share=0.5).sync.service("checkout")
    walled = cascade(seed=1, dependency_share=0.5, bulkhead=5).sync.service("checkout")
    assert walled.errors_by_reason.get("rejected", 0) < plain.errors_by_reason.get("rejected", 0)
    assert walled.ok > plain.ok


@settings(max_examples=10)
@given(seed=st.integers(0, 2**20))
def test_cascade_shape_holds_for_any_seed(seed):
    """For any seed: sync saturates checkout and fails web; the queue run has no errors and drains."""
    r = cascade(seed=seed, duration=30, slow_from=8, slow_until=18)
    assert r.sync.service("checkout").max_busy == r.sync.service("checkout").threads
    assert r.sync.service("web").errors > 0
    assert r.queue.service("web").errors == 0 and r.queue.final_backlog == 0


def test_same_seed_same_result():
    """The scenario is deterministic."""
    assert cascade(seed=5, duration=20, slow_from=5, slow_until=10) == cascade(
        seed=5, duration=20, slow_from=5, slow_until=10
    )


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(rate=0), "rate"), (dict(slow_from=10, slow_until=5), "slow_until"), (dict(web_threads=0), "web_threads"),
     (dict(timeout=-1), "timeout"), (dict(dependency_share=2), "dependency_share")],
)
def test_bad_parameters_are_refused(kwargs, name):
    """Each bad parameter is refused with its name in the message."""
    with pytest.raises(InvalidParameter, match=name):
        cascade(**kwargs)


def test_retries_feed_the_overload():
    """Retrying timed-out calls sends more calls to the slow dependency than not retrying."""
    plain = cascade(seed=4, retries=0).sync.service("inventory").requests
    retried = cascade(seed=4, retries=2).sync.service("inventory").requests
    assert retried > plain


def test_progress_bar_runs_when_asked():
    """progress=True shows a bar (tqdm) and gives the same result as without it."""
    small = dict(seed=1, duration=10, slow_from=2, slow_until=5)
    assert cascade(progress=True, **small) == cascade(**small)
