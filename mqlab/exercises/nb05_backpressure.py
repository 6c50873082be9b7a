"""Exercises of notebook 05, backpressure.

* ``05.bounded-queue``: choose a queue's ``max_length`` and overflow policy so that, when the
  producer outruns the consumers for good, nothing the queue accepted is thrown away, the
  broker is never OOM-killed, the producer is pushed back within a deadline, and a normal
  burst still fits (run on :func:`mqlab.scenarios.incident_3am`).
* ``05.autoscaler``: configure an :class:`~mqlab.flow.Autoscaler` on queue depth so that an
  hour of bursty traffic meets a p99 latency objective within a consumer-seconds budget,
  without flapping.
* ``05.credit-subscriber``: write a subscriber that grants credit with
  :meth:`mqlab.flow.Subscription.request` so its buffer never overflows and the stream never
  stalls (Reactive Streams rules 1.1 and 3.9).

Each checker runs the learner's code in virtual time and names what went wrong in figures
(messages lost, seconds late, scale events, items over the buffer), never a bare "wrong".
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Any

from mqlab.errors import MqlabError
from mqlab.exercises.core import Exercise, NotAttempted, Verdict, failed, passed
from mqlab.exercises.registry import register
from mqlab.flow import Autoscaler, Subscription
from mqlab.flow.buffer import OverflowPolicy
from mqlab.scenarios import incident_3am
from mqlab.sim import Simulation

__all__ = [
    "AUTOSCALER_BUDGET",
    "LATENCY_OBJECTIVE",
    "MAX_SCALE_EVENTS",
    "AutoscaledHour",
    "BufferedSubscriber",
    "autoscaled_hour",
    "autoscaler_settings",
    "bursty_load",
    "queue_limits",
]

POLICIES = tuple(p.value for p in OverflowPolicy)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# -- 05.bounded-queue -----------------------------------------------------------------------------------------


def queue_limits(producer_rate, consumer_rate, message_bytes, memory_bytes, notice_within, burst):
    """Return (max_length, overflow) for a queue whose producer may outrun its consumers."""
    # Little's ruler: while the producer outruns the consumers, the queue grows by the difference.
    growth = producer_rate - consumer_rate
    # Full after max_length / growth seconds: the producer must hear "no" within notice_within seconds.
    max_length = int(growth * notice_within)
    # Never more than the broker's memory can hold (keep half of it for everything else),
    # or the OOM killer ends the broker before the limit is ever reached.
    max_length = min(max_length, int(0.5 * memory_bytes / message_bytes))
    # Room for a normal burst is checked, not assumed: a smaller limit would refuse everyday traffic.
    assert max_length >= burst, "no limit satisfies both the deadline and the burst: add consumers"
    # "fail" refuses the publish (RabbitMQ reject-publish, a nack): the producer knows at once,
    # and nothing the queue accepted is ever thrown away. "block" would also do.
    return max_length, "fail"


BOUNDED_CASES: tuple[dict[str, float], ...] = (
    {"producer_rate": 10_000, "consumer_rate": 2_000, "message_bytes": 2_000, "memory_bytes": 2 * 1024**3,
     "notice_within": 10, "burst": 20_000},
    {"producer_rate": 5_000, "consumer_rate": 4_000, "message_bytes": 50_000, "memory_bytes": 1024**3,
     "notice_within": 60, "burst": 5_000},
)


def _bounded_cases(seed: int) -> list[dict[str, float]]:
    """The two fixed cases (a fast producer; big messages where memory is the binding limit) and one drawn from
    ``seed``."""
    rng = random.Random(f"05.bounded-queue:{seed}")
    producer = rng.randrange(6_000, 12_001, 500)
    consumer = rng.randrange(1_000, 3_001, 500)
    notice = rng.randrange(5, 31, 5)
    drawn = {"producer_rate": producer, "consumer_rate": consumer, "message_bytes": rng.choice([1_000, 4_000]),
             "memory_bytes": 4 * 1024**3, "notice_within": notice, "burst": (producer - consumer) * notice // 4}
    return [*BOUNDED_CASES, drawn]


def _describe(case: dict[str, float]) -> str:
    return (f"producer {case['producer_rate']:,.0f}/s, consumers {case['consumer_rate']:,.0f}/s, "
            f"{case['message_bytes']:,.0f}-byte messages, {case['memory_bytes'] / 1024**3:g} GiB broker")


def check_bounded_queue(queue_limits: Callable[..., Any], *, seed: int = 5) -> Verdict:
    """For each case, the learner's (max_length, overflow) runs the 3 a.m. incident (sustained overload, an
    unbounded-memory broker that is OOM-killed when full) and a normal burst that must fit."""
    reports = []
    for case in _bounded_cases(seed):
        try:
            answer = queue_limits(**case)
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:
            return failed("raised", f"queue_limits raised for {_describe(case)}: {_error_text(error)}",
                          "queue_limits gets plain numbers (rates per second, bytes, seconds, messages).",
                          "return a tuple (max_length, overflow), such as (80_000, 'fail').")
        if not (isinstance(answer, tuple) and len(answer) == 2):
            return failed("invalid-answer", f"queue_limits returned {answer!r}, not a pair (max_length, overflow)",
                          "return two things: the limit in messages (or None for no limit) and the policy's name.",
                          f"for example: return 80_000, 'fail'. Policies: {', '.join(POLICIES)}.")
        max_length, overflow = answer
        if overflow not in POLICIES or not (max_length is None or (isinstance(max_length, int)
                                                                    and not isinstance(max_length, bool))):
            return failed("invalid-answer",
                          f"queue_limits returned ({max_length!r}, {overflow!r}): max_length must be an int (or None) "
                          f"and overflow one of {', '.join(POLICIES)}",
                          "the limit is a whole number of messages; the policy is a string.",
                          "round the limit with int(...) and spell the policy as in the list above.")
        rates = {k: case[k] for k in ("producer_rate", "consumer_rate", "message_bytes", "memory_bytes")}
        growth = case["producer_rate"] - case["consumer_rate"]
        oom_after = case["memory_bytes"] / case["message_bytes"] / growth
        duration = round(max(case["notice_within"] * 2, oom_after * 1.25), 1)
        if max_length is None:
            run = incident_3am("unbounded", **rates, duration=duration, sample_every=0.1)
            killed_at = next((t for t, lost in zip(run.times, run.lost_series) if lost), duration)
            return failed(
                "no-bound",
                f"with no limit ({_describe(case)}) the backlog grew by {growth:,.0f} messages a second until the "
                f"broker ran out of memory and was OOM-killed at t≈{killed_at:.0f} s: "
                f"{_count(run.lost_by_kill, 'accepted message')} lost, and the producer was never told to slow down "
                f"before that",
                "every queue has a limit: either you choose it, or the memory of the machine chooses it for you.",
                "return a limit in messages: how fast does the queue grow, and how soon must the producer know?",
            )
        if max_length < 1:
            return failed("invalid-answer", f"max_length {max_length} holds nothing: every message would be refused",
                          "a limit is a number of messages the queue may hold, at least 1.",
                          "start from (producer_rate - consumer_rate) * notice_within.")
        run = incident_3am("bounded", **rates, max_length=max_length, overflow=overflow, duration=duration,
                           sample_every=0.1)
        if run.kills:
            held = max_length * case["message_bytes"] / 1024**3
            return failed(
                "bound-above-memory",
                f"{_describe(case)}: a limit of {max_length:,} messages is {held:.2f} GiB of messages, more than the "
                f"broker's {case['memory_bytes'] / 1024**3:g} GiB; it was OOM-killed before the queue was full, "
                f"losing {_count(run.lost_by_kill, 'accepted message')}",
                "a limit only protects the broker if the queue at its limit fits in memory. Check the bytes too.",
                "cap max_length at a fraction of memory_bytes / message_bytes (half leaves room for the rest).",
            )
        if run.dropped_oldest:
            return failed(
                "drop-head-silent",
                f"{_describe(case)}: drop_oldest threw away {_count(run.dropped_oldest, 'accepted message')} from "
                f"the head of the queue; each had been accepted, and the producer was never told",
                "drop_oldest (RabbitMQ's default drop-head) makes room by discarding messages the queue already "
                "accepted. Who finds out?",
                "choose a policy that says no to the producer: 'fail' (reject-publish, a nack) or 'block'.",
            )
        if run.dropped_newest:
            return failed(
                "drop-newest-silent",
                f"{_describe(case)}: drop_newest discarded {_count(run.dropped_newest, 'message')} as they arrived, "
                f"and the producer believed every send had worked",
                "a message dropped on arrival is lost as surely as one dropped from the head, just earlier; the "
                "producer still thinks it was sent.",
                "choose a policy the producer can see: 'fail' (the publish is refused) or 'block' (it waits).",
            )
        # the producer is pushed back the first time a publish is refused (fail) or held back (block)
        pushed = zip(run.times, run.pending_series, run.lost_series)
        first_push = next((t for t, pending, refused in pushed if pending or refused), None)
        if first_push is None or first_push > case["notice_within"] + 0.05:
            when = f"at t={first_push:.1f} s" if first_push is not None else f"not at all in {duration:g} s"
            return failed(
                "learns-too-late",
                f"{_describe(case)}: the queue filled, and the producer was first pushed back, {when}; it had to "
                f"know within {case['notice_within']:g} s",
                f"the queue grows by producer_rate - consumer_rate = {growth:,.0f} messages a second. How long "
                f"does it take to fill {max_length:,}?",
                "time to fill = max_length / (producer_rate - consumer_rate); solve it for max_length.",
            )
        spike = 0.9 * case["burst"] / growth
        burst_run = incident_3am("bounded", **rates, max_length=max_length, overflow=overflow,
                                 incident_until=spike, baseline_rate=case["consumer_rate"] / 2,
                                 duration=spike + 30, sample_every=0.1)
        if burst_run.max_depth >= max_length:
            return failed(
                "bound-too-small",
                f"{_describe(case)}: a normal burst of about {case['burst']:,.0f} messages hit the limit of "
                f"{max_length:,}: everyday traffic was "
                + ("refused" if overflow == "fail" else "held back"),
                "a limit that small turns every little spike into errors; the queue is there to absorb bursts.",
                f"keep max_length at least {case['burst']:,.0f} (the burst), and at most what the deadline and the "
                "memory allow.",
            )
        reports.append(f"{overflow} at {max_length:,}: pushed back at t={first_push:.1f} s")
    return passed(
        "in every case nothing accepted was lost, the broker stayed alive, the producer was told in time and a "
        "normal burst fitted (" + "; ".join(reports) + ")"
    )


# -- 05.autoscaler --------------------------------------------------------------------------------------------

LATENCY_OBJECTIVE = 60.0
"""p99 of the time from publish to processed, in seconds, over the hour."""
AUTOSCALER_BUDGET = 8_000.0
"""Consumer-seconds the hour may cost: a little over two consumer-hours (a fixed fleet of 3 would cost 10,800)."""
MAX_SCALE_EVENTS = 24
"""More scale events than this in the hour is flapping: every event is a rebalance or a cold start."""
CONSUMER_RATE = 2_000
STARTUP_DELAY = 30.0
OBSERVE_EVERY = 15


def bursty_load(seed: int, *, duration: int = 3_600, base: int = 1_500, peak: int = 7_500,
                bursts: int = 3) -> list[int]:
    """Messages published in each second of an hour: ``base`` per second, with ``bursts`` bursts of ``peak`` per
    second lasting 3 to 5 minutes, at times drawn from ``seed``: each starts in the first two minutes of its own
    ten-minute slot (so bursts are at least three minutes apart), from the second slot on, and the last slot
    stays quiet so the hour can end drained."""
    rng = random.Random(f"05.autoscaler:{seed}")
    rates = [base] * duration
    slots = sorted(rng.sample(range(1, duration // 600 - 1), bursts))
    for slot in slots:
        start = slot * 600 + rng.randrange(0, 120)
        for t in range(start, min(duration, start + rng.randrange(180, 301))):
            rates[t] = peak
    return rates


class AutoscaledHour:
    """What an hour under an autoscaler measured: latency, cost, scale events, and the series to plot."""

    __slots__ = ("actions", "consumer_seconds", "consumers", "depth", "load", "p99", "processed", "times")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.load: list[int] = []
        self.depth: list[int] = []
        self.consumers: list[int] = []
        self.processed = 0
        self.p99 = 0.0
        self.consumer_seconds = 0.0
        self.actions: list[Any] = []


def autoscaled_hour(settings: dict[str, Any], seed: int, *, consumer_rate: int = CONSUMER_RATE,
                    startup_delay: float = STARTUP_DELAY, observe_every: int = OBSERVE_EVERY) -> AutoscaledHour:
    """Run :func:`bursty_load` through a queue whose consumers an :class:`Autoscaler` built from ``settings``
    manages. A fluid model in one-second steps: each second's messages arrive as one batch, the consumers that
    have finished starting take ``consumer_rate`` each from the head, and every ``observe_every`` seconds the
    autoscaler reads the depth left over. Latency is counted per message, from publish to processed."""
    scaler = Autoscaler(startup_delay=startup_delay, **settings)
    out = AutoscaledHour()
    load = bursty_load(seed)
    queue: deque[list[int]] = deque()
    latencies: dict[int, int] = {}
    depth = 0
    for now, arriving in enumerate(load):
        queue.append([now, arriving])
        depth += arriving
        capacity = scaler.active(now) * consumer_rate
        while capacity and queue:
            head = queue[0]
            take = min(head[1], capacity)
            latency = now + 1 - head[0]
            latencies[latency] = latencies.get(latency, 0) + take
            capacity -= take
            depth -= take
            out.processed += take
            if take == head[1]:
                queue.popleft()
            else:
                head[1] -= take
        if now % observe_every == 0:
            scaler.observe(now, depth)
        out.times.append(now)
        out.load.append(arriving)
        out.depth.append(depth)
        out.consumers.append(scaler.consumers)
    total = sum(latencies.values()) + depth
    seen = 0
    out.p99 = float(len(load))  # messages still queued at the end count as later than anything processed
    for latency in sorted(latencies):
        seen += latencies[latency]
        if seen >= 0.99 * total:
            out.p99 = float(latency)
            break
    out.consumer_seconds = scaler.consumer_seconds(len(load))
    out.actions = list(scaler.actions)
    return out


def autoscaler_settings():
    """The autoscaler's settings for the bursty hour of the exercise."""
    return {
        "min_consumers": 1,         # the quiet hours need one consumer (1,500/s against 2,000/s each)
        "max_consumers": 7,         # a burst of 7,500/s needs 4; 7 also drain the backlog built while they start
        "scale_out_above": 20_000,  # a few seconds of a burst's excess: react early, consumers take 30 s to start
        "scale_in_below": 1_000,    # well below the scale-out threshold, so the two never chase each other
        "cooldown": 60,             # longer than start-up (30 s) plus one reading (15 s): judge an action's effect
        "step": 2,                  # two at a time reaches the burst's need in two actions
    }


