"""A generic broker and consumer, the smallest stand-ins the fault layer and the patterns need.

:class:`GenericBroker` is one queue with competing consumers, prefetch,
acknowledgements, an optional acknowledgement timeout (a delivery that is not
acknowledged in time is redelivered, as an SQS message becomes visible again
after its visibility timeout) and an optional delivery limit with a dead-letter
list. It implements :class:`~mqlab.faults.adapter.BrokerEndpoint` and
:class:`~mqlab.faults.adapter.DeliverySource`, so it stands where a RabbitMQ,
Kafka or SQS model adapter will plug in.

:class:`StandInConsumer` takes deliveries one at a time, spends a service time
on each, calls the learner's handler and acknowledges before or after the
effect; it can crash on a :class:`~mqlab.faults.crash.CrashSchedule`. A handler
that raises never crashes the run: the error is kept in ``errors`` and the
delivery is rejected (requeued, or dead-lettered when ``on_error="reject"``).

Simplifications stated: a requeued message goes back to the head of the queue
(RabbitMQ puts it back near its original position); ``delivery_limit`` is the
number of deliveries after which a failed message is dead-lettered (SQS
``maxReceiveCount``; a RabbitMQ quorum queue's ``x-delivery-limit`` counts
returns, so it allows one delivery more); acks for unknown tags are ignored and
counted (real RabbitMQ closes the channel with 406 PRECONDITION_FAILED).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mqlab.faults.adapter import Delivery
from mqlab.faults.checks import check_choice, check_count, check_duration
from mqlab.faults.crash import CrashPoint, CrashSchedule
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.ledger import FaultLedger
from mqlab.faults.slow import LatencyProfile

if TYPE_CHECKING:
    from mqlab.sim import Handle, Simulation

__all__ = ["BrokerLedger", "DeadLetter", "GenericBroker", "HandlerError", "StandInConsumer"]


@dataclass(frozen=True)
class DeadLetter:
    """A message the broker gave up on: why (``reason``), with which error, after how many deliveries."""

    message_id: Any
    body: Any
    reason: str
    error: str | None
    attempts: int
    time: float
    origin: str


@dataclass(frozen=True)
class BrokerLedger:
    """Where every accepted message is.

    Balances when ``accepted == ready + unacked + acked + dead_lettered + lost_by_fault``.
    """

    accepted: int
    refused: int
    ready: int
    unacked: int
    acked: int
    dead_lettered: int
    delivered: int
    redelivered: int
    stale_acks: int
    lost_by_fault: int = 0
    dead_by_reason: dict[str, int] = field(default_factory=dict)

    def balances(self) -> bool:
        return self.accepted == self.ready + self.unacked + self.acked + self.dead_lettered + self.lost_by_fault


class GenericBroker:
    """One queue with competing consumers.

    States of a message: ready -> unacked -> (acked | ready again | dead-lettered).
    ``max_length`` (None: unbounded) makes ``accept`` refuse when the queue is
    full (RabbitMQ ``x-overflow: reject-publish`` nacks the publish).
    """

    def __init__(
        self,
        sim: Simulation,
        name: str = "broker",
        *,
        ack_timeout: float | None = None,
        delivery_limit: int | None = None,
        max_length: int | None = None,
        on_dead_letter: Callable[[DeadLetter], None] | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.ack_timeout = None if ack_timeout is None else check_duration("ack_timeout", ack_timeout, allow_zero=False)
        self.delivery_limit = (
            None if delivery_limit is None else check_count("delivery_limit", delivery_limit, minimum=1)
        )
        self.max_length = None if max_length is None else check_count("max_length", max_length, minimum=1)
        self.on_dead_letter = on_dead_letter
        self._on_restart: list[Callable[[], None]] = []
        self.dead_letters: list[DeadLetter] = []
        self._ready: deque[list[Any]] = deque()  # [message_id, body, attempts]
        self._unacked: dict[int, tuple[list[Any], str, Handle | None]] = {}
        self._consumers: dict[str, list[Any]] = {}  # name -> [deliver, prefetch, unacked count]
        self._turn = 0
        self._tags = 0
        self._dispatch_scheduled = False
        self.accepted = self.refused = self.acked = self.delivered = self.redelivered = self.stale_acks = 0
        self.lost_by_fault = 0
        self.restarts = 0
        self.ledger_of_faults = FaultLedger(sim)
        self._dead_by_reason: dict[str, int] = {}

    # -- publishing --------------------------------------------------------------
    def accept(self, message_id: Any, body: Any) -> bool:
        if self.max_length is not None and len(self._ready) + len(self._unacked) >= self.max_length:
            self.refused += 1
            if self.sim.tracing:
                self.sim.log(self.name, "refuse", id=message_id, reason="max_length")
            return False
        self.accepted += 1
        self._ready.append([message_id, body, 0])
        if self.sim.tracing:
            self.sim.log(self.name, "enqueue", id=message_id)
        self._schedule_dispatch()
        return True

    # -- consuming -----------------------------------------------------------------
    def attach(self, name: str, deliver: Callable[[Delivery], None], prefetch: int) -> None:
        check_count("prefetch", prefetch, minimum=1)
        if name in self._consumers:
            raise InvalidParameter(f"broker {self.name!r} already has a consumer called {name!r}; pick another name")
        self._consumers[name] = [deliver, prefetch, 0]
        self._schedule_dispatch()

    def detach(self, name: str) -> None:
        """The consumer's connection is gone: its unacknowledged deliveries return to the queue."""
        self._consumers.pop(name, None)
        returned = [tag for tag, (_, owner, _) in self._unacked.items() if owner == name]
        for tag in reversed(returned):
            entry, _, handle = self._unacked.pop(tag)
            if handle is not None:
                handle.cancel()
            self._return(entry, "consumer_gone", None)
        self._schedule_dispatch()

    def ack(self, tag: int) -> None:
        item = self._unacked.pop(tag, None)
        if item is None:
            self.stale_acks += 1
            return
        entry, owner, handle = item
        if handle is not None:
            handle.cancel()
        consumer = self._consumers.get(owner)
        if consumer is not None:
            consumer[2] -= 1
        self.acked += 1
        if self.sim.tracing:
            self.sim.log(self.name, "acked", id=entry[0], tag=tag)
        self._schedule_dispatch()

    def reject(self, tag: int, requeue: bool, reason: str = "rejected", error: str | None = None) -> None:
        item = self._unacked.pop(tag, None)
        if item is None:
            self.stale_acks += 1
            return
        entry, owner, handle = item
        if handle is not None:
            handle.cancel()
        consumer = self._consumers.get(owner)
        if consumer is not None:
            consumer[2] -= 1
        if requeue:
            self._return(entry, reason, error)
        else:
            self._dead_letter(entry, reason, error)
        self._schedule_dispatch()

    def _return(self, entry: list[Any], reason: str, error: str | None) -> None:
        if self.delivery_limit is not None and entry[2] >= self.delivery_limit:
            self._dead_letter(entry, "delivery_limit", error)
            return
        self._ready.appendleft(entry)
        if self.sim.tracing:
            self.sim.log(self.name, "requeue", id=entry[0], reason=reason)

    def _dead_letter(self, entry: list[Any], reason: str, error: str | None) -> None:
        letter = DeadLetter(entry[0], entry[1], reason, error, entry[2], self.sim.now, self.name)
        self._dead_by_reason[reason] = self._dead_by_reason.get(reason, 0) + 1
        self.dead_letters.append(letter)
        if self.sim.tracing:
            self.sim.log(self.name, "dead-letter", id=entry[0], reason=reason, attempts=entry[2])
        if self.on_dead_letter is not None:
            self.on_dead_letter(letter)

    def _expire(self, tag: int) -> None:
        item = self._unacked.pop(tag, None)
        if item is None:
            return
        entry, owner, _ = item
        consumer = self._consumers.get(owner)
        if consumer is not None:
            consumer[2] -= 1
        self._return(entry, "ack_timeout", None)
        self._schedule_dispatch()

    def _schedule_dispatch(self) -> None:
        if not self._dispatch_scheduled and self._ready and self._consumers:
            self._dispatch_scheduled = True
            self.sim.call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._dispatch_scheduled = False
        consumers = list(self._consumers.items())
        ready = self._ready
        while ready and consumers:
            progressed = False
            for offset in range(len(consumers)):
                name, consumer = consumers[(self._turn + offset) % len(consumers)]
                if consumer[2] < consumer[1]:
                    self._turn = (self._turn + offset + 1) % len(consumers)
                    self._deliver(name, consumer, ready.popleft())
                    progressed = True
                    break
            if not progressed:
                break

    def _deliver(self, name: str, consumer: list[Any], entry: list[Any]) -> None:
        self._tags += 1
        tag = self._tags
        entry[2] += 1
        consumer[2] += 1
        self.delivered += 1
        if entry[2] > 1:
            self.redelivered += 1
        handle = None if self.ack_timeout is None else self.sim.call_later(self.ack_timeout, self._expire, tag)
        self._unacked[tag] = (entry, name, handle)
        if self.sim.tracing:
            self.sim.log(self.name, "deliver", id=entry[0], tag=tag, consumer=name, attempt=entry[2])
        consumer[0](Delivery(tag, entry[0], entry[1], entry[2]))

    # -- faults ---------------------------------------------------------------------
    def restart(self, *, durable: bool = True) -> int:
        """Restart the broker now: every consumer is disconnected and its unacknowledged deliveries requeued.

        With ``durable=False`` the queue's messages lived only in memory and are
        lost, counted as lost by fault ``"<name>.restart"`` (what happens to a
        RabbitMQ transient message or classic non-durable queue; a quorum queue,
        a Kafka log and an SQS queue keep theirs). Consumers must attach again
        (the stand-in consumer does so after its own ``restart_after``, only
        when it crashed; see :meth:`StandInConsumer.reconnect`). Returns how
        many messages were lost.
        """
        self.restarts += 1
        for name in list(self._consumers):
            self.detach(name)
        lost = 0
        if not durable:
            fault = f"{self.name}.restart"
            for entry in self._ready:
                self.ledger_of_faults.lost(fault, "message", id=entry[0])
            lost = len(self._ready)
            self.lost_by_fault += lost
            self._ready.clear()
        if self.sim.tracing:
            self.sim.log(self.name, "restart", durable=durable, lost=lost)
        for callback in self._on_restart:
            callback()
        return lost

    def schedule_restart(self, at: float, *, durable: bool = True) -> None:
        """Restart the broker at virtual time ``at`` (see :meth:`restart`)."""
        check_duration("at", at)
        self.sim.call_at(at, lambda: self.restart(durable=durable))

    def on_restart(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each restart (clients use it to reconnect)."""
        self._on_restart.append(callback)

    # -- observation --------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self._ready)

    def ledger(self) -> BrokerLedger:
        return BrokerLedger(
            accepted=self.accepted,
            refused=self.refused,
            ready=len(self._ready),
            unacked=len(self._unacked),
            acked=self.acked,
            dead_lettered=len(self.dead_letters),
            delivered=self.delivered,
            redelivered=self.redelivered,
            stale_acks=self.stale_acks,
            lost_by_fault=self.lost_by_fault,
            dead_by_reason=dict(self._dead_by_reason),
        )


@dataclass(frozen=True)
class HandlerError:
    """A handler that raised: when, on which message and attempt, and what it said."""

    time: float
    message_id: Any
    attempt: int
    error: str


ACK_MODES = ("after_effect", "before_effect")
ON_ERROR = ("requeue", "reject")


class StandInConsumer:
    """A single-threaded consumer: one delivery at a time, ``service_time`` each, then ack.

    ``handler(message_id, body)`` is the effect. ``ack_mode="after_effect"`` is
    at-least-once processing; ``"before_effect"`` acknowledges on receipt
    (auto-ack) and is at-most-once. States: up -> down (crashed) -> up.
    ``handled`` counts handler calls, ``busy_time`` the seconds spent handling.
    """

    def __init__(
        self,
        sim: Simulation,
        source: Any,
        handler: Callable[[Any, Any], Any],
        *,
        name: str = "consumer",
        prefetch: int = 1,
        service_time: LatencyProfile | float = 0.01,
        ack_mode: str = "after_effect",
        on_error: str = "requeue",
        crash: CrashSchedule | None = None,
        ledger: FaultLedger | None = None,
    ) -> None:
        self.sim = sim
        self.source = source
        self.handler = handler
        self.name = name
        self.prefetch = check_count("prefetch", prefetch, minimum=1)
        if not isinstance(service_time, LatencyProfile):
            service_time = LatencyProfile.constant(check_duration("service_time", service_time))
        self.service_time = service_time
        self.ack_mode = check_choice("ack_mode", ack_mode, ACK_MODES)
        self.on_error = check_choice("on_error", on_error, ON_ERROR)
        self.crash = crash
        self.ledger = ledger if ledger is not None else FaultLedger(sim)
        self._rng = sim.substream(f"consumer:{name}")
        self._inbox: deque[tuple[int, Delivery]] = deque()
        self._busy = False
        self._epoch = 0
        self.up = True
        self.errors: list[HandlerError] = []
        self.handled = 0
        self.received = 0
        self.crashes = 0
        self.busy_time = 0.0
        source.attach(name, functools.partial(self._receive, self._epoch), self.prefetch)

    def _receive(self, epoch: int, delivery: Delivery) -> None:
        if not self.up or epoch != self._epoch:
            return  # arrived at a dead or restarted consumer: the broker already took it back
        self.received += 1
        self._inbox.append((epoch, delivery))
        if not self._busy:
            self._next()

    def _next(self) -> None:
        if not self._inbox or not self.up:
            self._busy = False
            return
        self._busy = True
        epoch, delivery = self._inbox.popleft()
        seconds = self.service_time.sample(self.sim.now, self._rng)
        self.sim.call_later(seconds, self._finish, (epoch, delivery, seconds))

    def _finish(self, item: tuple[int, Delivery, float]) -> None:
        epoch, delivery, seconds = item
        if epoch != self._epoch:
            return
        self.busy_time += seconds
        crash = self.crash
        crashing = crash is not None and crash.crashes_on(self.received - len(self._inbox), self._rng)
        point = crash.point if crashing else None  # type: ignore[union-attr]
        if point is CrashPoint.BEFORE_EFFECT:
            self._crash(delivery)
            return
        if self.ack_mode == "before_effect":
            self.source.ack(delivery.tag)
            if point is CrashPoint.AFTER_ACK:
                self.ledger.lost(crash.fault, "effect", id=delivery.message_id)  # type: ignore[union-attr]
                self._crash(delivery)
                return
            self._handle(delivery)
        else:
            ok = self._handle(delivery)
            if point is not None:  # BEFORE_ACK, or AFTER_ACK on an ack-after consumer: crash before acking
                self._crash(delivery)
                return
            if ok:
                self.source.ack(delivery.tag)
        self._next()

    def _handle(self, delivery: Delivery) -> bool:
        self.handled += 1
        try:
            self.handler(delivery.message_id, delivery.body)
        except Exception as error:  # a learner's handler never crashes the run
            text = f"{type(error).__name__}: {error}"
            self.errors.append(HandlerError(self.sim.now, delivery.message_id, delivery.attempt, text))
            if self.sim.tracing:
                self.sim.log(self.name, "handler-error", id=delivery.message_id, error=text)
            if self.ack_mode == "after_effect":
                self.source.reject(delivery.tag, self.on_error == "requeue", "handler_error", text)
            return False
        return True

    def _crash(self, delivery: Delivery) -> None:
        self.crashes += 1
        self.up = False
        self._busy = False
        self._epoch += 1
        self._inbox.clear()
        if self.sim.tracing:
            self.sim.log(self.name, "crash", id=delivery.message_id, point=self.crash.point.value)  # type: ignore[union-attr]
        self.source.detach(self.name)
        self.sim.call_later(self.crash.restart_after, self._restart)  # type: ignore[union-attr]

    def _restart(self) -> None:
        self.up = True
        if self.sim.tracing:
            self.sim.log(self.name, "restart")
        self.source.attach(self.name, functools.partial(self._receive, self._epoch), self.prefetch)

    def reconnect(self) -> None:
        """The broker went away and came back: drop what was in hand and attach again.

        Deliveries in hand were unacknowledged, so the broker already took them back.
        """
        if not self.up:
            return  # crashed: it attaches by itself when it restarts
        self._epoch += 1
        self._inbox.clear()
        self._busy = False
        self.source.attach(self.name, functools.partial(self._receive, self._epoch), self.prefetch)
