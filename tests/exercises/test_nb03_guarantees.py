"""The checkers of notebook 03 (delivery guarantees): each passes its reference solution, reports an untouched
stub as not attempted, and names the misconception behind each typical wrong answer."""

from __future__ import annotations

import math

import pytest

from mqlab.exercises import get, todo
from mqlab.exercises import nb03_guarantees as nb03


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 03.payment-handler ---------------------------------------------------------------------------------------


def keyed_on_tag(delivery, gateway, processed):
    if delivery.delivery_tag in processed:
        return
    gateway.charge(delivery.body["customer"], delivery.body["amount"])
    processed.add(delivery.delivery_tag)


def marks_first(delivery, gateway, processed):
    if delivery.event_id in processed:
        return
    processed.add(delivery.event_id)
    gateway.charge(delivery.body["customer"], delivery.body["amount"])


def charges_every_delivery(delivery, gateway, processed):
    gateway.charge(delivery.body["customer"], delivery.body["amount"])


def swallows_the_crash(delivery, gateway, processed):
    """Marks first and wraps the charge in except Exception: the crash still gets through."""
    if delivery.event_id in processed:
        return
    processed.add(delivery.event_id)
    try:
        gateway.charge(delivery.body["customer"], delivery.body["amount"])
    except Exception:  # the typical wrapper: it cannot catch a process death
        return


def wrong_field(delivery, gateway, processed):
    gateway.charge(delivery.body["client"], delivery.body["amount"])


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_payment_reference_passes(seed):
    """Checking the event id before the charge and remembering it after passes under redeliveries and crashes."""
    assert misconception("03.payment-handler", nb03.handle_payment, seed=seed) == "passed"


def test_payment_stub_is_not_attempted():
    """A stub that calls todo() is reported as not attempted, not as a failure."""

    def handle_payment(delivery, gateway, processed):
        todo()

    assert misconception("03.payment-handler", handle_payment) == "not attempted yet"


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (keyed_on_tag, "keyed-on-delivery-tag"),
        (marks_first, "marked-before-effect"),
        (charges_every_delivery, "no-dedup"),
        (swallows_the_crash, "marked-before-effect"),
        (wrong_field, "raised"),
    ],
)
def test_payment_wrong_answers_get_their_own_hint(handler, expected):
    """Each typical mistake is named: the delivery tag as key, remembering before the charge, no memory, raising."""
    assert misconception("03.payment-handler", handler) == expected


def test_payment_tag_verdict_names_the_payment_and_its_tags():
    """The observation is concrete: which payment was charged twice, and the tags it came with."""
    verdict = get("03.payment-handler").run_checker(keyed_on_tag)
    assert "charged 2 times" in verdict.message and "tags" in verdict.message
    assert len(verdict.hints) == 2


def test_payment_crash_does_not_escape_the_checker():
    """ServiceCrashed is a BaseException: the checker turns it into a redelivery, never into an error."""
    assert issubclass(nb03.ServiceCrashed, BaseException) and not issubclass(nb03.ServiceCrashed, Exception)
    assert misconception("03.payment-handler", marks_first, seed=5) == "marked-before-effect"


# -- 03.store-bound -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 3])
def test_bound_reference_passes(seed):
    """A size bound of twice rate x window lets no duplicate through and keeps the memory bounded."""
    assert misconception("03.store-bound", nb03.id_store_bound, seed=seed) == "passed"


def test_bound_by_age_also_passes():
    """Forgetting ids after 1.5 redelivery windows is as right as a size bound: the check judges behaviour."""
    assert misconception("03.store-bound", lambda rate, window: {"max_age": 1.5 * window}) == "passed"


def test_bound_stub_is_not_attempted():
    """An untouched stub is not attempted."""

    def id_store_bound(rate, redelivery_window):
        todo()

    assert misconception("03.store-bound", id_store_bound) == "not attempted yet"


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        (lambda rate, window: {"max_entries": math.ceil(window)}, "too-small"),  # forgot the rate
        (lambda rate, window: {"max_entries": math.ceil(rate * window)}, "too-small"),  # no margin for bursts
        (lambda rate, window: {"max_age": window / 4}, "too-small"),
        (lambda rate, window: {}, "unbounded"),
        (lambda rate, window: None, "unbounded"),
        (lambda rate, window: {"max_entries": 10_000_000}, "too-large"),
        (lambda rate, window: {"max_entries": 0}, "invalid-bound"),
        (lambda rate, window: {"size": 100}, "not-options"),
    ],
)
def test_bound_wrong_answers_get_their_own_hint(bound, expected):
    """Too small (with the count), unbounded, oversized and malformed bounds each get their own hint."""
    assert misconception("03.store-bound", bound) == expected


def test_bound_too_small_counts_the_duplicates():
    """The too-small verdict says how many duplicates slipped through."""
    verdict = get("03.store-bound").run_checker(lambda rate, window: {"max_entries": math.ceil(window)})
    assert "duplicates through" in verdict.message


# -- 03.outbox ------------------------------------------------------------------------------------------------


def publish_then_commit(db, outbox, publish, order):
    publish(order["order_id"], order)
    with db.begin() as tx:
        tx.insert("orders", order["order_id"], order)


def commit_then_publish(db, outbox, publish, order):
    with db.begin() as tx:
        tx.insert("orders", order["order_id"], order)
    publish(order["order_id"], order)


def outbox_in_a_second_transaction(db, outbox, publish, order):
    with db.begin() as tx:
        tx.insert("orders", order["order_id"], order)
    with db.begin() as tx:
        outbox.add(tx, order["order_id"], order)


def outbox_and_publish_after(db, outbox, publish, order):
    """Redundant but correct: the outbox guarantees the event, the inbox absorbs the extra copy."""
    with db.begin() as tx:
        tx.insert("orders", order["order_id"], order)
        outbox.add(tx, order["order_id"], order)
    publish(order["order_id"], order)


def outbox_with_a_typo(db, outbox, publish, order):
    with db.begin() as tx:
        tx.insert("orders", order["id"], order)


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_outbox_reference_passes(seed):
    """The order and its outbox row in one transaction, published by the relay, passes every crash."""
    assert misconception("03.outbox", nb03.place_order, seed=seed) == "passed"


def test_outbox_stub_is_not_attempted():
    """An untouched stub is not attempted."""

    def place_order(db, outbox, publish, order):
        todo()

    assert misconception("03.outbox", place_order) == "not attempted yet"


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        (publish_then_commit, "publish-before-commit"),
        (commit_then_publish, "publish-after-commit"),
        (outbox_in_a_second_transaction, "event-missing"),
        (outbox_and_publish_after, "passed"),
        (outbox_with_a_typo, "raised"),
    ],
)
def test_outbox_answers_are_judged_by_what_happened(place, expected):
    """Phantom events, lost events and errors each get their own hint; a redundant but safe answer passes."""
    assert misconception("03.outbox", place) == expected


def test_outbox_phantom_verdict_names_the_order():
    """The phantom-event verdict names an order that does not exist and counts the phantoms."""
    verdict = get("03.outbox").run_checker(publish_then_commit)
    assert "does not exist" in verdict.message and "phantom event" in verdict.message


def test_every_exercise_is_registered_with_its_handle():
    """The notebook's variable names are the handles the hints tell the learner to type."""
    handles = {key: get(key).handle for key in ("03.payment-handler", "03.store-bound", "03.outbox")}
    assert handles == {"03.payment-handler": "exercise_payment", "03.store-bound": "exercise_bound",
                       "03.outbox": "exercise_outbox"}
