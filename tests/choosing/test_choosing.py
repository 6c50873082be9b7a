"""mqlab.choosing: the side-by-side workload, the SQS cost model and the recommender."""

from __future__ import annotations

import pytest

from mqlab.choosing import (
    OPERATIONS,
    TOOLS,
    InvalidRequirement,
    Requirements,
    Workload,
    break_even_rate,
    decision_helper,
    operations_score,
    recommend,
    run_kafka,
    run_rabbitmq,
    run_sqs,
    side_by_side,
    sqs_monthly_cost,
    sqs_requests_per_message,
)
from mqlab.sim import Simulation
from mqlab.sqs import SQS


@pytest.mark.parametrize("seed", [1, 9, 21])
def test_every_order_is_handled_and_the_poison_one_is_dead_lettered(seed):
    """On every model, every order but the poison one has its effect at least once, and the poison order ends in
    that model's dead-letter place."""
    for run in side_by_side(Workload(customers=2, orders_per_customer=6, seed=seed)):
        assert run.orders == 11
        assert run.lost == 0, run.tool
        assert "1 " in run.poison_fate and "not dead-lettered" not in run.poison_fate, run.tool
        assert run.poison_attempts >= 1


def test_only_the_log_lets_a_late_consumer_read_history():
    """A consumer arriving a day later reads every order on Kafka (retained log) and nothing on RabbitMQ or SQS
    (acknowledged or deleted messages are gone)."""
    workload = Workload(customers=2, orders_per_customer=4)
    assert run_kafka(workload).late_consumer_reads == 8
    assert run_rabbitmq(workload).late_consumer_reads == 0
    assert run_sqs(workload).late_consumer_reads == 0
    assert run_sqs(workload, fifo=True).late_consumer_reads == 0


@pytest.mark.parametrize("seed", [1, 4, 9, 21])
def test_per_key_and_per_group_order_hold(seed):
    """Kafka (keyed by customer) and SQS FIFO (customer as group) never handle a customer's orders out of order;
    SQS FIFO needs three receives of the poison message before the redrive, as maxReceiveCount says."""
    workload = Workload(customers=2, orders_per_customer=6, seed=seed)
    assert run_kafka(workload).out_of_order == ()
    fifo = run_sqs(workload, fifo=True)
    assert fifo.out_of_order == ()
    assert fifo.poison_attempts == 3


def test_competing_consumers_reorder_a_customer():
    """With three competing workers on one queue, some seed shows a customer's orders handled out of order on
    RabbitMQ and on a standard SQS queue."""
    runs = [(run_rabbitmq(w), run_sqs(w)) for w in (Workload(customers=2, orders_per_customer=6, seed=s)
                                                     for s in (1, 9, 21))]
    assert any(r.out_of_order for r, _ in runs)
    assert any(s.out_of_order for _, s in runs)


def test_the_crash_before_ack_makes_a_duplicate_somewhere():
    """A crash after the effect and before the acknowledgement makes the effect happen twice (seed 9, all models)."""
    runs = side_by_side(Workload(customers=2, orders_per_customer=6, seed=9))
    assert [r.duplicates >= 1 for r in runs] == [True] * 4


def test_side_by_side_is_deterministic():
    """Same workload, same seed: the same runs."""
    assert side_by_side(Workload(seed=3)) == side_by_side(Workload(seed=3))


def test_requests_per_message_follows_the_billing_rules():
    """Send and receive each bill one request per started 64 KiB; the delete bills one; batches share calls."""
    assert sqs_requests_per_message(1024) == 3
    assert sqs_requests_per_message(65_536) == 3
    assert sqs_requests_per_message(65_537) == 5
    assert sqs_requests_per_message(200 * 1024) == 9
    assert sqs_requests_per_message(1024, batch=10) == pytest.approx(0.3)


def test_requests_per_message_matches_the_sqs_model_meter():
    """The formula agrees with the SQS model's cost meter on a send / receive / delete cycle of 200 KiB bodies."""
    sim = Simulation(seed=0)
    sqs = SQS(sim)
    client = sqs.client()
    url = client.create_queue(QueueName="big")["QueueUrl"]
    for i in range(10):
        client.send_message(QueueUrl=url, MessageBody=str(i) * (200 * 1024))
        message = client.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
        client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sqs.cost(url).billed_requests == 10 * sqs_requests_per_message(200 * 1024)


def test_forty_an_hour_costs_cents_and_break_even_is_consistent():
    """40 msg/h on SQS costs under a dollar a month; at the break-even rate SQS costs the cluster's price."""
    assert sqs_monthly_cost(40) < 1
    rate = break_even_rate(1500)
    assert sqs_monthly_cost(rate * 3600, consumers=0) == pytest.approx(1500)


def test_bad_parameters_are_refused_with_the_rule():
    """Out-of-range inputs raise InvalidRequirement naming the parameter and its range."""
    with pytest.raises(InvalidRequirement, match="batch must be an int from 1 to 10"):
        sqs_requests_per_message(1024, batch=11)
    with pytest.raises(InvalidRequirement, match="ordering must be"):
        Requirements(ordering="global")
    with pytest.raises(InvalidRequirement, match="cluster_monthly_dollars"):
        break_even_rate(0)
    with pytest.raises(InvalidRequirement, match="unknown tool"):
        operations_score("ActiveMQ")


@pytest.mark.parametrize(("requirements", "tool"), [
    (Requirements(), "SQS standard"),
    (Requirements(ordering="per_key"), "SQS FIFO"),
    (Requirements(replay_days=30), "Kafka"),
    (Requirements(messages_per_second=200_000), "Kafka"),
    (Requirements(routing_rules=True, team_runs_cluster=True), "RabbitMQ"),
    (Requirements(routing_rules=True, replay_days=7), "Kafka"),
    (Requirements(fan_out=5), "SQS standard"),
])
def test_recommend_picks_the_simplest_tool_that_meets_the_requirements(requirements, tool):
    """Replay or a huge rate -> Kafka; routing rules -> RabbitMQ; order -> SQS FIFO; otherwise SQS standard."""
    recommendation = recommend(requirements)
    assert recommendation.tool == tool
    assert recommendation.reasons and recommendation.trade_offs


def test_recommend_names_the_constraint_it_cannot_meet():
    """Replay with managed services only: Kafka, with a trade-off naming a hosted Kafka."""
    recommendation = recommend(Requirements(replay_days=30, managed_only=True))
    assert any("hosted Kafka" in t for t in recommendation.trade_offs)


def test_operations_scores_rank_the_tools():
    """The qualitative score ranks SQS standard lowest and Kafka highest."""
    scores = [operations_score(t) for t in TOOLS]
    assert scores == sorted(scores) and set(OPERATIONS) == set(TOOLS)


def test_decision_helper_degrades_to_text_and_follows_its_controls():
    """Without a frontend the helper shows its recommendation as text and a figure; setting a control updates it."""
    helper = decision_helper()
    bundle = helper._repr_mimebundle_()
    assert "Recommended: SQS standard" in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" not in bundle
    helper.controls["replay_days"].value = 30
    assert helper.recommendation.tool == "Kafka"
    assert "Kafka" in helper.figure.layout.title.text
