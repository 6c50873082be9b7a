"""Retry with exponential backoff and jitter as a pure policy."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter
from mqlab.patterns import RetryPolicy


def test_no_jitter_doubles_until_the_cap():
    """Without jitter the delays are base * 2**(n-1), capped."""
    policy = RetryPolicy(base=0.1, cap=1.0, jitter="none")
    assert policy.delays(6, random.Random(0)) == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


@given(seed=st.integers(0, 2**20), attempt=st.integers(1, 60))
def test_full_jitter_lies_between_zero_and_the_ceiling(seed, attempt):
    """Full jitter draws uniformly from [0, min(cap, base * 2**(n-1))]."""
    policy = RetryPolicy(base=0.1, cap=5.0, jitter="full")
    delay = policy.delay(attempt, random.Random(seed))
    assert 0.0 <= delay <= policy.ceiling(attempt)


@given(seed=st.integers(0, 2**20), attempt=st.integers(1, 60))
def test_equal_jitter_keeps_at_least_half_the_ceiling(seed, attempt):
    """Equal jitter draws from [ceiling / 2, ceiling]."""
    policy = RetryPolicy(base=0.1, cap=5.0, jitter="equal")
    ceiling = policy.ceiling(attempt)
    assert ceiling / 2 <= policy.delay(attempt, random.Random(seed)) <= ceiling


@given(seed=st.integers(0, 2**20))
def test_decorrelated_jitter_stays_between_base_and_cap(seed):
    """Decorrelated jitter: every delay in [base, cap]."""
    policy = RetryPolicy(base=0.1, cap=2.0, jitter="decorrelated")
    assert all(0.1 <= d <= 2.0 for d in policy.delays(30, random.Random(seed)))


def test_jitter_spreads_retries_of_many_clients():
    """A hundred clients retrying at once: without jitter all wait the same; with full jitter they spread."""
    rng = random.Random(1)
    plain = {RetryPolicy(jitter="none").delay(3, rng) for _ in range(100)}
    spread = {RetryPolicy(jitter="full").delay(3, rng) for _ in range(100)}
    assert len(plain) == 1 and len(spread) == 100


def test_same_seed_same_delays():
    """The policy draws only from the generator it is given."""
    policy = RetryPolicy(jitter="full")
    assert policy.delays(10, random.Random(4)) == policy.delays(10, random.Random(4))


def test_huge_attempts_do_not_overflow():
    """Attempt 10,000 is just the cap."""
    assert RetryPolicy(base=1.0, cap=30.0, jitter="none").delay(10_000, random.Random()) == 30.0


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(jitter="random"), "jitter"), (dict(base=2.0, cap=1.0), "cap"), (dict(multiplier=0.5), "multiplier"),
     (dict(max_attempts=0), "max_attempts"), (dict(base=-1), "base")],
)
def test_bad_policies_are_refused(kwargs, name):
    """Unknown jitter names, a cap below the base, shrinking multipliers and zero attempts are refused."""
    with pytest.raises(InvalidParameter, match=name):
        RetryPolicy(**kwargs)


def test_gives_up_after_max_attempts():
    """max_attempts counts every try: with 3, the third failure is the last."""
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up_after(n) for n in (1, 2, 3)] == [False, False, True]
