"""The checkers of notebook 10 (the ride-dispatch capstone): each passes its reference solution, reports an
untouched stub as not attempted, and names the misconception behind each typical wrong answer; the dispatch
world keeps its invariants with the right design and breaks them, visibly, without it."""

from __future__ import annotations

import contextlib
import json

import pytest

from mqlab.exercises import Status, get, todo
from mqlab.exercises import nb10_capstone as nb10
from mqlab.kafka import TopicPartition


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("MQLAB_EXERCISES_STRICT", raising=False)


def misconception(key, *learner, **options):
    verdict = get(key).run_checker(*learner, **options)
    return verdict.misconception or verdict.status.value


# -- 10.region-bindings ---------------------------------------------------------------------------------------


def one_word_wildcard(ch, queue, exchange, region):
    ch.queue_bind(queue, exchange, routing_key=f"geo.{region}.*")


def every_country(ch, queue, exchange, region):
    ch.queue_bind(queue, exchange, routing_key="geo.#")


def no_binding(ch, queue, exchange, region):
    ch.queue_declare(queue)


def region_stub(ch, queue, exchange, region):
    todo("bind the queue")


def test_region_bindings_reference_passes():
    """geo.<region>.# delivers every request of the region at any depth and nothing else."""
    assert get("10.region-bindings").run_checker(nb10.bind_region).passed


def test_region_bindings_stub_not_attempted():
    """An untouched stub is reported as not attempted, not as a failure."""
    assert get("10.region-bindings").run_checker(region_stub).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("learner", "key"), [
    (one_word_wildcard, "single-word-wildcard"),
    (every_country, "too-broad"),
    (no_binding, "no-binding"),
])
def test_region_bindings_wrong_answers(learner, key):
    """'*' misses multi-level keys, 'geo.#' leaks other countries, no binding gets nothing: each named."""
    assert misconception("10.region-bindings", learner) == key


# -- 10.claim -------------------------------------------------------------------------------------------------


def not_idempotent(ch, method, body, store):
    accept = json.loads(body)
    won = yield store.compare_and_set(accept["ride"], None, accept["driver"])
    ch.basic_ack(method.delivery_tag)
    return "assigned" if won else "already taken"


def ack_first(ch, method, body, store):
    ch.basic_ack(method.delivery_tag)
    accept = json.loads(body)
    won = yield store.compare_and_set(accept["ride"], None, accept["driver"])
    holder = accept["driver"] if won else (yield store.get(accept["ride"]))
    return "assigned" if holder == accept["driver"] else "already taken"


def never_acks(ch, method, body, store):
    accept = json.loads(body)
    won = yield store.compare_and_set(accept["ride"], None, accept["driver"])
    holder = accept["driver"] if won else (yield store.get(accept["ride"]))
    return "assigned" if holder == accept["driver"] else "already taken"


def swallows_everything(ch, method, body, store):
    with contextlib.suppress(Exception):  # a learner's broad except must not hide the crash
        yield from nb10.handle_acceptance(ch, method, body, store)
    return "assigned"


def claim_stub(ch, method, body, store):
    answer = yield todo("claim the ride")
    return answer


def test_claim_reference_passes():
    """An atomic compare-and-set, an idempotent repeat and an ack after the claim survive duplicates and crashes."""
    verdict = get("10.claim").run_checker(nb10.handle_acceptance)
    assert verdict.passed, verdict.message


def test_claim_stub_not_attempted():
    """An untouched stub is reported as not attempted."""
    assert get("10.claim").run_checker(claim_stub).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("learner", "key"), [
    (nb10._check_then_set, "check-then-set"),
    (not_idempotent, "not-idempotent"),
    (ack_first, "ack-before-claim"),
    (never_acks, "never-acks"),
])
def test_claim_wrong_answers(learner, key):
    """Each typical mistake is caught under concurrency, duplicates and crashes, with its own key."""
    assert misconception("10.claim", learner) == key


def test_claim_check_then_set_shows_the_count():
    """The failure says how many rides went to two drivers, with a concrete ride and the two drivers."""
    verdict = get("10.claim").run_checker(nb10._check_then_set)
    assert "went to two drivers at once" in verdict.message and " and driver-" in verdict.message


def test_claim_crash_cannot_be_swallowed():
    """A dispatcher crash is not an Exception: a learner's `except Exception` does not turn it into an answer."""
    verdict = get("10.claim").run_checker(swallows_everything)
    assert verdict.misconception != "raised"


def test_store_compare_and_set_is_atomic():
    """Only the first of two compare-and-sets from 'offered' wins; the second sees the holder and fails."""
    from mqlab.sim import Simulation

    sim = Simulation(seed=1)
    store = nb10.RideStore(sim)
    store.open("ride-1")
    first = store.compare_and_set("ride-1", None, "driver-1")
    second = store.compare_and_set("ride-1", None, "driver-2")
    sim.run()
    assert (first.value, second.value, store.rides["ride-1"]) == (True, False, "driver-1")


