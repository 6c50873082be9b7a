"""The checkers of notebook 02 (work or events): each passes its reference solution, reports an untouched
stub as not attempted, and names the misconception behind each typical wrong answer."""

from __future__ import annotations

import pytest

from mqlab.exercises import Status, get, todo
from mqlab.exercises import nb02_work_vs_events as nb02


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 02.welcome-email -----------------------------------------------------------------------------------------


def email_worker(*, queue=None, bind=True, auto_ack=False, ack="after", exclusive=False):
    """A start_email_worker built from choices: ``queue=None`` asks for a server-named exclusive queue."""

    def start_email_worker(channel, send_email):
        if queue is None:
            name = channel.queue_declare("", exclusive=True).method.queue
        else:
            name = channel.queue_declare(queue, durable=not exclusive, exclusive=exclusive).method.queue
        if bind:
            channel.queue_bind(name, "signups")

        def on_message(ch, method, properties, body):
            if ack == "before":
                ch.basic_ack(method.delivery_tag)
            send_email(body)
            if ack == "after" and not auto_ack:
                ch.basic_ack(method.delivery_tag)

        channel.basic_consume(name, on_message, auto_ack=auto_ack)

    return start_email_worker


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_welcome_email_reference_passes(seed):
    """One shared queue bound to the fanout, acked after the email: one email per user despite a crash."""
    assert misconception("02.welcome-email", nb02.start_email_worker, seed=seed) == "passed"
    assert misconception("02.welcome-email", nb02.start_email_worker, seed=seed, workers=100, signups=24) == "passed"


def test_welcome_email_without_prefetch_also_passes():
    """Prefetch is not what makes it right: a shared queue and an ack after the work are."""
    assert misconception("02.welcome-email", email_worker(queue="emails")) == "passed"


def test_welcome_email_stub_is_not_attempted():
    """An untouched stub, in the start function or in its callback, is reported as not attempted."""

    def stub(channel, send_email):
        todo()

    def stub_in_callback(channel, send_email):
        channel.queue_declare("welcome-emails", durable=True)
        channel.queue_bind("welcome-emails", "signups")
        channel.basic_consume("welcome-emails", lambda ch, method, properties, body: todo())

    assert get("02.welcome-email").run_checker(stub).status is Status.NOT_ATTEMPTED
    assert get("02.welcome-email").run_checker(stub_in_callback).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (email_worker(queue=None), "queue-per-worker"),
    (email_worker(queue="welcome-emails", auto_ack=True), "auto-ack"),
    (email_worker(queue="welcome-emails", ack="before"), "ack-before-email"),
    (email_worker(queue="welcome-emails", ack="never"), "never-acks"),
    (email_worker(queue="welcome-emails", bind=False), "not-bound"),
    (email_worker(queue="welcome-emails", exclusive=True), "exclusive-queue"),
])
@pytest.mark.parametrize("seed", [0, 2])
def test_welcome_email_wrong_answers_name_their_misconception(wrong, key, seed):
    """A queue per worker sends one email per worker; auto-ack or an ack before the email loses the crashed
    worker's job; never acking resends on restart; no binding routes nothing; an exclusive queue is refused."""
    assert misconception("02.welcome-email", wrong, seed=seed) == key


def test_welcome_email_queue_per_worker_counts_one_email_per_worker():
    """The observation names the incident's numbers: each user got one email per worker."""
    verdict = get("02.welcome-email").run_checker(email_worker(queue=None), workers=50)
    assert "received 50 welcome emails" in verdict.message


def test_welcome_email_raising_and_silent_workers_are_reported():
    """Code that raises, or that never consumes, gets a targeted failure instead of crashing the check."""

    def raising(channel, send_email):
        channel.queue_declare("welcome-emails")
        channel.queue_bind("welcome-emails", "signups")
        channel.basic_consume("welcome-emails", lambda ch, method, properties, body: send_email(body.user))

    def silent(channel, send_email):
        channel.queue_declare("welcome-emails")
        channel.queue_bind("welcome-emails", "signups")

    verdict = get("02.welcome-email").run_checker(raising)
    assert verdict.misconception == "raised" and "AttributeError" in verdict.message
    assert misconception("02.welcome-email", silent) == "not-consuming"


