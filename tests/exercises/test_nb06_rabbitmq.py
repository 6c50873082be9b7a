"""The checkers of notebook 06 (RabbitMQ): each passes its reference solution, reports an untouched stub as not
attempted, and names the misconception behind each typical wrong answer."""

from __future__ import annotations

import pytest

from mqlab.exercises import get, todo
from mqlab.exercises import nb06_rabbitmq as nb06


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 06.region-bindings -------------------------------------------------------------------------------------


def bind(eu, audit):
    def bind_orders(ch):
        ch.queue_bind("orders-eu", "orders", routing_key=eu)
        ch.queue_bind("orders-audit", "orders", routing_key=audit)
    return bind_orders


@pytest.mark.parametrize("seed", [0, 6, 42])
def test_region_bindings_reference_passes(seed):
    """'orders.eu.*' for the EU queue and 'orders.#' for audit pass, whatever order the keys are published in."""
    assert misconception("06.region-bindings", nb06.bind_orders, seed=seed) == "passed"


def test_region_bindings_stub_is_not_attempted():
    """A stub that calls todo() is reported as not attempted, not as a failure."""

    def bind_orders(ch):
        todo()

    assert misconception("06.region-bindings", bind_orders) == "not attempted yet"


@pytest.mark.parametrize(("eu", "audit", "expected"), [
    ("orders.#", "orders.#", "eu-too-wide"),          # other regions leak into the EU queue
    ("orders.eu.#", "orders.#", "eu-too-wide"),       # a four-word EU key leaks
    ("orders.eu", "orders.#", "eu-missing"),          # no wildcard: no EU order matches
    ("orders.eu.*", "orders.*", "audit-star-not-hash"),  # '*' is one word: longer keys are lost
    ("orders.eu.*", "orders.*.*", "audit-star-not-hash"),
    ("orders.eu.*", "#", "audit-too-wide"),           # everything, not only orders
])
def test_region_bindings_wrong_patterns(eu, audit, expected):
    """Each typical wrong pattern is named by its own misconception."""
    assert misconception("06.region-bindings", bind(eu, audit)) == expected


def test_region_bindings_no_binding_and_errors():
    """Binding nothing, and binding to an exchange that does not exist, are reported distinctly."""
    assert misconception("06.region-bindings", lambda ch: None) == "no-bindings"

    def wrong_exchange(ch):
        ch.queue_bind("orders-eu", "amq.topic", routing_key="orders.eu.*")
        ch.queue_bind("orders-audit", "order", routing_key="orders.#")

    verdict = get("06.region-bindings").run_checker(wrong_exchange)
    assert verdict.misconception == "raised" and "NOT_FOUND" in verdict.message


# -- 06.ack-after-work --------------------------------------------------------------------------------------


def consumer(*, auto_ack=False, ack_first=False, on_poison="reject", ack=True):
    def worker(ch, queue, work):
        for event in ch.consume(queue, auto_ack=auto_ack):
            method, _properties, body = yield event
            if ack_first:
                ch.basic_ack(method.delivery_tag)
            try:
                yield work.do(body)
            except work.Poison:
                if on_poison == "reject":
                    ch.basic_reject(method.delivery_tag, requeue=False)
                elif on_poison == "requeue":
                    ch.basic_nack(method.delivery_tag, requeue=True)
                elif on_poison == "raise":
                    raise
                continue
            if ack and not ack_first and not auto_ack:
                ch.basic_ack(method.delivery_tag)
    return worker


@pytest.mark.parametrize("seed", [0, 6, 11, 2024])
def test_ack_after_work_reference_passes(seed):
    """Ack after the work, reject poison without requeue: nothing lost under crashes, poison dead-lettered."""
    assert misconception("06.ack-after-work", nb06.worker, seed=seed) == "passed"
    assert misconception("06.ack-after-work", nb06.worker, seed=seed, jobs=30, prefetch=1) == "passed"


def test_ack_after_work_stub_is_not_attempted():
    """The notebook's stub, untouched, is not attempted."""

    def worker(ch, queue, work):
        for event in ch.consume(queue):
            _method, _properties, _body = yield event
            todo()

    assert misconception("06.ack-after-work", worker) == "not attempted yet"