# -- the dispatch world ---------------------------------------------------------------------------------------


def test_dispatch_keeps_invariants_under_crashes_and_duplicates():
    """Manual ack, an atomic claim and a resuming dispatcher: every ride assigned once or expired, none lost."""
    result = nb10.run_dispatch(seed=4, crash_on_request=(5, 17, 30), duplicate_accepts=0.5)
    assert result.dispatcher_crashes == 3 and result.redelivered_requests >= 1
    assert all(": ok" in line for line in result.invariants()), result.invariants()
    assert len(result.assigned) + len(result.expired) == result.rides


def test_dispatch_breaks_visibly_without_the_safeguards():
    """auto_ack loses the requests a dying dispatcher held; competing consumers show each request to one driver."""
    lossy = nb10.run_dispatch(seed=4, crash_on_request=(5, 17, 30), auto_ack=True)
    assert "lost" in lossy.invariants()[0] and "0 lost" not in lossy.invariants()[0]
    naive = nb10.run_dispatch(seed=4, competing=True)
    assert set(naive.drivers_seeing.values()) == {1}


def test_dispatch_is_deterministic():
    """The same seed gives the same story, event for event."""
    a = nb10.run_dispatch(seed=9, polyglot=True)
    b = nb10.run_dispatch(seed=9, polyglot=True)
    assert (a.offers, a.assigned, a.expired, a.counts) == (b.offers, b.assigned, b.expired, b.counts)


# -- 10.audit-replay ------------------------------------------------------------------------------------------


def joins_live_group(new_consumer, topic, live_group, since_ms):
    consumer = new_consumer({"group.id": live_group})

    def rewind(c, partitions):
        c.assign(c.offsets_for_times([TopicPartition(tp.topic, tp.partition, since_ms) for tp in partitions]))

    consumer.subscribe([topic], on_assign=rewind)
    return consumer


def from_the_beginning(new_consumer, topic, live_group, since_ms):
    consumer = new_consumer({"group.id": "audit", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    return consumer


def last_n_offsets(new_consumer, topic, live_group, since_ms):
    consumer = new_consumer({"group.id": "audit"})

    def back_by_count(c, partitions):
        starts = []
        for tp in partitions:
            _, high = c.get_watermark_offsets(tp)
            starts.append(TopicPartition(tp.topic, tp.partition, max(0, high - 60)))
        c.assign(starts)

    consumer.subscribe([topic], on_assign=back_by_count)
    return consumer


def audit_stub(new_consumer, topic, live_group, since_ms):
    return todo("start the audit consumer")


def test_audit_reference_passes():
    """A new group that turns the time into offsets with offsets_for_times reads exactly the last hour."""
    verdict = get("10.audit-replay").run_checker(nb10.start_audit)
    assert verdict.passed, verdict.message


def test_audit_stub_not_attempted():
    """An untouched stub is reported as not attempted."""
    assert get("10.audit-replay").run_checker(audit_stub).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("learner", "key"), [
    (joins_live_group, "reused-live-group"),
    (from_the_beginning, "read-from-beginning"),
    (last_n_offsets, "seek-by-offset"),
])
def test_audit_wrong_answers(learner, key):
    """Joining the live group, replaying everything and counting back offsets are each named."""
    assert misconception("10.audit-replay", learner) == key


def test_dispatch_broker_ledger_balances():
    """Every request, offer and acceptance of a run with crashes and duplicated publishes is accounted for."""
    result = nb10.run_dispatch(seed=6, crash_on_request=(3, 12), duplicate_accepts=0.4)
    ledger = result.broker.ledger()
    assert ledger.balances, ledger.imbalances()
    assert ledger.duplicated == result.phone_link.statistics().to_broker_duplicated > 0


def test_dispatch_handler_that_raises_is_recorded_not_fatal():
    """An acceptance handler that raises does not stop the run: the error is kept where the learner can read it."""
    def broken(ch, method, body, store):
        yield store.get(json.loads(body)["ride"])
        raise KeyError("holder")

    result = nb10.run_dispatch(seed=2, rides=10, handler=broken)
    assert result.handler_errors and "KeyError" in result.handler_errors[0]
    assert not result.assigned


def raises(ch, method, body, store):
    yield store.get("ride-1")
    raise ValueError("no such ride")


def test_claim_handler_that_raises_is_a_targeted_failure():
    """A handler that raises is reported with the exception, not as a crash of the checker."""
    verdict = get("10.claim").run_checker(raises)
    assert verdict.misconception == "raised" and "ValueError" in verdict.message
