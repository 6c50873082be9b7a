"""Crash schedules: when a consumer dies, and at which point of its handling.

Where a consumer crashes decides which guarantee breaks:

* ``BEFORE_ACK``: the side effect happened, the acknowledgement never left.
  The broker redelivers (RabbitMQ requeues the unacked delivery when the channel
  closes; SQS makes it visible again after the visibility timeout; Kafka
  re-reads from the last committed offset), so the effect happens twice.
* ``AFTER_ACK``: the consumer acknowledged first (auto-ack, ``enable.auto.commit``
  committing ahead of processing, deleting the SQS message on receipt) and died
  before the effect. The broker forgot the message, so the effect never happens.
* ``BEFORE_EFFECT``: died on receipt, before doing anything; a redelivery
  follows and nothing is lost or duplicated.

A schedule names the deliveries (by their 1-based number on that consumer) on
which the crash happens, or a probability per delivery drawn from the
consumer's random stream, and how long the consumer stays down.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

from mqlab.faults.checks import check_choice, check_count, check_duration, check_probability
from mqlab.faults.errors import InvalidParameter

__all__ = ["CrashPoint", "CrashSchedule"]


class CrashPoint(Enum):
    """Where in the handling of one delivery a crash happens."""

    BEFORE_EFFECT = "before_effect"
    BEFORE_ACK = "before_ack"
    AFTER_ACK = "after_ack"


@dataclass(frozen=True)
class CrashSchedule:
    """Crash at ``point`` on the listed ``deliveries`` (1-based) and/or with ``probability`` per delivery.

    ``restart_after`` is the downtime in seconds before the consumer takes
    deliveries again. The fault name in the ledger is ``"crash-<point>"``.
    """

    point: CrashPoint | str = CrashPoint.BEFORE_ACK
    deliveries: tuple[int, ...] = ()
    probability: float = 0.0
    restart_after: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "point", check_choice("point", self.point, CrashPoint))
        if not isinstance(self.deliveries, tuple):
            raise InvalidParameter(
                f"deliveries must be a tuple of delivery numbers such as (3,), got {self.deliveries!r}"
            )
        for number in self.deliveries:
            check_count("each crash delivery number", number, minimum=1)
        check_probability("probability", self.probability)
        check_duration("restart_after", self.restart_after)

    @property
    def fault(self) -> str:
        return f"crash-{self.point.value}"  # type: ignore[union-attr]

    def crashes_on(self, delivery_number: int, rng: random.Random) -> bool:
        """Whether the consumer crashes while handling its ``delivery_number``-th delivery."""
        if delivery_number in self.deliveries:
            return True
        return bool(self.probability) and rng.random() < self.probability
