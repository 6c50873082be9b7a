"""Notebook 01's checkers: each passes its reference solution, reports an untouched stub as not attempted,
and names the misconception behind each typical wrong answer."""

from __future__ import annotations

import pytest

from mqlab.coupling import BreakerSettings, CallPolicy
from mqlab.exercises import Status, get, todo
from mqlab.exercises import nb01_decoupling as nb01
from mqlab.patterns import RetryPolicy


def _verdict(key, fn):
    return get(key).run_checker(fn)


@pytest.mark.parametrize("key, reference", [
    ("01.call-policy", nb01.inventory_call_policy),
    ("01.bulkhead", nb01.inventory_bulkhead),
    ("01.backlog-forecast", nb01.backlog_forecast),
])
def test_reference_solution_passes(key, reference):
    """The reference solution of each exercise passes its own checker."""
    verdict = _verdict(key, reference)
    assert verdict.status is Status.PASSED, verdict


@pytest.mark.parametrize("key", ["01.call-policy", "01.bulkhead", "01.backlog-forecast"])
def test_untouched_stub_is_not_attempted(key):
    """A stub that still calls todo() is 'not attempted yet', whatever its arguments."""
    def stub(*args):
        todo()

    assert _verdict(key, stub).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize("policy, misconception", [
    (lambda caller: CallPolicy(timeout=caller * 2, retries=0), "timeout-longer-than-caller"),
    (lambda caller: CallPolicy(timeout=caller / 2, retries=1), "timeout-longer-than-caller"),
    (lambda caller: CallPolicy(timeout=None, retries=0), "no-timeout"),
    (lambda caller: CallPolicy(timeout=caller / 8, retries=2), "retries-without-backoff"),
    (lambda caller: CallPolicy(timeout=caller / 8, retries=2, backoff=RetryPolicy(base=0.05, cap=0.1)),
     "retries-multiply-load"),
    (lambda caller: CallPolicy(timeout=0.01, circuit_breaker=BreakerSettings()), "timeout-too-short"),
    (lambda caller: CallPolicy(timeout=0.8, retries=0), "pool-still-fills"),
    (lambda caller: {"timeout": 0.25}, "not-a-policy"),
    (lambda caller: CallPolicy(timeout=-caller), "policy-raised"),
])
def test_call_policy_wrong_answers_get_their_own_hint(policy, misconception):
    """Each typical wrong call policy is diagnosed by what it did to web, checkout or inventory."""
    verdict = _verdict("01.call-policy", policy)
    assert verdict.status is Status.FAILED and verdict.misconception == misconception, verdict
    assert verdict.hints


def test_short_timeout_without_retries_is_a_valid_answer():
    """Failing fast with a short timeout and no retries keeps web healthy too: the check accepts it."""
    assert _verdict("01.call-policy", lambda caller: CallPolicy(timeout=0.3, retries=0)).passed


def test_caller_timeout_first_message_names_the_budget():
    """The 'caller times out first' message states checkout's worst case against the caller's timeout."""
    verdict = _verdict("01.call-policy", lambda caller: CallPolicy(timeout=caller * 2, retries=0))
    assert "6.00 s" in verdict.message and "3 s" in verdict.message


@pytest.mark.parametrize("bulkhead, misconception", [
    (lambda threads: None, "no-bulkhead"),
    (lambda threads: threads, "bulkhead-as-big-as-pool"),
    (lambda threads: 2, "bulkhead-too-small"),
    (lambda threads: 0, "bulkhead-raised"),
    (lambda threads: threads // 0, "bulkhead-raised"),
])
def test_bulkhead_wrong_answers_get_their_own_hint(bulkhead, misconception):
    """No bulkhead, one as big as the pool, one too small for normal traffic, and a crash are each named."""
    verdict = _verdict("01.bulkhead", bulkhead)
    assert verdict.status is Status.FAILED and verdict.misconception == misconception, verdict


def _difference_backlog(arrival, normal, slow, seconds):
    return max(0.0, arrival - slow) * seconds


@pytest.mark.parametrize("forecast, misconception", [
    (lambda a, n, s, t: (a * t, a * t / (n - a)), "arrival-rate-not-difference"),
    (lambda a, n, s, t: (_difference_backlog(a, n, s, t), _difference_backlog(a, n, s, t) / n),
     "drain-uses-full-capacity"),
    (lambda a, n, s, t: ((a - s) * t, (a - s) * t / (n - a)), "negative-backlog"),
    (lambda a, n, s, t: ((a - s) * t / 2, 10.0), "backlog-off"),
    (lambda a, n, s, t: (_difference_backlog(a, n, s, t), 1.0), "drain-off"),
    (lambda a, n, s, t: "lots", "forecast-raised"),
])
def test_backlog_forecast_wrong_answers_get_their_own_hint(forecast, misconception):
    """Using the arrival rate, draining at full capacity, a negative backlog and other slips are each named."""
    verdict = _verdict("01.backlog-forecast", forecast)
    assert verdict.status is Status.FAILED and verdict.misconception == misconception, verdict


def test_simulated_backlog_matches_the_flow_balance():
    """The queue the checker runs holds about (arrival − slow rate) × duration and drains at the spare rate."""
    case = nb01.CASES[0]
    held, drained = nb01.measure_backlog(case)
    assert abs(held - 6000) < 600 and abs(drained - 75) < 7.5


def test_checks_are_deterministic():
    """The same answer gets the same verdict, word for word."""
    wrong = lambda caller: CallPolicy(timeout=caller / 8, retries=2)  # noqa: E731
    assert _verdict("01.call-policy", wrong) == _verdict("01.call-policy", wrong)
