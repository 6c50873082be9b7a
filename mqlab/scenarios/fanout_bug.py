"""The fan-out bug: a work job published to a fanout exchange, so every worker does it.

A signup service publishes "send the welcome email to user X" to a **fanout**
exchange, and each of the ``workers`` email workers declared its own queue and
bound it to that exchange (the pub/sub tutorial, copied for a job). A fanout
exchange copies each message to every bound queue (RabbitMQ's routing rule), so
each signup sends ``workers`` emails. Three runs on the RabbitMQ model:

* ``bug``: one queue per worker, all bound to the fanout exchange: ``workers``
  emails per user;
* ``fix``: one shared work queue, the workers compete for its messages
  (round-robin, prefetch 1): exactly one email per user;
* ``events``: the event version done right: the signup is an *event*
  (``user.signed-up``) on a fanout exchange with **one queue per interested
  service** (``services``: email, analytics, crm by default); each service's
  workers compete on that service's queue. Every service sees every event once,
  and one email goes out per user.

The rule behind it: a work item goes to one queue shared by competing
consumers; fan-out is for events, one queue per *service*, not per *instance*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mqlab.faults.checks import check_count, check_duration
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.rabbitmq import RabbitPublisher
from mqlab.faults.rabbitmq_worker import RabbitWorker
from mqlab.rabbitmq import Broker
from mqlab.sim import Simulation

__all__ = ["VARIANTS", "FanoutBugResult", "FanoutRun", "fanout_bug"]

VARIANTS = ("bug", "fix", "events")


@dataclass(frozen=True)
class FanoutRun:
    """One variant: emails per user, messages handled per service, and what the broker did."""

    variant: str
    users: int
    workers: int
    queues: int
    emails_per_user: dict[str, int]
    handled_per_service: dict[str, int]
    handled_per_worker: dict[str, int]
    total_emails: int
    broker_routed_copies: int
    ledger_balances: bool
    finished_at: float

    @property
    def emails_sent_per_signup(self) -> float:
        return self.total_emails / self.users if self.users else 0.0


@dataclass(frozen=True)
class FanoutBugResult:
    bug: FanoutRun
    fix: FanoutRun
    events: FanoutRun

    def run(self, variant: str) -> FanoutRun:
        if variant not in VARIANTS:
            raise KeyError(f"no variant {variant!r}; variants are {list(VARIANTS)}")
        return getattr(self, variant)  # type: ignore[no-any-return]


def fanout_bug(
    *,
    users: int = 10,
    workers: int = 50,
    services: tuple[str, ...] = ("email", "analytics", "crm"),
    workers_per_service: int | None = None,
    handler_time: float = 0.005,
    seed: int = 0,
) -> FanoutBugResult:
    """Run the three variants (see the module docstring) and return their counts.

    ``workers`` is the number of email workers; in the ``events`` variant the
    email service has ``workers`` workers and every other service
    ``workers_per_service`` (default 2). Users are ``user-0``, ``user-1``, ...
    """
    check_count("users", users, minimum=1)
    check_count("workers", workers, minimum=1)
    if not isinstance(services, tuple) or not services or not all(isinstance(s, str) and s for s in services):
        raise InvalidParameter(
            f"services must be a non-empty tuple of names such as ('email', 'crm'), got {services!r}"
        )
    if "email" not in services:
        raise InvalidParameter(
            f"services must include 'email' (the service that sends the welcome email), got {services!r}"
        )
    if len(set(services)) != len(services):
        raise InvalidParameter(f"services must be distinct, got {services!r}")
    others = 2 if workers_per_service is None else check_count("workers_per_service", workers_per_service, minimum=1)
    check_duration("handler_time", handler_time, allow_zero=False)
    return FanoutBugResult(
        bug=_run("bug", users, workers, services, others, handler_time, seed),
        fix=_run("fix", users, workers, services, others, handler_time, seed),
        events=_run("events", users, workers, services, others, handler_time, seed),
    )


def _run(variant: str, users: int, workers: int, services: tuple[str, ...], others: int, handler_time: float,
         seed: int) -> FanoutRun:
    sim = Simulation(seed=seed)
    broker = Broker(sim)
    channel = broker.connect(name="signup-service").channel()
    emails: dict[str, int] = {f"user-{i}": 0 for i in range(users)}
    per_service: dict[str, int] = {}
    per_worker: dict[str, int] = {}
    pool: list[RabbitWorker] = []

    def handler_for(service: str, worker: str) -> Any:
        def handle(message_id: Any, body: Any) -> None:
            per_service[service] = per_service.get(service, 0) + 1
            per_worker[worker] = per_worker.get(worker, 0) + 1
            if service == "email":
                emails[message_id] += 1

        return handle

    def start(queue: str, service: str, count: int) -> None:
        for index in range(count):
            name = f"{service}-worker-{index}"
            pool.append(RabbitWorker(broker, queue, handler_for(service, name), name=name, service_time=handler_time))

    if variant == "bug":
        channel.exchange_declare("signups", "fanout")
        for index in range(workers):  # each worker declares "its" queue, as in the pub/sub tutorial
            queue = f"email-worker-{index}"
            channel.queue_declare(queue)
            channel.queue_bind(queue, "signups")
            per_service.setdefault("email", 0)
            pool.append(RabbitWorker(broker, queue, handler_for("email", queue), name=queue, service_time=handler_time))
        publisher = RabbitPublisher(channel, "signups", "")
        queues = workers
    elif variant == "fix":
        channel.queue_declare("welcome-emails", durable=True)
        start("welcome-emails", "email", workers)
        publisher = RabbitPublisher(channel, "", "welcome-emails")
        queues = 1
    else:
        channel.exchange_declare("user.signed-up", "fanout", durable=True)
        for service in services:
            queue = f"{service}.user-signed-up"
            channel.queue_declare(queue, durable=True)
            channel.queue_bind(queue, "user.signed-up")
            start(queue, service, workers if service == "email" else others)
        publisher = RabbitPublisher(channel, "user.signed-up", "")
        queues = len(services)
    for service in services if variant == "events" else ("email",):
        per_service.setdefault(service, 0)
    for user in emails:
        publisher.publish(user, b'{"template": "welcome"}')
    sim.run(until=60.0)
    ledger = broker.ledger()
    return FanoutRun(
        variant=variant,
        users=users,
        workers=len(pool),
        queues=queues,
        emails_per_user=emails,
        handled_per_service=per_service,
        handled_per_worker=dict(sorted(per_worker.items())),
        total_emails=sum(emails.values()),
        broker_routed_copies=ledger.routed_copies,
        ledger_balances=ledger.balances and ledger.ready == 0 and ledger.unacked == 0,
        finished_at=max((d.time for w in pool for d in w.deliveries), default=0.0) + handler_time,
    )
