"""The retry storm on the real models: RabbitMQ and SQS, requeue forever versus a dead-letter queue.

The same experiment as :func:`~mqlab.scenarios.retry_storm.retry_storm`, with
the broker models' own rules instead of the generic stand-in:

* **RabbitMQ**, ``mode="requeue"``: a classic queue, consumers that
  ``basic_nack(requeue=True)`` a failure. RabbitMQ puts a requeued message back
  at its original position, at the head, so a poison message comes straight
  back; one consumer then never gets past it. ``mode="dlq"``: a quorum queue
  with ``x-delivery-limit`` and a dead-letter exchange: after ``delivery_limit``
  returns the poison message is dead-lettered (reason ``delivery_limit``).
* **SQS**, ``mode="requeue"``: no redrive policy; a failure sets the message's
  visibility timeout to 0 (``ChangeMessageVisibility``), SQS's nearest thing to
  a requeue. Standard queues do not keep a strict order, so messages behind the
  poison one are delayed rather than blocked. ``mode="dlq"``: a
  ``RedrivePolicy`` with ``maxReceiveCount = delivery_limit`` moves it to the DLQ.

Measured as in the generic scenario: handler seconds burned on poison,
attempts, good messages processed and still waiting at the end (``blocked``),
their delay, the delay added compared with the same run without poison, the
ready depth over time, the dead letters (as the replay tool lists them), and
whether the model's ledger balances.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mqlab.coupling.load import percentile
from mqlab.faults.checks import check_choice, check_count, check_duration, check_rate
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.poison import PoisonPredicate
from mqlab.faults.rabbitmq import RabbitPublisher
from mqlab.faults.rabbitmq_worker import RabbitWorker
from mqlab.faults.sqs import SQSPublisher
from mqlab.faults.sqs_worker import SQSWorker
from mqlab.faults.worker import ModelWorker
from mqlab.patterns.rabbitmq_dlq import RabbitDeadLetters, declare_with_dlq
from mqlab.patterns.sqs_dlq import SQSDeadLetters, create_with_dlq
from mqlab.rabbitmq import Broker
from mqlab.scenarios._running import run_in_slices
from mqlab.scenarios.retry_storm import MODES, RetryStormResult
from mqlab.sim import Simulation
from mqlab.sqs import SQS

__all__ = ["MODELS", "ModelRetryStormResult", "retry_storm_on"]

MODELS = ("rabbitmq", "sqs")


@dataclass(frozen=True)
class ModelRetryStormResult(RetryStormResult):
    """:class:`~mqlab.scenarios.retry_storm.RetryStormResult` plus the model and its ledger's verdict."""

    model: str = "rabbitmq"
    ledger_balances: bool = True


def retry_storm_on(
    model: str = "rabbitmq",
    mode: str = "requeue",
    *,
    messages: int = 200,
    rate: float = 50.0,
    poison_ids: tuple[int, ...] = (10,),
    handler_time: float = 0.01,
    consumers: int = 1,
    delivery_limit: int = 5,
    duration: float = 20.0,
    sample_every: float = 0.5,
    seed: int = 0,
    progress: bool = False,
) -> ModelRetryStormResult:
    """Run ``model`` (``"rabbitmq"``, ``"sqs"``) in ``mode`` (``"requeue"``, ``"dlq"``); see the module docstring."""
    model = check_choice("model", model, MODELS)  # type: ignore[assignment]
    mode = check_choice("mode", mode, MODES)  # type: ignore[assignment]
    check_count("messages", messages, minimum=1)
    check_rate("rate", rate)
    if not isinstance(poison_ids, tuple):
        raise InvalidParameter(f"poison_ids must be a tuple of message numbers such as (10,), got {poison_ids!r}")
    for poison in poison_ids:
        check_count("each poison id", poison)
    check_duration("handler_time", handler_time, allow_zero=False)
    check_count("consumers", consumers, minimum=1)
    check_count("delivery_limit", delivery_limit, minimum=1)
    check_duration("duration", duration, allow_zero=False)
    check_duration("sample_every", sample_every, allow_zero=False)
    args = (model, mode, messages, rate, handler_time, consumers, delivery_limit, duration, sample_every, seed)
    result = _simulate(*args, poison_ids=poison_ids, progress=progress)
    baseline = _simulate(*args, poison_ids=(), progress=False)
    return dataclasses.replace(result, delay_added=result.mean_wait - baseline.mean_wait)


