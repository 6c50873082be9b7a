"""The retry storm on the RabbitMQ and SQS models: requeue forever versus a dead-letter queue."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter
from mqlab.scenarios import retry_storm_on


def test_rabbitmq_requeue_blocks_everything_behind_the_poison_message():
    """A classic queue and nack(requeue=True): the poison message returns to the head and a single consumer
    spends nearly all its time on it; most good messages are still waiting at the end."""
    result = retry_storm_on("rabbitmq", "requeue", messages=100, duration=10.0)
    assert result.poison_share > 0.9
    assert result.blocked > 50 and result.dead_lettered == 0
    assert result.delay_added > 1.0 and result.ledger_balances


def test_rabbitmq_delivery_limit_dead_letters_the_poison_and_frees_the_queue():
    """A quorum queue with x-delivery-limit=5 and a DLX: the poison message is delivered 6 times, then
    dead-lettered with reason delivery_limit; every good message is processed with almost no delay added."""
    result = retry_storm_on("rabbitmq", "dlq", messages=100, duration=10.0, delivery_limit=5)
    assert result.poison_attempts == 6 and result.blocked == 0
    assert [(d.message_id, d.reason, d.origin) for d in result.dead_letters] == [(10, "delivery_limit", "orders")]
    assert result.delay_added < 0.1 and result.ledger_balances


def test_sqs_release_burns_handler_time_but_does_not_block():
    """On SQS, visibility 0 after each failure brings the poison message straight back: it burns most of the
    handler time, but a standard queue has no strict order, so good messages are not held behind it."""
    result = retry_storm_on("sqs", "requeue", messages=100, duration=10.0)
    assert result.poison_share > 0.8 and result.dead_lettered == 0
    assert result.blocked == 0 and result.ledger_balances


def test_sqs_redrive_moves_the_poison_message_after_max_receive_count():
    """A redrive policy with maxReceiveCount=5: five receives, then the DLQ; the DLQ record names the source."""
    result = retry_storm_on("sqs", "dlq", messages=100, duration=10.0, delivery_limit=5)
    assert result.poison_attempts == 5 and result.blocked == 0
    assert [(d.message_id, d.reason, d.origin) for d in result.dead_letters] == [(10, "maxReceiveCount", "orders")]
    assert result.ledger_balances


@settings(max_examples=6)
@given(limit=st.integers(1, 6), seed=st.integers(0, 1000), model=st.sampled_from(["rabbitmq", "sqs"]))
def test_dlq_mode_bounds_the_attempts_for_every_limit(limit, seed, model):
    """For any limit and seed, a dead-letter policy bounds the poison attempts (limit + 1 returns on a quorum
    queue, limit receives on SQS) and nothing good stays blocked."""
    result = retry_storm_on(model, "dlq", messages=40, duration=5.0, delivery_limit=limit, seed=seed)
    assert result.poison_attempts == (limit + 1 if model == "rabbitmq" else limit)
    assert result.dead_lettered == 1 and result.blocked == 0 and result.ledger_balances


def test_bad_parameters_are_refused():
    """Model and mode are chosen by name, and the message lists the names."""
    with pytest.raises(InvalidParameter, match="'rabbitmq', 'sqs'"):
        retry_storm_on("kafka")
    with pytest.raises(InvalidParameter, match="mode"):
        retry_storm_on("sqs", "forever")
