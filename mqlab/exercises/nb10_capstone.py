"""Exercises and the ride-dispatch world of notebook 10, the capstone.

* ``10.region-bindings``: bind a region's monitor queue to the ``geo.<country>.<city>.<area>`` topic keys so
  that it gets every request of its region, at any depth, and nothing from elsewhere.
* ``10.claim``: the dispatcher's acceptance handler: the first acceptance of a ride wins through an atomic
  compare-and-set on a small store, a repeated acceptance by the winner is still a win (idempotent), and the
  acceptance is acknowledged only after the claim is recorded, so a dispatcher crash loses none.
* ``10.audit-replay``: an audit consumer that reads the ride-event log from a point in time, in a group of its
  own, while the live consumers carry on.

The module also holds what the notebook's cells run, so that each cell stays short:
:class:`RideStore` (the store with an atomic compare-and-set), :func:`run_dispatch` (30 drivers on a grid,
50 ride requests routed by topic keys, per-driver offers with an expiry, two dispatcher replicas, injected
crashes and duplicates) and :class:`DispatchResult` (what happened, and the invariants).

Simplifications, stated once: the city is a grid of blocks (distance = blocks walked, no maps, no traffic);
drivers decide at random; the store is a dictionary that answers after a fixed latency, with a
compare-and-set as atomic as Redis ``SET NX`` or a DynamoDB conditional write.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.faults import HopFaults, Link
from mqlab.faults.rabbitmq import connect_faulty
from mqlab.kafka import Cluster, Consumer, Producer, TopicPartition
from mqlab.rabbitmq import BasicProperties, Broker
from mqlab.sim import Simulation
from mqlab.sqs import SQS, Worker

__all__ = [
    "AREAS",
    "EXPIRED",
    "DispatchResult",
    "RideStore",
    "bind_region",
    "handle_acceptance",
    "run_dispatch",
    "start_audit",
]

EXPIRED = "expired"
"""The holder of a ride nobody accepted in time: the dispatcher claims it for nobody, so late accepts lose."""

AREAS = {"manhattan": (0, 0), "brooklyn": (10, 0), "queens": (10, 10), "bronx": (0, 10)}
"""The four areas of the simulated city: each a 10 x 10 block square, named by its lower-left corner."""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith(("sh", "ch", "s")) else "s")


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def area_of(x: int, y: int) -> str:
    """The area a grid point lies in."""
    return next(name for name, (ax, ay) in AREAS.items() if ax <= x < ax + 10 and ay <= y < ay + 10)


# -- the store -------------------------------------------------------------------------------------------------


class _Crash(BaseException):
    """The dispatcher process dies here (not an Exception: a learner's ``except Exception`` cannot swallow it)."""


class RideStore:
    """Who holds each ride: ``None`` while it is offered, a driver id once claimed, :data:`EXPIRED` if nobody did.

    Every call is a round trip to another process: it returns a kernel event to ``yield``, whose value
    arrives ``latency`` seconds later. The read or write happens halfway, when the request reaches the
    store. ``compare_and_set(ride, expected, new)`` is one atomic step: it writes ``new`` only if the
    ride's holder is still ``expected``, and answers True or False.
    """

    def __init__(self, sim: Simulation, latency: float = 0.02) -> None:
        self.sim = sim
        self.latency = latency
        self.rides: dict[str, Any] = {}
        self.claims: list[tuple[float, str, Any]] = []  # every write: (time, ride, new holder)
        self.doomed: Callable[[], bool] = lambda: False  # set by a harness: is the caller about to crash?

    def open(self, ride: str) -> None:
        """Record a new ride as offered (the dispatcher does this before sending offers)."""
        self.rides.setdefault(ride, None)

    def _call(self, action: Callable[[], Any]) -> Any:
        if self.doomed():
            raise _Crash()
        event = self.sim.event()
        answer: list[Any] = []
        self.sim.call_later(self.latency / 2, lambda: answer.append(action()))
        self.sim.call_later(self.latency, lambda: event.succeed(answer[0]))
        return event

    def get(self, ride: str) -> Any:
        """An event whose value is the ride's holder (None while it is still offered)."""
        return self._call(lambda: self.rides.get(ride))

    def put(self, ride: str, holder: Any) -> Any:
        """An event that fires once ``holder`` is written, whatever was there before (not atomic with a get)."""
        def write() -> bool:
            self.rides[ride] = holder
            self.claims.append((self.sim.now, ride, holder))
            return True
        return self._call(write)

    def compare_and_set(self, ride: str, expected: Any, new: Any) -> Any:
        """An event whose value is True if the holder was ``expected`` and is now ``new``, else False."""
        def cas() -> bool:
            if self.rides.get(ride) != expected:
                return False
            self.rides[ride] = new
            self.claims.append((self.sim.now, ride, new))
            return True
        return self._call(cas)


# -- 10.region-bindings -------------------------------------------------------------------------------------


def bind_region(ch, queue, exchange, region):
    """Bind `queue` so that it gets every ride request of `region` (such as "us" or "us.nyc") and nothing else."""
    # '#' matches zero or more words, so geo.us.# takes geo.us.nyc.brooklyn, geo.us.sf and geo.us alike;
    # the region's own words before it keep other countries (and other cities) out.
    ch.queue_bind(queue, exchange, routing_key=f"geo.{region}.#")


_KEYS = (
    "geo.us.nyc.brooklyn", "geo.us.nyc.queens", "geo.us.nyc", "geo.us.sf.mission", "geo.us.sf.soma.south-park",
    "geo.us.boston.back-bay", "geo.gb.london.camden", "geo.fr.paris.marais", "geo.usa.test.area",
    "geo.ca.toronto.annex", "geo.gb.nyc.dummy",
)


def check_region_bindings(bind_region: Callable[..., Any], *, seed: int = 10) -> Verdict:
    """For the regions "us" and "us.nyc", a queue bound by the learner's code on a topic exchange must get
    exactly the requests whose key starts with ``geo.<region>.`` (or is ``geo.<region>``), at any depth."""
    for region in ("us", "us.nyc"):
        sim = Simulation(seed=seed)
        broker = Broker(sim)
        ch = broker.connect().channel()
        ch.exchange_declare("rides", "topic")
        ch.queue_declare("monitor")
        try:
            bind_region(ch, "monitor", "rides", region)
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:
            return failed("raised", f"bind_region raised for region {region!r}: {_error_text(error)}",
                          "ch.queue_bind(queue, exchange, routing_key=...) binds a queue to an exchange.",
                          "bind with the routing key f'geo.{region}.#'.")
        for key in _KEYS:
            ch.basic_publish("rides", key, key.encode())
        got: list[str] = []
        ch.basic_consume("monitor", lambda c, m, p, body, got=got: got.append(body.decode()), auto_ack=True)
        sim.run(until=5)
        wanted = [k for k in _KEYS if k == f"geo.{region}" or k.startswith(f"geo.{region}.")]
        if not got:
            return failed("no-binding", f"the {region!r} monitor received nothing of {len(_KEYS)} requests: "
                          "the queue has no binding that matches", "a queue gets nothing until it is bound.",
                          "call ch.queue_bind(queue, exchange, routing_key=...) with a topic pattern.")
        leaked = [k for k in got if k not in wanted]
        missed = [k for k in wanted if k not in got]
        if leaked:
            return failed(
                "too-broad",
                f"the {region!r} monitor received {_count(len(leaked), 'request')} from elsewhere, such as "
                f"{leaked[0]!r}",
                "a binding that starts with 'geo.#' or a wildcard where the country goes lets every country in.",
                f"spell the region's words out: geo.{region}. and then a wildcard for the rest.",
            )
        if missed:
            deep = [k for k in missed if k.count(".") > region.count(".") + 2]
            kind = "single-word-wildcard" if deep else "missed-keys"
            return failed(
                kind,
                f"the {region!r} monitor missed {_count(len(missed), 'request')} of its region, such as "
                f"{missed[0]!r}",
                "'*' stands for exactly one word; how many words follow the region in geo.us.sf.soma.south-park?",
                "'#' stands for zero or more words: geo.<region>.# matches at any depth.",
            )
    return passed("both monitors got every request of their region, at every depth, and none from elsewhere")


# -- 10.claim -----------------------------------------------------------------------------------------------


def handle_acceptance(ch, method, body, store):
    """Claim the ride for the driver who accepted it; return the answer sent to that driver."""
    accept = json.loads(body)
    ride, driver = accept["ride"], accept["driver"]
    # One atomic step: the ride goes from "offered" (None) to this driver, or nothing changes.
    won = yield store.compare_and_set(ride, None, driver)
    if won:
        answer = "assigned"
    else:
        # Someone holds it already. If it is this driver, this is a repeat of an accept that won: still a win.
        holder = yield store.get(ride)
        answer = "assigned" if holder == driver else "already taken"
    # Only now, with the claim recorded, tell the broker we are done: a crash before this line
    # gets the acceptance redelivered to another dispatcher, never lost.
    ch.basic_ack(method.delivery_tag)
    return answer


@dataclass
class _ClaimRun:
    answers: list[tuple[str, str, str]] = field(default_factory=list)  # (ride, driver, answer) per handled copy
    errors: list[str] = field(default_factory=list)
    not_generator: bool = False
    untouched: bool = False
    crashes: int = 0
    left: int = 0
    store: RideStore | None = None
    sent: list[tuple[str, str]] = field(default_factory=list)  # (ride, driver) of every distinct accept


def _claim_run(handler: Callable[..., Any], seed: int, rides: int, crash_every: int) -> _ClaimRun:
    """Two dispatcher replicas consume the ``acceptances`` queue (manual ack, prefetch 10) and run one
    handler per delivery at the same time. Per ride, 2 to 4 drivers accept within 30 ms of each other,
    the first accept of each ride is sent twice, one late accept comes 5 s later, and every
    ``crash_every``-th handler kills its replica at its first store call (a new replica starts 1 s later)."""
    out = _ClaimRun()
    sim = Simulation(seed=seed)
    broker = Broker(sim)
    store = RideStore(sim, latency=0.02)
    out.store = store
    setup = broker.connect().channel()
    setup.queue_declare("acceptances", durable=True)
    rng = sim.substream("exercise:10.claim")
    for r in range(rides):
        ride = f"ride-{r + 1}"
        store.open(ride)
        start = 1.0 + 2.0 * r
        drivers = rng.sample(range(1, 31), rng.randint(2, 4))
        sends = [(start + rng.uniform(0, 0.03), f"driver-{d}") for d in drivers]
        sends.append((sends[0][0] + 0.004, sends[0][1]))  # the app's retry: the same accept again
        sends.append((start + 5.0, f"driver-{rng.choice([d for d in range(31, 41)])}"))  # a late accept
        for at, driver in sends:
            if (ride, driver) not in out.sent:
                out.sent.append((ride, driver))
            body = json.dumps({"ride": ride, "driver": driver})
            sim.call_at(at, lambda b=body: setup.basic_publish("", "acceptances", b))
    handled = [0]
    replicas: dict[int, dict[str, Any]] = {}

    def start_replica(number: int) -> None:
        connection = broker.connect(name=f"dispatcher-{number}")
        ch = connection.channel()
        ch.basic_qos(prefetch_count=10)
        state: dict[str, Any] = {"connection": connection, "alive": True, "gens": []}
        replicas[number] = state

        def run_one(method: Any, body: bytes) -> Generator[Any, Any, None]:
            decoded = json.loads(body)
            handled[0] += 1
            doomed = crash_every > 0 and handled[0] % crash_every == 0
            try:
                steps = handler(ch, method, body, store)
            except (NotAttempted, NotImplementedError):
                out.untouched = True
                return
            if not inspect.isgenerator(steps):
                out.not_generator = True
                return
            state["gens"].append(steps)
            value: Any = None
            try:
                store.doomed = lambda: doomed
                event = steps.send(None)
                store.doomed = lambda: False
                while True:
                    value = yield event
                    if not state["alive"]:
                        return
                    event = steps.send(value)
            except StopIteration as stop:
                out.answers.append((decoded["ride"], decoded["driver"], str(stop.value)))
            except _Crash:
                store.doomed = lambda: False
                crash(number)
            except (NotAttempted, NotImplementedError):
                out.untouched = True
            except Exception as error:
                store.doomed = lambda: False
                out.errors.append(f"{decoded['ride']} from {decoded['driver']}: {_error_text(error)}")

        def on_message(c: Any, method: Any, properties: Any, body: bytes) -> None:
            if state["alive"]:
                sim.process(run_one(method, body))

        ch.basic_consume("acceptances", on_message)

    def crash(number: int) -> None:
        state = replicas[number]
        if not state["alive"]:
            return
        state["alive"] = False
        out.crashes += 1
        for gen in state["gens"]:
            gen.close()
        state["connection"].close()
        sim.call_later(1.0, start_replica, max(replicas) + 1)

    start_replica(1)
    start_replica(2)
    try:
        sim.run(until=2.0 * rides + 30)
    except Exception as error:
        out.errors.append(f"the simulation: {_error_text(error)}")
    stats = broker.queue_statistics("acceptances")
    out.left = stats.ready + stats.unacked
    return out


def check_claim(handle_acceptance: Callable[..., Any], *, seed: int = 10, rides: int = 20,
                crash_every: int = 9) -> Verdict:
    """No ride may be answered "assigned" for two drivers; the driver that holds a ride must never hear
    "already taken"; every accept must get an answer although dispatchers crash; nothing left unacked."""
    run = _claim_run(handle_acceptance, seed, rides, crash_every)
    if run.untouched:
        raise NotAttempted("handle_acceptance")
    if run.not_generator:
        return failed("not-a-generator", "handle_acceptance returned without yielding: the store's answers never "
                      "reached it", "every store call is a round trip: `won = yield store.compare_and_set(...)`.",
                      "write it as a generator: yield each store call, then `return` the answer.")
    if run.errors:
        return failed("raised", f"handle_acceptance raised for {run.errors[0]}",
                      "the body is JSON: json.loads(body) gives {'ride': ..., 'driver': ...}.",
                      "ack with ch.basic_ack(method.delivery_tag); the store's calls must be yielded.")
    assert run.store is not None
    winners: dict[str, set[str]] = {}
    for ride, driver, answer in run.answers:
        if answer == "assigned":
            winners.setdefault(ride, set()).add(driver)
    doubled = sorted((r for r, ds in winners.items() if len(ds) > 1), key=lambda r: int(r.split("-")[1]))
    if doubled:
        ride = doubled[0]
        return failed(
            "check-then-set",
            f"{_count(len(doubled), 'ride')} of {rides} went to two drivers at once: {ride} was answered "
            f"'assigned' to {' and '.join(sorted(winners[ride]))}",
            "two handlers that read 'nobody holds it' a few milliseconds apart both go on to write; what makes the "
            "read and the write one step?",
            "use store.compare_and_set(ride, None, driver): it writes only if nobody holds the ride yet.",
        )
    holders = run.store.rides
    insulted = [(r, d) for r, d, a in run.answers if a != "assigned" and holders.get(r) == d]
    if insulted:
        ride, driver = insulted[0]
        return failed(
            "not-idempotent",
            f"{driver} won {ride}, then its repeated accept was answered 'already taken' "
            f"({_count(len(insulted), 'winner')} told so): the app would drop a ride it holds",
            "an accept can arrive twice (the app retries, the broker redelivers); what should a repeat by the "
            "winner hear?",
            "when the compare-and-set fails, read the holder: if it is this driver, answer 'assigned' again.",
        )
    answered = {(r, d) for r, d, _ in run.answers}
    unanswered = [pair for pair in run.sent if pair not in answered]
    if unanswered and run.left == 0:
        ride, driver = unanswered[0]
        return failed(
            "ack-before-claim",
            f"after {_count(run.crashes, 'dispatcher crash')}, {_count(len(unanswered), 'acceptance')} (such as "
            f"{driver}'s for {ride}) had been acknowledged but never claimed: those drivers never got an answer",
            "an acked message is gone from the broker; what if the dispatcher dies right after the ack?",
            "call ch.basic_ack(method.delivery_tag) last, after the store has answered.",
        )
    if run.left:
        return failed("never-acks", f"{_count(run.left, 'acceptance')} stayed unacknowledged in the queue",
                      "the broker keeps a delivery until it is acked.",
                      "finish with ch.basic_ack(method.delivery_tag).")
    return passed(
        f"{rides} rides, each claimed by exactly one driver; repeated accepts by winners answered 'assigned', late "
        f"ones 'already taken', and nothing lost across {_count(run.crashes, 'dispatcher crash')}"
    )


# -- the ride-dispatch world ------------------------------------------------------------------------------------


@dataclass
class DispatchResult:
    """What one run of :func:`run_dispatch` did, with the invariants the design must keep."""

    rides: int
    requested: list[float] = field(default_factory=list)  # times
    offers: list[float] = field(default_factory=list)
    assigned: dict[str, list[tuple[float, str]]] = field(default_factory=dict)  # ride -> [(time, driver)]
    expired: dict[str, float] = field(default_factory=dict)
    retracted: int = 0
    late_answers: int = 0
    duplicates_answered: int = 0
    dispatcher_crashes: int = 0
    phone_crashes: int = 0
    crash_times: list[float] = field(default_factory=list)
    phone_link: Any = None
    handler_errors: list[str] = field(default_factory=list)  # what the acceptance handler raised, per delivery
    redelivered_requests: int = 0
    overlapping_drivers: list[str] = field(default_factory=list)
    offers_per_ride: dict[str, int] = field(default_factory=dict)
    drivers_seeing: dict[str, int] = field(default_factory=dict)  # ride -> drivers who saw the request/offer
    counts: dict[str, int] = field(default_factory=dict)  # per queue/topic: messages through it
    sim: Any = None
    broker: Any = None
    cluster: Any = None
    sqs: Any = None
    receipts: int = 0

    def assignments(self) -> int:
        return sum(len({d for _, d in v}) for v in self.assigned.values())

    def invariants(self) -> list[str]:
        """One line per invariant, 'ok' or what broke it."""
        twice = [r for r, v in self.assigned.items() if len({d for _, d in v}) > 1]
        both = [r for r in self.assigned if r in self.expired]
        lost = self.rides - len(set(self.assigned) | set(self.expired))
        return [
            f"every request assigned once or expired: {'ok' if not (twice or lost or both) else 'BROKEN'} "
            f"({len(self.assigned)} assigned, {len(self.expired)} expired, {len(twice)} assigned twice, "
            f"{lost} lost)",
            f"no driver on two rides at once: {'ok' if not self.overlapping_drivers else 'BROKEN'} "
            f"({len(self.overlapping_drivers)} drivers double-booked)",
        ]


def _check_then_set(ch, method, body, store):
    """The race: read, then write. Two handlers can both read 'free' before either writes."""
    accept = json.loads(body)
    holder = yield store.get(accept["ride"])
    if holder is None:
        yield store.put(accept["ride"], accept["driver"])
        holder = accept["driver"]
    ch.basic_ack(method.delivery_tag)
    return "assigned" if holder == accept["driver"] else "already taken"


def run_dispatch(*, seed: int = 10, drivers: int = 30, rides: int = 50, offer_to: int = 5, offer_ttl: float = 10.0,
                 handler: Callable[..., Any] | None = None, atomic: bool = True, competing: bool = False,
                 auto_ack: bool = False, crash_on_request: tuple[int, ...] = (),
                 duplicate_accepts: float = 0.2, phone_crashes: float = 0.1, polyglot: bool = False, every: float = 6.0,
                 start_at: float = 0.0) -> DispatchResult:
    """Run the whole dispatch story and return what happened.

    Riders request a ride every ``every`` seconds on average, published on the topic exchange ``rides`` with
    the key ``geo.us.nyc.<area>``. The dispatcher (queue ``dispatch.nyc``, binding ``geo.us.nyc.*``, manual
    ack unless ``auto_ack``) records the ride in the :class:`RideStore`, sends an offer to each of the
    ``offer_to`` nearest free drivers through the direct exchange ``offers`` (one queue per driver, routing key
    = driver id, ``expiration`` = ``offer_ttl``), and only then acks the request. Drivers answer after 0.5 to
    4 s (60 % accept). Acceptances cross a :class:`~mqlab.faults.Link` that duplicates a fraction
    ``duplicate_accepts`` of them; a fraction ``phone_crashes`` of phones die right after accepting and send the
    acceptance again 2 s later, when they restart. Acceptances go to the queue
    ``acceptances``, handled by ``handler`` (default :func:`handle_acceptance`; ``atomic=False`` swaps in a
    check-then-set). The winner is told 'assigned' and drives for 60 to 240 s; the others get a retraction.
    An offer nobody takes expires: the dispatcher claims the ride for :data:`EXPIRED`. While handling the
    n-th request it receives, for each n in ``crash_on_request``, the dispatcher dies in the middle (its
    connection closes; its timers are lost) and a new one starts 2 s later, re-offers the rides it finds
    redelivered and sweeps the store for overdue offers.
    ``competing=True`` is the naive design: every driver consumes the area's one queue, no offers.
    ``polyglot=True`` also appends every location update and ride event to the Kafka topic
    ``ride-events`` (group ``eta`` reads it live) and sends a receipt per finished trip to the SQS queue
    ``receipts`` (a worker long-polls it). Requests start at ``start_at`` seconds; before that, drivers
    roam (a block at a time) and report where they are.
    """
    handler = handler or (handle_acceptance if atomic else _check_then_set)
    sim = Simulation(seed=seed)
    broker = Broker(sim, latency=0.001)  # 1 ms each way, inside one data centre
    store = RideStore(sim)
    result = DispatchResult(rides=rides, sim=sim, broker=broker)
    rng = sim.substream("dispatch:world")
    decide = sim.substream("dispatch:drivers")
    admin = broker.connect(name="setup").channel()
    admin.exchange_declare("rides", "topic")
    admin.exchange_declare("offers", "direct")
    for queue, key in [("dispatch.nyc", "geo.us.nyc.*"), ("board.brooklyn", "geo.us.nyc.brooklyn"),
                       ("monitor.us", "geo.us.#")]:
        admin.queue_declare(queue, durable=True)
        admin.queue_bind(queue, "rides", key)
    admin.queue_declare("acceptances", durable=True)
    positions = {f"driver-{i + 1}": (rng.randrange(20), rng.randrange(20)) for i in range(drivers)}
    busy_until = dict.fromkeys(positions, 0.0)
    offered: dict[str, str | None] = dict.fromkeys(positions)  # driver -> ride offered to it, pending
    trips: dict[str, list[tuple[float, float]]] = {d: [] for d in positions}
    ride_info: dict[str, dict[str, Any]] = {}
    counts = result.counts
    kafka = producer = None
    if polyglot:
        kafka = Cluster(sim, brokers=3)
        kafka.create_topic("ride-events", 3, 3)
        producer = Producer(kafka, {"acks": "all"})
        result.cluster = kafka
        sqs = SQS(sim, duplicate_probability=0.0, reorder_probability=0.0)
        result.sqs = sqs
        sqs_client = sqs.client()
        receipts_url = sqs_client.create_queue(QueueName="receipts")["QueueUrl"]

        def on_receipt(message: dict[str, Any]) -> None:
            result.receipts += 1

        Worker(sqs_client, receipts_url, on_receipt, wait_time_seconds=20)

    def bump(name: str, n: int = 1) -> None:
        counts[name] = counts.get(name, 0) + n

    def log_event(key: str, event: dict[str, Any]) -> None:
        if producer is not None:
            producer.produce("ride-events", key=key, value=json.dumps(event))
            bump("kafka ride-events")

    # Drivers: a queue each, a push consumer each; they report their position every 30 s. Their acceptances
    # cross a faulty link (mqlab.faults) that delivers some publishes twice, as a retrying phone would.
    driver_ch = broker.connect(name="driver-apps").channel()
    phone_link = Link(sim, "driver-phones", to_broker=HopFaults(duplicate=duplicate_accepts, latency=0.001,
                                                               kinds=("message",)))
    result.phone_link = phone_link
    accept_ch = connect_faulty(broker, phone_link, name="driver-accepts").channel()

    def answer_offer(driver: str, offer: dict[str, Any]) -> None:
        ride = offer["ride"]
        if sim.now > offer["deadline"] or ride_info[ride]["retracted"]:
            return  # the app hides an offer past its deadline or retracted
        if decide.random() < 0.6:
            body = json.dumps({"ride": ride, "driver": driver})
            accept_ch.basic_publish("", "acceptances", body)
            if decide.random() < phone_crashes:  # the phone dies before the answer; restarted, it sends again
                result.phone_crashes += 1
                sim.call_later(2.0, accept_ch.basic_publish, "", "acceptances", body)

    def on_offer(driver: str) -> Callable[..., None]:
        def deliver(ch: Any, method: Any, properties: Any, body: bytes) -> None:
            offer = json.loads(body)
            if offer.get("retract"):
                return
            result.drivers_seeing[offer["ride"]] = result.drivers_seeing.get(offer["ride"], 0) + 1
            sim.call_later(decide.uniform(0.5, 4.0), answer_offer, driver, offer)
        return deliver

    for driver in positions:
        driver_ch.queue_declare(f"offers.{driver}")
        driver_ch.queue_bind(f"offers.{driver}", "offers", driver)
        if not competing:
            driver_ch.basic_consume(f"offers.{driver}", on_offer(driver), auto_ack=True)

    roam = sim.substream("dispatch:roam")

    def report_positions() -> Generator[Any, Any, None]:
        while True:
            for driver, (x, y) in positions.items():
                if busy_until[driver] <= sim.now and offered[driver] is None:  # a free driver drifts a block
                    dx, dy = roam.choice(((1, 0), (-1, 0), (0, 1), (0, -1), (0, 0)))
                    x, y = min(19, max(0, x + dx)), min(19, max(0, y + dy))
                    positions[driver] = (x, y)
                log_event(driver, {"type": "location", "driver": driver, "x": x, "y": y})
            yield sim.timeout(30.0)

    if polyglot:
        sim.process(report_positions())

    # Riders.
    rider_ch = broker.connect(name="rider-app").channel()
    t = start_at + 1.0
    for r in range(rides):
        ride = f"ride-{r + 1}"
        spot = (rng.randrange(20), rng.randrange(20))
        key = f"geo.us.nyc.{area_of(*spot)}"
        ride_info[ride] = {"spot": spot, "retracted": False, "deadline": None, "drivers": []}
        body = json.dumps({"ride": ride, "x": spot[0], "y": spot[1]})

        def request(body: str = body, key: str = key, ride: str = ride) -> None:
            result.requested.append(sim.now)
            rider_ch.basic_publish("rides", key, body, BasicProperties(delivery_mode=2))
            log_event(ride, {"type": "requested", "ride": ride})
        sim.call_at(t, request)
        t += rng.expovariate(1.0 / every)

    if competing:
        # The naive design: every driver of NYC takes turns on the one area queue.
        def naive(driver: str) -> Callable[..., None]:
            def deliver(ch: Any, method: Any, properties: Any, body: bytes) -> None:
                ride = json.loads(body)["ride"]
                result.drivers_seeing[ride] = result.drivers_seeing.get(ride, 0) + 1
                result.offers.append(sim.now)
            return deliver
        for driver in positions:
            driver_ch.basic_consume("dispatch.nyc", naive(driver), auto_ack=True)
        sim.run(until=t + 60)
        return result

    def finish_trip(driver: str, ride: str) -> None:
        busy_until[driver] = 0.0
        positions[driver] = ride_info[ride]["spot"]
        log_event(ride, {"type": "completed", "ride": ride, "driver": driver})
        if polyglot:
            sqs_client.send_message(QueueUrl=receipts_url, MessageBody=json.dumps({"ride": ride, "driver": driver}))
            bump("sqs receipts")

    def settle(ride: str, winner: str | None) -> None:
        """The ride is decided: free the other offered drivers and retract their offers."""
        info = ride_info[ride]
        if info["retracted"]:
            return
        info["retracted"] = True
        for driver in info["drivers"]:
            if offered.get(driver) == ride:
                offered[driver] = None
            if driver != winner:
                dispatcher["ch"].basic_publish("offers", driver, json.dumps({"ride": ride, "retract": True}))
                result.retracted += 1

    dispatcher: dict[str, Any] = {}

    def nearest(spot: tuple[int, int]) -> list[str]:
        free = [d for d in positions if busy_until[d] <= sim.now and offered[d] is None]
        free.sort(key=lambda d: (abs(positions[d][0] - spot[0]) + abs(positions[d][1] - spot[1]), d))
        return free[:offer_to]

    def expire(ride: str, life: dict[str, Any]) -> Generator[Any, Any, None]:
        info = ride_info[ride]
        if not life["alive"] or sim.now < info["deadline"] + 1.0 - 1e-9:
            return  # the dispatcher that set this timer is dead, or the offers were sent again since
        won = yield store.compare_and_set(ride, None, EXPIRED)
        if won and life["alive"]:
            result.expired[ride] = sim.now
            log_event(ride, {"type": "expired", "ride": ride})
            settle(ride, None)

    def expire_later(ride: str, at: float, life: dict[str, Any]) -> None:
        sim.call_at(at, lambda: sim.process(expire(ride, life)))

    def drive(steps: Any, life: dict[str, Any]) -> Generator[Any, Any, Any]:
        """Run a handler's steps; stop where it is if its dispatcher dies meanwhile."""
        value: Any = None
        try:
            while True:
                event = steps.send(value)
                value = yield event
                if not life["alive"]:
                    steps.close()
                    return None
        except StopIteration as stop:
            return stop.value

    def handle_request(ch: Any, method: Any, body: bytes, life: dict[str, Any]) -> Generator[Any, Any, Any]:
        request = json.loads(body)
        ride = request["ride"]
        info = ride_info[ride]
        if method.redelivered:
            result.redelivered_requests += 1
        holder = yield store.get(ride)
        store.open(ride)
        if holder is None and not info["retracted"]:
            if not info["drivers"]:
                info["drivers"] = nearest(info["spot"])
                for driver in info["drivers"]:
                    offered[driver] = ride
            info["deadline"] = sim.now + offer_ttl
            for driver in info["drivers"]:
                offer = {"ride": ride, "x": info["spot"][0], "y": info["spot"][1], "deadline": info["deadline"]}
                ch.basic_publish("offers", driver, json.dumps(offer),
                                 BasicProperties(expiration=str(int(offer_ttl * 1000))))
                result.offers.append(sim.now)
                bump("offers")
            result.offers_per_ride[ride] = len(info["drivers"])
            log_event(ride, {"type": "offered", "ride": ride, "to": info["drivers"]})
            expire_later(ride, info["deadline"] + 1.0, life)
        if not auto_ack:
            ch.basic_ack(method.delivery_tag)  # only now: the ride is in the store and its offers are out

    def handle_accept(ch: Any, method: Any, body: bytes, life: dict[str, Any]) -> Generator[Any, Any, None]:
        accept = json.loads(body)
        try:
            answer = yield from drive(handler(ch, method, body, store), life)
        except Exception as error:  # a handler that raises leaves its delivery unacked, as a crashed callback would
            result.handler_errors.append(f"{accept['ride']} from {accept['driver']}: {_error_text(error)}")
            return
        if not life["alive"]:
            return
        ride, driver = accept["ride"], accept["driver"]
        if answer == "assigned":
            runs = result.assigned.setdefault(ride, [])
            if any(d == driver for _, d in runs):
                result.duplicates_answered += 1
                return
            runs.append((sim.now, driver))
            duration = rng.uniform(60.0, 240.0)
            for start, end in trips[driver]:
                if start < sim.now < end:
                    result.overlapping_drivers.append(driver)
            trips[driver].append((sim.now, sim.now + duration))
            busy_until[driver] = sim.now + duration
            log_event(ride, {"type": "assigned", "ride": ride, "driver": driver})
            settle(ride, driver)
            sim.call_later(duration, finish_trip, driver, ride)
        else:
            result.late_answers += 1

    def start_dispatcher() -> None:
        generation = dispatcher.get("generation", 0) + 1
        connection = broker.connect(name=f"dispatcher-{generation}")
        ch = connection.channel()
        ch.basic_qos(prefetch_count=20)
        life = {"alive": True}
        dispatcher.update(generation=generation, connection=connection, ch=ch, life=life)

        def on_request(c: Any, method: Any, properties: Any, body: bytes) -> None:
            bump("dispatch.nyc")
            if counts["dispatch.nyc"] in crash_on_request:
                sim.call_later(store.latency / 2, crash_dispatcher)  # dies while the store call is out
            sim.process(drive(handle_request(ch, method, body, life), life))

        def on_accept(c: Any, method: Any, properties: Any, body: bytes) -> None:
            bump("acceptances")
            sim.process(handle_accept(ch, method, body, life))

        ch.basic_consume("dispatch.nyc", on_request, auto_ack=auto_ack)
        ch.basic_consume("acceptances", on_accept)
        if generation > 1:  # resume: expire what fell due while nobody was watching
            for ride, holder in list(store.rides.items()):
                deadline = ride_info[ride]["deadline"]
                if holder is None and deadline is not None:
                    expire_later(ride, max(sim.now, deadline + 1.0), life)

    def crash_dispatcher() -> None:
        result.dispatcher_crashes += 1
        result.crash_times.append(sim.now)
        dispatcher["life"]["alive"] = False  # what it was doing stops here, its timers with it
        dispatcher["connection"].close()  # the broker requeues what it had not acked
        sim.call_later(2.0, start_dispatcher)

    start_dispatcher()
    if polyglot:
        eta = Consumer(kafka, {"group.id": "eta", "auto.offset.reset": "earliest"})
        eta.subscribe(["ride-events"])

        def eta_reader() -> Generator[Any, Any, None]:
            while True:
                msg = eta.poll(0)
                if msg is None:
                    yield sim.timeout(1.0)
                elif msg.error() is None:
                    bump("kafka eta reads")
        sim.process(eta_reader())
    sim.run(until=t + offer_ttl + 300)
    if producer is not None:
        producer.flush(0)
    return result


# -- 10.audit-replay ------------------------------------------------------------------------------------------


def start_audit(new_consumer, topic, live_group, since_ms):
    """Start a consumer that reads `topic` from the time since_ms on, leaving the live group alone."""
    # A new group: its own offsets and its own share of partitions; the live group never notices it.
    consumer = new_consumer({"group.id": "audit-replay", "enable.auto.commit": False})

    def from_time(consumer, partitions):
        # A time is not an offset: ask each partition for the first offset at or after since_ms.
        wanted = [TopicPartition(tp.topic, tp.partition, since_ms) for tp in partitions]
        consumer.assign(consumer.offsets_for_times(wanted))

    consumer.subscribe([topic], on_assign=from_time)
    return consumer


HOUR_MS = 3_600_000


@dataclass
class _AuditRun:
    timestamps: dict[tuple[int, int], int] = field(default_factory=dict)
    live: list[tuple[int, int]] = field(default_factory=list)
    audit: list[tuple[int, int]] = field(default_factory=list)
    group: str | None = None
    returned: Any = None
    error: str | None = None
    untouched: bool = False
    rebalances: tuple[int, int] = (0, 0)


def _audit_run(learner: Callable[..., Any], seed: int, hours: int) -> _AuditRun:
    """``hours`` hours of ride events on 3 partitions, keyed by driver; some drivers report far more often
    than others, so partitions fill at different rates. Two live consumers (group ``eta``) keep up. At the
    end the learner starts the audit consumer for the last hour; the checker drains it for 30 minutes."""
    out = _AuditRun()
    sim = Simulation(seed=seed)
    cluster = Cluster(sim, brokers=3)
    cluster.create_topic("ride-events", 3, 3)
    producer = Producer(cluster, {"acks": "all"})
    rng = sim.substream("exercise:10.audit-replay")
    weights = [rng.choice([1, 1, 2, 6]) for _ in range(12)]

    def record(err: Any, msg: Any) -> None:
        if err is None:
            out.timestamps[(msg.partition(), msg.offset())] = msg.timestamp()[1]

    def events() -> Generator[Any, Any, None]:
        n = 0
        while True:
            yield sim.timeout(rng.uniform(5.0, 25.0))
            driver = rng.choices(range(12), weights)[0]
            producer.produce("ride-events", key=f"driver-{driver + 1}", value=f"event-{n}", on_delivery=record)
            producer.poll(0)
            n += 1

    def live(index: int) -> Generator[Any, Any, None]:
        consumer = Consumer(cluster, {"group.id": "eta", "auto.offset.reset": "earliest",
                                      "client.id": f"eta-{index}"})
        consumer.subscribe(["ride-events"])
        while True:
            msg = consumer.poll(0)
            if msg is None:
                yield sim.timeout(1.0)
            elif msg.error() is None:
                out.live.append((msg.partition(), msg.offset()))

    sim.process(events())
    for index in (1, 2):
        sim.process(live(index))
    end = hours * 3600
    sim.run(until=end)
    group = cluster.group("eta")
    before = group.rebalances
    try:
        consumer = learner(lambda config: Consumer(cluster, config), "ride-events", "eta", end * 1000 - HOUR_MS)
    except (NotAttempted, NotImplementedError):
        out.untouched = True
        return out
    except Exception as error:
        out.error = _error_text(error)
        return out
    out.returned = consumer
    if isinstance(consumer, Consumer):
        out.group = consumer.group_id

        def audit() -> Generator[Any, Any, None]:
            while True:
                try:
                    msg = consumer.poll(0)
                except Exception as error:
                    out.error = _error_text(error)
                    return
                if msg is None:
                    yield sim.timeout(1.0)
                elif msg.error() is None:
                    out.audit.append((msg.partition(), msg.offset()))

        sim.process(audit())
    try:
        sim.run(until=end + 1800)
    except Exception as error:
        out.error = f"the simulation: {_error_text(error)}"
    out.rebalances = (before, group.rebalances)
    return out


def check_audit_replay(start_audit: Callable[..., Any], *, seed: int = 10, hours: int = 3) -> Verdict:
    """``start_audit(new_consumer, topic, live_group, since_ms)`` must return a consumer that reads every ride
    event from ``since_ms`` (one hour ago) on and nothing older, in a group other than the live one."""
    run = _audit_run(start_audit, seed, hours)
    if run.untouched:
        raise NotAttempted("start_audit")
    if run.error is not None:
        return failed("raised", f"start_audit raised {run.error}",
                      "new_consumer(config) makes a Consumer from a config dict with a group.id.",
                      "subscribe with on_assign=... and assign consumer.offsets_for_times(...) in it.")
    if not isinstance(run.returned, Consumer):
        return failed("no-consumer", f"start_audit returned {run.returned!r}, not the consumer it started",
                      "the check reads from the consumer you return.", "return the consumer.")
    live_twice = len(run.live) - len(set(run.live))
    if run.group == "eta" or run.rebalances[0] != run.rebalances[1]:
        return failed(
            "reused-live-group",
            f"the audit consumer joined the live group 'eta': it rebalanced "
            f"{_count(run.rebalances[1] - run.rebalances[0], 'time')} and took partitions from the live consumers"
            + (f", and {_count(live_twice, 'event')} went through the live group twice" if live_twice else ""),
            "consumers in one group split the partitions and share committed offsets; what does a newcomer do "
            "to the live ETA service?",
            "give the audit consumer a group.id of its own, such as 'audit-replay'.",
        )
    since = hours * 3600 * 1000 - HOUR_MS
    first = {}
    for p, o in run.audit:
        first.setdefault(p, o)
    got = set(run.audit)
    older = sorted(k for k in got if run.timestamps.get(k, since) < since)
    wanted = sorted(k for k, ts in run.timestamps.items() if ts >= since and ts <= hours * 3600 * 1000)
    missed = [k for k in wanted if k not in got]
    if older and all(o == 0 for o in first.values()):
        return failed(
            "read-from-beginning",
            f"the audit consumer read {_count(len(older), 'event')} older than an hour, from offset 0 of every "
            "partition: it replayed the whole log",
            "auto.offset.reset=earliest starts at the oldest record, not at a time.",
            "consumer.offsets_for_times([TopicPartition(topic, p, since_ms), ...]) finds where the hour starts.",
        )
    if older or missed:
        detail = (f"read {_count(len(older), 'event')} older than an hour" if older
                  else f"missed {_count(len(missed), 'event')} of the last hour (of {len(wanted)})")
        return failed(
            "seek-by-offset",
            f"the audit consumer {detail}: its start offsets {dict(sorted(first.items()))} are not where the hour "
            "begins in each partition",
            "partitions fill at different rates, and an offset is a position, not a time; which call turns a time "
            "into an offset?",
            "in on_assign, pass [TopicPartition(topic, p, since_ms)] to consumer.offsets_for_times and assign the "
            "result.",
        )
    return passed(
        f"the audit consumer read all {len(wanted)} events of the last hour and nothing older, in its own group, "
        "while the live group kept its partitions"
    )


region_bindings = register(Exercise(
    "10.region-bindings", "Bindings that deliver a region's requests, at any depth, and nothing else",
    check_region_bindings, bind_region, handle="exercise_region",
))
claim = register(Exercise(
    "10.claim", "An acceptance handler that never double-assigns a ride",
    check_claim, handle_acceptance, handle="exercise_claim",
))
audit_replay = register(Exercise(
    "10.audit-replay", "An audit consumer that replays the log from a point in time",
    check_audit_replay, start_audit, handle="exercise_audit",
))
