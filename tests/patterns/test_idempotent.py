"""The idempotent consumer and its bounded memory; the effect auditor."""

from __future__ import annotations

import pytest

from mqlab.faults import InvalidParameter
from mqlab.patterns import EffectAuditor, IdempotentConsumer


def test_repeats_are_skipped():
    """The second delivery of an id does not run the handler."""
    effects: list[str] = []
    consumer = IdempotentConsumer(lambda i, b: effects.append(i))
    assert [consumer(i, None) for i in ("a", "b", "a")] == [True, True, False]
    assert effects == ["a", "b"] and consumer.statistics().skipped == 1


def test_a_handler_that_raises_is_not_remembered():
    """An id is remembered only after the handler returns, so a failed attempt is retried."""
    calls: list[int] = []

    def handler(i, b):
        calls.append(i)
        if len(calls) == 1:
            raise RuntimeError("boom")

    consumer = IdempotentConsumer(handler)
    with pytest.raises(RuntimeError):
        consumer(1, None)
    assert consumer(1, None) is True and calls == [1, 1]


def test_too_small_a_size_bound_lets_a_late_duplicate_through():
    """With room for 2 ids, a duplicate of the first arriving after two others is processed again."""
    auditor = EffectAuditor(["a", "b", "c"])
    consumer = IdempotentConsumer(lambda i, b: auditor.effect(i), max_entries=2)
    for message_id in ("a", "b", "c", "a"):
        consumer(message_id, None)
    assert auditor.report().duplicated_ids == ("a",)
    stats = consumer.statistics()
    assert stats.evicted_by_size == 2 and stats.forgotten_then_seen == 1 and stats.remembered == 2


def test_a_large_enough_bound_catches_the_same_duplicate():
    """With room for 3 ids, the same sequence has no duplicate effect."""
    auditor = EffectAuditor(["a", "b", "c"])
    consumer = IdempotentConsumer(lambda i, b: auditor.effect(i), max_entries=3)
    for message_id in ("a", "b", "c", "a"):
        consumer(message_id, None)
    assert auditor.report().is_exactly_once


def test_age_bound_forgets_old_ids():
    """With max_age 5 s, a duplicate arriving 6 s later is processed again; one arriving 4 s later is not."""
    now = [0.0]
    effects: list[str] = []
    consumer = IdempotentConsumer(lambda i, b: effects.append(i), max_age=5.0, clock=lambda: now[0])
    consumer("a", None)
    consumer("b", None)
    now[0] = 4.0
    consumer("a", None)
    now[0] = 6.0
    consumer("b", None)
    assert effects == ["a", "b", "b"] and consumer.statistics().evicted_by_age == 2


def test_bad_bounds_are_refused():
    """Zero entries, non-positive ages, and an age without a clock are refused."""
    with pytest.raises(InvalidParameter, match="max_entries"):
        IdempotentConsumer(print, max_entries=0)
    with pytest.raises(InvalidParameter, match="clock"):
        IdempotentConsumer(print, max_age=1.0)
    with pytest.raises(InvalidParameter, match="handler"):
        IdempotentConsumer("not callable")  # type: ignore[arg-type]


def test_auditor_reports_lost_duplicated_and_unexpected():
    """Ids with no effect are lost, with more than one duplicated; effects for unknown ids are unexpected."""
    auditor = EffectAuditor([1, 2, 3])
    for message_id in (1, 1, 1, 3, 9):
        auditor.effect(message_id)
    report = auditor.report()
    assert (report.lost, report.duplicated, report.extra_effects, report.exactly_once, report.unexpected) == (
        1, 1, 2, 1, 1,
    )
    assert report.lost_ids == (2,) and not report.is_exactly_once
