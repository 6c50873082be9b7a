"""Credit-based flow control with Reactive Streams rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqlab.flow import UNBOUNDED, CreditExceeded, NonPositiveRequest, Subscription


def test_publisher_sends_what_was_requested_and_no_more():
    """request(5) allows 5 elements; a sixth breaks rule 1.1 and the error names it."""
    received: list[int] = []
    sub = Subscription(received.append)
    sub.request(5)
    for i in range(5):
        sub.send(i)
    with pytest.raises(CreditExceeded, match=r"rule 1\.1"):
        sub.send(5)
    assert received == [0, 1, 2, 3, 4] and sub.demand == 0


@pytest.mark.parametrize("n", [0, -3])
def test_non_positive_request_signals_on_error_naming_rule_3_9(n):
    """request(n <= 0) signals onError with the rule named, and ends the subscription."""
    errors: list[BaseException] = []
    sub = Subscription(print, errors.append)
    sub.request(n)
    assert isinstance(errors[0], NonPositiveRequest) and "3.9" in str(errors[0])
    assert sub.cancelled
    sub.request(1)  # rule 3.6: a no-op after the subscription ended
    assert sub.demand == 0


def test_non_positive_request_raises_without_an_error_handler():
    """With no on_error, the rule-3.9 error is raised to the caller."""
    with pytest.raises(NonPositiveRequest, match=r"3\.9"):
        Subscription(print).request(0)


def test_demand_caps_at_long_max_value():
    """Demand adds up to at most 2**63 - 1 (rule 3.17)."""
    sub = Subscription(print)
    sub.request(UNBOUNDED)
    sub.request(10)
    assert sub.demand == UNBOUNDED


def test_cancel_stops_delivery():
    """After cancel, sends are dropped and demand is zero."""
    received: list[int] = []
    sub = Subscription(received.append)
    sub.request(3)
    sub.cancel()
    sub.send(1)
    assert received == [] and sub.demand == 0


@given(steps=st.lists(st.tuples(st.sampled_from(["send", "finish"]), st.integers(1, 5)), max_size=80),
       window=st.integers(1, 8))
def test_in_flight_never_exceeds_the_granted_credit(steps, window):
    """A subscriber granting a window and re-granting one per finished element never has more in flight."""
    sub = Subscription(lambda item: None)
    sub.request(window)
    for action, n in steps:
        if action == "send":
            sub.send_batch(min(n, sub.demand))
        elif sub.in_flight:
            done = min(n, sub.in_flight)
            sub.complete(done)
            sub.request(done)
        assert sub.in_flight <= window and sub.sent <= sub.requested
    assert sub.statistics().max_in_flight <= window


def test_send_batch_checks_rule_1_1():
    """A batch larger than the demand is refused whole."""
    sub = Subscription(print)
    sub.request(3)
    with pytest.raises(CreditExceeded, match=r"rule 1\.1"):
        sub.send_batch(4)
    assert sub.sent == 0


def test_a_subscriber_that_raises_in_on_next_is_cancelled():
    """Rule 2.13: onNext that throws cancels the subscription; the error reaches the caller."""

    def explode(item):
        raise RuntimeError("subscriber bug")

    sub = Subscription(explode)
    sub.request(2)
    with pytest.raises(RuntimeError):
        sub.send(1)
    assert sub.cancelled and sub.demand == 0
