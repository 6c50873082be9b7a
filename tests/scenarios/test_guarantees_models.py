"""The lossy-network sweep on the RabbitMQ, Kafka and SQS models."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter
from mqlab.scenarios import guarantees_on_model, run_guarantee_on_model

MODELS = ("rabbitmq", "kafka", "sqs")


@pytest.mark.parametrize("model", MODELS)
def test_each_guarantee_shows_its_failure_on_every_model(model):
    """At 20% loss: at-most-once loses and never duplicates; at-least-once never loses and duplicates;
    with an idempotent consumer every effect happens exactly once. The model's ledger balances throughout."""
    sweep = guarantees_on_model(model, loss_rates=(0.2,), messages=60)
    amo, alo, idem = sweep.points
    assert amo.lost > 0 and amo.duplicated == 0
    assert alo.lost == 0 and alo.duplicated > 0
    assert idem.lost == 0 and idem.duplicated == 0 and idem.exactly_once == 60
    assert all(p.broker_balances for p in sweep.points)


@pytest.mark.parametrize("model", MODELS)
def test_no_loss_no_difference(model):
    """With a perfect network every strategy gives exactly-once effects."""
    sweep = guarantees_on_model(model, loss_rates=(0.0,), messages=30)
    assert all(p.exactly_once == 30 for p in sweep.points)


@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), loss=st.sampled_from([0.05, 0.1, 0.3]), model=st.sampled_from(MODELS))
def test_guarantees_hold_on_the_models_for_every_seed(seed, loss, model):
    """Over seeds, loss rates and models: at-most-once never duplicates, at-least-once never loses, and the
    idempotent consumer makes effects exactly once."""
    amo = run_guarantee_on_model(model, "at_most_once", loss, messages=30, seed=seed)
    alo = run_guarantee_on_model(model, "at_least_once", loss, messages=30, seed=seed)
    idem = run_guarantee_on_model(model, "at_least_once_idempotent", loss, messages=30, seed=seed)
    assert amo.duplicated == 0 and alo.lost == 0
    assert idem.lost == 0 and idem.duplicated == 0
    assert amo.broker_balances and alo.broker_balances and idem.broker_balances


def test_bad_parameters_are_refused():
    """A loss rate of 1, an unknown model or strategy are refused with the rule named."""
    with pytest.raises(InvalidParameter, match="below 1"):
        run_guarantee_on_model("sqs", "at_least_once", 1.0)
    with pytest.raises(InvalidParameter, match="model"):
        guarantees_on_model("activemq")
    with pytest.raises(InvalidParameter, match="strategy"):
        guarantees_on_model("sqs", strategies=("outbox",))
