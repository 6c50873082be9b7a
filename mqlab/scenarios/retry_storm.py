"""The retry storm: one poison message requeued at once, forever, or dead-lettered after N tries.

``messages`` messages are published at ``rate`` per second to a generic queue
with ``consumers`` single-threaded consumers (prefetch 1). The handler takes
``handler_time`` seconds; for the poison ids it raises every time, after
spending the same time (it parsed half the payload before failing). On an error the consumer rejects the
delivery with requeue, and the queue puts it back at the head (as RabbitMQ
returns a requeued message to its original position):

* ``mode="requeue"``: no limit. The poison message comes straight back, burns
  handler time on every attempt, and with one consumer every message behind it
  waits for as long as the run lasts;
* ``mode="dlq"``: the queue dead-letters a message after ``delivery_limit``
  deliveries (SQS ``maxReceiveCount``; RabbitMQ quorum queues'
  ``x-delivery-limit``, default 20 since 4.0), into a DLQ that
  :class:`~mqlab.patterns.dlq.DLQReplayer` can inspect and replay
  (``dead_letters`` in the result).

Measured: handler seconds burned on poison, attempts, good messages processed
and still blocked at the end, the delay of good messages (publish to end of
processing), the delay the poison added compared with the same run without it,
and the queue depth over time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mqlab.coupling.load import percentile
from mqlab.faults.checks import check_choice, check_count, check_duration, check_rate
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.poison import PoisonPredicate
from mqlab.faults.standin import DeadLetter, GenericBroker, StandInConsumer
from mqlab.patterns.dlq import InMemoryDLQ
from mqlab.scenarios._running import run_in_slices
from mqlab.sim import Simulation

__all__ = ["MODES", "RetryStormResult", "retry_storm"]

MODES = ("requeue", "dlq")


@dataclass(frozen=True)
class RetryStormResult:
    mode: str
    published: int
    good_published: int
    good_processed: int
    blocked: int
    poison_attempts: int
    poison_seconds: float
    handler_seconds: float
    dead_lettered: int
    mean_delay: float
    p99_delay: float
    mean_wait: float
    delay_added: float
    times: tuple[float, ...]
    depth_series: tuple[int, ...]
    processed_series: tuple[int, ...]
    dead_letters: tuple[DeadLetter, ...]
    interrupted: bool

    @property
    def poison_share(self) -> float:
        """The fraction of handler time spent on poison messages."""
        return self.poison_seconds / self.handler_seconds if self.handler_seconds else 0.0


def retry_storm(
    mode: str = "requeue",
    *,
    messages: int = 500,
    rate: float = 50.0,
    poison_ids: tuple[int, ...] = (10,),
    handler_time: float = 0.01,
    consumers: int = 1,
    delivery_limit: int = 5,
    duration: float = 30.0,
    sample_every: float = 0.5,
    seed: int = 0,
    progress: bool = False,
) -> RetryStormResult:
    """Run one mode (``"requeue"`` or ``"dlq"``); see the module docstring.

    ``mean_wait`` is the mean time good messages waited, counting those still
    blocked at the end as waiting until then (a lower bound on their delay);
    ``delay_added`` is how much longer that is than in the same run without
    the poison messages.
    """
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
    args = (mode, messages, rate, handler_time, consumers, delivery_limit, duration, sample_every, seed)
    result = _simulate(*args, poison_ids=poison_ids, progress=progress)
    baseline = _simulate(*args, poison_ids=(), progress=False)
    return dataclasses.replace(result, delay_added=result.mean_wait - baseline.mean_wait)


def _simulate(
    mode: str,
    messages: int,
    rate: float,
    handler_time: float,
    consumers: int,
    delivery_limit: int,
    duration: float,
    sample_every: float,
    seed: int,
    *,
    poison_ids: tuple[int, ...],
    progress: bool,
) -> RetryStormResult:
    sim = Simulation(seed=seed)
    dlq = InMemoryDLQ("orders.dlq")
    broker = GenericBroker(
        sim, "orders", delivery_limit=delivery_limit if mode == "dlq" else None, on_dead_letter=dlq.add
    )
    poison = PoisonPredicate.ids(*poison_ids, reason="unparseable order")
    published_at: dict[int, float] = {}
    delays: list[float] = []
    done_at: dict[int, float] = {}
    poison_set = set(poison_ids)
    spent = {"attempts": 0}

    def handler(message_id: Any, body: Any) -> None:
        if message_id in poison_set:
            spent["attempts"] += 1
        poison.check(message_id, body)
        delays.append(sim.now - published_at[message_id])
        done_at[message_id] = sim.now

    workers = [
        StandInConsumer(sim, broker, handler, name=f"worker-{i}", service_time=handler_time, on_error="requeue")
        for i in range(consumers)
    ]

    def publish(index: int) -> None:
        published_at[index] = sim.now
        broker.accept(index, b"{}")

    for index in range(messages):
        sim.call_at(index / rate, publish, index)
    times: list[float] = []
    depth: list[int] = []
    processed: list[int] = []

    def sample() -> None:
        times.append(sim.now)
        depth.append(broker.depth)
        processed.append(len(delays))
        if sim.now + sample_every <= duration + 1e-9:
            sim.call_later(sample_every, sample)

    sim.call_soon(sample)
    interrupted = run_in_slices(sim, duration, progress=progress, desc=f"retry storm ({mode})")
    handler_seconds = sum(w.busy_time for w in workers)
    good_published = sum(1 for i in published_at if i not in poison_set)
    end = sim.now
    waits = [done_at.get(i, end) - t for i, t in published_at.items() if i not in poison_set]
    return RetryStormResult(
        mode=mode,
        published=len(published_at),
        good_published=good_published,
        good_processed=len(delays),
        blocked=good_published - len(delays),
        poison_attempts=spent["attempts"],
        poison_seconds=spent["attempts"] * handler_time,
        handler_seconds=handler_seconds,
        dead_lettered=len(broker.dead_letters),
        mean_delay=sum(delays) / len(delays) if delays else float("nan"),
        p99_delay=percentile(delays, 99),
        mean_wait=sum(waits) / len(waits) if waits else 0.0,
        delay_added=float("nan"),
        times=tuple(times),
        depth_series=tuple(depth),
        processed_series=tuple(processed),
        dead_letters=tuple(dlq.messages()),
        interrupted=interrupted,
    )