def check_autoscaler(autoscaler_settings: Callable[[], Any], *, seed: int = 5) -> Verdict:
    """An hour of bursty traffic (1,500/s with three bursts of 7,500/s), consumers of 2,000/s that take 30 s to
    start, the depth read every 15 s. Objective: p99 latency within 60 s, at most 8,000 consumer-seconds, at
    most 24 scale events."""
    settings = autoscaler_settings()
    if not isinstance(settings, dict):
        return failed("invalid-settings", f"autoscaler_settings returned {settings!r}, not a dict",
                      "return a dict of the Autoscaler's keyword arguments.",
                      "for example {'min_consumers': 1, 'max_consumers': 4, 'scale_out_above': 5000, "
                      "'scale_in_below': 500, 'cooldown': 60, 'step': 1}.")
    allowed = {"min_consumers", "max_consumers", "scale_out_above", "scale_in_below", "cooldown", "step"}
    unknown = sorted(set(settings) - allowed)
    if unknown:
        return failed("invalid-settings", f"unknown setting {unknown[0]!r}; the exercise lets you choose "
                      f"{', '.join(sorted(allowed))}",
                      "start-up delay and the reading interval are facts of the platform, not settings here.",
                      "remove the other keys.")
    try:
        hour = autoscaled_hour(settings, seed)
    except (MqlabError, TypeError, ValueError) as error:
        return failed("invalid-settings", f"the Autoscaler refused these settings: {_error_text(error)}",
                      "read the message: it names the setting and the rule.",
                      "thresholds are message counts with scale_in_below < scale_out_above; max >= min >= 0.")
    peak = max(hour.load)
    events = len(hour.actions)
    reversals = sum(1 for a, b in zip(hour.actions, hour.actions[1:]) if (a.after > a.before) != (b.after > b.before))
    summary = (f"p99 {hour.p99:.0f} s, {hour.consumer_seconds:,.0f} consumer-seconds, "
               f"{_count(events, 'scale event')}")
    if hour.p99 > LATENCY_OBJECTIVE and settings.get("max_consumers", 10) * CONSUMER_RATE < peak:
        most = settings.get("max_consumers", 10)
        return failed(
            "max-too-low",
            f"{summary}: the objective of {LATENCY_OBJECTIVE:.0f} s was missed by "
            f"{hour.p99 - LATENCY_OBJECTIVE:.0f} s. At most {most} consumers finish {most * CONSUMER_RATE:,}/s, "
            f"less than the bursts' {peak:,}/s, so the backlog grew through every burst whatever the threshold",
            "Little's ruler: while arrivals exceed service, the backlog grows. What service rate does a burst need?",
            f"max_consumers must give at least {peak:,}/s ÷ {CONSUMER_RATE:,}/s = {-(-peak // CONSUMER_RATE)} "
            "consumers, plus some to drain what piled up while they started.",
        )
    if events > MAX_SCALE_EVENTS:
        return failed(
            "flapping",
            f"{summary}: {events} scale events in the hour ({reversals} reversals from out to in or back) is "
            f"flapping; the limit is {MAX_SCALE_EVENTS}. Each event is a consumer started for nothing or a rebalance",
            "after scaling out, the new consumers need 30 s to start and the next reading comes 15 s later. What "
            "does the autoscaler see if it may act again before then?",
            "make the cooldown longer than the start-up delay plus one reading interval (more than 45 s), and keep "
            "scale_in_below well under scale_out_above.",
        )
    if hour.p99 > LATENCY_OBJECTIVE:
        return failed(
            "too-slow",
            f"{summary}: the objective of {LATENCY_OBJECTIVE:.0f} s was missed by "
            f"{hour.p99 - LATENCY_OBJECTIVE:.0f} s; enough consumers were allowed, but they came too late",
            "latency = backlog ÷ throughput. How big is the backlog when the autoscaler first acts, and how long "
            "do the consumers take to arrive?",
            "lower scale_out_above (act on a smaller backlog), shorten a very long cooldown, or scale out by a "
            "bigger step.",
        )
    if hour.consumer_seconds > AUTOSCALER_BUDGET:
        idle = hour.consumers[-1]
        return failed(
            "over-budget",
            f"{summary}: over the budget of {AUTOSCALER_BUDGET:,.0f} consumer-seconds; {_count(idle, 'consumer')} "
            f"still running at the end of a quiet hour",
            "meeting the objective with consumers that never leave is a fixed fleet, paid all hour. When does the "
            "autoscaler remove one?",
            "set min_consumers to what the quiet traffic needs (1) and a scale_in_below the queue really reaches "
            "when it is quiet (a few hundred or a thousand messages).",
        )
    return passed(
        f"{summary}: within the {LATENCY_OBJECTIVE:.0f} s objective, the budget of {AUTOSCALER_BUDGET:,.0f} "
        f"consumer-seconds and the limit of {MAX_SCALE_EVENTS} events; a fixed fleet big enough for the bursts "
        f"would cost {3_600 * -(-peak // CONSUMER_RATE):,} consumer-seconds"
    )


