"""Credit-based flow control with Reactive Streams semantics.

The subscriber says how much it can take (``request(n)``); the publisher sends
at most that many elements and then waits for more credit. The rules kept here
are those of the Reactive Streams specification (reactive-streams-jvm 1.0.4):

* rule 1.1: the number of ``onNext`` signals never exceeds the total requested;
  a publisher that sends more raises :class:`~mqlab.flow.errors.CreditExceeded`;
* rule 3.9: ``request(n)`` with ``n <= 0`` makes the subscription signal
  ``onError`` with an ``IllegalArgumentException``; here the subscription ends
  and ``on_error`` receives :class:`~mqlab.flow.errors.NonPositiveRequest`
  (raised to the caller if no ``on_error`` was given);
* rule 3.6: after cancellation, ``request`` does nothing;
* rule 3.17: demand adds up to at most 2**63 - 1 (``Long.MAX_VALUE``), which
  means "unbounded".

The same idea in the three brokers: RabbitMQ's consumer prefetch
(``basic.qos(prefetch_count=n)``) caps unacknowledged deliveries, so each ack
is one credit back; Kafka's consumer pulls at most ``max.poll.records``
(default 500) per ``poll()`` and can ``pause()`` partitions to stop fetching;
SQS hands out at most ``MaxNumberOfMessages`` (1 to 10) per ``ReceiveMessage``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mqlab.flow.errors import CreditExceeded, NonPositiveRequest

__all__ = ["UNBOUNDED", "CreditStatistics", "Subscription"]

UNBOUNDED = 2**63 - 1
"""Demand at or above ``Long.MAX_VALUE`` means "send everything" (rule 3.17)."""


@dataclass(frozen=True)
class CreditStatistics:
    requested: int
    sent: int
    completed: int
    demand: int
    in_flight: int
    max_in_flight: int
    cancelled: bool
    error: str | None


class Subscription:
    """The link between one publisher and one subscriber.

    ``on_next(item)`` and ``on_error(exc)`` are the subscriber's signals. The
    publisher calls :meth:`send`; the subscriber calls :meth:`request`,
    :meth:`complete` (an element is fully processed: in-flight goes down) and
    :meth:`cancel`. Invariants: ``sent <= requested`` and
    ``in_flight = sent - completed``.
    """

    def __init__(
        self,
        on_next: Callable[[Any], Any],
        on_error: Callable[[BaseException], Any] | None = None,
        *,
        name: str = "subscription",
    ) -> None:
        self.on_next = on_next
        self.on_error = on_error
        self.name = name
        self.requested = 0
        self.sent = 0
        self.completed = 0
        self.max_in_flight = 0
        self.cancelled = False
        self.error: BaseException | None = None

    @property
    def demand(self) -> int:
        """Credit left: how many more elements the publisher may send now."""
        return 0 if self.cancelled else min(self.requested, UNBOUNDED) - self.sent

    @property
    def in_flight(self) -> int:
        return self.sent - self.completed

    def request(self, n: int) -> None:
        """Grant ``n`` more elements of credit (rules 3.6, 3.9, 3.17)."""
        if self.cancelled:
            return
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            error = NonPositiveRequest(
                f"{self.name}: request({n!r}) is not allowed; Reactive Streams rule 3.9: a request must be "
                f"a positive number of elements (the subscription signals onError and ends); request(1) or more"
            )
            self.cancelled = True
            self.error = error
            if self.on_error is None:
                raise error
            self.on_error(error)
            return
        self.requested = min(self.requested + n, UNBOUNDED)

    def send(self, item: Any) -> None:
        """The publisher emits one element; more than the demand breaks rule 1.1."""
        if self.cancelled:
            return  # rule 1.8: signals after cancel are eventually stopped; dropping them is allowed
        if self.sent >= self.requested:
            raise CreditExceeded(
                f"{self.name}: the publisher sent element #{self.sent + 1} with only {self.requested} requested; "
                f"Reactive Streams rule 1.1: never signal more onNext than requested; wait for request(n)"
            )
        self.sent += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        try:
            self.on_next(item)
        except Exception:
            self.cancelled = True  # rule 2.13: a subscriber that throws from onNext is cancelled; the error is raised
            raise

    def send_batch(self, count: int) -> None:
        """The publisher emits ``count`` elements at once (a fluid model's step); rule 1.1 still holds.

        ``on_next`` is called once, with the count.
        """
        if self.cancelled or count == 0:
            return
        if count < 0:
            raise ValueError(f"{self.name}: cannot send a negative number of elements ({count})")
        if self.sent + count > self.requested:
            raise CreditExceeded(
                f"{self.name}: the publisher sent {count} elements with only {self.demand} of credit left; "
                f"Reactive Streams rule 1.1: never signal more onNext than requested; wait for request(n)"
            )
        self.sent += count
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        self.on_next(count)

    def complete(self, n: int = 1) -> None:
        """The subscriber finished ``n`` elements (what an ack is to RabbitMQ prefetch)."""
        if n <= 0 or self.completed + n > self.sent:
            raise ValueError(f"{self.name}: cannot complete {n} elements with {self.in_flight} in flight")
        self.completed += n

    def cancel(self) -> None:
        """Stop: no more elements will be sent (idempotent, rule 3.7)."""
        self.cancelled = True

    def statistics(self) -> CreditStatistics:
        return CreditStatistics(
            self.requested,
            self.sent,
            self.completed,
            self.demand,
            self.in_flight,
            self.max_in_flight,
            self.cancelled,
            None if self.error is None else str(self.error),
        )