def _simulate(model: str, mode: str, messages: int, rate: float, handler_time: float, consumers: int,
              delivery_limit: int, duration: float, sample_every: float, seed: int, *,
              poison_ids: tuple[int, ...], progress: bool) -> ModelRetryStormResult:
    sim = Simulation(seed=seed)
    poison = PoisonPredicate.ids(*poison_ids, reason="unparseable order")
    poison_set = set(poison_ids)
    published_at: dict[int, float] = {}
    done_at: dict[int, float] = {}
    delays: list[float] = []
    spent = {"attempts": 0}

    def handler(message_id: Any, body: Any) -> None:
        if message_id in poison_set:
            spent["attempts"] += 1
        poison.check(message_id, body)
        if message_id not in done_at:
            delays.append(sim.now - published_at[message_id])
            done_at[message_id] = sim.now

    workers: list[ModelWorker]
    if model == "rabbitmq":
        broker = Broker(sim)
        channel = broker.connect(name="orders-service").channel()
        if mode == "dlq":
            _, dlq_name = declare_with_dlq(channel, "orders", delivery_limit=delivery_limit)
        else:
            channel.queue_declare("orders", durable=True)
        publisher: Any = RabbitPublisher(channel, "", "orders")
        workers = [RabbitWorker(broker, "orders", handler, name=f"worker-{i}", service_time=handler_time,
                                on_error="requeue") for i in range(consumers)]

        def depth() -> int:
            return broker.queue_statistics("orders").ready
    else:
        service = SQS(sim)
        client = service.client()
        if mode == "dlq":
            url, dlq_url = create_with_dlq(client, "orders", max_receive_count=delivery_limit)
        else:
            url = client.create_queue(QueueName="orders")["QueueUrl"]
        publisher = SQSPublisher(client, url)
        workers = [SQSWorker(client, url, handler, name=f"worker-{i}", service_time=handler_time,
                             on_error="release") for i in range(consumers)]

        def depth() -> int:
            return service.statistics(url).visible

    def publish(index: int) -> None:
        published_at[index] = sim.now
        publisher.publish(index, "{}")

    for index in range(messages):
        sim.call_at(index / rate, publish, index)
    times: list[float] = []
    depths: list[int] = []
    processed: list[int] = []

    def sample() -> None:
        times.append(sim.now)
        depths.append(depth())
        processed.append(len(delays))
        if sim.now + sample_every <= duration + 1e-9:
            sim.call_later(sample_every, sample)

    sim.call_soon(sample)
    interrupted = run_in_slices(sim, duration, progress=progress, desc=f"retry storm ({model}, {mode})")
    if model == "rabbitmq":
        store: Any = RabbitDeadLetters(broker, dlq_name, errors=_errors(workers)) if mode == "dlq" else None
        dead = tuple(store.messages()) if store is not None else ()
        ledger = broker.ledger()
        balances = ledger.balances
    else:
        store = SQSDeadLetters(client, dlq_url, errors=_errors(workers)) if mode == "dlq" else None
        dead = tuple(store.messages()) if store is not None else ()
        balances = service.ledger().balanced
    good_published = sum(1 for i in published_at if i not in poison_set)
    end = sim.now
    waits = [done_at.get(i, end) - t for i, t in published_at.items() if i not in poison_set]
    good_done = sum(1 for i in done_at if i not in poison_set)
    return ModelRetryStormResult(
        mode=mode,
        published=len(published_at),
        good_published=good_published,
        good_processed=good_done,
        blocked=good_published - good_done,
        poison_attempts=spent["attempts"],
        poison_seconds=spent["attempts"] * handler_time,
        handler_seconds=sum(w.busy_time for w in workers),
        dead_lettered=len(dead),
        mean_delay=sum(delays) / len(delays) if delays else float("nan"),
        p99_delay=percentile(delays, 99),
        mean_wait=sum(waits) / len(waits) if waits else 0.0,
        delay_added=float("nan"),
        times=tuple(times),
        depth_series=tuple(depths),
        processed_series=tuple(processed),
        dead_letters=dead,
        interrupted=interrupted,
        model=model,
        ledger_balances=balances,
    )


def _errors(workers: list[ModelWorker]) -> dict[Any, str]:
    found: dict[Any, str] = {}
    for worker in workers:
        found.update(worker.last_errors(kind_only=True))
    return found
