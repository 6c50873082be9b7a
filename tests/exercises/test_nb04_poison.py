"""The checkers of notebook 04 (poison messages and DLQs): each passes its reference solution, reports an untouched
stub as not attempted, and names the misconception behind each typical wrong answer."""

from __future__ import annotations

import contextlib
import json

import pytest

from mqlab.exercises import Status, get, todo
from mqlab.exercises import nb04_poison as nb04


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 04.dead-letter -------------------------------------------------------------------------------------------


def requeue_always(channel, method, properties, body, process, max_attempts=3):
    try:
        process(body)
    except Exception:
        channel.basic_nack(method.delivery_tag, requeue=True)
        return
    channel.basic_ack(method.delivery_tag)


def ack_even_failures(channel, method, properties, body, process, max_attempts=3):
    with contextlib.suppress(Exception):  # a failure is swallowed, and acknowledged like a success
        process(body)
    channel.basic_ack(method.delivery_tag)


def reject_at_once(channel, method, properties, body, process, max_attempts=3):
    try:
        process(body)
    except Exception:
        channel.basic_reject(method.delivery_tag, requeue=False)
        return
    channel.basic_ack(method.delivery_tag)


def one_try_too_many(channel, method, properties, body, process, max_attempts=3):
    attempt = 1 + (properties.headers or {}).get("x-delivery-count", 0)
    try:
        process(body)
    except Exception:
        channel.basic_reject(method.delivery_tag, requeue=attempt <= max_attempts)
        return
    channel.basic_ack(method.delivery_tag)


def redelivered_flag_only(channel, method, properties, body, process, max_attempts=3):
    try:
        process(body)
    except Exception:
        channel.basic_reject(method.delivery_tag, requeue=not method.redelivered)
        return
    channel.basic_ack(method.delivery_tag)


def never_ack(channel, method, properties, body, process, max_attempts=3):
    attempt = 1 + (properties.headers or {}).get("x-delivery-count", 0)
    try:
        process(body)
    except Exception:
        channel.basic_reject(method.delivery_tag, requeue=attempt < max_attempts)


@pytest.mark.parametrize("seed", [0, 4, 9])
def test_dead_letter_reference_passes(seed):
    """Retrying while the try number is below the limit, then rejecting without requeue, passes at any seed."""
    assert misconception("04.dead-letter", nb04.on_message, seed=seed) == "passed"
    assert misconception("04.dead-letter", nb04.on_message, seed=seed, orders=60) == "passed"


def test_dead_letter_stub_is_not_attempted():
    """A callback that calls todo() is reported as not attempted, not as a failure."""

    def on_message(channel, method, properties, body, process, max_attempts=3):
        todo()

    assert get("04.dead-letter").run_checker(on_message).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (requeue_always, "requeue-forever"),
    (ack_even_failures, "acked-poison"),
    (reject_at_once, "gives-up-too-soon"),
    (one_try_too_many, "too-many-tries"),
    (redelivered_flag_only, "too-few-tries"),
    (never_ack, "never-acks"),
])
@pytest.mark.parametrize("seed", [0, 4])
def test_dead_letter_wrong_answers_name_their_misconception(wrong, key, seed):
    """Requeueing always is a storm; acking a failure loses it; rejecting at once dead-letters passing failures;
    an off-by-one or the redelivered flag gives the wrong number of tries; no ack blocks the consumer."""
    assert misconception("04.dead-letter", wrong, seed=seed) == key


def test_dead_letter_storm_message_counts_the_redeliveries():
    """The storm's verdict says how many times the poison order was delivered, concretely."""
    verdict = get("04.dead-letter").run_checker(requeue_always)
    assert "times in 10 s" in verdict.message and "still in the queue" in verdict.message
    delivered = int(verdict.message.split(" was delivered ")[1].split(" times")[0].replace(",", ""))
    assert delivered > 1000


def test_dead_letter_raising_callback_is_reported():
    """A callback that raises gets a targeted failure naming the exception instead of crashing the check."""

    def raising(channel, method, properties, body, process, max_attempts=3):
        channel.basic_reject(method.delivery_tag, multiple=True)  # basic_reject takes no `multiple`

    verdict = get("04.dead-letter").run_checker(raising)
    assert verdict.misconception == "raised" and "TypeError" in verdict.message


# -- 04.backoff -----------------------------------------------------------------------------------------------


def no_jitter(attempt, rng, base=0.5, cap=30.0):
    return min(cap, base * 2 ** (attempt - 1))


def no_cap(attempt, rng, base=0.5, cap=30.0):
    return rng.uniform(0, base * 2 ** (attempt - 1))


def equal_jitter(attempt, rng, base=0.5, cap=30.0):
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


@pytest.mark.parametrize("seed", [0, 4, 9])
def test_backoff_reference_and_equal_jitter_pass(seed):
    """Full jitter (the reference) and equal jitter both spread the retries and respect the cap."""
    assert misconception("04.backoff", nb04.retry_delay, seed=seed) == "passed"
    assert misconception("04.backoff", nb04.retry_delay, seed=seed, clients=400) == "passed"
    assert misconception("04.backoff", equal_jitter, seed=seed) == "passed"


