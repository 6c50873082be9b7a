"""The 3 a.m. incident: a producer at 10,000 messages/s, consumers at 2,000/s each.

The gap of 8,000 messages a second never closes by itself. Four variants:

* ``unbounded``: the queue has no limit. With ``memory_policy="unbounded"``
  the broker's memory fills and the OOM killer ends it: every message it held
  is lost (``lost_by_kill``), publishes fail while it restarts
  (``restart_after``), and it fills up again. With ``memory_policy="alarm"``
  RabbitMQ's memory alarm blocks the publishers at the high watermark instead,
  and the backlog moves to the producers (``producer_pending``).
* ``bounded``: the queue holds at most ``max_length`` messages; when full,
  ``overflow`` decides: ``block`` (the producer waits: ``producer_pending``),
  ``fail`` (publishes are refused: ``refused``), ``drop_oldest`` or
  ``drop_newest`` (``dropped``). Loud and early.
* ``autoscaled``: an :class:`~mqlab.flow.autoscaler.Autoscaler` watches the
  depth every ``observe_every`` seconds and adds consumers (which need
  ``startup_delay`` seconds to start) up to ``max_consumers``; it removes them
  again after ``cooldown`` once the depth is low. Reports consumer-seconds.
* ``credit``: the consumers grant ``credit`` messages of credit
  (:class:`~mqlab.flow.credit.Subscription`) and the producer sends only that
  much; the broker never holds more than the credit, and the producer's own
  send rate falls to what the consumers finish.

The model is *fluid*: time advances in ``tick`` steps, and messages move in
whole-number batches per step (a batch keeps its publish time, so ages and
delays are real). That makes the 10-minute, 6-million-message run take
milliseconds at notebook sizes; ``benchmarks/bench_scenarios.py`` measures it
at a fine tick. Simplifications: consumers are perfectly steady, memory is
``message_bytes`` per queued message and nothing else, no paging to disk.

Ledger, checked by :meth:`IncidentResult.balances`:
``offered == accepted + refused + dropped_newest + producer_pending`` and
``accepted == consumed + depth + dropped_oldest + lost_by_kill``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from mqlab.faults.checks import check_choice, check_count, check_duration, check_positive, check_rate
from mqlab.faults.errors import InvalidParameter
from mqlab.flow.autoscaler import Autoscaler
from mqlab.flow.buffer import OverflowPolicy
from mqlab.flow.credit import Subscription
from mqlab.flow.memory import MEMORY_POLICIES, BrokerMemory
from mqlab.scenarios._running import ProgressBar

__all__ = ["VARIANTS", "IncidentResult", "incident_3am"]

VARIANTS = ("unbounded", "bounded", "autoscaled", "credit")
GIB = 1024**3


@dataclass(frozen=True)
class IncidentResult:
    """Counters for the whole run and series sampled every ``sample_every`` seconds."""

    variant: str
    duration: float
    offered: int
    accepted: int
    consumed: int
    depth: int
    refused: int
    dropped_oldest: int
    dropped_newest: int
    lost_by_kill: int
    producer_pending: int
    kills: int
    alarms: int
    max_depth: int
    peak_memory_bytes: float
    max_age: float
    consumer_seconds: float
    max_consumers: int
    max_in_flight: int
    times: tuple[float, ...]
    depth_series: tuple[int, ...]
    memory_series: tuple[float, ...]
    consumers_series: tuple[int, ...]
    pending_series: tuple[int, ...]
    age_series: tuple[float, ...]
    consumed_series: tuple[int, ...]
    lost_series: tuple[int, ...]
    interrupted: bool

    @property
    def dropped(self) -> int:
        return self.dropped_oldest + self.dropped_newest

    def balances(self) -> bool:
        return (
            self.offered == self.accepted + self.refused + self.dropped_newest + self.producer_pending
            and self.accepted == self.consumed + self.depth + self.dropped_oldest + self.lost_by_kill
        )


def incident_3am(
    variant: str = "unbounded",
    *,
    producer_rate: float = 10_000,
    consumer_rate: float = 2_000,
    consumers: int = 1,
    duration: float = 600.0,
    tick: float = 0.1,
    sample_every: float = 1.0,
    incident_until: float | None = None,
    baseline_rate: float = 1_000,
    producer_max_rate: float | None = None,
    message_bytes: float = 2_000,
    memory_bytes: float = 2 * GIB,
    memory_policy: str = "unbounded",
    high_watermark: float = 0.6,
    restart_after: float = 60.0,
    max_length: int = 100_000,
    overflow: str = "block",
    max_consumers: int = 8,
    scale_out_above: float = 20_000,
    scale_in_below: float = 2_000,
    cooldown: float = 30.0,
    step: int = 2,
    startup_delay: float = 30.0,
    observe_every: float = 15.0,
    credit: int = 1_000,
    progress: bool = False,
) -> IncidentResult:
    """Run one variant; see the module docstring for what each parameter does.

    The producer sends ``producer_rate`` until ``incident_until`` (None: the
    whole run) and ``baseline_rate`` afterwards. Messages it holds back
    (blocked, out of credit) are sent later at most at ``producer_max_rate``
    (default: twice ``producer_rate``), the speed of its client and network.
    Each consumer finishes ``consumer_rate`` messages a second.
    """
    variant = check_choice("variant", variant, VARIANTS)  # type: ignore[assignment]
    check_rate("producer_rate", producer_rate)
    check_rate("consumer_rate", consumer_rate)
    check_rate("baseline_rate", baseline_rate, allow_zero=True)
    if producer_max_rate is None:
        producer_max_rate = 2 * producer_rate
    check_rate("producer_max_rate", producer_max_rate)
    check_count("consumers", consumers, minimum=1)
    check_duration("duration", duration, allow_zero=False)
    check_duration("tick", tick, allow_zero=False)
    check_duration("sample_every", sample_every, allow_zero=False)
    if tick > sample_every or tick > duration:
        raise InvalidParameter(f"tick ({tick} s) must not exceed sample_every ({sample_every} s) or the duration")
    if incident_until is not None:
        check_duration("incident_until", incident_until)
    check_positive("message_bytes", message_bytes)
    memory_policy = check_choice("memory_policy", memory_policy, MEMORY_POLICIES)  # type: ignore[assignment]
    check_duration("restart_after", restart_after)
    check_count("max_length", max_length, minimum=1)
    policy: OverflowPolicy = check_choice("overflow", overflow, OverflowPolicy)  # type: ignore[assignment]
    check_count("credit", credit, minimum=1)
    check_duration("observe_every", observe_every, allow_zero=False)

    def new_memory() -> BrokerMemory:
        return BrokerMemory(memory_bytes, policy=memory_policy, high_watermark=high_watermark)

    memory = new_memory()
    scaler = None
    if variant == "autoscaled":
        scaler = Autoscaler(
            min_consumers=consumers, max_consumers=max(max_consumers, consumers), scale_out_above=scale_out_above,
            scale_in_below=scale_in_below, cooldown=cooldown, step=step, startup_delay=startup_delay,
        )
    subscription = None
    if variant == "credit":
        subscription = Subscription(lambda batch: None, name="consumers' credit")
        subscription.request(credit)

    queue: deque[list[float]] = deque()  # [publish time, count]
    depth = offered = accepted = consumed = refused = 0
    dropped_oldest = dropped_newest = lost_by_kill = pending = kills = 0
    max_depth = 0
    max_age = 0.0
    peak_memory = 0.0
    down_until = -1.0
    produce_carry = consume_carry = send_carry = 0.0
    steps = max(1, round(duration / tick))
    sample_stride = max(1, round(sample_every / tick))
    observe_stride = max(1, round(observe_every / tick))
    times: list[float] = []
    s_depth: list[int] = []
    s_memory: list[float] = []
    s_consumers: list[int] = []
    s_pending: list[int] = []
    s_age: list[float] = []
    s_consumed: list[int] = []
    s_lost: list[int] = []
    bar = ProgressBar(duration, enabled=progress, desc=f"3 a.m. incident ({variant})")
    interrupted = False
    running = consumers
    max_running = consumers
    now = 0.0

    def sample(at: float) -> None:
        times.append(at)
        s_depth.append(depth)
        s_memory.append(memory.used)
        s_consumers.append(running)
        s_pending.append(pending)
        s_age.append(at - queue[0][0] if queue else 0.0)
        s_consumed.append(consumed)
        s_lost.append(lost_by_kill + dropped_oldest + dropped_newest + refused)

    try:
        for index in range(steps):
            now = index * tick
            if index % sample_stride == 0:
                sample(now)
                bar.update(sample_every)
            # 1. the producer's demand for this tick
            rate = producer_rate if incident_until is None or now < incident_until else baseline_rate
            produce_carry += rate * tick
            new = int(produce_carry)
            produce_carry -= new
            offered += new
            pending += new
            send_carry += producer_max_rate * tick
            can_send = int(send_carry)
            send_carry -= can_send
            # 2. what the broker takes
            if now < down_until:
                refused += pending  # the broker is restarting: connections are refused
                pending = 0
                sendable = 0
            elif not memory.accepts_publishes():
                sendable = 0  # memory alarm: publishers are blocked
            elif subscription is not None:
                sendable = min(pending, can_send, subscription.demand)
                subscription.send_batch(sendable)
            elif variant == "bounded":
                room = max_length - depth
                if policy is OverflowPolicy.BLOCK:
                    sendable = min(pending, room, can_send)
                elif policy is OverflowPolicy.FAIL:
                    sendable = min(pending, room)
                    refused += pending - sendable
                    pending = sendable
                elif policy is OverflowPolicy.DROP_NEWEST:
                    sendable = min(pending, room)
                    dropped_newest += pending - sendable
                    pending = sendable
                else:
                    sendable = min(pending, can_send)
            else:
                sendable = min(pending, can_send)
            if sendable:
                pending -= sendable
                accepted += sendable
                queue.append([now, sendable])
                depth += sendable
                if variant == "bounded" and policy is OverflowPolicy.DROP_OLDEST and depth > max_length:
                    excess = depth - max_length
                    dropped_oldest += excess
                    depth -= excess
                    _take(queue, excess)
                    memory.add((sendable - excess) * message_bytes, now, depth)
                else:
                    memory.add(sendable * message_bytes, now, depth)
                if memory.killed:
                    kills += 1
                    lost_by_kill += depth
                    depth = 0
                    queue.clear()
                    down_until = now + restart_after
                    memory = new_memory()
                if depth > max_depth:
                    max_depth = depth
                if memory.peak > peak_memory:
                    peak_memory = memory.peak
            # 3. the consumers
            if scaler is not None:
                if index % observe_stride == 0:
                    running = scaler.observe(now, depth)
                    max_running = max(max_running, running)
                active = scaler.active(now)
            else:
                active = consumers
            consume_carry += active * consumer_rate * tick
            capacity = int(consume_carry)
            consume_carry -= capacity
            if capacity and depth:
                taken = min(capacity, depth)
                _take(queue, taken)
                depth -= taken
                consumed += taken
                memory.remove(taken * message_bytes, now)
                if subscription is not None:
                    subscription.complete(taken)
                    subscription.request(taken)
            if not depth:
                consume_carry = 0.0  # idle consumers cannot bank capacity for later
            if queue:
                age = now - queue[0][0]
                if age > max_age:
                    max_age = age
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    end = now + tick if not interrupted else now
    sample(end)
    return IncidentResult(
        variant=variant,
        duration=duration,
        offered=offered,
        accepted=accepted,
        consumed=consumed,
        depth=depth,
        refused=refused,
        dropped_oldest=dropped_oldest,
        dropped_newest=dropped_newest,
        lost_by_kill=lost_by_kill,
        producer_pending=pending,
        kills=kills,
        alarms=memory.alarms_raised,
        max_depth=max_depth,
        peak_memory_bytes=peak_memory,
        max_age=max_age,
        consumer_seconds=scaler.consumer_seconds(end) if scaler is not None else consumers * end,
        max_consumers=max_running,
        max_in_flight=subscription.max_in_flight if subscription is not None else max_depth,
        times=tuple(times),
        depth_series=tuple(s_depth),
        memory_series=tuple(s_memory),
        consumers_series=tuple(s_consumers),
        pending_series=tuple(s_pending),
        age_series=tuple(s_age),
        consumed_series=tuple(s_consumed),
        lost_series=tuple(s_lost),
        interrupted=interrupted,
    )


def _take(queue: deque[list[float]], count: int) -> None:
    """Remove ``count`` messages from the head of a queue of ``[time, count]`` batches."""
    while count:
        head = queue[0]
        if head[1] <= count:
            count -= int(head[1])
            queue.popleft()
        else:
            head[1] -= count
            count = 0


