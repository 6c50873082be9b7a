"""Choosing a tool: one workload on the three models, what each costs to run, and a recommender.

Three parts, used by notebook 09:

* :func:`side_by_side` runs the same order workload (orders keyed by customer, one
  poison order, one consumer crash just before its acknowledgement, and a new
  consumer that arrives a day later) on :mod:`mqlab.rabbitmq`, :mod:`mqlab.kafka`
  and :mod:`mqlab.sqs` (standard and FIFO), and returns one :class:`ModelRun` per
  tool: what was handled twice, which customers saw their orders out of order,
  where the poison order ended up and how much history the late consumer could read.
* The cost side: :func:`sqs_requests_per_message` and :func:`sqs_monthly_cost` follow
  SQS's billing rules (every call is a request, each started 64 KiB of payload is
  one more, empty receives are billed; $0.40 per million for standard, $0.50 for
  FIFO, first tier in us-east-1, free tier not applied) and :func:`break_even_rate`
  finds the rate at which SQS costs as much as a cluster. A cluster's monthly price
  is a *parameter the learner sets*, never a quote: real prices depend on the
  provider, region, instance sizes and support contract.
* :func:`recommend` turns stated :class:`Requirements` into a :class:`Recommendation`
  (the simplest tool that meets them, the reasons, the trade-offs).
  :data:`OPERATIONS` lists what each tool leaves you to operate; its score is a
  qualitative count of those items, not a measurement.

Simplifications: the models run in virtual time with the workers of
:mod:`mqlab.faults` (one message in hand at a time); RabbitMQ dead-letters a
rejected delivery at once (``basic_reject`` with ``requeue=False`` and a dead-letter
exchange), Kafka sends a failed record to ``<topic>.DLT`` and commits past it (the
Spring-style helper of :mod:`mqlab.patterns.kafka_dlt`), SQS moves a message to its
DLQ after ``maxReceiveCount`` receives (the redrive policy).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from mqlab.errors import MqlabError

__all__ = [
    "MONTH_HOURS",
    "OPERATIONS",
    "SQS_PRICE_PER_MILLION",
    "TOOLS",
    "InvalidRequirement",
    "ModelRun",
    "Recommendation",
    "Requirements",
    "Workload",
    "break_even_rate",
    "decision_helper",
    "operations_score",
    "recommend",
    "run_kafka",
    "run_rabbitmq",
    "run_sqs",
    "side_by_side",
    "sqs_monthly_cost",
    "sqs_requests_per_message",
]

MONTH_HOURS = 730
"""Hours in the average month (8,760 / 12), as AWS's price calculator counts them."""

SQS_PRICE_PER_MILLION = {"standard": 0.40, "fifo": 0.50}
"""Dollars per million requests, first tier, us-east-1 (AWS pricing page, checked 2025)."""

CHUNK_BYTES = 65_536
"""SQS bills each started 64 KiB of a request's payload as one request."""

TOOLS = ("SQS standard", "SQS FIFO", "RabbitMQ", "Kafka")


class InvalidRequirement(MqlabError, ValueError):
    """A requirement or cost parameter is out of range (the message names it and the accepted values)."""


