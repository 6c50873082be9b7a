"""Producers with a delivery guarantee: at-most-once and at-least-once.

Both publish through a :class:`~mqlab.faults.adapter.Connection`, so every
message and every confirm crosses a faulty :class:`~mqlab.faults.link.Link`.

* :class:`AtMostOnceProducer` fires and forgets: no confirm is asked for, a
  message lost on the way is lost for good, and nothing is ever sent twice.
* :class:`AtLeastOnceProducer` keeps each message until the broker confirms it
  (RabbitMQ publisher confirms, Kafka ``acks=all``, an SQS ``SendMessage``
  response). When no confirm arrives within ``timeout`` it sends the message
  again after a :class:`~mqlab.patterns.backoff.RetryPolicy` delay. It cannot
  tell a lost message from a lost confirm (the Two Generals situation), so a
  lost confirm makes it send a message the broker already has: a duplicate.

Simplification: the producer never reorders its own retries relative to new
messages and keeps no limit on messages awaiting a confirm (a real client
bounds them: ``max.in.flight.requests.per.connection`` in Kafka, a confirm
window by convention in RabbitMQ).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_duration
from mqlab.faults.errors import InvalidParameter
from mqlab.patterns.backoff import RetryPolicy

if TYPE_CHECKING:
    from mqlab.faults.adapter import Connection
    from mqlab.sim import Simulation

__all__ = ["AtLeastOnceProducer", "AtMostOnceProducer", "ProducerStatistics"]


@dataclass(frozen=True)
class ProducerStatistics:
    """What a producer did. ``attempts`` counts every publish, first tries and retries alike."""

    sent: int
    attempts: int
    confirmed: int
    timeouts: int
    nacked: int
    gave_up: int
    late_confirms: int
    pending: int


class AtMostOnceProducer:
    """Fire and forget: publish once, ask for no confirm."""

    def __init__(self, sim: Simulation, connection: Connection, *, name: str = "producer") -> None:
        self.sim = sim
        self.connection = connection
        self.name = name
        self.sent = 0

    def send(self, message_id: Any, body: Any) -> None:
        self.sent += 1
        if self.sim.tracing:
            self.sim.log(self.name, "publish", id=message_id, attempt=1)
        self.connection.publish(message_id, body, None)

    def statistics(self) -> ProducerStatistics:
        return ProducerStatistics(self.sent, self.sent, 0, 0, 0, 0, 0, 0)


class AtLeastOnceProducer:
    """Retry until confirmed: each message is resent after ``timeout`` s without a confirm, with backoff.

    States of a message: pending (awaiting a confirm) -> confirmed | given up
    (only with ``retry.max_attempts``). A confirm for a message that is no
    longer pending (the confirm of an earlier attempt arriving late) is counted
    in ``late_confirms`` and otherwise ignored.
    """

    def __init__(
        self,
        sim: Simulation,
        connection: Connection,
        *,
        timeout: float = 0.5,
        retry: RetryPolicy | None = None,
        name: str = "producer",
    ) -> None:
        self.sim = sim
        self.connection = connection
        self.timeout = check_duration("timeout", timeout, allow_zero=False)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InvalidParameter(f"retry must be a RetryPolicy, got {retry!r}")
        self.retry = retry if retry is not None else RetryPolicy(base=0.1, cap=2.0, jitter="full")
        self.name = name
        self._rng = sim.substream(f"producer:{name}")
        self._pending: dict[Any, list[Any]] = {}  # id -> [body, attempts, timer, last delay]
        self.sent = self.attempts = self.confirmed = self.timeouts = self.nacked = 0
        self.gave_up = self.late_confirms = 0

    def send(self, message_id: Any, body: Any) -> None:
        if message_id in self._pending:
            raise InvalidParameter(
                f"producer {self.name!r} is still waiting for a confirm of message {message_id!r}; "
                f"give each message its own id"
            )
        self.sent += 1
        self._pending[message_id] = [body, 0, None, None]
        self._attempt(message_id)

    def _attempt(self, message_id: Any) -> None:
        state = self._pending.get(message_id)
        if state is None:
            return
        state[1] += 1
        self.attempts += 1
        if self.sim.tracing:
            self.sim.log(self.name, "publish", id=message_id, attempt=state[1])
        state[2] = self.sim.call_later(self.timeout, self._timed_out, message_id)
        self.connection.publish(message_id, state[0], self._confirm)

    def _confirm(self, message_id: Any, ok: bool) -> None:
        state = self._pending.get(message_id)
        if state is None:
            self.late_confirms += 1
            return
        state[2].cancel()
        if ok:
            del self._pending[message_id]
            self.confirmed += 1
            if self.sim.tracing:
                self.sim.log(self.name, "confirmed", id=message_id, attempts=state[1])
            return
        self.nacked += 1
        self._schedule_retry(message_id, state, "nack")

    def _timed_out(self, message_id: Any) -> None:
        state = self._pending.get(message_id)
        if state is None:
            return
        self.timeouts += 1
        self._schedule_retry(message_id, state, "timeout")

    def _schedule_retry(self, message_id: Any, state: list[Any], why: str) -> None:
        if self.retry.gives_up_after(state[1]):
            del self._pending[message_id]
            self.gave_up += 1
            if self.sim.tracing:
                self.sim.log(self.name, "give-up", id=message_id, attempts=state[1], why=why)
            return
        delay = self.retry.delay(state[1], self._rng, state[3])
        state[3] = delay
        if self.sim.tracing:
            self.sim.log(self.name, why, id=message_id, attempt=state[1], retry_in=delay)
        self.sim.call_later(delay, self._attempt, message_id)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def statistics(self) -> ProducerStatistics:
        return ProducerStatistics(
            self.sent,
            self.attempts,
            self.confirmed,
            self.timeouts,
            self.nacked,
            self.gave_up,
            self.late_confirms,
            len(self._pending),
        )