# -- 05.credit-subscriber -------------------------------------------------------------------------------------


class BufferedSubscriber:
    """A subscriber with a buffer of ``capacity`` items that grants credit as it frees room."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.buffer = deque()       # items received, waiting to be processed
        self.subscription = None

    def on_subscribe(self, subscription):
        self.subscription = subscription
        # Ask for exactly what the empty buffer can hold: never more, or it overflows.
        self.subscription.request(self.capacity)

    def on_next(self, item):
        self.buffer.append(item)    # the publisher never sends more than we asked for (rule 1.1)

    def on_processed(self, item):
        # One item is done, so one slot is free again: grant one more (a positive n, rule 3.9).
        self.subscription.request(1)


def check_credit_subscriber(subscriber_class: Callable[[int], Any], *, seed: int = 5, items: int = 400,
                            capacity: int = 8) -> Verdict:
    """A publisher that can produce ``items`` at once sends whatever credit allows, 1 ms after each grant; a
    worker takes the oldest buffered item and spends 5 to 15 ms (drawn from ``seed``) on it, then calls
    ``on_processed``. Passes when every item is processed, the buffer never holds more than ``capacity`` and the
    subscription never ends in error."""
    sim = Simulation(seed=seed)
    rng = sim.substream("exercise:05.credit-subscriber")
    state: dict[str, Any] = {"next": 0, "processed": 0, "max_buffer": 0, "overflow_at": None,
                             "raised": None, "idle": 0.0, "finished": 0.0}
    try:
        subscriber = subscriber_class(capacity)
    except (NotAttempted, NotImplementedError):
        raise
    except Exception as error:
        return failed("raised", f"creating the subscriber raised {_error_text(error)}",
                      "the class is created with one argument, the buffer's capacity.",
                      "keep __init__ as given: capacity, an empty deque as buffer, and no subscription yet.")
    errors: list[BaseException] = []

    def on_next(item: Any) -> None:
        subscriber.on_next(item)
        size = len(subscriber.buffer)
        state["max_buffer"] = max(state["max_buffer"], size)
        if size > capacity and state["overflow_at"] is None:
            state["overflow_at"] = (item, sim.now)

    subscription = Subscription(on_next, errors.append, name="the subscription")

    def pump() -> None:
        """The publisher: send as many items as the credit allows, no more (rule 1.1)."""
        while subscription.demand > 0 and state["next"] < items and not subscription.cancelled:
            item = state["next"]
            state["next"] += 1
            try:
                subscription.send(item)
            except Exception as error:  # the learner's on_next raised: rule 2.13 cancels the subscription
                state["raised"] = state["raised"] or f"on_next raised {_error_text(error)}"

    def call(method: str, *args: Any) -> bool:
        try:
            getattr(subscriber, method)(*args)
        except (NotAttempted, NotImplementedError):
            raise
        except Exception as error:
            state["raised"] = state["raised"] or f"{method} raised {_error_text(error)}"
            return False
        sim.call_later(0.001, pump)  # the grant reaches the publisher 1 ms later
        return True

    def worker() -> Any:
        while state["processed"] < items and state["raised"] is None and not errors:
            if not subscriber.buffer:
                if subscription.cancelled or (subscription.demand == 0 and sim.peek() == float("inf")):
                    return  # nothing buffered, no credit, nothing scheduled: the stream has stalled
                yield sim.timeout(0.001)
                state["idle"] += 0.001
                continue
            item = subscriber.buffer.popleft()
            yield sim.timeout(rng.uniform(0.005, 0.015))
            state["processed"] += 1
            state["finished"] = sim.now
            subscription.complete(1)
            if not call("on_processed", item):
                return

    untouched: list[BaseException] = []
    try:
        call("on_subscribe", subscription)
        process = sim.process(worker())
        sim.run(until=items * 0.015 * 3 + 5)
    except (NotAttempted, NotImplementedError) as error:
        untouched.append(error)
    if untouched:
        raise NotAttempted("the subscriber")
    del process
    stats = subscription.statistics()
    if errors:
        return failed(
            "non-positive-request",
            f"the subscription ended with an error after {_count(state['processed'], 'item')}: {errors[0]}",
            "request(n) grants n more items; what does asking for 0 (or fewer) mean?",
            "only call request with n >= 1: in on_processed, one item finished, so request(1).",
        )
    if state["raised"] is not None:
        return failed("raised", f"your subscriber's {state['raised']}",
                      "read the exception: on_processed gets the item that was processed.",
                      "keep a reference to the subscription from on_subscribe (self.subscription) and call "
                      "self.subscription.request(n) on it.")
    if state["overflow_at"] is not None:
        item, at = state["overflow_at"]
        return failed(
            "buffer-overflow",
            f"the buffer holds {capacity} items, but item {item} arrived at t={at * 1000:.0f} ms with "
            f"{capacity} already waiting: up to {state['max_buffer']} were buffered ({stats.requested:,} granted "
            f"in total, {stats.sent:,} sent). In a real consumer that is memory you do not have",
            "credit is a promise: 'I have room for n more'. Did your grants ever promise more room than the "
            "buffer has free?",
            "grant the capacity once, at the start, then exactly one more for each item processed (never "
            "UNBOUNDED, never the whole capacity again).",
        )
    if state["processed"] < items:
        return failed(
            "stall",
            f"the stream stalled: {state['processed']} of {items} items processed, then the buffer was empty and "
            f"the publisher had no credit left (demand {stats.demand}); nobody asked for more",
            "the publisher only sends what was requested. Who asks for the next items once the first ones are "
            "done?",
            "in on_processed, call self.subscription.request(1): the processed item freed one slot.",
        )
    busy = 1 - state["idle"] / max(state["finished"], 1e-9)
    return passed(
        f"all {items} items processed, at most {state['max_buffer']} buffered (capacity {capacity}), "
        f"{stats.requested:,} granted in total, the worker busy {busy:.0%} of the time"
    )


bounded_queue = register(Exercise(
    "05.bounded-queue", "A limit and an overflow policy that lose nothing accepted and push back in time",
    check_bounded_queue, queue_limits, handle="exercise_bound",
))
autoscaler = register(Exercise(
    "05.autoscaler", "Autoscale on depth: a p99 objective within a consumer-seconds budget, without flapping",
    check_autoscaler, autoscaler_settings, handle="exercise_scaler",
))
credit_subscriber = register(Exercise(
    "05.credit-subscriber", "A credit-based subscriber that never overflows its buffer and never stalls",
    check_credit_subscriber, BufferedSubscriber, handle="exercise_credit",
))