# -- the workload on the three models -------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """``customers`` customers each place ``orders_per_customer`` orders, sent at t=0 in customer-interleaved
    order. Order ``poison`` can never be processed; the first worker crashes after the effect and before the
    acknowledgement of its ``crash_on``-th delivery; ``workers`` workers take ``service_time`` seconds per order,
    with +/-50 % jitter."""

    customers: int = 4
    orders_per_customer: int = 5
    poison: str = "order-7"
    crash_on: int = 3
    service_time: float = 1.0
    workers: int = 3
    seed: int = 9

    def __post_init__(self) -> None:
        if not (isinstance(self.customers, int) and self.customers >= 1):
            raise InvalidRequirement(f"Workload.customers must be an int >= 1, got {self.customers!r}")
        if not (isinstance(self.orders_per_customer, int) and self.orders_per_customer >= 1):
            raise InvalidRequirement(
                f"Workload.orders_per_customer must be an int >= 1, got {self.orders_per_customer!r}")

    def orders(self) -> list[dict[str, Any]]:
        """Every order as a dict (``order``, ``customer``, ``seq``), in the order they are sent."""
        out = []
        for seq in range(1, self.orders_per_customer + 1):
            for c in range(1, self.customers + 1):
                out.append({"order": f"order-{len(out) + 1}", "customer": f"customer-{c}", "seq": seq})
        return out


@dataclass(frozen=True)
class ModelRun:
    """What one tool did with the workload.

    ``handled`` maps each order to the number of times its effect happened; ``out_of_order`` lists the
    customers whose orders were first handled in another order than sent; ``poison_fate`` says where the
    poison order ended and after how many attempts; ``late_consumer_reads`` is how many of the day-old orders
    a consumer that starts a day later can read.
    """

    tool: str
    ordering: str
    orders: int
    handled: tuple[tuple[str, int], ...]
    out_of_order: tuple[str, ...]
    poison_fate: str
    poison_attempts: int
    late_consumer_reads: int
    finished_at: float

    @property
    def duplicates(self) -> int:
        """Orders whose effect happened more than once."""
        return sum(1 for _, n in self.handled if n > 1)

    @property
    def lost(self) -> int:
        """Orders (other than the poison one) whose effect never happened."""
        return sum(1 for _, n in self.handled if n == 0)

    @property
    def can_replay(self) -> bool:
        return self.late_consumer_reads > 0


class _Recorder:
    """The handler shared by every model: records effects per order, raises for the poison order."""

    def __init__(self, sim: Any, workload: Workload) -> None:
        self.sim = sim
        self.workload = workload
        self.effects: dict[str, int] = {o["order"]: 0 for o in workload.orders()}
        self.sequence: dict[str, list[int]] = {}
        self.poison_attempts = 0
        self.last_effect = 0.0

    def __call__(self, _message_id: Any, body: Any) -> None:
        order = json.loads(body.decode() if isinstance(body, bytes) else body)
        if order["order"] == self.workload.poison:
            self.poison_attempts += 1
            raise ValueError(f"{order['order']}: the address cannot be parsed")
        if self.effects[order["order"]] == 0:
            self.sequence.setdefault(order["customer"], []).append(order["seq"])
        self.effects[order["order"]] += 1
        self.last_effect = self.sim.now

    def result(self, tool: str, ordering: str, fate: str, late: int) -> ModelRun:
        handled = tuple((o, n) for o, n in self.effects.items() if o != self.workload.poison)
        out_of_order = tuple(c for c, seqs in self.sequence.items() if seqs != sorted(seqs))
        return ModelRun(tool, ordering, len(handled), handled, out_of_order, fate, self.poison_attempts, late,
                        round(self.last_effect, 3))


def _service(workload: Workload) -> Any:
    from mqlab.faults import LatencyProfile

    return LatencyProfile(normal=workload.service_time, jitter=0.5)


def _crash(workload: Workload) -> Any:
    from mqlab.faults import CrashSchedule

    return CrashSchedule(point="before_ack", deliveries=(workload.crash_on,), restart_after=5.0)


DAY = 86_400.0


def run_rabbitmq(workload: Workload = Workload()) -> ModelRun:
    """A fanout exchange ``orders`` feeding queue ``fulfilment`` (dead-letter exchange to ``fulfilment.dlq``),
    ``workers`` competing workers with prefetch 1; a day later an ``analytics`` queue is bound to the exchange."""
    from mqlab.faults.rabbitmq_worker import RabbitWorker
    from mqlab.rabbitmq import Broker
    from mqlab.sim import Simulation

    sim = Simulation(seed=workload.seed)
    broker = Broker(sim)
    channel = broker.connect(name="setup").channel()
    channel.exchange_declare("orders", "fanout")
    channel.queue_declare("fulfilment.dlq")
    channel.queue_declare("fulfilment", arguments={"x-dead-letter-exchange": "",
                                                   "x-dead-letter-routing-key": "fulfilment.dlq"})
    channel.queue_bind("fulfilment", "orders")
    for order in workload.orders():
        channel.basic_publish("orders", order["customer"], json.dumps(order))
    recorder = _Recorder(sim, workload)
    for i in range(1, workload.workers + 1):
        RabbitWorker(broker, "fulfilment", recorder, name=f"worker-{i}", service_time=_service(workload),
                     on_error="reject", crash=_crash(workload) if i == 1 else None)
    sim.run(until=DAY)
    dead = channel.queue_declare("fulfilment.dlq", passive=True).method.message_count
    late = channel.queue_declare("analytics").method.message_count  # declared and bound a day later
    channel.queue_bind("analytics", "orders")
    late = channel.queue_declare("analytics", passive=True).method.message_count
    fate = f"dead-lettered to fulfilment.dlq ({dead} message)" if dead else "not dead-lettered"
    return recorder.result("RabbitMQ", "per queue, one consumer", fate, late)


def run_kafka(workload: Workload = Workload(), partitions: int = 4) -> ModelRun:
    """Topic ``orders`` (``partitions`` partitions, keyed by customer), group ``fulfilment`` of ``workers`` workers; the
    poison record goes to ``orders.DLT``; a day later a new group ``analytics`` reads from the earliest offset."""
    from mqlab.faults.kafka_worker import KafkaWorker
    from mqlab.kafka import Cluster, Consumer, Producer
    from mqlab.patterns.kafka_dlt import DeadLetterTopic
    from mqlab.sim import Simulation

    sim = Simulation(seed=workload.seed)
    cluster = Cluster(sim, brokers=3)
    cluster.create_topic("orders", partitions, 3)
    cluster.create_topic("orders.DLT", 1, 3)
    producer = Producer(cluster, {"acks": "all"})
    for order in workload.orders():
        producer.produce("orders", key=order["customer"], value=json.dumps(order))
    producer.flush()
    recorder = _Recorder(sim, workload)
    dlt = DeadLetterTopic(Producer(cluster, {"acks": "all"}))
    workers = [
        KafkaWorker(cluster, "orders", "fulfilment", recorder, name=f"worker-{i}", service_time=_service(workload),
                    on_error="dead_letter", dead_letter=dlt.send, crash=_crash(workload) if i == 1 else None)
        for i in range(1, workload.workers + 1)
    ]
    sim.run(until=600)
    for worker in workers:
        worker.stop()
    sim.run(until=DAY)
    analytics = Consumer(cluster, {"group.id": "analytics", "auto.offset.reset": "earliest"})
    analytics.subscribe(["orders"])
    late = 0
    for _ in range(50):
        batch = analytics.consume(100, 1.0)
        late += sum(1 for m in batch if m.error() is None)
        if not batch and late:
            break
    fate = f"sent to orders.DLT ({dlt.sent} record), offset committed past it" if dlt.sent else "not dead-lettered"
    return recorder.result("Kafka", "per key (partition)", fate, late)


def run_sqs(workload: Workload = Workload(), fifo: bool = False) -> ModelRun:
    """Queue ``orders`` (``orders.fifo`` with the customer as MessageGroupId) with a redrive policy to a DLQ after
    3 receives, ``workers`` long-polling workers; a day later a new worker polls the same queue."""
    from mqlab.faults.sqs_worker import SQSWorker
    from mqlab.sim import Simulation
    from mqlab.sqs import SQS

    sim = Simulation(seed=workload.seed)
    sqs = SQS(sim)
    client = sqs.client()
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}
    dlq = client.create_queue(QueueName=f"orders-dlq{suffix}", Attributes=fifo_attributes)["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    url = client.create_queue(QueueName=f"orders{suffix}",
                              Attributes={**fifo_attributes, "RedrivePolicy": policy})["QueueUrl"]
    for order in workload.orders():
        extra = {"MessageGroupId": order["customer"], "MessageDeduplicationId": order["order"]} if fifo else {}
        client.send_message(QueueUrl=url, MessageBody=json.dumps(order), **extra)
    recorder = _Recorder(sim, workload)
    workers = [
        SQSWorker(client, url, recorder, name=f"worker-{i}", service_time=_service(workload),
                  crash=_crash(workload) if i == 1 else None)
        for i in range(1, workload.workers + 1)
    ]
    sim.run(until=600)
    for worker in workers:
        worker.stop()
    sim.run(until=DAY)
    late = len(client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=20).get("Messages", []))
    dead = sqs.statistics(dlq).visible
    fate = f"moved to the DLQ by the redrive policy ({dead} message)" if dead else "not dead-lettered"
    tool = "SQS FIFO" if fifo else "SQS standard"
    return recorder.result(tool, "per message group" if fifo else "none (best effort)", fate, late)


def side_by_side(workload: Workload = Workload()) -> list[ModelRun]:
    """The same workload on RabbitMQ, Kafka, SQS standard and SQS FIFO, in that order."""
    return [run_rabbitmq(workload), run_kafka(workload), run_sqs(workload), run_sqs(workload, fifo=True)]


# -- what there is to operate ---------------------------------------------------------------------------------

OPERATIONS: dict[str, tuple[str, ...]] = {
    "SQS standard": ("queue attributes (visibility timeout, redrive policy)", "IAM permissions"),
    "SQS FIFO": ("queue attributes (visibility timeout, redrive policy)", "IAM permissions",
                 "choice of message group ids"),
    "RabbitMQ": ("broker nodes (sizing, upgrades, Erlang version)", "cluster membership and quorum queues",
                 "exchanges, bindings, policies", "memory and disk alarms", "users, vhosts, TLS",
                 "monitoring queue depth and unacked counts"),
    "Kafka": ("brokers (sizing, rolling upgrades)", "KRaft controllers (or ZooKeeper)",
              "topics: partition counts, replication factor, min.insync.replicas",
              "retention and disk capacity", "consumer groups, lag and rebalances",
              "partition reassignment when scaling", "ACLs, TLS, quotas", "monitoring under-replicated partitions"),
}
"""What a team owns per tool when it runs it itself (a managed offering such as Amazon MQ or a hosted Kafka takes
over the machines, not the topics, partitions, retention or consumer groups)."""


def operations_score(tool: str) -> int:
    """A qualitative score: the number of things in :data:`OPERATIONS` for ``tool`` (more is more to operate)."""
    if tool not in OPERATIONS:
        raise InvalidRequirement(f"unknown tool {tool!r}; choose one of {', '.join(TOOLS)}")
    return len(OPERATIONS[tool])


# -- cost -----------------------------------------------------------------------------------------------------


def sqs_requests_per_message(body_bytes: int = 1024, *, batch: int = 1, receives: int = 1,
                             deletes: bool = True) -> float:
    """Billed requests per message: the send, each receive and the delete, each counting one request per started
    64 KiB of its payload (a delete carries no body). ``batch`` messages share one SendMessageBatch, one
    ReceiveMessage and one DeleteMessageBatch call (up to 10; a batch is billed on its total payload)."""
    if not (isinstance(body_bytes, int) and 0 <= body_bytes <= 1_048_576):
        raise InvalidRequirement(f"body_bytes must be an int from 0 to 1,048,576 (1 MiB, SQS's limit), got "
                                 f"{body_bytes!r}")
    if not (isinstance(batch, int) and 1 <= batch <= 10):
        raise InvalidRequirement(f"batch must be an int from 1 to 10 (SQS's batch limit), got {batch!r}")
    chunks = max(1, math.ceil(body_bytes * batch / CHUNK_BYTES))
    per_call = chunks * (1 + receives) + (1 if deletes else 0)
    return per_call / batch


def sqs_monthly_cost(messages_per_hour: float, *, body_bytes: int = 1024, batch: int = 1, consumers: int = 1,
                     wait_time_seconds: int = 20, fifo: bool = False) -> float:
    """Dollars a month on SQS for ``messages_per_hour``: the messages' requests plus the empty receives of
    ``consumers`` long-polling consumers (one per ``wait_time_seconds`` while idle), at the first-tier price."""
    if not messages_per_hour >= 0:
        raise InvalidRequirement(f"messages_per_hour must be a number >= 0, got {messages_per_hour!r}")
    if not (isinstance(wait_time_seconds, int) and 1 <= wait_time_seconds <= 20):
        raise InvalidRequirement(f"wait_time_seconds must be 1 to 20 (long polling), got {wait_time_seconds!r}")
    messages = messages_per_hour * MONTH_HOURS
    idle_polls = consumers * MONTH_HOURS * 3600 / wait_time_seconds
    requests = messages * sqs_requests_per_message(body_bytes, batch=batch) + idle_polls
    return requests * SQS_PRICE_PER_MILLION["fifo" if fifo else "standard"] / 1_000_000


def break_even_rate(cluster_monthly_dollars: float, *, body_bytes: int = 1024, batch: int = 1,
                    fifo: bool = False) -> float:
    """Messages per second at which SQS's request bill equals a cluster's fixed monthly cost (idle polls left out:
    at that rate consumers are never idle)."""
    if not cluster_monthly_dollars > 0:
        raise InvalidRequirement(f"cluster_monthly_dollars must be > 0, got {cluster_monthly_dollars!r}")
    per_message = sqs_requests_per_message(body_bytes, batch=batch) * SQS_PRICE_PER_MILLION[
        "fifo" if fifo else "standard"] / 1_000_000
    return cluster_monthly_dollars / per_message / (MONTH_HOURS * 3600)


# -- the recommender ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirements:
    """What the system really needs.

    ``replay_days``: how far back a consumer must be able to re-read (0: never); ``ordering``: ``"none"``,
    ``"per_key"`` or ``"total"``; ``fan_out``: how many services react to each message; ``messages_per_second``:
    the sustained rate; ``team_runs_cluster``: a team that can own a cluster (on call, upgrades);
    ``routing_rules``: per-message routing by key patterns or headers; ``managed_only``: only a cloud-managed
    service is allowed.
    """

    replay_days: float = 0
    ordering: str = "none"
    fan_out: int = 1
    messages_per_second: float = 1.0
    team_runs_cluster: bool = False
    routing_rules: bool = False
    managed_only: bool = False

    def __post_init__(self) -> None:
        if self.ordering not in ("none", "per_key", "total"):
            raise InvalidRequirement(
                f"Requirements.ordering must be 'none', 'per_key' or 'total', got {self.ordering!r}")
        if not self.replay_days >= 0:
            raise InvalidRequirement(f"Requirements.replay_days must be >= 0, got {self.replay_days!r}")
        if not (isinstance(self.fan_out, int) and self.fan_out >= 1):
            raise InvalidRequirement(f"Requirements.fan_out must be an int >= 1, got {self.fan_out!r}")
        if not self.messages_per_second >= 0:
            raise InvalidRequirement(
                f"Requirements.messages_per_second must be >= 0, got {self.messages_per_second!r}")


@dataclass(frozen=True)
class Recommendation:
    """The simplest tool that meets the requirements, why, and what the choice costs."""

    tool: str
    reasons: tuple[str, ...]
    trade_offs: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        lines = [f"Recommended: {self.tool}"]
        lines += [f"  because {r}" for r in self.reasons]
        lines += [f"  trade-off: {t}" for t in self.trade_offs]
        return "\n".join(lines)


FIFO_RATE = 300.0
"""Messages per second a FIFO queue supports without batching or high-throughput mode (AWS's FIFO quota: 300 API
calls a second per action; batches of ten make it 3,000 messages)."""
HIGH_RATE = 50_000.0
"""Above this sustained rate (messages per second) the log's partitioned design is the one built for it."""