def test_backoff_stub_is_not_attempted():
    """An untouched stub is not attempted."""
    assert get("04.backoff").run_checker(lambda attempt, rng, base=0.5, cap=30.0: todo()).status is (
        Status.NOT_ATTEMPTED)


@pytest.mark.parametrize(("wrong", "key"), [
    (no_jitter, "no-jitter"),
    (no_cap, "no-cap"),
    (lambda attempt, rng, base=0.5, cap=30.0: 0.0, "retry-at-once"),
    (lambda attempt, rng, base=0.5, cap=30.0: rng.uniform(0, 1), "no-backoff"),
    (lambda attempt, rng, base=0.5, cap=30.0: -1.0, "bad-value"),
    (lambda attempt, rng, base=0.5, cap=30.0: rng.uniform(0, cap) / 0, "raised"),
])
def test_backoff_wrong_answers_name_their_misconception(wrong, key):
    """No jitter keeps clients in lockstep; no cap waits beyond the budget; zero delays storm; a constant delay
    does not back off; a negative delay or an exception is reported as such."""
    assert misconception("04.backoff", wrong) == key


def test_backoff_no_jitter_names_the_bunching():
    """Without jitter every client's retry lands in the same 100 ms window, and the verdict says so."""
    assert get("04.backoff").run_checker(no_jitter).message.startswith("200 of the 200 clients retried")


# -- 04.replay and 04.idempotent-replay -----------------------------------------------------------------------


def replay_everything(replayer, rate_limit):
    return replayer.replay(rate=rate_limit)


def replay_flat_out(replayer, rate_limit):
    return replayer.replay(lambda letter: letter.error == "ReceiptError", rate=1000.0)


def replay_a_sample(replayer, rate_limit):
    return replayer.replay(lambda letter: letter.error == "ReceiptError", rate=rate_limit, limit=2)


def charge_every_time(order_id, body, payments, receipts):
    order = json.loads(body)
    payments.charge(order_id, order["amount"])
    receipts.send(order_id, order["currency"])


def skip_if_charged(order_id, body, payments, receipts):
    order = json.loads(body)
    if payments.has(order_id):
        return
    payments.charge(order_id, order["amount"])
    receipts.send(order_id, order["currency"])


@pytest.mark.parametrize("seed", [0, 4, 9])
def test_replay_references_pass(seed):
    """The filtered, paced replay and the step-wise idempotent handler pass, at the default and a larger size."""
    assert misconception("04.replay", nb04.replay_fixed, seed=seed) == "passed"
    assert misconception("04.idempotent-replay", nb04.handle_order, seed=seed, orders=80) == "passed"


def test_replay_stubs_are_not_attempted():
    """Untouched stubs of either function are not attempted."""
    assert get("04.replay").run_checker(lambda replayer, rate_limit: todo()).status is Status.NOT_ATTEMPTED
    assert get("04.idempotent-replay").run_checker(lambda o, b, p, r: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (replay_everything, "replayed-unfixable"),
    (replay_flat_out, "too-fast"),
    (replay_a_sample, "fixed-left-behind"),
    (lambda replayer, rate_limit: None, "nothing-replayed"),
    (lambda replayer, rate_limit: replayer.replay(rate=-1), "raised"),
])
def test_replay_wrong_answers_name_their_misconception(wrong, key):
    """Replaying everything brings back what will fail again; no rate swamps the consumers; a sample leaves fixed
    orders behind; doing nothing replays nothing; a refused argument is reported."""
    assert misconception("04.replay", wrong) == key


@pytest.mark.parametrize(("wrong", "key"), [
    (charge_every_time, "not-idempotent"),
    (skip_if_charged, "skipped-whole-message"),
    (lambda order_id, body, payments, receipts: receipts.send(order_id, json.loads(body)["currency"]),
     "payment-missing"),
])
def test_idempotent_replay_wrong_answers(wrong, key):
    """Charging on every delivery charges replayed orders twice; skipping the whole message leaves the receipt
    (the failed step) unsent; never charging leaves the live orders that arrive during the replay unpaid."""
    assert misconception("04.idempotent-replay", wrong) == key


def test_too_fast_names_the_rate():
    """The too-fast verdict names how many went in one second against the limit."""
    message = get("04.replay").run_checker(replay_flat_out).message
    assert "within one second" in message and "limit of 5 per second" in message


def test_every_checker_is_deterministic():
    """The same learner code and seed give the same verdict text."""
    for key, fn in [("04.dead-letter", requeue_always), ("04.backoff", nb04.retry_delay),
                    ("04.replay", replay_everything), ("04.idempotent-replay", charge_every_time)]:
        assert get(key).run_checker(fn, seed=3).message == get(key).run_checker(fn, seed=3).message
