"""Errors raised by the fault layer and by the patterns, flow and scenario helpers built on it."""

from __future__ import annotations

from mqlab.errors import MqlabError

__all__ = ["ConsumerCrashed", "InvalidParameter", "PoisonMessage"]


class InvalidParameter(MqlabError, ValueError):
    """A rate, probability, size, duration or policy name that the component cannot accept.

    Also a :class:`ValueError`, so code written against plain Python validation keeps working.
    """


class PoisonMessage(MqlabError):
    """Raised inside a handler by a :class:`~mqlab.faults.poison.PoisonPredicate` for a message it marks as poison.

    It stands for the malformed payload that makes real handler code throw on every attempt.
    """

    def __init__(self, message_id: object, reason: str = "malformed payload") -> None:
        super().__init__(
            f"message {message_id!r} is poison ({reason}): the handler fails on every attempt; "
            f"limit deliveries and dead-letter it instead of requeueing it forever"
        )
        self.message_id = message_id
        self.reason = reason


class ConsumerCrashed(MqlabError):
    """A scheduled crash of a consumer process (see :class:`~mqlab.faults.crash.CrashSchedule`)."""

    def __init__(self, consumer: str, point: str, message_id: object) -> None:
        super().__init__(f"consumer {consumer!r} crashed {point} while handling message {message_id!r}")
        self.consumer = consumer
        self.point = point
        self.message_id = message_id
