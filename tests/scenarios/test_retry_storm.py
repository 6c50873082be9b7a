"""The retry storm: immediate requeue of a poison message versus a delivery limit and a DLQ."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter
from mqlab.scenarios import retry_storm


def test_immediate_requeue_burns_the_handler_and_blocks_everything_behind_the_poison():
    """Requeue: the poison message comes back forever; almost all handler time goes to it; the rest wait."""
    result = retry_storm("requeue")
    assert result.poison_attempts > 1000 and result.poison_share > 0.9
    assert result.blocked > 400 and result.good_processed == 10 and result.dead_lettered == 0
    assert result.depth_series[-1] > 400
    assert result.delay_added > 10.0


def test_delivery_limit_moves_the_poison_to_the_dlq_and_the_pipeline_resumes():
    """DLQ: after 5 deliveries the poison message is dead-lettered, and every good message is processed."""
    result = retry_storm("dlq", delivery_limit=5)
    assert result.poison_attempts == 5 and result.dead_lettered == 1 and result.blocked == 0
    assert 0 <= result.delay_added < 0.1
    (letter,) = result.dead_letters
    assert letter.reason == "delivery_limit" and letter.attempts == 5 and "unparseable order" in letter.error


def test_more_consumers_dilute_but_do_not_end_the_storm():
    """With two consumers the good messages get through, but handler time is still burned on the poison."""
    result = retry_storm("requeue", consumers=2)
    assert result.blocked == 0 and result.poison_attempts > 500


@settings(max_examples=15)
@given(seed=st.integers(0, 2**20), limit=st.integers(1, 10))
def test_dlq_bounds_the_attempts_for_any_limit(seed, limit):
    """For any delivery limit, the poison message is tried exactly that many times, then dead-lettered."""
    result = retry_storm("dlq", delivery_limit=limit, messages=100, duration=10, seed=seed)
    assert result.poison_attempts == limit and result.blocked == 0


def test_bad_parameters_are_refused():
    """Unknown modes and bad limits are refused by name."""
    with pytest.raises(InvalidParameter, match="mode"):
        retry_storm("ignore")
    with pytest.raises(InvalidParameter, match="delivery_limit"):
        retry_storm("dlq", delivery_limit=0)
    with pytest.raises(InvalidParameter, match="poison_ids"):
        retry_storm(poison_ids=[1])  # type: ignore[arg-type]
