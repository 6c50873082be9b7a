"""Exercises of notebook 03, delivery guarantees.

* ``03.payment-handler``: an idempotent payment handler keyed on the event's own id, which charges
  each payment once although deliveries are duplicated and redelivered and the service crashes.
* ``03.store-bound``: the bound of an idempotent consumer's memory of processed ids (a size or an
  age), from the message rate and the redelivery window, so that no duplicate slips through and
  the memory stays bounded.
* ``03.outbox``: place an order through a transactional outbox, so that an event is published
  exactly when its order is committed, whatever crashes or failed commits happen.

The checkers run the learner's code on the generic broker of :mod:`mqlab.faults.standin` over
faulty :class:`~mqlab.faults.Link` s, with the patterns of :mod:`mqlab.patterns`
(:class:`~mqlab.patterns.IdempotentConsumer`, :class:`~mqlab.patterns.Database`,
:class:`~mqlab.patterns.Outbox`, :class:`~mqlab.patterns.OutboxRelay`, :class:`~mqlab.patterns.Inbox`).
A crash of the learner's service is raised inside their code as :class:`ServiceCrashed`, a
``BaseException`` (like ``KeyboardInterrupt``) so that an ``except Exception`` cannot swallow it,
just as no ``except`` survives a killed process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.faults import HopFaults, Link
from mqlab.faults.adapter import Connection
from mqlab.faults.standin import GenericBroker, StandInConsumer
from mqlab.patterns import (
    AtLeastOnceProducer,
    Database,
    EffectAuditor,
    IdempotentConsumer,
    Inbox,
    Outbox,
    OutboxRelay,
    RetryPolicy,
    Transaction,
)
from mqlab.sim import Simulation

__all__ = [
    "CommitFailed",
    "PaymentDelivery",
    "PaymentGateway",
    "ServiceCrashed",
    "handle_payment",
    "id_store_bound",
    "place_order",
]


class ServiceCrashed(BaseException):
    """The service process was killed at this point (raised by the checkers; never catch it)."""


class CommitFailed(Exception):
    """The database refused to commit (a serialization failure, a violated constraint): nothing was written."""


def _count(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {noun}" + ("es" if noun.endswith(("sh", "ch", "s")) else "s")


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# -- 03.payment-handler ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentDelivery:
    """One delivery of a payment event.

    ``event_id`` is the id the producer gave the event (the same on every copy of it);
    ``delivery_tag`` is the number the broker gives this *delivery* (RabbitMQ's delivery tag, an
    SQS receipt handle, a Kafka offset after a resend): a redelivery gets a new one.
    ``body`` holds ``customer`` and ``amount``.
    """

    delivery_tag: int
    event_id: str
    body: dict[str, Any]
    redelivered: bool


class PaymentGateway:
    """The card processor: ``charge(customer, amount)`` takes the money, at once and for good.

    It is outside the service's database, so no local transaction can undo a charge. The checker
    may kill the service just as it calls ``charge`` (the charge then never happens).
    """

    def __init__(self) -> None:
        self.charges: dict[str, int] = {}  # event id -> times charged
        self.current: str | None = None
        self.crash_before: set[str] = set()

    def charge(self, customer: str, amount: float) -> None:
        event = self.current
        if event is None:
            raise RuntimeError("charge() called outside a delivery")
        if event in self.crash_before:
            self.crash_before.discard(event)
            raise ServiceCrashed(f"the payment service was killed while calling the gateway for {event}")
        self.charges[event] = self.charges.get(event, 0) + 1


def handle_payment(delivery, gateway, processed):
    """Charge the card for one payment event, once, however many times it is delivered."""
    # The event id is the producer's: every copy of this event carries it. The delivery tag is not:
    # a redelivery of the same event comes with a new tag.
    if delivery.event_id in processed:
        return  # charged already: this is a producer's resend or a redelivery
    gateway.charge(delivery.body["customer"], delivery.body["amount"])
    # Remember it only after the charge: a crash before this line leaves the id unremembered,
    # so the redelivery charges. (A crash between the charge and this line would charge twice;
    # closing that gap needs the charge and the id in one transaction, or an idempotency key
    # given to the gateway.)
    processed.add(delivery.event_id)


@dataclass
class _PaymentRun:
    events: list[str]
    gateway: PaymentGateway
    processed: set[Any]
    redeliveries: int = 0
    crashes: int = 0
    tags: dict[str, list[int]] | None = None
    errors: list[str] | None = None
    untouched: bool = False


def _payment_run(handle: Callable[..., Any], seed: int, payments: int) -> _PaymentRun:
    """Payment events through a broker whose acks are sometimes lost (the broker redelivers after its
    ack timeout), with a producer that resends some events, and the service killed on its way to
    the gateway for every fifth payment."""
    sim = Simulation(seed=seed)
    rng = sim.substream("exercise:03.payment-handler")
    broker = GenericBroker(sim, "payments", ack_timeout=2.0)
    link = Link(sim, "consumer-link", to_broker=HopFaults(loss=0.15, kinds=("ack",)))
    connection = Connection(link, broker)
    gateway = PaymentGateway()
    processed: set[Any] = set()
    events = [f"evt-{i + 1:04d}" for i in range(payments)]
    gateway.crash_before.update(events[2::5])
    run = _PaymentRun(events, gateway, processed, tags={}, errors=[])
    bodies = {e: {"customer": f"customer-{rng.randrange(1, 40)}", "amount": round(rng.uniform(5, 200), 2)}
              for e in events}
    for i, event in enumerate(events):
        sim.call_at(i * 0.05, broker.accept, event, bodies[event])
        if rng.random() < 0.15:  # the producer's confirm was lost: it sends the event again
            sim.call_at(i * 0.05 + 0.5, broker.accept, event, bodies[event])
    state = {"epoch": 0}

    def attach() -> None:
        epoch = state["epoch"]
        connection.attach("payment-service", lambda d: deliver(epoch, d), 1)

    def deliver(epoch: int, delivery: Any) -> None:
        if epoch != state["epoch"] or run.untouched:
            return
        run.tags.setdefault(delivery.message_id, []).append(delivery.tag)  # type: ignore[union-attr]
        if delivery.attempt > 1:
            run.redeliveries += 1
        gateway.current = delivery.message_id
        copy = PaymentDelivery(delivery.tag, delivery.message_id, dict(delivery.body), delivery.attempt > 1)
        try:
            handle(copy, gateway, processed)
        except ServiceCrashed:
            run.crashes += 1
            state["epoch"] += 1
            connection.detach("payment-service")  # the broker takes the unacked delivery back
            sim.call_later(1.0, attach)
            return
        except (NotAttempted, NotImplementedError):
            run.untouched = True
            return
        except Exception as error:  # the learner's code raised: the delivery is rejected and requeued
            run.errors.append(f"{delivery.message_id}: {_error_text(error)}")  # type: ignore[union-attr]
            connection.reject(delivery.tag, True, "handler_error", _error_text(error))
            return
        finally:
            gateway.current = None
        connection.ack(delivery.tag)

    attach()
    sim.run(until=payments * 0.05 + 60.0)
    return run


def check_payment_handler(handle_payment: Callable[..., Any], *, seed: int = 3, payments: int = 40) -> Verdict:
    """The learner's handler must charge every payment exactly once under redeliveries, producer resends and
    crashes on the way to the gateway."""
    run = _payment_run(handle_payment, seed, payments)
    if run.untouched:
        raise NotAttempted("handle_payment")
    if run.errors:
        return failed(
            "raised",
            f"your handle_payment raised for {run.errors[0]}; the broker redelivered it, and it raised again",
            "delivery.body is a dict with 'customer' and 'amount'; processed is a set.",
            "call gateway.charge(delivery.body['customer'], delivery.body['amount']) and processed.add(...).",
        )
    charges = run.gateway.charges
    twice = [e for e in run.events if charges.get(e, 0) > 1]
    lost = [e for e in run.events if charges.get(e, 0) == 0]
    tags = run.tags or {}
    if twice:
        event = twice[0]
        seen_tags = tags.get(event, [])
        keys = sorted(run.processed, key=repr)
        if keys and all(isinstance(k, int) for k in keys):
            return failed(
                "keyed-on-delivery-tag",
                f"payment {event} was charged {charges[event]} times: it was delivered with tags "
                f"{', '.join(map(str, seen_tags))}, and your check remembers tags, so each copy looked new "
                f"({_count(len(twice), 'payment')} charged more than once)",
                "which field is the same on every copy of one event, and which one changes on each delivery?",
                "key the memory on delivery.event_id: the broker's delivery_tag is new on every redelivery.",
            )
        if not keys:
            return failed(
                "no-dedup",
                f"payment {event} was charged {charges[event]} times: it was delivered {len(seen_tags)} times and "
                f"every delivery charged ({_count(len(twice), 'payment')} charged more than once)",
                "at-least-once delivery means copies: how can the handler know it has seen this event?",
                "before charging, return if delivery.event_id is in processed; after charging, add it.",
            )
        return failed(
            "not-idempotent",
            f"payment {event} was charged {charges[event]} times although it was delivered "
            f"{len(seen_tags)} times ({_count(len(twice), 'payment')} charged more than once)",
            "check the memory before the charge, and remember the same key you check.",
            "if delivery.event_id in processed: return; then charge; then processed.add(delivery.event_id).",
        )
    if lost:
        event = lost[0]
        if event in run.processed:
            return failed(
                "marked-before-effect",
                f"payment {event} was never charged: the service was killed on its way to the gateway after "
                f"your code had remembered {event}, so the redelivery was skipped as a repeat "
                f"({_count(len(lost), 'payment')} lost)",
                "what does the memory of processed ids claim, and is that true before the charge has happened?",
                "remember the id only after gateway.charge(...) has returned.",
            )
        return failed(
            "payment-missing",
            f"payment {event} was never charged ({_count(len(lost), 'payment')} of {len(run.events)} missing)",
            "skip only events you have charged already; charge every other one.",
            "call gateway.charge(delivery.body['customer'], delivery.body['amount']) when the id is new.",
        )
    return passed(
        f"all {len(run.events)} payments charged exactly once, through {run.redeliveries} redeliveries, the "
        f"producer's resends and {_count(run.crashes, 'crash')} on the way to the gateway"
    )


# -- 03.store-bound ------------------------------------------------------------------------------------------


def id_store_bound(rate, redelivery_window):
    """How an idempotent consumer bounds its memory of ids: a dict of IdempotentConsumer options."""
    # A duplicate can arrive up to `redelivery_window` seconds after the first copy. In that time
    # about rate * window other messages arrive, and each takes a place in the memory. Keep that
    # many ids, with a safety margin for bursts (arrivals are random, not evenly spaced).
    return {"max_entries": int(2 * rate * redelivery_window) + 1}
    # Equally right: {"max_age": 1.5 * redelivery_window}, forgetting an id once no copy can still come.


@dataclass(frozen=True)
class _BoundRun:
    rate: float
    window: float
    messages: int
    duplicates: int
    slipped: int
    remembered: int
    bound: dict[str, Any]


_BOUND_KEYS = ("max_entries", "max_age")
RUN_WINDOWS = 5  # each workload lasts this many redelivery windows
TOO_LARGE = 3  # a memory holding more than this many windows' worth of ids is oversized


def _bound_run(bound: dict[str, Any], rate: float, window: float, seed: int) -> _BoundRun:
    """Messages arrive at ``rate`` per second (Poisson) for ``5 * window`` s; a fifth of them arrive
    again after a delay spread up to ``window`` seconds (a lost ack, a redelivery after a timeout)."""
    sim = Simulation(seed=seed)
    rng = sim.substream("exercise:03.store-bound")
    auditor = EffectAuditor()
    consumer = IdempotentConsumer(lambda message_id, body: auditor.effect(message_id), clock=lambda: sim.now,
                                  **bound)
    duration = RUN_WINDOWS * window
    t, index, duplicates = 0.0, 0, 0
    while True:
        t += rng.expovariate(rate)
        if t >= duration:
            break
        message_id = f"m{index}"
        auditor.expect(message_id)
        sim.call_at(t, consumer, message_id, None)
        if rng.random() < 0.2:
            duplicates += 1
            sim.call_at(t + window * (0.5 + 0.5 * rng.random()), consumer, message_id, None)
        index += 1
    sim.run()
    report = auditor.report()
    return _BoundRun(rate, window, index, duplicates, report.extra_effects, consumer.statistics().remembered, bound)


def check_store_bound(id_store_bound: Callable[[float, float], Any], *, seed: int = 3) -> Verdict:
    """Two workloads: 100 messages/s with duplicates up to 20 s late, and 10/s up to 200 s late."""
    runs = []
    for rate, window in ((100.0, 20.0), (10.0, 200.0)):
        try:
            bound = id_store_bound(rate, window)
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:
            return failed("raised", f"id_store_bound({rate:g}, {window:g}) raised {_error_text(error)}",
                          "return a dict such as {'max_entries': ...} or {'max_age': ...}.",
                          "max_entries counts ids; max_age is in seconds.")
        if bound is None:
            bound = {}
        if not isinstance(bound, dict) or any(k not in _BOUND_KEYS for k in bound):
            return failed("not-options", f"id_store_bound({rate:g}, {window:g}) returned {bound!r}",
                          "return a dict of IdempotentConsumer options: max_entries and/or max_age.",
                          "for example {'max_entries': 1000} or {'max_age': 60.0}.")
        try:
            runs.append(_bound_run(bound, rate, window, seed))
        except Exception as error:
            return failed("invalid-bound", f"IdempotentConsumer refused {bound!r}: {_error_text(error)}",
                          "max_entries must be a whole number of ids, at least 1; max_age a positive number of s.",
                          "round up to a whole number for max_entries, e.g. int(x) + 1.")
    for run in runs:
        if not run.bound:
            return failed(
                "unbounded",
                f"no duplicate slipped through, but at {run.rate:g} messages/s the memory held all "
                f"{run.remembered:,} ids at the end of a {RUN_WINDOWS * run.window:g} s run, and it grows by "
                f"{run.rate * 86400:,.0f} ids a day for ever",
                "an unbounded memory of ids is a slow memory leak; how long must an id really be remembered?",
                "an id is only needed while a copy can still arrive: bound by size (max_entries) or by age "
                "(max_age) from the redelivery window.",
            )
    for run in runs:
        if run.slipped:
            return failed(
                "too-small",
                f"at {run.rate:g} messages/s with copies up to {run.window:g} s late, {run.bound} let "
                f"{_count(run.slipped, 'duplicate')} through (of {run.duplicates:,}): their ids were forgotten "
                f"before the copy arrived",
                "how many other messages arrive between a message and its latest copy?",
                "about rate x redelivery_window ids must still be remembered when the last copy arrives; "
                "add a margin for bursts.",
            )
    for run in runs:
        needed = run.rate * run.window
        if run.remembered > TOO_LARGE * needed:
            return failed(
                "too-large",
                f"no duplicate slipped through, but at {run.rate:g} messages/s with copies up to {run.window:g} s "
                f"late the memory held {run.remembered:,} ids, more than {TOO_LARGE} times the {needed:,.0f} "
                f"that arrive within one redelivery window",
                "the bound should follow from the rate and the window, not be a large round number.",
                "keep about rate x window ids (max_entries), or ids for about the window (max_age), with a margin.",
            )
    return passed(
        "no duplicate slipped through in either workload, and the memory stayed within "
        + " and ".join(f"{r.remembered:,} ids at {r.rate:g}/s" for r in runs)
    )


# -- 03.outbox --------------------------------------------------------------------------------------------------


def place_order(db, outbox, publish, order):
    """Store a new order and the event announcing it, so that the event exists exactly when the order does."""
    # One local transaction holds the order row and the outbox row: both commit, or neither does.
    with db.begin() as tx:
        tx.insert("orders", order["order_id"], order)
        outbox.add(tx, order["order_id"], {"event": "order-placed", **order})
    # No publish here: the relay publishes committed outbox rows, and retries until confirmed.
    # (A publish before the commit could announce an order that then rolls back; one after it
    # is lost if the service dies in between.)


class _CheckedTransaction(Transaction):
    """A transaction whose commit may fail (nothing written) or be followed by a crash of the service."""

    def __init__(self, db: _CheckedDatabase) -> None:
        super().__init__(db)
        self.checked = db

    def commit(self) -> None:
        orders = [key for (table, key) in self._writes if table == "orders"]
        doomed = [o for o in orders if o in self.checked.fail_commit]
        if doomed:
            self.rollback()
            raise CommitFailed(f"could not serialize access to order {doomed[0]}; the transaction was rolled back")
        super().commit()
        crash = [o for o in orders if o in self.checked.crash_after_commit]
        if crash:
            self.checked.crash_after_commit.discard(crash[0])
            raise ServiceCrashed(f"the order service was killed right after committing {crash[0]}")


class _CheckedDatabase(Database):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.fail_commit: set[str] = set()
        self.crash_after_commit: set[str] = set()

    def begin(self) -> Transaction:
        return _CheckedTransaction(self)


@dataclass
class _OutboxRun:
    orders: list[str]
    committed: list[str]
    effects: dict[str, int]
    phantom: list[str]
    published_directly: int
    failed_commits: list[str]
    crashed: list[str]
    relay_crashes: int
    errors: list[str]
    untouched: bool


def _outbox_run(place: Callable[..., Any], seed: int, orders: int) -> _OutboxRun:
    """Orders placed over ten seconds. Some commits fail (serialization failures), the service is killed
    right after some commits, and the relay sometimes crashes between publishing and marking a row.
    The warehouse consumes with an inbox, so duplicate events are harmless; lost and phantom ones are not."""
    sim = Simulation(seed=seed)
    rng = sim.substream("exercise:03.outbox")
    db = _CheckedDatabase("orders-db")
    outbox = Outbox(db)
    broker = GenericBroker(sim, "order-events")
    link = Link(sim, "link", to_broker=HopFaults(loss=0.05), to_client=HopFaults(loss=0.05))
    relay = OutboxRelay(sim, outbox, Connection(link, broker), confirm_timeout=0.3, crash_probability=0.05,
                        restart_after=0.2, ledger=link.ledger)
    direct = AtLeastOnceProducer(sim, Connection(link, broker), timeout=0.3,
                                 retry=RetryPolicy(base=0.05, cap=0.5, jitter="full"), name="direct")
    ids = [f"order-{i + 1:03d}" for i in range(orders)]
    db.fail_commit.update(ids[3::7])
    db.crash_after_commit.update(ids[5::7])
    effects: dict[str, int] = {}
    phantom: list[str] = []
    sent: dict[Any, None] = {}
    run = _OutboxRun(ids, [], effects, phantom, 0, [], [], 0, [], False)

    def publish(event_id: Any, body: Any) -> None:
        """Publish straight to the broker with confirms and retries (at-least-once)."""
        run.published_directly += 1
        if event_id in sent:
            return  # already sent once by this service: the producer retries it until confirmed
        sent[event_id] = None
        direct.send(event_id, body)

    def ship(tx: Any, message_id: Any, body: Any) -> None:
        order_id = body.get("order_id", message_id) if isinstance(body, dict) else message_id
        tx.put("shipments", order_id, True)
        tx.on_commit(lambda: effects.__setitem__(order_id, effects.get(order_id, 0) + 1))

    warehouse_db = Database("warehouse-db")
    StandInConsumer(sim, broker, Inbox(warehouse_db, ship), name="warehouse", service_time=0.001)

    def place_one(order_id: str) -> None:
        if run.untouched:
            return
        order = {"order_id": order_id, "customer": f"customer-{rng.randrange(1, 30)}",
                 "total": round(rng.uniform(10, 300), 2)}
        try:
            place(db, outbox, publish, order)
        except ServiceCrashed:
            run.crashed.append(order_id)
        except CommitFailed:
            run.failed_commits.append(order_id)
        except (NotAttempted, NotImplementedError):
            run.untouched = True
        except Exception as error:
            run.errors.append(f"{order_id}: {_error_text(error)}")

    for i, order_id in enumerate(ids):
        sim.call_at(i * 0.1, place_one, order_id)
    sim.run(until=orders * 0.1 + 30.0)
    relay.stop()
    run.committed = [o for o in ids if db.get("orders", o) is not None]
    run.phantom.extend(o for o in effects if o not in run.committed)
    run.relay_crashes = relay.crashes
    return run


def check_outbox(place_order: Callable[..., Any], *, seed: int = 3, orders: int = 60) -> Verdict:
    """Every committed order must reach the warehouse, and no event may announce an order that was never
    committed."""
    run = _outbox_run(place_order, seed, orders)
    if run.untouched:
        raise NotAttempted("place_order")
    if run.errors:
        return failed(
            "raised",
            f"your place_order raised for {run.errors[0]}",
            "db.begin() gives a transaction: tx.insert('orders', order_id, order); outbox.add(tx, id, body).",
            "with db.begin() as tx: insert the order and add the outbox row, both through tx.",
        )
    if not run.committed:
        return failed(
            "no-order",
            "no order was ever stored in the 'orders' table",
            "the order itself must be written: tx.insert('orders', order['order_id'], order).",
            "with db.begin() as tx: tx.insert('orders', order['order_id'], order); outbox.add(tx, ...).",
        )
    if run.phantom:
        order = run.phantom[0]
        return failed(
            "publish-before-commit",
            f"the warehouse shipped {order}, which does not exist: its event was published, then the commit "
            f"failed and rolled the order back ({_count(len(run.phantom), 'phantom event')})",
            "an event published before the commit can announce something that never happens; when is the order "
            "certain to exist?",
            "do not publish in the request at all: write the event into the outbox in the order's transaction "
            "and let the relay publish it once committed.",
        )
    lost = [o for o in run.committed if run.effects.get(o, 0) == 0]
    if lost:
        order = lost[0]
        if order in run.crashed and run.published_directly:
            return failed(
                "publish-after-commit",
                f"{order} was committed but never shipped: the service was killed between the commit and its "
                f"publish, and nothing remembered that an event was owed ({_count(len(lost), 'order')} lost)",
                "the commit and the publish are two separate steps; a crash can fall between them. What can make "
                "the event part of the commit?",
                "write the event into the outbox table in the same transaction as the order (outbox.add(tx, ...)) "
                "and publish nothing yourself.",
            )
        return failed(
            "event-missing",
            f"{order} was committed but its event never reached the warehouse ({_count(len(lost), 'order')} lost)",
            "the relay publishes only rows of the outbox table that were committed.",
            "call outbox.add(tx, order['order_id'], body) inside the same `with db.begin() as tx:` block.",
        )
    return passed(
        f"all {len(run.committed)} committed orders reached the warehouse and none of the "
        f"{len(run.failed_commits)} rolled-back ones did, through {_count(len(run.crashed), 'crash')} after a "
        f"commit and {_count(run.relay_crashes, 'relay crash')} between publish and mark"
    )


payment_handler = register(Exercise(
    "03.payment-handler", "An idempotent payment handler keyed on the event id",
    check_payment_handler, handle_payment, handle="exercise_payment",
))
store_bound = register(Exercise(
    "03.store-bound", "Bound the idempotent consumer's memory from the rate and the redelivery window",
    check_store_bound, id_store_bound, handle="exercise_bound",
))
outbox = register(Exercise(
    "03.outbox", "Publish through a transactional outbox",
    check_outbox, place_order, handle="exercise_outbox",
))
