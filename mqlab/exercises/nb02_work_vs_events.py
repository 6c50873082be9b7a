"""Exercises of notebook 02, work or events.

* ``02.welcome-email``: the signup service publishes to a fanout exchange; start each of 50 email
  workers so that every signup sends exactly one welcome email, even when a worker dies in the
  middle of one (one shared queue bound to the exchange, acknowledged after the email).
* ``02.order-events``: wire the "order placed" event on a topic exchange so that email, shipping
  and analytics each get exactly one copy of each order while each service runs several instances
  (one queue per service; the instances of a service compete on it).
* ``02.group-ids``: on Kafka, choose the ``group.id`` of each consumer so that a thumbnail job is
  processed once and an "order placed" event reaches every interested service once (a group per
  service, whatever the topic holds).

Each checker runs the learner's code on the simulated broker (:mod:`mqlab.rabbitmq` or
:mod:`mqlab.kafka`) in virtual time and judges what happened to the messages, not how the code
looks: it counts the copies each user, service or job received, and reads the broker's topology
(queues, bindings, consumers) only to name the misconception behind a wrong count.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.kafka import Cluster, Consumer, Producer
from mqlab.rabbitmq import Broker, Channel, ExclusiveConsumerInUse, ExclusiveQueueLocked
from mqlab.sim import Simulation

__all__ = ["group_id_for", "start_email_worker", "subscribe"]

SERVICES = ("email", "shipping", "analytics")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class WorkerDied(Exception):
    """Raised inside a worker's callback when the checker kills that worker's process mid-email."""


def _untouched(error: BaseException | None) -> bool:
    return isinstance(error, (NotAttempted, NotImplementedError))


def _queues_bound_to(broker: Broker, exchange: str) -> list[str]:
    """Names of the queues bound to ``exchange`` now (each once, in binding order)."""
    names = [b["destination"] for b in broker.topology()["bindings"]
             if b["source"] == exchange and b["destination_type"] == "queue"]
    return list(dict.fromkeys(names))


def _exclusive_failure(error: BaseException, what: str) -> Verdict | None:
    """The targeted verdict for an exclusive queue or consumer refused to a second instance, else None."""
    if isinstance(error, ExclusiveQueueLocked):
        return failed(
            "exclusive-queue",
            f"{what} raised {type(error).__name__} (405 RESOURCE_LOCKED): an exclusive queue belongs to the one "
            f"connection that declared it, so the next process could not use it",
            "exclusive=True means 'only my connection may use this queue, and delete it when I disconnect': the "
            "opposite of a queue that several processes share.",
            "declare the shared queue by name with durable=True and without exclusive=True.",
        )
    if isinstance(error, ExclusiveConsumerInUse):
        return failed(
            "exclusive-queue",
            f"{what} raised {type(error).__name__} (403 ACCESS_REFUSED): an exclusive consumer keeps every other "
            f"consumer off the queue",
            "basic_consume(exclusive=True) allows one consumer on the queue; the others must be able to compete.",
            "call basic_consume without exclusive=True.",
        )
    return None


# -- 02.welcome-email -----------------------------------------------------------------------------------------


def start_email_worker(channel, send_email):
    """Called once in each email worker process, with its own channel: declare, bind and start consuming."""
    # One queue, named and durable, shared by every worker: RabbitMQ gives each message in a queue to
    # one of its consumers, so each signup is emailed by exactly one worker, however many run.
    channel.queue_declare("welcome-emails", durable=True)
    # The signup service publishes to the fanout exchange "signups": one binding, one copy per signup.
    channel.queue_bind("welcome-emails", "signups")
    channel.basic_qos(prefetch_count=1)  # one email at a time per worker; the others wait in the queue

    def on_message(ch, method, properties, body):
        send_email(body)                   # the work first...
        ch.basic_ack(method.delivery_tag)  # ...then the ack: if the worker dies before this line,
        #                                    RabbitMQ hands the message to another worker

    channel.basic_consume("welcome-emails", on_message)


@dataclass
class _EmailRun:
    users: list[str]
    emails: dict[str, int]
    doomed: str
    crashed: str | None = None
    start_errors: list[tuple[str, BaseException]] = field(default_factory=list)
    callback_errors: list[tuple[str, BaseException]] = field(default_factory=list)
    bound: list[str] = field(default_factory=list)
    consumers: int = 0
    auto_ack: bool = False
    unroutable: int = 0
    unacked: int = 0
    after_deploy: dict[str, int] = field(default_factory=dict)


def _run_email_workers(start: Callable[..., Any], seed: int, workers: int, signups: int) -> _EmailRun:
    """``workers`` email workers start at t=0 (each its own connection); one signup every 0.5 s from t=1 s;
    the worker emailing one chosen user dies in the middle of that email (its connection closes, a
    replacement starts 1 s later); at t=40 s a deploy restarts every worker."""
    sim = Simulation(seed=seed)
    broker = Broker(sim)
    signup = broker.connect(name="signup-service").channel()
    signup.exchange_declare("signups", "fanout", durable=True)
    rng = sim.substream("exercise:02.welcome-email")
    users = [f"user-{i + 1}" for i in range(signups)]
    run = _EmailRun(users, dict.fromkeys(users, 0), rng.choice(users))
    live: list[tuple[Any, Channel]] = []
    channels: list[tuple[str, Channel]] = []

    def launch(name: str) -> None:
        connection = broker.connect(name=name)
        channel = connection.channel()

        def send_email(body: Any) -> None:
            if connection.is_closed:
                raise WorkerDied(f"{name} is no longer running")
            text = body.decode() if isinstance(body, bytes) else str(body)
            try:
                user = json.loads(text)["user"]
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"send_email expects the message body as delivered, got {body!r}") from None
            if user == run.doomed and run.crashed is None:
                run.crashed = name
                connection.close()  # the process dies: TCP closes, the broker requeues what it had not seen acked
                sim.call_later(1.0, launch, f"{name} (restarted)")
                raise WorkerDied(f"{name} died while emailing {user}")
            run.emails[user] = run.emails.get(user, 0) + 1

        channels.append((name, channel))
        live.append((connection, channel))
        try:
            start(channel, send_email)
        except Exception as error:
            run.start_errors.append((name, error))

    def deploy() -> None:
        run.after_deploy = dict(run.emails)
        current = [c for c, _ in live if c.is_open]
        for connection in current:
            connection.close()
        for i in range(len(current)):
            launch(f"email-worker-{i + 1} (new version)")

    for i in range(workers):
        launch(f"email-worker-{i + 1}")
    for i, user in enumerate(users):
        body = json.dumps({"user": user, "template": "welcome"}).encode()
        sim.call_at(1.0 + 0.5 * i, signup.basic_publish, "signups", "", body)
    sim.call_at(40.0, deploy)
    sim.run(until=60.0)
    for name, channel in channels:
        for record in channel.errors:
            if record.exception is not None and not isinstance(record.exception, WorkerDied):
                run.callback_errors.append((name, record.exception))
    topology = broker.topology()
    run.bound = _queues_bound_to(broker, "signups")
    run.consumers = len(topology["consumers"])
    run.auto_ack = any(c["auto_ack"] for c in topology["consumers"])
    ledger = broker.ledger()
    run.unroutable = ledger.unroutable
    run.unacked = ledger.unacked
    return run


def check_welcome_email(start_email_worker: Callable[..., Any], *, seed: int = 2, workers: int = 50,
                        signups: int = 12) -> Verdict:
    """``workers`` workers each call ``start_email_worker(channel, send_email)``; the signup service publishes
    one message per signup to the fanout exchange ``signups``; one worker dies mid-email; a deploy restarts
    all of them. Passes when every user got exactly one welcome email."""
    run = _run_email_workers(start_email_worker, seed, workers, signups)
    errors = run.start_errors + run.callback_errors
    if any(_untouched(e) for _, e in errors):
        raise NotAttempted("start_email_worker")
    if errors:
        where, error = errors[0]
        targeted = _exclusive_failure(error, f"start_email_worker in {where}")
        if targeted is not None:
            return targeted
        return failed(
            "raised",
            f"your code raised in {where}: {_error_text(error)}",
            "read the exception: pika's calls are queue_declare(queue, durable=...), queue_bind(queue, exchange), "
            "basic_consume(queue, on_message_callback) and basic_ack(delivery_tag).",
            "the callback receives (ch, method, properties, body): pass body to send_email and ack "
            "method.delivery_tag.",
        )
    total = sum(run.emails.values())
    if total == 0:
        if run.unroutable:
            return failed(
                "not-bound",
                f"no welcome email was sent: all {run.unroutable} signups were unroutable, because no queue was "
                f"bound to the exchange 'signups'",
                "a fanout exchange copies each message to the queues bound to it, and to nothing else.",
                "channel.queue_bind(<your queue>, 'signups') after declaring the queue.",
            )
        if run.consumers == 0:
            return failed(
                "not-consuming",
                "no welcome email was sent: the signups reached a queue, but no worker was consuming from it",
                "declaring a queue only creates it; which call starts delivering its messages to your callback?",
                "channel.basic_consume(<your queue>, on_message) with a callback that calls send_email(body).",
            )
        return failed(
            "no-emails",
            "no welcome email was sent although workers were consuming",
            "does your callback call send_email with the message's body?",
            "in on_message(ch, method, properties, body): send_email(body), then ch.basic_ack(method.delivery_tag).",
        )
    most = max(run.users, key=lambda u: run.emails[u])
    if len(run.bound) > 1 and run.emails[most] > 1:
        return failed(
            "queue-per-worker",
            f"{most} received {run.emails[most]} welcome emails: {len(run.bound)} queues were bound to the fanout "
            f"exchange 'signups', one per worker, and a fanout copies every signup into each of them "
            f"({total} emails for {len(run.users)} signups)",
            "a queue per worker is the publish/subscribe pattern: every queue gets its own copy. Is a welcome "
            "email something every worker should do, or one job for any one of them?",
            "declare ONE queue by name (the same name in every worker), bind it to 'signups', and let all the "
            "workers consume from it: RabbitMQ gives each message in a queue to one consumer.",
        )
    missing = [u for u in run.users if run.emails[u] == 0]
    if missing:
        if run.auto_ack:
            return failed(
                "auto-ack",
                f"{missing[0]} never received a welcome email: {run.crashed} died while sending it, and with "
                f"auto_ack=True RabbitMQ had forgotten the message as soon as it was delivered "
                f"({_count(len(missing), 'user')} without an email)",
                "with auto_ack=True a delivery counts as done the moment it leaves the broker; what if the worker "
                "dies before the email is out?",
                "consume with manual acknowledgements (the default, auto_ack=False) and call "
                "ch.basic_ack(method.delivery_tag) after send_email(body).",
            )
        return failed(
            "ack-before-email",
            f"{missing[0]} never received a welcome email: {run.crashed} acknowledged the message and then died "
            f"before the email was sent, so RabbitMQ had nothing left to redeliver "
            f"({_count(len(missing), 'user')} without an email)",
            "an ack tells RabbitMQ to forget the message; when is it safe to say that?",
            "call send_email(body) first and ch.basic_ack(method.delivery_tag) after it.",
        )
    twice = [u for u in run.users if run.emails[u] > 1]
    if twice:
        first = twice[0]
        if run.unacked or run.emails[first] > run.after_deploy.get(first, 0):
            return failed(
                "never-acks",
                f"{first} received {run.emails[first]} welcome emails: its message was never acknowledged, so "
                f"when a worker stopped (a crash, then a deploy at t=40 s) RabbitMQ delivered it again to another "
                f"worker ({_count(len(twice), 'user')} emailed more than once)",
                "RabbitMQ keeps an unacknowledged message and redelivers it when its consumer goes away; what "
                "tells it the email was sent?",
                "call ch.basic_ack(method.delivery_tag) in the callback, after send_email(body).",
            )
        return failed(
            "duplicates",
            f"{first} received {run.emails[first]} welcome emails ({_count(len(twice), 'user')} emailed more than "
            f"once)",
            "count the copies: how many queues receive each signup, and how many consumers get each message?",
            "one shared queue bound to 'signups', consumed by every worker, each message acked after its email.",
        )
    return passed(
        f"each of the {len(run.users)} signups sent exactly one welcome email with {workers} workers running: "
        f"{run.crashed} died in the middle of one and RabbitMQ redelivered it to another worker, and the deploy "
        f"at t=40 s resent nothing"
    )


# -- 02.order-events ------------------------------------------------------------------------------------------


def subscribe(channel, service, handle):
    """Called in each instance of each service, with its own channel: receive every 'order placed' event."""
    # One queue per *service*, named after it: the exchange copies each event into every bound
    # queue, so each service gets its own copy; the instances of one service declare the same name,
    # share that queue and compete for its messages, so each copy is handled by one instance.
    queue = f"{service}.order-placed"
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, "shop", routing_key="order.placed")  # only this event, not order.cancelled

    def on_message(ch, method, properties, body):
        handle(body)
        ch.basic_ack(method.delivery_tag)  # after the work, as for any queue

    channel.basic_consume(queue, on_message)


@dataclass
class _OrderRun:
    orders: list[str]
    handled: dict[str, dict[str, int]]  # service -> order -> copies handled
    by_instance: dict[str, dict[str, int]]  # service -> instance -> messages handled
    cancelled_seen: dict[str, int]
    errors: list[tuple[str, BaseException]] = field(default_factory=list)
    bound: list[str] = field(default_factory=list)
    unroutable: int = 0
    unacked: int = 0


def _run_order_events(subscribe: Callable[..., Any], seed: int, instances: int, orders: int) -> _OrderRun:
    """Every instance of email, shipping and analytics calls ``subscribe(channel, service, handle)``; the
    shop publishes ``order.placed`` for each order (and ``order.cancelled`` for every third) to the topic
    exchange ``shop``, one event every 0.2 s."""
    sim = Simulation(seed=seed)
    broker = Broker(sim)
    shop = broker.connect(name="shop").channel()
    shop.exchange_declare("shop", "topic", durable=True)
    ids = [f"order-{i + 1}" for i in range(orders)]
    run = _OrderRun(ids, {s: {} for s in SERVICES}, {s: {} for s in SERVICES}, dict.fromkeys(SERVICES, 0))
    channels: list[tuple[str, Channel]] = []
    for service in SERVICES:
        for i in range(instances):
            name = f"{service}-{i + 1}"

            def handle(body: Any, service: str = service, name: str = name) -> None:
                text = body.decode() if isinstance(body, bytes) else str(body)
                try:
                    event = json.loads(text)
                    kind, order = event["event"], event["order"]
                except (ValueError, KeyError, TypeError):
                    raise ValueError(f"handle expects the message body as delivered, got {body!r}") from None
                run.by_instance[service][name] = run.by_instance[service].get(name, 0) + 1
                if kind == "order.placed":
                    run.handled[service][order] = run.handled[service].get(order, 0) + 1
                else:
                    run.cancelled_seen[service] += 1

            channel = broker.connect(name=name).channel()
            channels.append((name, channel))
            try:
                subscribe(channel, service, handle)
            except Exception as error:
                run.errors.append((name, error))
    events = []
    for i, order in enumerate(ids):
        events.append(("order.placed", order))
        if i % 3 == 2:
            events.append(("order.cancelled", ids[i - 1]))
    for i, (kind, order) in enumerate(events):
        body = json.dumps({"event": kind, "order": order}).encode()
        sim.call_at(1.0 + 0.2 * i, shop.basic_publish, "shop", kind, body)
    sim.run(until=30.0)
    for name, channel in channels:
        run.errors += [(name, r.exception) for r in channel.errors if r.exception is not None]
    run.bound = _queues_bound_to(broker, "shop")
    ledger = broker.ledger()
    run.unroutable = ledger.unroutable
    run.unacked = ledger.unacked
    return run


def check_order_events(subscribe: Callable[..., Any], *, seed: int = 2, instances: int = 3,
                       orders: int = 10) -> Verdict:
    """Three services of ``instances`` instances each subscribe; passes when every service handled every
    'order placed' event exactly once, no 'order cancelled' event, and acknowledged what it handled."""
    run = _run_order_events(subscribe, seed, instances, orders)
    if any(_untouched(e) for _, e in run.errors):
        raise NotAttempted("subscribe")
    if run.errors:
        where, error = run.errors[0]
        targeted = _exclusive_failure(error, f"subscribe in {where}")
        if targeted is not None:
            return targeted
        return failed(
            "raised",
            f"your code raised in {where}: {_error_text(error)}",
            "read the exception: pika's calls are queue_declare(queue, durable=...), queue_bind(queue, exchange, "
            "routing_key=...), basic_consume(queue, on_message_callback).",
            "the callback receives (ch, method, properties, body): pass body to handle and ack "
            "method.delivery_tag.",
        )
    copies = {s: sum(run.handled[s].values()) for s in SERVICES}
    if sum(copies.values()) == 0:
        why = (f"all {run.unroutable} events were unroutable: no binding of the topic exchange 'shop' matched "
               f"the routing key 'order.placed'" if run.unroutable else
               "the events reached queues, but nothing consumed them")
        return failed(
            "no-copies",
            f"no service handled any 'order placed' event: {why}",
            "the shop publishes to the topic exchange 'shop' with the routing key 'order.placed'; a queue gets "
            "a copy only if a binding's key matches it.",
            "queue_bind(queue, 'shop', routing_key='order.placed'), then basic_consume on that queue.",
        )
    for service in SERVICES:
        missing = [o for o in run.orders if run.handled[service].get(o, 0) == 0]
        if missing:
            order = missing[0]
            reached = [s for s in SERVICES if run.handled[s].get(order, 0)]
            reached_text = " and ".join(reached) if reached else "no service"
            if len(run.bound) < len(SERVICES):
                return failed(
                    "one-queue-for-all",
                    f"{order} reached {reached_text} only: the {len(SERVICES)} services shared "
                    f"{_count(len(run.bound), 'queue')}, so their instances competed for each event and one of "
                    f"them took it from the others ({service} missed {_count(len(missing), 'order')} of "
                    f"{len(run.orders)})",
                    "instances on one queue compete: each message goes to one of them. Should shipping compete "
                    "with email for an order, or should each get its own copy?",
                    "give each service its own queue, named after the service (e.g. f'{service}.order-placed'), "
                    "bound to 'shop' with 'order.placed'.",
                )
            return failed(
                "events-missing",
                f"{service} never handled {order} ({_count(len(missing), 'order')} of {len(run.orders)} missed)",
                "every service needs its own queue bound to 'shop' with the key 'order.placed'.",
                "queue = f'{service}.order-placed'; declare it, bind it to 'shop' with 'order.placed', consume it.",
            )
    for service in SERVICES:
        twice = [o for o in run.orders if run.handled[service].get(o, 0) > 1]
        if twice:
            order = twice[0]
            return failed(
                "queue-per-instance",
                f"{service} handled {order} {run.handled[service][order]} times: each of its {instances} instances "
                f"had a queue of its own bound to 'shop' ({len(run.bound)} queues for {len(SERVICES)} services), so "
                f"each instance got a copy ({_count(len(twice), 'order')} handled more than once by {service})",
                "a copy per queue: how many queues does one service have? One order should cause one shipment.",
                "let the instances of a service share one queue with a name that depends on the service only "
                "(not exclusive, not server-named).",
            )
    extra = {s: n for s, n in run.cancelled_seen.items() if n}
    if extra:
        service = next(iter(extra))
        return failed(
            "binding-too-broad",
            f"{service} also handled {_count(extra[service], 'order cancelled event')}: its binding matched more "
            f"than 'order.placed'",
            "on a topic exchange, '#' matches every routing key; which key does an 'order placed' event carry?",
            "bind with routing_key='order.placed' (or a pattern that matches only it).",
        )
    if run.unacked:
        return failed(
            "never-acks",
            f"every service got one copy of each order, but {run.unacked} deliveries were never acknowledged: "
            f"RabbitMQ keeps them and will deliver them again when an instance restarts",
            "what tells RabbitMQ that an instance has finished with a delivery?",
            "call ch.basic_ack(method.delivery_tag) in the callback, after handle(body).",
        )
    spread = ", ".join(f"{s} {sorted(run.by_instance[s].values(), reverse=True)}" for s in SERVICES)
    return passed(
        f"each of the {len(run.orders)} orders reached email, shipping and analytics exactly once, none of the "
        f"cancellations did, and the instances of each service shared the work (per instance: {spread})"
    )


# -- 02.group-ids ---------------------------------------------------------------------------------------------


def group_id_for(service, instance, topic):
    """The Kafka group.id of one consumer: instance `instance` of `service`, reading `topic`."""
    # A consumer group reads every record of a topic once, spread over its members. So:
    # the instances of one service share a group (each job or event handled once per service),
    # and each service has a group of its own (each service gets every event).
    # The topic does not decide; what the service does with the record does.
    return service


DEPLOYMENT = (("thumbnailer", 3, "thumbnail-requested"), ("email", 2, "order-placed"),
              ("shipping", 2, "order-placed"), ("analytics", 2, "order-placed"))
"""(service, instances, topic): a work topic with one service, and an event topic with three."""


def _instances(service: str) -> int:
    return next(count for name, count, _ in DEPLOYMENT if name == service)


@dataclass
class _KafkaRun:
    jobs: list[str]
    orders: list[str]
    groups: dict[tuple[str, int], str]
    handled: dict[str, dict[str, int]]  # service -> record value -> times handled
    error: str | None = None


def _run_group_ids(group_id_for: Callable[..., Any], seed: int, jobs: int, orders: int) -> _KafkaRun | Verdict:
    sim = Simulation(seed=seed)
    cluster = Cluster(sim, brokers=3)
    cluster.create_topic("thumbnail-requested", 4, 3)
    cluster.create_topic("order-placed", 4, 3)
    run = _KafkaRun([f"photo-{i + 1}" for i in range(jobs)], [f"order-{i + 1}" for i in range(orders)], {},
                    {service: {} for service, _, _ in DEPLOYMENT})
    for service, count, topic in DEPLOYMENT:
        for instance in range(1, count + 1):
            try:
                group = group_id_for(service, instance, topic)
            except (NotAttempted, NotImplementedError):
                raise
            except Exception as error:
                return failed("raised", f"group_id_for({service!r}, {instance}, {topic!r}) raised {_error_text(error)}",
                              "group_id_for gets the service's name, the instance number (1, 2, ...) and the topic.",
                              "return a string: the name of the consumer group this consumer joins.")
            if not isinstance(group, str) or not group:
                return failed(
                    "invalid-group-id",
                    f"group_id_for({service!r}, {instance}, {topic!r}) returned {group!r}: a Kafka consumer needs a "
                    f"non-empty string as its group.id",
                    "every consumer that subscribes to a topic names its consumer group.",
                    "return a string such as the service's name.",
                )
            run.groups[(service, instance)] = group

    def consumer_process(service: str, instance: int, topic: str) -> Generator[Any, Any, None]:
        consumer = Consumer(cluster, {"group.id": run.groups[(service, instance)],
                                      "client.id": f"{service}-{instance}", "auto.offset.reset": "earliest"})
        consumer.subscribe([topic])
        while True:
            msg = yield consumer.poll_event(1.0)
            if msg is None or msg.error() is not None:
                continue
            yield sim.timeout(0.05)  # the work
            value = msg.value().decode()
            run.handled[service][value] = run.handled[service].get(value, 0) + 1

    for service, count, topic in DEPLOYMENT:
        for instance in range(1, count + 1):
            sim.process(consumer_process(service, instance, topic))
    producer = Producer(cluster)
    for i, job in enumerate(run.jobs):
        sim.call_at(5.0 + 0.25 * i, producer.produce, "thumbnail-requested", job.encode(), job.encode())
    for i, order in enumerate(run.orders):
        sim.call_at(5.1 + 0.25 * i, producer.produce, "order-placed", order.encode(), order.encode())
    sim.run(until=60.0)
    return run


def check_group_ids(group_id_for: Callable[..., Any], *, seed: int = 2, jobs: int = 12, orders: int = 8) -> Verdict:
    """A thumbnailer (3 instances) consumes the work topic 'thumbnail-requested'; email, shipping and analytics
    (2 instances each) consume the event topic 'order-placed'. Passes when each job was processed once in all,
    and each order once by each of the three services."""
    run = _run_group_ids(group_id_for, seed, jobs, orders)
    if isinstance(run, Verdict):
        return run
    thumbnailer = run.handled["thumbnailer"]
    twice = [j for j in run.jobs if thumbnailer.get(j, 0) > 1]
    if twice:
        count = _instances("thumbnailer")
        groups = sorted({run.groups[("thumbnailer", i)] for i in range(1, count + 1)})
        return failed(
            "group-per-instance",
            f"{twice[0]} was resized {thumbnailer[twice[0]]} times: the {count} thumbnailer instances were in "
            f"{_count(len(groups), 'group')} ({', '.join(groups)}), and every group reads every record "
            f"({_count(len(twice), 'job')} done more than once)",
            "in Kafka, each consumer group gets every record of the topic; inside one group, each record goes "
            "to one member. Which do you want for a job?",
            "give all the instances of one service the same group.id (for example the service's name).",
        )
    missing_jobs = [j for j in run.jobs if thumbnailer.get(j, 0) == 0]
    event_services = [s for s, _, topic in DEPLOYMENT if topic == "order-placed"]
    for service in event_services:
        missing = [o for o in run.orders if run.handled[service].get(o, 0) == 0]
        if missing:
            order = missing[0]
            reached = [s for s in event_services if run.handled[s].get(order, 0)]
            mine = run.groups[(service, 1)]
            sharing = sorted({s for s in event_services if run.groups[(s, 1)] == mine})
            return failed(
                "group-shared-by-services",
                f"{order} never reached {service} (only {' and '.join(reached) or 'nobody'} handled it): "
                f"{', '.join(sharing)} were all in the group {mine!r}, so their instances split the events among "
                f"themselves like workers of one service ({service} missed {_count(len(missing), 'order')} of "
                f"{len(run.orders)})",
                "one group = one reader of the whole topic. Naming the group after the topic turns an event into "
                "a job that only one service gets.",
                "give each service a group of its own (for example its name); the instances of a service share it.",
            )
        twice = [o for o in run.orders if run.handled[service].get(o, 0) > 1]
        if twice:
            count = _instances(service)
            groups = sorted({run.groups[(service, i)] for i in range(1, count + 1)})
            return failed(
                "group-per-instance",
                f"{service} handled {twice[0]} {run.handled[service][twice[0]]} times: its {count} instances were in "
                f"{_count(len(groups), 'group')} ({', '.join(groups)}), and each group gets every record",
                "one service should react to an event once, however many instances it runs.",
                "give all the instances of one service the same group.id (for example the service's name).",
            )
    if missing_jobs:
        return failed(
            "jobs-missing",
            f"{missing_jobs[0]} was never resized ({_count(len(missing_jobs), 'job')} of {len(run.jobs)} missing)",
            "every record of 'thumbnail-requested' must be read by the thumbnailer's group.",
            "give the thumbnailer's instances one group.id of their own.",
        )
    return passed(
        f"each of the {len(run.jobs)} thumbnail jobs was done once, by one of {_instances('thumbnailer')} "
        f"thumbnailers, and each of the "
        f"{len(run.orders)} orders reached email, shipping and analytics once each: one group per service, "
        f"on either kind of topic"
    )


welcome_email = register(Exercise(
    "02.welcome-email", "One welcome email per signup with 50 workers, even when one dies mid-email",
    check_welcome_email, start_email_worker, handle="exercise_email",
))
order_events = register(Exercise(
    "02.order-events", "An 'order placed' event: one copy per service, shared by the service's instances",
    check_order_events, subscribe, handle="exercise_events",
))
group_ids = register(Exercise(
    "02.group-ids", "Kafka group ids: a job processed once, an event reaching every service",
    check_group_ids, group_id_for, handle="exercise_group_ids",
))