# -- 02.order-events ------------------------------------------------------------------------------------------


def subscriber(queue_of, *, key="order.placed", ack=True):
    """A subscribe built from a queue-naming rule ``queue_of(channel, service)`` and a binding key."""

    def subscribe(channel, service, handle):
        name = queue_of(channel, service)
        channel.queue_bind(name, "shop", routing_key=key)

        def on_message(ch, method, properties, body):
            handle(body)
            if ack:
                ch.basic_ack(method.delivery_tag)

        channel.basic_consume(name, on_message)

    return subscribe


def named(pattern, **arguments):
    return lambda channel, service: channel.queue_declare(pattern.format(service=service), **arguments).method.queue


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_order_events_reference_passes(seed):
    """A queue per service, bound with 'order.placed', consumed by every instance: one copy per service."""
    assert misconception("02.order-events", nb02.subscribe, seed=seed) == "passed"
    assert misconception("02.order-events", nb02.subscribe, seed=seed, instances=6, orders=20) == "passed"


def test_order_events_stub_is_not_attempted():
    """An untouched stub is not attempted."""
    assert get("02.order-events").run_checker(lambda channel, service, handle: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (subscriber(named("orders", durable=True)), "one-queue-for-all"),
    (subscriber(lambda channel, service: channel.queue_declare("", exclusive=True).method.queue),
     "queue-per-instance"),
    (subscriber(named("{service}.orders", durable=True), key="#"), "binding-too-broad"),
    (subscriber(named("{service}.orders", durable=True), key="order.*"), "binding-too-broad"),
    (subscriber(named("{service}.orders", durable=True), key="orders"), "no-copies"),
    (subscriber(named("{service}.orders", durable=True), ack=False), "never-acks"),
    (subscriber(named("{service}.orders", exclusive=True)), "exclusive-queue"),
])
def test_order_events_wrong_answers_name_their_misconception(wrong, key):
    """One queue for all services splits the events among them; a queue per instance copies them to every
    instance; '#' also catches cancellations; a key nobody publishes routes nothing; no acks leave deliveries
    pending; an exclusive queue cannot be shared."""
    assert misconception("02.order-events", wrong) == key


# -- 02.group-ids ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_group_ids_reference_passes(seed):
    """A group per service: jobs processed once, events reaching each service once."""
    assert misconception("02.group-ids", nb02.group_id_for, seed=seed) == "passed"
    assert misconception("02.group-ids", nb02.group_id_for, seed=seed, jobs=24, orders=16) == "passed"


def test_group_ids_stub_is_not_attempted():
    """An untouched stub is not attempted."""
    assert get("02.group-ids").run_checker(lambda service, instance, topic: todo()).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("wrong", "key"), [
    (lambda service, instance, topic: f"{service}-{instance}", "group-per-instance"),
    (lambda service, instance, topic: service if service == "thumbnailer" else f"{service}-{instance}",
     "group-per-instance"),
    (lambda service, instance, topic: topic, "group-shared-by-services"),
    (lambda service, instance, topic: "shop", "group-shared-by-services"),
    (lambda service, instance, topic: "", "invalid-group-id"),
    (lambda service, instance, topic: service[99], "raised"),
])
def test_group_ids_wrong_answers_name_their_misconception(wrong, key):
    """A group per instance repeats jobs and events; a group per topic (or one for all) splits the events among
    the services; an empty id is refused; code that raises is reported."""
    assert misconception("02.group-ids", wrong) == key


def test_every_checker_is_deterministic():
    """The same learner code and seed give the same verdict text."""
    for key, fn in [("02.welcome-email", email_worker(queue=None)),
                    ("02.order-events", subscriber(named("orders"))),
                    ("02.group-ids", lambda service, instance, topic: topic)]:
        assert get(key).run_checker(fn, seed=5).message == get(key).run_checker(fn, seed=5).message
