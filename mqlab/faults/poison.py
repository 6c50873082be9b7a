"""Poison messages: a predicate that makes a handler fail on every attempt.

A poison message is one the handler can never process (a malformed payload, a
reference to a record that does not exist). Wrapping a handler with
:meth:`PoisonPredicate.wrap` makes it raise :class:`~mqlab.faults.errors.PoisonMessage`
for the matching messages, every time, which is what drives a retry storm when
the broker requeues at once and a dead-letter queue when it limits deliveries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mqlab.faults.checks import check_count
from mqlab.faults.errors import InvalidParameter, PoisonMessage

__all__ = ["PoisonPredicate"]


class PoisonPredicate:
    """Marks messages as poison by ``predicate(message_id, body) -> bool``; counts its victims."""

    __slots__ = ("hits", "predicate", "reason")

    def __init__(self, predicate: Callable[[Any, Any], bool], reason: str = "malformed payload") -> None:
        if not callable(predicate):
            raise InvalidParameter(f"predicate must be callable as predicate(message_id, body), got {predicate!r}")
        self.predicate = predicate
        self.reason = reason
        self.hits = 0

    @classmethod
    def ids(cls, *message_ids: object, reason: str = "malformed payload") -> PoisonPredicate:
        """Poison exactly these message ids."""
        chosen = frozenset(message_ids)
        return cls(lambda message_id, body: message_id in chosen, reason)

    @classmethod
    def every(cls, n: int, reason: str = "malformed payload") -> PoisonPredicate:
        """Poison every ``n``-th message, by integer id (ids 0, n, 2n, ... are poison)."""
        check_count("n", n, minimum=1)
        return cls(lambda message_id, body: isinstance(message_id, int) and message_id % n == 0, reason)

    def is_poison(self, message_id: object, body: object) -> bool:
        return bool(self.predicate(message_id, body))

    def check(self, message_id: object, body: object) -> None:
        """Raise :class:`PoisonMessage` if the message is poison."""
        if self.predicate(message_id, body):
            self.hits += 1
            raise PoisonMessage(message_id, self.reason)

    def wrap(self, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """A handler that raises for poison messages and calls ``handler(message_id, body)`` otherwise."""

        def poisoned(message_id: Any, body: Any) -> Any:
            self.check(message_id, body)
            return handler(message_id, body)

        return poisoned
