"""Crash schedules, latency profiles, poison predicates and parameter checks."""

from __future__ import annotations

import random

import pytest

from mqlab.faults import CrashPoint, CrashSchedule, InvalidParameter, LatencyProfile, PoisonMessage, PoisonPredicate
from mqlab.faults.checks import check_choice, check_count, check_probability, check_rate


def test_crash_schedule_fires_on_the_listed_deliveries():
    """A schedule with deliveries=(2, 5) crashes on exactly those delivery numbers."""
    schedule = CrashSchedule("after_ack", deliveries=(2, 5))
    rng = random.Random(0)
    assert [n for n in range(1, 8) if schedule.crashes_on(n, rng)] == [2, 5]
    assert schedule.point is CrashPoint.AFTER_ACK and schedule.fault == "crash-after_ack"


def test_crash_schedule_refuses_unknown_points():
    """A crash point is named; an unknown one lists the known names."""
    with pytest.raises(InvalidParameter, match="before_ack"):
        CrashSchedule("sometime")


def test_latency_profile_steps_from_normal_to_slow_and_back():
    """The step profile is 50 ms, then 5 s inside the slow window, then 50 ms again."""
    profile = LatencyProfile.step(0.05, 5.0, start=10, end=20)
    assert [profile.sample(t) for t in (0, 9.99, 10, 19.99, 20)] == [0.05, 0.05, 5.0, 5.0, 0.05]


def test_latency_jitter_stays_in_its_band():
    """Jitter 0.2 keeps every sample within 20 % of the base value."""
    profile = LatencyProfile(normal=1.0, jitter=0.2)
    rng = random.Random(1)
    samples = [profile.sample(0, rng) for _ in range(200)]
    assert min(samples) >= 0.8 and max(samples) <= 1.2 and len(set(samples)) > 100


def test_latency_profile_refuses_an_end_before_its_start():
    """slow_until before slow_from is refused."""
    with pytest.raises(InvalidParameter, match="slow_until"):
        LatencyProfile(slow=1.0, slow_from=5, slow_until=1)


def test_poison_predicate_raises_every_time_and_counts():
    """A poison message makes the wrapped handler raise on every attempt; others pass through."""
    poison = PoisonPredicate.every(3)
    handled: list[int] = []
    handler = poison.wrap(lambda i, b: handled.append(i))
    for _ in range(2):
        with pytest.raises(PoisonMessage, match="dead-letter"):
            handler(3, b"")
    handler(4, b"")
    assert poison.hits == 2 and handled == [4]


@pytest.mark.parametrize("value", [-0.1, 1.01, "0.5", None, True])
def test_check_probability_names_the_parameter(value):
    """A probability must be a number in [0, 1]; the message names the parameter."""
    with pytest.raises(InvalidParameter, match="loss_rate"):
        check_probability("loss_rate", value)


def test_checks_accept_good_values_and_refuse_bad_ones():
    """Rates must be finite and positive; counts whole; choices among the listed names."""
    assert check_rate("rate", 10) == 10.0
    with pytest.raises(InvalidParameter, match="per second"):
        check_rate("rate", float("inf"))
    with pytest.raises(InvalidParameter, match="whole number"):
        check_count("capacity", 2.5)
    with pytest.raises(InvalidParameter, match="'a', 'b'"):
        check_choice("policy", "c", ("a", "b"))
