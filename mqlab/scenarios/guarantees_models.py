"""The lossy-network sweep on the broker models: what each guarantee does to the effects, per model.

:func:`~mqlab.scenarios.guarantees.guarantees_sweep` runs on the generic
stand-in; this runs the same three strategies on the RabbitMQ, Kafka or SQS
model, with each model's own client and the fault adapters of
:mod:`mqlab.faults`. The producer's link loses publishes and their
confirmations with probability ``loss_rate`` each way; the consumer's side is
reliable, so every difference comes from producing.

=============================  ===================================  ===================================
strategy                       RabbitMQ / SQS                       Kafka
=============================  ===================================  ===================================
``at_most_once``               publish once, no retry               ``acks=0``
``at_least_once``              retry until the confirm / the        ``acks=all``, retries,
                               ``SendMessage`` response arrives     ``enable.idempotence=false``
``at_least_once_idempotent``   the same, and the consumer skips     the same, and the consumer skips
                               ids it has processed                 ids it has processed
=============================  ===================================  ===================================

The Kafka producer retries by itself after ``request.timeout.ms``; this
scenario sets it to 1000 ms (Kafka's default is 30 s) so a run stays short.
SQS runs with the model's own at-least-once duplicates switched off
(``duplicate_probability=0``), so what is measured is the network's doing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mqlab.faults.checks import check_choice, check_count, check_probability
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.kafka import KafkaFaults, KafkaPublisher
from mqlab.faults.kafka_worker import KafkaWorker
from mqlab.faults.link import HopFaults, Link
from mqlab.faults.rabbitmq import RabbitPublisher, connect_faulty
from mqlab.faults.rabbitmq_worker import RabbitWorker
from mqlab.faults.sqs import FaultySQSClient, SQSPublisher
from mqlab.faults.sqs_worker import SQSWorker
from mqlab.kafka import Cluster, Producer
from mqlab.patterns.audit import EffectAuditor
from mqlab.patterns.idempotent import IdempotentConsumer
from mqlab.patterns.producers import AtLeastOnceProducer, AtMostOnceProducer
from mqlab.rabbitmq import Broker
from mqlab.scenarios._running import ProgressBar
from mqlab.scenarios.guarantees import GuaranteePoint, GuaranteesSweep
from mqlab.sim import Simulation
from mqlab.sqs import SQS

__all__ = ["MODEL_STRATEGIES", "guarantees_on_model", "run_guarantee_on_model"]

MODEL_STRATEGIES = ("at_most_once", "at_least_once", "at_least_once_idempotent")
MODELS = ("rabbitmq", "kafka", "sqs")


def run_guarantee_on_model(model: str, strategy: str, loss_rate: float, *, messages: int = 100,
                           seed: int = 0) -> GuaranteePoint:
    """One point: ``messages`` messages through ``model`` with ``strategy`` over a link losing ``loss_rate``."""
    model = check_choice("model", model, MODELS)  # type: ignore[assignment]
    strategy = check_choice("strategy", strategy, MODEL_STRATEGIES)  # type: ignore[assignment]
    check_probability("loss_rate", loss_rate)
    if loss_rate >= 1:
        raise InvalidParameter(
            "loss_rate must be below 1: at 1 nothing ever arrives and a retrying producer never ends"
        )
    check_count("messages", messages, minimum=1)
    sim = Simulation(seed=seed)
    link = Link(sim, "net", to_broker=HopFaults(loss=loss_rate), to_client=HopFaults(loss=loss_rate))
    audit = EffectAuditor(range(messages))
    idempotent = IdempotentConsumer(lambda m, b: audit.effect(m))

    def effect(message_id: Any, body: Any) -> None:
        if strategy == "at_least_once_idempotent":
            idempotent(message_id, body)
        else:
            audit.effect(message_id)

    if model == "rabbitmq":
        broker = Broker(sim)
        channel = connect_faulty(broker, link, name="producer").channel()
        channel.queue_declare("work", durable=True)
        RabbitWorker(broker, "work", effect, prefetch=10, service_time=0.001)
        publisher: Any = RabbitPublisher(channel, "", "work")
    elif model == "sqs":
        service = SQS(sim, duplicate_probability=0.0)
        raw = service.client()
        url = raw.create_queue(QueueName="work")["QueueUrl"]
        SQSWorker(raw, url, effect, max_messages=10, service_time=0.001)
        publisher = SQSPublisher(FaultySQSClient(raw, link), url)
    else:
        cluster = Cluster(sim, brokers=1)
        cluster.create_topic("work", 1, 1)
        KafkaFaults(cluster, link)
        acks: Any = 0 if strategy == "at_most_once" else "all"
        producer = Producer(cluster, {"acks": acks, "enable.idempotence": False, "linger.ms": 0,
                                      "request.timeout.ms": 1000})
        KafkaWorker(cluster, "work", "effects", effect, service_time=0.001)
        publisher = KafkaPublisher(producer, "work")
    app_producer: AtMostOnceProducer | AtLeastOnceProducer | None = None
    if model == "kafka":
        send = publisher.publish
    else:
        app_producer = (AtMostOnceProducer(sim, publisher) if strategy == "at_most_once"
                        else AtLeastOnceProducer(sim, publisher, timeout=0.5))
        send = app_producer.send
    for i in range(messages):
        sim.call_at(i * 0.01, send, i, "{}")
    sim.run(until=messages * 0.01 + 120.0)
    report = audit.report()
    counts = link.ledger.counts()
    if model == "rabbitmq":
        ledger = broker.ledger()
        accepted, balances, unsettled = ledger.routed, ledger.balances, ledger.ready + ledger.unacked
    elif model == "sqs":
        sqs_ledger = service.ledger()
        accepted, balances = sqs_ledger.total("sent"), sqs_ledger.balanced
        unsettled = sqs_ledger.total("visible") + sqs_ledger.total("in_flight")
    else:
        kafka_ledger = cluster.ledger()
        accepted, balances, unsettled = kafka_ledger.appended, kafka_ledger.balanced, kafka_ledger.pending
    # attempts: the application's publishes (Kafka's own retries happen inside the producer)
    publishes = app_producer.statistics().attempts if app_producer is not None else messages
    return GuaranteePoint(
        strategy=strategy, loss_rate=loss_rate, messages=messages, exactly_once=report.exactly_once,
        lost=report.lost, duplicated=report.duplicated, extra_effects=report.extra_effects, publishes=publishes,
        broker_accepted=accepted, lost_by_faults=counts.total_lost, unsettled=unsettled, broker_balances=balances,
    )


def guarantees_on_model(
    model: str = "rabbitmq",
    *,
    loss_rates: Sequence[float] = (0.0, 0.05, 0.1, 0.2),
    strategies: Sequence[str] = MODEL_STRATEGIES,
    messages: int = 100,
    seed: int = 0,
    progress: bool = False,
) -> GuaranteesSweep:
    """The sweep on one model: per strategy, one point per loss rate (see the module docstring)."""
    rates = tuple(check_probability("each loss rate", r) for r in loss_rates)
    chosen = tuple(check_choice("each strategy", s, MODEL_STRATEGIES) for s in strategies)
    if not rates or not chosen:
        raise InvalidParameter("give at least one loss rate and one strategy, e.g. loss_rates=(0.1,)")
    bar = ProgressBar(len(rates) * len(chosen), enabled=progress, desc=f"guarantees on {model}", unit="run")
    points: list[GuaranteePoint] = []
    interrupted = False
    try:
        for strategy in chosen:
            for rate in rates:
                point = run_guarantee_on_model(model, strategy, rate, messages=messages, seed=seed)  # type: ignore[arg-type]
                points.append(point)
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    return GuaranteesSweep(rates, chosen, tuple(points), interrupted)  # type: ignore[arg-type]