@pytest.mark.parametrize(("options", "expected"), [
    ({"auto_ack": True, "on_poison": "skip"}, "auto-ack-loses"),
    ({"ack_first": True, "on_poison": "skip"}, "ack-before-work"),
    ({"on_poison": "requeue"}, "requeue-loop"),
    ({"on_poison": "raise"}, "poison-crashes-worker"),
    ({"on_poison": "skip"}, "poison-not-settled"),
    ({"ack": False}, "never-acks"),
])
def test_ack_after_work_wrong_answers(options, expected):
    """auto_ack and ack-before-work lose messages on a crash; requeue=True loops; an uncaught or unsettled poison
    message and a consumer that never acks are each named."""
    assert misconception("06.ack-after-work", consumer(**options)) == expected


def test_ack_after_work_rejecting_everything_is_caught():
    """Dead-lettering good messages is not a way to empty the queue."""

    def reject_all(ch, queue, work):
        for event in ch.consume(queue):
            method, _properties, _body = yield event
            ch.basic_reject(method.delivery_tag, requeue=False)

    assert misconception("06.ack-after-work", reject_all) == "rejects-good-work"


def test_ack_after_work_not_a_generator_and_errors():
    """A plain function and a worker that raises are reported, and the checker itself does not crash."""
    assert misconception("06.ack-after-work", lambda ch, queue, work: None) == "not-a-generator"

    def wrong_tag(ch, queue, work):
        for event in ch.consume(queue):
            _method, _properties, body = yield event
            yield work.do(body)
            ch.basic_ack("one")

    assert misconception("06.ack-after-work", wrong_tag) in ("raised", "never-acks")


# -- 06.retry-with-delay ------------------------------------------------------------------------------------


def queues(work_args, wait_args):
    def declare_retry(ch):
        ch.queue_declare("work", arguments=work_args)
        ch.queue_declare("work.wait", arguments=wait_args)
    return declare_retry


TO_WAIT = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "work.wait"}
BACK = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "work"}


@pytest.mark.parametrize("seed", [0, 6, 77])
def test_retry_reference_passes(seed):
    """A TTL wait queue dead-lettering back to the work queue retries every message 5 s after its reject."""
    assert misconception("06.retry-with-delay", nb06.declare_retry, seed=seed) == "passed"
    assert misconception("06.retry-with-delay", nb06.declare_retry, seed=seed, messages=12, failures=3) == "passed"


def test_retry_through_named_exchanges_also_passes():
    """The check judges behaviour: named DLX exchanges with bindings instead of the default exchange pass too."""

    def declare_retry(ch):
        ch.exchange_declare("retry", "direct")
        ch.exchange_declare("back", "direct")
        ch.queue_declare("work", arguments={"x-dead-letter-exchange": "retry"})
        ch.queue_declare("work.wait", arguments={"x-message-ttl": 5000, "x-dead-letter-exchange": "back"})
        ch.queue_bind("work.wait", "retry", "work")
        ch.queue_bind("work", "back", "work")

    assert misconception("06.retry-with-delay", declare_retry) == "passed"


def test_retry_stub_is_not_attempted():
    """An untouched stub is not attempted."""

    def declare_retry(ch):
        todo()

    assert misconception("06.retry-with-delay", declare_retry) == "not attempted yet"


@pytest.mark.parametrize(("work_args", "wait_args", "expected"), [
    ({**TO_WAIT, "x-message-ttl": 5000}, BACK, "ttl-on-work-queue"),
    (TO_WAIT, {"x-message-ttl": 5000, "x-dead-letter-exchange": ""}, "missing-dead-letter-routing-key"),
    ({}, {**BACK, "x-message-ttl": 5000}, "no-dlx-on-work"),
    (TO_WAIT, {**BACK, "x-message-ttl": 5}, "no-delay"),
    (TO_WAIT, BACK, "wait-without-ttl"),
    (TO_WAIT, {**BACK, "x-message-ttl": 20000}, "wrong-delay"),
])
def test_retry_wrong_topologies(work_args, wait_args, expected):
    """TTL on the work queue, a wait queue without a way back, no DLX, and a TTL in the wrong unit are each named."""
    assert misconception("06.retry-with-delay", queues(work_args, wait_args)) == expected


def test_retry_declare_error_is_reported():
    """A declaration the broker refuses becomes a failure with a hint, not a crash."""
    verdict = get("06.retry-with-delay").run_checker(queues({"x-message-ttl": "5 s"}, {}))
    assert verdict.misconception == "raised" and "x-message-ttl" in verdict.message
