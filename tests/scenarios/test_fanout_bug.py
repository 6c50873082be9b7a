"""The fan-out bug on the RabbitMQ model: 50 emails per signup, and the two ways to get one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter
from mqlab.scenarios import fanout_bug


def test_a_work_job_on_a_fanout_exchange_sends_one_email_per_worker():
    """Fifty workers each binding their own queue to the fanout exchange: every signup sends exactly 50 emails,
    one from each worker."""
    bug = fanout_bug(users=10, workers=50).bug
    assert set(bug.emails_per_user.values()) == {50}
    assert bug.total_emails == 500 and bug.queues == 50 and bug.broker_routed_copies == 500
    assert set(bug.handled_per_worker.values()) == {10}
    assert bug.ledger_balances


def test_one_shared_work_queue_sends_exactly_one_email_per_user():
    """The fix: one work queue with 50 competing consumers: exactly one email per user, the work spread over
    the workers (each handles at most one of the ten signups here)."""
    fix = fanout_bug(users=10, workers=50).fix
    assert set(fix.emails_per_user.values()) == {1}
    assert fix.total_emails == 10 and fix.queues == 1
    assert sum(fix.handled_per_worker.values()) == 10 and max(fix.handled_per_worker.values()) == 1
    assert fix.ledger_balances


def test_the_event_version_gives_each_service_every_event_once():
    """The signup as an event: one queue per interested service. Email, analytics and CRM each handle every
    signup once, and one email goes out per user."""
    events = fanout_bug(users=10, workers=50, services=("email", "analytics", "crm")).events
    assert events.handled_per_service == {"email": 10, "analytics": 10, "crm": 10}
    assert set(events.emails_per_user.values()) == {1}
    assert events.queues == 3 and events.ledger_balances


@settings(max_examples=10)
@given(users=st.integers(1, 12), workers=st.integers(1, 12), seed=st.integers(0, 1000))
def test_emails_per_signup_equal_the_workers_with_the_bug_and_one_with_the_fix(users, workers, seed):
    """For any sizes and seed: the bug sends `workers` emails per user, the fix and the event version one."""
    result = fanout_bug(users=users, workers=workers, seed=seed)
    assert set(result.bug.emails_per_user.values()) == {workers}
    assert set(result.fix.emails_per_user.values()) == {1}
    assert set(result.events.emails_per_user.values()) == {1}


def test_same_seed_same_result():
    """Deterministic: the same parameters give the same result."""
    assert fanout_bug(users=5, workers=7, seed=3) == fanout_bug(users=5, workers=7, seed=3)


def test_bad_parameters_are_refused():
    """Sizes and service lists are validated with the rule named."""
    with pytest.raises(InvalidParameter, match="users"):
        fanout_bug(users=0)
    with pytest.raises(InvalidParameter, match="email"):
        fanout_bug(services=("crm",))
    with pytest.raises(InvalidParameter, match="distinct"):
        fanout_bug(services=("email", "email"))
    with pytest.raises(KeyError, match="variants"):
        fanout_bug(users=1, workers=1).run("nope")