def recommend(requirements: Requirements) -> Recommendation:
    """The simplest tool that meets ``requirements``: SQS unless a requirement rules it out, then RabbitMQ for
    routing, then Kafka for replay and very high rates. A constraint that no self-run tool can meet (replay, but
    only managed services) is answered with the managed form of the tool and said so."""
    r = requirements
    reasons: list[str] = []
    trade: list[str] = []
    if r.replay_days > 0 or r.messages_per_second >= HIGH_RATE:
        if r.replay_days > 0:
            reasons.append(f"consumers must re-read {r.replay_days:g} days of history: only a log keeps messages "
                           f"after they are consumed (retention.ms)")
        if r.messages_per_second >= HIGH_RATE:
            reasons.append(f"{r.messages_per_second:,.0f} msg/s is the rate partitioned logs are built for")
        if r.ordering != "none":
            reasons.append("order holds per partition, so key by what must stay in order")
        if r.managed_only:
            trade.append("managed only: use a hosted Kafka (such as Amazon MSK); partitions, retention and "
                         "consumer groups are still yours to design")
        elif not r.team_runs_cluster:
            trade.append("nobody to run a cluster: use a hosted Kafka, or staff the on-call before you adopt it")
        trade.append("the most to operate: brokers, partitions, retention, rebalances")
        return Recommendation("Kafka", tuple(reasons), tuple(trade))
    if r.routing_rules:
        reasons.append("messages are routed by rules (topic patterns, headers): exchanges and bindings do it in "
                       "the broker")
        if r.fan_out > 1:
            reasons.append(f"{r.fan_out} services each get a copy through their own bound queue")
        if r.ordering != "none":
            reasons.append("order holds per queue with a single consumer (single active consumer)")
        if r.managed_only or not r.team_runs_cluster:
            trade.append("run it as a managed broker (such as Amazon MQ for RabbitMQ): the nodes are managed, the "
                         "exchanges and queues are still yours")
        trade.append("no replay: an acknowledged message is gone")
        return Recommendation("RabbitMQ", tuple(reasons), tuple(trade))
    tool = "SQS standard"
    if r.ordering != "none":
        tool = "SQS FIFO"
        reasons.append("order is needed: a FIFO queue keeps it per message group")
        if r.ordering == "total":
            trade.append("total order means one message group: one message in flight at a time")
        elif r.messages_per_second > FIFO_RATE:
            trade.append(f"above {FIFO_RATE:g} msg/s a FIFO queue needs batching or high-throughput mode, and many "
                         f"groups: each group has one message in flight at a time")
    else:
        reasons.append("no ordering, replay or routing requirement rules out the simplest queue")
    reasons.append("nothing to operate: three API calls, billed per request")
    if r.fan_out > 1:
        reasons.append(f"fan-out to {r.fan_out} services: publish to an SNS topic with one queue per service")
    trade.append("no replay once deleted, no routing rules; at-least-once delivery: make consumers idempotent")
    return Recommendation(tool, tuple(reasons), tuple(trade))


