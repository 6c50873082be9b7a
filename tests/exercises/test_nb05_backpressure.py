"""The checkers of notebook 05 (backpressure): each passes its reference solution, reports an untouched stub as
not attempted, and names the misconception behind each typical wrong answer."""

from __future__ import annotations

from collections import deque

import pytest

from mqlab.exercises import Status, get, todo
from mqlab.exercises import nb05_backpressure as nb05
from mqlab.flow import UNBOUNDED


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 05.bounded-queue -----------------------------------------------------------------------------------------


def limits_with(policy=None, scale=1.0, memory=True):
    """The reference's limit (optionally scaled, optionally ignoring memory) with another policy."""

    def queue_limits(producer_rate, consumer_rate, message_bytes, memory_bytes, notice_within, burst):
        limit = int((producer_rate - consumer_rate) * notice_within * scale)
        if memory:
            limit = min(limit, int(0.5 * memory_bytes / message_bytes))
        return limit, policy or "fail"

    return queue_limits


@pytest.mark.parametrize("seed", [0, 5, 6, 11])
def test_bounded_queue_reference_passes(seed):
    """A limit reached within the deadline, under memory, above the burst, with 'fail', passes every case."""
    assert misconception("05.bounded-queue", nb05.queue_limits, seed=seed) == "passed"


def test_bounded_queue_block_passes_too():
    """Blocking the producer also tells it in time and loses nothing: the check judges behaviour, not one recipe."""
    assert misconception("05.bounded-queue", limits_with("block")) == "passed"


def test_bounded_queue_stub_is_not_attempted():
    """A stub that calls todo() is reported as not attempted."""

    def queue_limits(producer_rate, consumer_rate, message_bytes, memory_bytes, notice_within, burst):
        return todo()

    assert get("05.bounded-queue").run_checker(queue_limits).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (lambda **case: (None, "fail"), "no-bound"),
    (limits_with("drop_oldest"), "drop-head-silent"),
    (limits_with("drop_newest"), "drop-newest-silent"),
    (limits_with(memory=False), "bound-above-memory"),
    (limits_with(scale=3.0), "learns-too-late"),
    (lambda **case: (100, "fail"), "bound-too-small"),
    (lambda **case: 5000, "invalid-answer"),
    (lambda **case: (5000, "reject-publish"), "invalid-answer"),
    (lambda **case: 1 / 0, "raised"),
])
def test_bounded_queue_wrong_answers_name_their_misconception(wrong, key):
    """No limit ends in an OOM kill; drop policies discard silently; a limit above memory still dies; too big a
    limit tells the producer late; too small a one refuses a normal burst; malformed answers are named."""
    assert misconception("05.bounded-queue", wrong) == key


def test_bounded_queue_no_bound_reports_the_loss_in_figures():
    """The no-bound failure says when the broker was killed and how many accepted messages it lost."""
    verdict = get("05.bounded-queue").run_checker(lambda **case: (None, "block"))
    assert "OOM-killed at t≈134 s" in verdict.message and "accepted messages lost" in verdict.message


# -- 05.autoscaler --------------------------------------------------------------------------------------------


def settings_with(**changes):
    return lambda: {**nb05.autoscaler_settings(), **changes}


@pytest.mark.parametrize("seed", [0, 1, 5, 6, 7, 12, 23, 153])
def test_autoscaler_reference_passes(seed):
    """The reference settings meet the objective, the budget and the event limit for many load patterns."""
    assert misconception("05.autoscaler", nb05.autoscaler_settings, seed=seed) == "passed"


def test_autoscaler_stub_is_not_attempted():
    """An untouched stub is not attempted."""
    assert get("05.autoscaler").run_checker(lambda: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (settings_with(max_consumers=3), "max-too-low"),
    (settings_with(cooldown=0), "flapping"),
    (settings_with(cooldown=300), "too-slow"),
    (settings_with(scale_out_above=200_000), "too-slow"),
    (settings_with(scale_in_below=0), "over-budget"),
    (settings_with(min_consumers=4), "over-budget"),
    (settings_with(scale_in_below=20_000), "invalid-settings"),
    (settings_with(startup_delay=0), "invalid-settings"),
])
@pytest.mark.parametrize("seed", [5, 6])
def test_autoscaler_wrong_answers_name_their_misconception(wrong, key, seed):
    """Too few consumers miss the objective; no cooldown flaps; a late or slow autoscaler misses it too; never
    scaling in busts the budget; settings the Autoscaler refuses are reported with its message."""
    assert misconception("05.autoscaler", wrong, seed=seed) == key


