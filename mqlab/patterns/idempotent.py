"""The idempotent consumer: remember processed message ids and skip repeats.

At-least-once delivery plus this check gives an exactly-once *effect*, as long
as the memory of processed ids outlives every duplicate. The store is bounded,
because an unbounded one grows forever: by ``max_entries`` (the oldest id is
forgotten first) and/or by ``max_age`` seconds. The failure of a bound that is
too small is the point of the exercise: a duplicate that arrives after its id
was forgotten is processed again, and ``forgotten_then_seen`` counts exactly
those.

Order matters: the id is remembered only after the handler returns, so a
handler that raises is retried. If the process can die between the effect and
remembering the id, the two must be written in one local transaction (see
:class:`~mqlab.patterns.outbox.Inbox`); this helper keeps its memory in the
process, like an in-memory cache or a Redis set with a TTL.

Real-world bounds to compare with: SQS FIFO deduplicates a
``MessageDeduplicationId`` for 5 minutes; Kafka's idempotent producer keeps
the last 5 batches per producer id and partition.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mqlab.faults.checks import check_count, check_duration
from mqlab.faults.errors import InvalidParameter

__all__ = ["IdempotenceStatistics", "IdempotentConsumer"]


@dataclass(frozen=True)
class IdempotenceStatistics:
    processed: int
    skipped: int
    evicted_by_size: int
    evicted_by_age: int
    forgotten_then_seen: int
    remembered: int


class IdempotentConsumer:
    """Wraps ``handler(message_id, body)``: runs it once per id while the id is remembered.

    ``clock`` returns the current time (pass ``lambda: sim.now``); it is needed
    only with ``max_age``. Invariant: ``remembered <= max_entries``.
    """

    def __init__(
        self,
        handler: Callable[[Any, Any], Any],
        *,
        max_entries: int | None = None,
        max_age: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not callable(handler):
            raise InvalidParameter(f"handler must be callable as handler(message_id, body), got {handler!r}")
        self.handler = handler
        self.max_entries = None if max_entries is None else check_count("max_entries", max_entries, minimum=1)
        self.max_age = None if max_age is None else check_duration("max_age", max_age, allow_zero=False)
        if self.max_age is not None and clock is None:
            raise InvalidParameter("max_age needs a clock: pass clock=lambda: sim.now")
        self.clock = clock
        self._seen: OrderedDict[Any, float] = OrderedDict()
        self._forgotten: dict[Any, None] = {}
        self.processed = self.skipped = self.evicted_by_size = self.evicted_by_age = 0
        self.forgotten_then_seen = 0

    def __call__(self, message_id: Any, body: Any) -> bool:
        """Handle one delivery; returns True if the handler ran, False if it was a repeat."""
        now = self.clock() if self.clock is not None else 0.0
        self._expire(now)
        if message_id in self._seen:
            self.skipped += 1
            return False
        if message_id in self._forgotten:
            self.forgotten_then_seen += 1
            del self._forgotten[message_id]
        self.handler(message_id, body)
        self.processed += 1
        self._seen[message_id] = now
        if self.max_entries is not None and len(self._seen) > self.max_entries:
            old, _ = self._seen.popitem(last=False)
            self._forgotten[old] = None
            self.evicted_by_size += 1
        return True

    def _expire(self, now: float) -> None:
        if self.max_age is None:
            return
        seen = self._seen
        limit = now - self.max_age
        while seen:
            old, when = next(iter(seen.items()))
            if when > limit:
                break
            seen.popitem(last=False)
            self._forgotten[old] = None
            self.evicted_by_age += 1

    def remembers(self, message_id: Any) -> bool:
        return message_id in self._seen

    def statistics(self) -> IdempotenceStatistics:
        return IdempotenceStatistics(
            self.processed,
            self.skipped,
            self.evicted_by_size,
            self.evicted_by_age,
            self.forgotten_then_seen,
            len(self._seen),
        )