def decision_helper(requirements: Requirements = Requirements()) -> Any:
    """A control (see :mod:`mqlab.widgets.base`) with one widget per requirement that shows :func:`recommend`'s
    answer, its reasons and trade-offs, and a bar of each tool's operations score (the recommended one
    highlighted). Without a widget frontend it shows the answer for ``requirements`` as text and a static figure.
    Set ``control.controls[name].value`` to drive it from code."""
    import html

    import ipywidgets as w

    from mqlab.viz.palette import GOOD, MUTED, base_figure
    from mqlab.widgets.base import Control

    class DecisionHelper(Control):
        title = "Decision helper"

        def __init__(self) -> None:
            super().__init__()
            r = requirements
            self.controls: dict[str, Any] = {
                "replay_days": w.IntSlider(value=int(r.replay_days), min=0, max=90, description="replay (days)"),
                "ordering": w.Dropdown(options=["none", "per_key", "total"], value=r.ordering, description="ordering"),
                "fan_out": w.IntSlider(value=r.fan_out, min=1, max=20, description="fan-out"),
                "messages_per_second": w.FloatLogSlider(value=max(r.messages_per_second, 0.01), base=10, min=-2,
                                                        max=6, description="msg/s"),
                "team_runs_cluster": w.Checkbox(value=r.team_runs_cluster, description="team can run a cluster"),
                "routing_rules": w.Checkbox(value=r.routing_rules, description="per-message routing rules"),
                "managed_only": w.Checkbox(value=r.managed_only, description="cloud-managed only"),
            }
            self.answer = w.HTML()
            for control in self.controls.values():
                control.observe(lambda _change: self.refresh(), names="value")
            self.box = w.VBox([w.HBox([w.VBox(list(self.controls.values())), self.answer]), self.plot, self.status])
            self.refresh()

        def requirements(self) -> Requirements:
            return Requirements(**{name: c.value for name, c in self.controls.items()})

        def refresh(self) -> None:
            self.recommendation = recommend(self.requirements())
            self.answer.value = "<pre>" + html.escape(str(self.recommendation)) + "</pre>"
            fig = base_figure(f"Recommended: {self.recommendation.tool}", "", "things to operate (qualitative)",
                              height=320)
            fig.add_bar(x=list(TOOLS), y=[operations_score(t) for t in TOOLS], showlegend=False,
                        marker_color=[GOOD if t == self.recommendation.tool else MUTED for t in TOOLS])
            self._draw(fig)

        def note(self) -> str:
            return "; ".join(line.strip() for line in str(self.recommendation).splitlines())

    return DecisionHelper()