def test_autoscaler_failures_give_figures():
    """The max-too-low failure says by how much the objective was missed; flapping counts the events."""
    low = get("05.autoscaler").run_checker(settings_with(max_consumers=3))
    assert "missed by" in low.message and "6,000/s" in low.message
    flap = get("05.autoscaler").run_checker(settings_with(cooldown=0))
    assert "scale events in the hour" in flap.message


def test_autoscaled_hour_accounts_for_every_message():
    """Every message of the load is processed or still queued at the end."""
    hour = nb05.autoscaled_hour(nb05.autoscaler_settings(), 5)
    assert hour.processed + hour.depth[-1] == sum(nb05.bursty_load(5))


# -- 05.credit-subscriber -------------------------------------------------------------------------------------


class Base:
    def __init__(self, capacity):
        self.capacity = capacity
        self.buffer = deque()
        self.subscription = None

    def on_next(self, item):
        self.buffer.append(item)


class Unbounded(Base):
    def on_subscribe(self, subscription):
        self.subscription = subscription
        subscription.request(UNBOUNDED)

    def on_processed(self, item):
        pass


class RequestsZero(Base):
    def on_subscribe(self, subscription):
        self.subscription = subscription
        subscription.request(self.capacity)

    def on_processed(self, item):
        self.subscription.request(len(self.buffer) - len(self.buffer))


class NeverAgain(Base):
    def on_subscribe(self, subscription):
        self.subscription = subscription
        subscription.request(self.capacity)

    def on_processed(self, item):
        pass


class RegrantsCapacity(Base):
    def on_subscribe(self, subscription):
        self.subscription = subscription
        subscription.request(self.capacity)

    def on_processed(self, item):
        self.subscription.request(self.capacity)


class RefillsWhenEmpty(Base):
    def on_subscribe(self, subscription):
        self.subscription = subscription
        subscription.request(self.capacity)

    def on_processed(self, item):
        if not self.buffer:
            self.subscription.request(self.capacity)


class GrantsOnArrival(Base):
    def on_subscribe(self, subscription):
        self.subscription = subscription
        subscription.request(self.capacity)

    def on_next(self, item):
        self.buffer.append(item)
        self.subscription.request(1)

    def on_processed(self, item):
        pass


class ForgetsTheSubscription(Base):
    def on_subscribe(self, subscription):
        subscription.request(self.capacity)

    def on_processed(self, item):
        self.subscription.request(1)


@pytest.mark.parametrize("seed", [0, 5, 6])
def test_credit_reference_passes(seed):
    """Granting the capacity, then one per processed item, processes everything without overflow."""
    assert misconception("05.credit-subscriber", nb05.BufferedSubscriber, seed=seed) == "passed"
    assert misconception("05.credit-subscriber", nb05.BufferedSubscriber, seed=seed, capacity=1) == "passed"


def test_credit_batch_refill_passes_too():
    """Refilling the whole buffer only once it is empty never overflows either: a correct, burstier strategy."""
    assert misconception("05.credit-subscriber", RefillsWhenEmpty) == "passed"


def test_credit_stub_is_not_attempted():
    """A stub whose methods call todo() is not attempted."""

    class Stub(Base):
        def on_subscribe(self, subscription):
            self.subscription = subscription
            todo()

        def on_processed(self, item):
            todo()

    assert get("05.credit-subscriber").run_checker(Stub).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (Unbounded, "buffer-overflow"),
    (RegrantsCapacity, "buffer-overflow"),
    (GrantsOnArrival, "buffer-overflow"),
    (RequestsZero, "non-positive-request"),
    (NeverAgain, "stall"),
    (ForgetsTheSubscription, "raised"),
])
def test_credit_wrong_answers_name_their_misconception(wrong, key):
    """Unbounded grants, repeated full grants or grants on arrival overflow the buffer; request(0) ends the
    subscription (rule 3.9); never granting again stalls; an exception in the subscriber is reported, not raised."""
    assert misconception("05.credit-subscriber", wrong) == key


def test_rule_3_9_is_named():
    """The request(0) failure quotes the Reactive Streams rule."""
    assert "3.9" in get("05.credit-subscriber").run_checker(RequestsZero).message


def test_every_checker_is_deterministic():
    """The same learner code and seed give the same verdict text."""
    for key, fn in [("05.bounded-queue", limits_with(scale=3.0)), ("05.autoscaler", settings_with(cooldown=0)),
                    ("05.credit-subscriber", nb05.BufferedSubscriber)]:
        assert get(key).run_checker(fn, seed=3).message == get(key).run_checker(fn, seed=3).message
