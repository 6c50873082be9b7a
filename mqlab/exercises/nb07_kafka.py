"""Exercises of notebook 07, Kafka the log.

* ``07.ride-key``: choose the key of a ride event so that every event of one ride is handled in
  order, while different rides spread over the partitions (and so over the consumers);
* ``07.commit-offsets``: a consumer loop with ``enable.auto.commit=false`` that commits after the
  work and once more, synchronously, at shutdown: a crash costs no payment, a restart repeats none;
* ``07.replay-from-time``: start a fraud-detection consumer that reads the last 30 days of a topic,
  in a group of its own, while the live billing consumers carry on undisturbed.

Each checker runs the learner's code on :mod:`mqlab.kafka` in virtual time and judges what
happened to the records (where they went, who handled them, how often), not how the code looks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from typing import Any

from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.kafka import Cluster, Consumer, Producer, TopicPartition
from mqlab.sim import Simulation

__all__ = ["RIDE_STEPS", "consume_payments", "key_for", "start_fraud_check"]

DAY_MS = 86_400_000


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# -- 07.ride-key ----------------------------------------------------------------------------------------------

RIDE_STEPS = ("requested", "accepted", "arrived", "started", "location", "location", "completed", "paid")
"""The events of one ride, in the order they happen."""


def key_for(event):
    """The Kafka key of one ride event: the ride it belongs to."""
    # Kafka keeps order per partition, and a key always maps to the same partition:
    # keying by ride keeps each ride's events in order, and spreads different rides out.
    return event["ride"]


def _ride_events(rng: Any, rides: int, drivers: int) -> list[tuple[float, dict[str, Any]]]:
    """(time, event) for every event of every ride, rides overlapping in time, sorted by time."""
    timed = []
    for r in range(rides):
        ride = f"ride-{r + 1}"
        rider = f"rider-{rng.randrange(1, rides * 2)}"
        driver = f"driver-{rng.randrange(1, drivers + 1)}"
        t = rng.uniform(0, 120)
        for seq, step in enumerate(RIDE_STEPS, start=1):
            event = {"ride": ride, "seq": seq, "type": step, "rider": rider,
                     "driver": None if step == "requested" else driver, "city": "nyc"}
            timed.append((round(t, 3), event))
            t += rng.uniform(5, 40)
    timed.sort(key=lambda pair: (pair[0], pair[1]["ride"], pair[1]["seq"]))
    return timed


def check_ride_key(key_for: Callable[[dict[str, Any]], Any], *, seed: int = 7, rides: int = 12,
                   partitions: int = 6, consumers: int = 3) -> Verdict:
    """Ride events go to a topic of ``partitions`` partitions keyed by ``key_for(event)``; a group of
    ``consumers`` consumers handles them, each record taking 1 to 6 s. Each ride's events must be handled
    in the order they happened, and the rides must spread over at least half of the partitions."""
    sim = Simulation(seed=seed)
    cluster = Cluster(sim, brokers=3)
    cluster.create_topic("ride-events", partitions, 1)
    rng = sim.substream("exercise:07.ride-key")
    timed = _ride_events(rng, rides, drivers=max(2, rides // 3))
    keys: dict[tuple[str, int], Any] = {}
    for _, event in timed:
        try:
            keys[(event["ride"], event["seq"])] = key_for(dict(event))
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:
            return failed("raised", f"key_for raised for {event}: {_error_text(error)}",
                          "the event is a dict with the keys ride, seq, type, rider, driver and city.",
                          "return event['ride'].")
    bad = [(k, v) for k, v in keys.items() if v is not None and not isinstance(v, (str, bytes))]
    if bad:
        (ride, seq), value = bad[0]
        return failed("bad-key-type", f"key_for returned {value!r} ({type(value).__name__}) for {ride} event {seq}; "
                      "a Kafka key is bytes (a str is encoded for you) or None",
                      "the producer takes a key of bytes or str.", "return event['ride'], a str.")
    producer = Producer(cluster, {"acks": "all"})
    placed: dict[tuple[str, int], int] = {}

    def report(err: Any, msg: Any) -> None:
        if err is None:
            value = msg.value().decode()
            ride, _, seq = value.partition("#")
            placed[(ride, int(seq))] = msg.partition()

    for t, event in timed:
        def send(event: dict[str, Any] = event) -> None:
            producer.produce("ride-events", value=f"{event['ride']}#{event['seq']}",
                             key=keys[(event["ride"], event["seq"])], on_delivery=report)
        sim.call_at(t, send)
    handled: dict[str, list[int]] = {}
    work = sim.substream("exercise:07.ride-key handling")

    def member(index: int) -> Generator[Any, Any, None]:
        consumer = Consumer(cluster, {"group.id": "rides", "auto.offset.reset": "earliest",
                                      "client.id": f"rides-{index}"})
        consumer.subscribe(["ride-events"])
        while True:
            msg = yield consumer.poll_event(5.0)
            if msg is None or msg.error() is not None:
                continue
            yield sim.timeout(work.uniform(1.0, 6.0))
            ride, _, seq = msg.value().decode().partition("#")
            handled.setdefault(ride, []).append(int(seq))

    for index in range(consumers):
        sim.process(member(index + 1))

    def serve_reports() -> Generator[Any, Any, None]:
        while True:
            yield sim.timeout(1.0)
            producer.poll(0)

    sim.process(serve_reports())
    sim.run(until=1800)
    producer.poll(0)
    names = [f"ride-{r + 1}" for r in range(rides)]
    spread = {ride: sorted({p for (r, _), p in placed.items() if r == ride}) for ride in names}
    split = [ride for ride in names if len(spread[ride]) > 1]
    disorder = [ride for ride in names if handled.get(ride, []) != sorted(handled.get(ride, []))]
    if split or disorder:
        ride = (disorder or split)[0]
        where = spread[ride]
        order = [RIDE_STEPS[s - 1] for s in handled.get(ride, [])]
        seen = (f"{ride}'s events went to partitions {where}, and the consumers handled them in the order "
                f"{', '.join(order)}" if ride in disorder else
                f"{ride}'s events went to partitions {where}: nothing orders records across partitions")
        ride_keys = [keys[(ride, s)] for s in range(1, len(RIDE_STEPS) + 1)]
        tail = f" ({_plural(len(set(split) | set(disorder)), 'ride')} affected)"
        if all(k is None for k in ride_keys):
            return failed(
                "no-key",
                f"{seen}{tail}: records without a key are spread by sticky partitioning, a new partition "
                "every few milliseconds",
                "without a key, the producer picks partitions for throughput, not for order; what makes two "
                "records land in the same partition?",
                "records with the same key always go to the same partition: give every event of a ride the same "
                "key, the ride id.",
            )
        if any(k is None for k in ride_keys):
            missing = sorted({RIDE_STEPS[s - 1] for s in range(1, len(RIDE_STEPS) + 1) if keys[(ride, s)] is None})
            return failed(
                "some-events-unkeyed",
                f"{seen}{tail}: its {', '.join(missing)} event had no key (the field your key uses is empty there)",
                "the key must exist on every event of a ride, from the request to the payment.",
                "which field do all the events of one ride share? The ride id.",
            )
        shared_by_type = all(
            len({keys[(r, s)] for r in names}) == 1 for s in range(1, len(RIDE_STEPS) + 1)
        )
        if shared_by_type:
            return failed(
                "key-by-type",
                f"{seen}{tail}: the key followed the event type, so one ride's events got different keys, "
                f"while every ride's '{RIDE_STEPS[0]}' events shared one key and one partition",
                "order is kept per key; what must stay in order here: all events of one type, or all events of "
                "one ride?",
                "key by the ride id: one ride's events stay in one partition, and different rides spread out.",
            )
        return failed(
            "ride-split",
            f"{seen}{tail}: its events had {len(set(ride_keys))} different keys "
            f"({', '.join(map(repr, ride_keys[:3]))}, ...)",
            "a key maps to one partition; events with different keys can land in different partitions.",
            "use a key that is the same for every event of a ride and differs between rides: the ride id.",
        )
    used = sorted({p for p in placed.values()})
    if len(used) < min(partitions, rides) / 2:
        idle = [p for p in range(partitions) if p not in used]
        return failed(
            "too-few-keys",
            f"each ride stayed in order, but all {rides} rides went to {_plural(len(used), 'partition')} {used}: "
            f"partitions {idle} stayed empty, so the consumers reading them had nothing to do",
            "a key shared by many rides (a constant, a city) keeps order you do not need, and serialises "
            "unrelated rides behind each other.",
            "order matters within a ride only: key by the ride id, and the rides spread over every partition.",
        )
    total = sum(len(v) for v in handled.values())
    if total != rides * len(RIDE_STEPS):
        return failed("not-all-handled", f"only {total} of {rides * len(RIDE_STEPS)} events were handled in "
                      "30 minutes", "every event needs a key that the producer accepts.", "return event['ride'].")
    return passed(
        f"every one of the {rides} rides was handled in order, each from one partition, and the rides spread over "
        f"{len(used)} of the {partitions} partitions"
    )


# -- 07.commit-offsets ----------------------------------------------------------------------------------------


def consume_payments(consumer, handle, stopping):
    """Handle every payment exactly once across crashes and restarts (enable.auto.commit is false)."""
    consumer.subscribe(["payments"])
    last = None
    while not stopping():
        msg = yield consumer.poll_event(1.0)
        if msg is None or msg.error() is not None:
            continue
        yield handle(msg)                           # the work: virtual time passes here
        consumer.commit(message=msg)                # only after the work: commits msg.offset() + 1
        last = msg
    if last is not None:
        consumer.commit(message=last, asynchronous=False)   # at shutdown, wait until the commit is done
    consumer.close()


class _PaymentRun:
    """What happened to the payments in one run of the commit scenario."""

    def __init__(self) -> None:
        self.done: list[int] = []  # payment offsets whose handling finished, in order (repeats included)
        self.errors: list[str] = []
        self.untouched = False
        self.not_generator = False
        self.committed_before_done: list[int] = []
        self.committed: int | None = None


def _payment_run(learner: Callable[..., Any], seed: int, payments: int, crash_on: int | None) -> _PaymentRun:
    """Two workers in turn: the first stops at t = 21 s (or crashes during its ``crash_on``-th payment), the
    second starts 4 s later and runs to the end. Each payment takes 2 s of work."""
    out = _PaymentRun()
    sim = Simulation(seed=seed)
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("payments", 1, 1)
    producer = Producer(cluster, {"acks": "all"})
    for i in range(payments):
        producer.produce("payments", value=f"payment-{i}", key=f"customer-{i % 5}")
    producer.flush()
    group = cluster.group("payments")
    config = {"group.id": "payments", "enable.auto.commit": False, "auto.offset.reset": "earliest"}

    def worker(name: str, stop_at: float, crash: int | None) -> Generator[Any, Any, None]:
        consumer = Consumer(cluster, {**config, "client.id": name})
        started = {"count": 0}
        pending: dict[Any, int] = {}

        def handle(msg: Any) -> Any:
            event = sim.timeout(2.0)
            pending[event] = msg.offset()
            return event

        try:
            steps = learner(consumer, handle, lambda: sim.now >= stop_at)
        except (NotAttempted, NotImplementedError):
            out.untouched = True
            return
        if not inspect.isgenerator(steps):
            out.not_generator = True
            return
        value: Any = None
        try:
            while True:
                event = steps.send(value)
                offset = pending.pop(event, None)
                if offset is not None:
                    started["count"] += 1
                    committed = group.committed_offset("payments", 0)
                    if committed is not None and committed > offset:
                        out.committed_before_done.append(offset)
                    if crash is not None and started["count"] == crash:
                        yield sim.timeout(1.0)  # half-way through this payment, the process dies
                        steps.close()
                        consumer.crash()
                        return
                value = yield event
                if offset is not None:
                    out.done.append(offset)
        except StopIteration:
            pass
        except (NotAttempted, NotImplementedError):
            out.untouched = True
        except Exception as error:  # the learner's code raised: record it, keep the run going
            out.errors.append(f"{name}: {_error_text(error)}")
        if not consumer.closed_or_crashed:
            consumer.close()

    first_stop = 21.0
    sim.process(worker("payments-1", first_stop, crash_on))

    def second() -> Generator[Any, Any, None]:
        while not (crash_on is not None and cluster.consumers[0].closed_or_crashed) and sim.now < first_stop:
            yield sim.timeout(0.5)
        yield sim.timeout(4.0)
        yield sim.process(worker("payments-2", 400.0, None))

    sim.process(second())
    try:
        sim.run(until=420)
    except Exception as error:
        out.errors.append(f"the simulation: {_error_text(error)}")
    out.committed = group.committed_offset("payments", 0)
    return out


def check_commit_offsets(consume_payments: Callable[..., Any], *, seed: int = 7, payments: int = 30) -> Verdict:
    """Two scenarios on a one-partition topic of payments, with ``enable.auto.commit=false``: (1) the first
    worker stops cleanly and a second one takes over; (2) the first worker crashes in the middle of its sixth
    payment and a second one takes over. Each payment must be handled, and handled once."""
    runs = {}
    for label, crash_on in (("restart", None), ("crash", 6)):
        run = _payment_run(consume_payments, seed, payments, crash_on)
        if run.untouched:
            raise NotAttempted("consume_payments")
        if run.not_generator:
            return failed("not-a-generator", "consume_payments returned without yielding: no record was polled",
                          "wait for records with `msg = yield consumer.poll_event(1.0)`.",
                          "the loop is: poll (yield), handle (yield handle(msg)), commit.")
        if run.errors:
            return failed("raised", f"your consume_payments raised: {run.errors[0]}",
                          "read the exception: commit takes message=msg, or offsets=[TopicPartition(...)].",
                          "consumer.commit(message=msg) commits msg.offset() + 1 for msg's partition.")
        runs[label] = run
    restart, crash = runs["restart"], runs["crash"]
    for run in (restart, crash):
        if not run.done:
            return failed("nothing-handled", "no payment was handled: the consumer never got a record",
                          "a consumer reads nothing until it subscribes to a topic.",
                          "start with consumer.subscribe(['payments']), then poll in a loop.")
    missing = [o for o in range(payments) if o not in crash.done]
    if missing:
        early = [o for o in crash.committed_before_done if o in missing]
        return failed(
            "commit-before-processing",
            f"payment {missing[0]} was never handled: the first worker crashed while handling it, but its offset "
            f"had {'already ' if early else ''}been committed, so the next worker started after it"
            f" ({_plural(len(missing), 'payment')} lost)",
            "a committed offset says 'everything before this is done'; was it done when you committed?",
            "commit a record only after handle(msg) has finished: yield handle(msg), then "
            "consumer.commit(message=msg).",
        )
    missing = [o for o in range(payments) if o not in restart.done]
    if missing:
        return failed(
            "payment-missing",
            f"payment {missing[0]} was never handled after the restart ({_plural(len(missing), 'payment')} missing)",
            "a worker that stops must not commit what it has not handled.",
            "commit message=msg for the last record you finished, and nothing beyond it.",
        )
    repeats = [o for o in range(payments) if restart.done.count(o) > 1]
    if repeats:
        if restart.committed is None:
            return failed(
                "never-commits",
                f"after a clean restart the second worker handled payments {repeats[0]} to {repeats[-1]} again "
                f"({_plural(len(repeats), 'payment')} twice): with enable.auto.commit=false nothing was committed, "
                "so it started from the beginning",
                "with auto-commit off, the group remembers only what you commit; where does a new member start?",
                "after each handled payment call consumer.commit(message=msg), and commit once more, synchronously, "
                "before close().",
            )
        if len(repeats) == 1:
            return failed(
                "off-by-one",
                f"after a clean restart payment {repeats[0]} was handled twice: the committed offset pointed at the "
                "last handled payment instead of the one after it",
                "Kafka commits the offset of the next record to read, not of the last one read.",
                "commit(message=msg) does the + 1 for you; with offsets=[...] use msg.offset() + 1.",
            )
        return failed(
            "no-final-commit",
            f"after a clean restart payments {repeats[0]} to {repeats[-1]} were handled again: the first worker "
            "stopped without committing what it had finished",
            "what must a worker do before close() when auto-commit is off?",
            "keep the last handled message and call consumer.commit(message=last, asynchronous=False) before close().",
        )
    repeats = [o for o in range(payments) if crash.done.count(o) > 1]
    if repeats:
        return failed(
            "commits-too-rarely",
            f"after the crash, payments {repeats[0]} to {repeats[-1]} were handled a second time "
            f"({_plural(len(repeats), 'payment')}): they had been finished, but not committed, when the worker died",
            "a crash repeats everything handled since the last commit; how much do you want to repeat?",
            "commit after every handled payment (asynchronously is fine), not only at shutdown.",
        )
    return passed(
        f"all {payments} payments handled exactly once: a clean restart repeated none, and a crash in the middle of "
        "a payment lost none (the interrupted payment was handled by the next worker)"
    )


# -- 07.replay-from-time --------------------------------------------------------------------------------------


def start_fraud_check(new_consumer, live, topic, since_ms):
    """Start a consumer that reads `topic` from the time since_ms on, without disturbing the live group."""
    # A group of its own: its own committed offsets and its own partitions, so billing never notices.
    consumer = new_consumer({"group.id": "fraud-check", "enable.auto.commit": False})

    def rewind(consumer, partitions):
        # On assignment, turn the time into an offset per partition and start there.
        wanted = [TopicPartition(tp.topic, tp.partition, since_ms) for tp in partitions]
        consumer.assign(consumer.offsets_for_times(wanted))

    consumer.subscribe([topic], on_assign=rewind)
    return consumer


class _ReplayRun:
    def __init__(self) -> None:
        self.timestamps: dict[tuple[int, int], int] = {}  # (partition, offset) -> timestamp, of every record
        self.billing: list[tuple[int, int]] = []
        self.fraud: list[tuple[int, int]] = []
        self.fraud_group: str | None = None
        self.error: str | None = None
        self.untouched = False
        self.returned: Any = None
        self.rebalances_before = 0
        self.rebalances_after = 0
        self.assignment_before: Any = None
        self.assignment_after: Any = None


def _replay_run(learner: Callable[..., Any], seed: int, days: int, per_day: int) -> _ReplayRun:
    """A topic kept for 90 days holds ``days`` days of ride payments; two billing consumers are caught up
    and keep consuming new payments (one every 30 s). At day ``days`` the learner's code starts a consumer,
    which the checker then drains for two hours while billing carries on."""
    out = _ReplayRun()
    sim = Simulation(seed=seed)
    cluster = Cluster(sim, brokers=3)
    cluster.create_topic("payments", 3, 3, {"retention.ms": 90 * DAY_MS})
    day0 = days * DAY_MS
    sim.run(until=days * 86_400 - 3600)
    producer = Producer(cluster, {"acks": "all"})
    rng = sim.substream("exercise:07.replay-from-time")
    total = days * per_day
    for i in range(total):
        ts = 1 + int((i + rng.random()) * (day0 - 3_600_000) / total)  # spread over the days before the last hour
        producer.produce("payments", value=f"payment-{i}", key=f"rider-{rng.randrange(200)}", timestamp=ts)
    producer.flush()

    def record_all(err: Any, msg: Any) -> None:
        if err is None:
            out.timestamps[(msg.partition(), msg.offset())] = msg.timestamp()[1]

    probe = Consumer(cluster, {"group.id": "checker-probe", "enable.auto.commit": False})
    probe.assign([TopicPartition("payments", p, 0) for p in range(3)])
    for msg in probe.consume(total + 10, 0):
        if msg.error() is None:
            out.timestamps[(msg.partition(), msg.offset())] = msg.timestamp()[1]
    probe.close()

    def live_producer() -> Generator[Any, Any, None]:
        n = 0
        while True:
            yield sim.timeout(30.0)
            producer.produce("payments", value=f"live-{n}", key=f"rider-{rng.randrange(200)}",
                             on_delivery=record_all)
            n += 1
            producer.poll(0)

    def billing(index: int) -> Generator[Any, Any, None]:
        consumer = Consumer(cluster, {"group.id": "billing", "auto.offset.reset": "earliest",
                                      "client.id": f"billing-{index}"})
        consumer.subscribe(["payments"])
        while True:
            msg = yield consumer.poll_event(10.0)
            if msg is not None and msg.error() is None:
                out.billing.append((msg.partition(), msg.offset()))

    sim.process(live_producer())
    for index in (1, 2):
        sim.process(billing(index))
    sim.run(until=days * 86_400)
    group = cluster.group("billing")
    out.rebalances_before = group.rebalances
    out.assignment_before = {m: list(x.assignment) for m, x in group.members.items()}
    live = cluster.consumers[-1]
    try:
        consumer = learner(lambda config: Consumer(cluster, config), live, "payments", day0 - 30 * DAY_MS)
    except (NotAttempted, NotImplementedError):
        out.untouched = True
        return out
    except Exception as error:
        out.error = _error_text(error)
        return out
    out.returned = consumer
    if isinstance(consumer, Consumer):
        out.fraud_group = consumer.group_id

        def fraud() -> Generator[Any, Any, None]:
            # poll(0) and a short sleep, as a learner's plain loop would read the topic
            while True:
                try:
                    msg = consumer.poll(0)
                except Exception as error:  # a consumer the learner closed or broke
                    out.error = _error_text(error)
                    return
                if msg is None:
                    yield sim.timeout(1.0)
                elif msg.error() is None:
                    out.fraud.append((msg.partition(), msg.offset()))

        sim.process(fraud())
    try:
        sim.run(until=days * 86_400 + 7200)
    except Exception as error:
        out.error = f"the simulation: {_error_text(error)}"
    out.rebalances_after = group.rebalances
    out.assignment_after = {m: list(x.assignment) for m, x in group.members.items()}
    return out


def check_replay_from_time(start_fraud_check: Callable[..., Any], *, seed: int = 7, days: int = 40,
                           per_day: int = 48) -> Verdict:
    """``start_fraud_check(new_consumer, live, topic, since_ms)`` must return a consumer that reads every
    payment of the last 30 days (and nothing older), while the billing group keeps its members, its
    partitions and its place: no billing payment may be handled twice."""
    run = _replay_run(start_fraud_check, seed, days, per_day)
    if run.untouched:
        raise NotAttempted("start_fraud_check")
    if run.error is not None:
        return failed("raised", f"start_fraud_check raised {run.error}",
                      "new_consumer(config) makes a Consumer from a config dict; it needs a group.id.",
                      "subscribe with an on_assign callback that turns since_ms into offsets with "
                      "consumer.offsets_for_times(...) and assigns them.")
    if not isinstance(run.returned, Consumer):
        return failed("no-consumer", f"start_fraud_check returned {run.returned!r}, not the consumer it started",
                      "the check reads from the consumer you return.", "return the consumer from new_consumer(...).")
    billing_twice = len(run.billing) - len(set(run.billing))
    disturbed = run.rebalances_after != run.rebalances_before or run.assignment_after != run.assignment_before
    if run.fraud_group == "billing":
        again = len(set(run.fraud) & set(run.billing)) + billing_twice
        return failed(
            "reused-live-group",
            f"the fraud consumer joined the live group 'billing': the group rebalanced "
            f"{_plural(run.rebalances_after - run.rebalances_before, 'time')} and took partitions away from the live "
            f"consumers, and {_plural(again, 'payment')} that billing had already handled went through billing's "
            "group a second time",
            "a group shares one set of committed offsets and splits the partitions among its members; what "
            "happens to billing when a new member joins it and rewinds?",
            "give the fraud consumer a group.id of its own, such as 'fraud-check'.",
        )
    if billing_twice or disturbed:
        return failed(
            "seeked-live-group",
            f"billing handled {_plural(billing_twice, 'payment')} a second time"
            f"{' and rebalanced' if disturbed else ''}: the live group was moved back in time",
            "the live consumer `live` belongs to billing; seeking it rewinds billing, not a new reader.",
            "leave `live` alone: create a new consumer with its own group.id and seek that one.",
        )
    since = days * DAY_MS - 30 * DAY_MS
    wanted = sorted(k for k, ts in run.timestamps.items() if ts >= since)
    got = set(run.fraud)
    older = sorted(k for k in got if run.timestamps.get(k, since) < since)
    if older:
        oldest = min(run.timestamps[k] for k in older)
        return failed(
            "read-too-much",
            f"the fraud consumer read {_plural(len(older), 'payment')} older than 30 days (the oldest from day "
            f"{oldest // DAY_MS} of {days}): it started at the beginning of the log, not at the time asked for",
            "auto.offset.reset=earliest starts at the oldest retained record; how do you start at a time?",
            "consumer.offsets_for_times([TopicPartition(topic, p, since_ms), ...]) gives the first offset at or "
            "after since_ms in each partition; start there.",
        )
    missed = [k for k in wanted if k not in got]
    if missed:
        history = any(run.timestamps.get(k, day) < day - 3_600_000 for k in got for day in (days * DAY_MS,))
        return failed(
            "missed-records",
            f"the fraud consumer missed {_plural(len(missed), 'payment')} of the last 30 days (of {len(wanted)}): "
            f"{'some partitions were not rewound' if history else 'it read nothing from the past, only new payments'}",
            "a new group starts at the end of the log by default (auto.offset.reset=latest); nothing rewinds it.",
            "in on_assign, replace each partition's offset with the result of offsets_for_times and assign them.",
        )
    return passed(
        f"the fraud consumer read all {len(wanted)} payments of the last 30 days and nothing older, while billing kept "
        "its partitions and handled each payment once"
    )


ride_key = register(Exercise(
    "07.ride-key", "A key that keeps each ride in order and spreads rides over partitions",
    check_ride_key, key_for, handle="exercise_key",
))
commit_offsets = register(Exercise(
    "07.commit-offsets", "Commit after the work, and synchronously at shutdown",
    check_commit_offsets, consume_payments, handle="exercise_commit",
))
replay_from_time = register(Exercise(
    "07.replay-from-time", "Replay the last 30 days in a new group without disturbing the live one",
    check_replay_from_time, start_fraud_check, handle="exercise_replay",
))
