"""Where a queue keeps its ready messages: FIFO, quorum FIFO with returns first, or by priority.

All three offer the same small deque-like interface the queue uses on its hot path:
``append`` (a new copy at the tail), ``popleft`` (the next copy to deliver),
``head()`` (peek, or None), ``requeue`` (a copy returned by a consumer), ``len``,
iteration in delivery order and ``clear``.

* :class:`FifoStore` (classic queues): a requeued copy goes back to its original
  position, as classic queues have done since RabbitMQ 2.7.
* :class:`QuorumStore` (quorum queues): ``requeue`` puts returned copies before the
  rest, in the order they were returned (rabbit_fifo keeps a "returns" queue); the
  queue uses ``append`` instead for a copy nacked to a quorum queue without a delivery
  limit, which RabbitMQ sends to the back.
* :class:`PriorityStore` (classic queues with ``x-max-priority``): one FIFO per
  priority, highest first; a priority above the maximum counts as the maximum and
  a message without priority as 0.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator

from mqlab.rabbitmq.message import Entry

__all__ = ["FifoStore", "PriorityStore", "QuorumStore", "ReadyStore"]


def _seq(entry: Entry) -> int:
    return entry.seq


class FifoStore(deque):  # type: ignore[type-arg]
    """Classic FIFO; ``requeue`` puts a copy back where it was (by arrival sequence)."""

    __slots__ = ()

    def head(self) -> Entry | None:
        return self[0] if self else None

    def requeue(self, entry: Entry) -> None:
        if not self or self[-1].seq < entry.seq:
            self.append(entry)
        elif self[0].seq > entry.seq:
            self.appendleft(entry)
        else:
            self.insert(bisect.bisect_left(self, entry.seq, key=_seq), entry)


class QuorumStore(deque):  # type: ignore[type-arg]
    """Quorum FIFO: returned copies first (in return order), then the rest in arrival order."""

    __slots__ = ("returned",)

    def __init__(self) -> None:
        super().__init__()
        self.returned = 0

    def head(self) -> Entry | None:
        return self[0] if self else None

    def popleft(self) -> Entry:
        entry = super().popleft()
        if self.returned:
            self.returned -= 1
        return entry

    def requeue(self, entry: Entry) -> None:
        self.insert(self.returned, entry)
        self.returned += 1

    def clear(self) -> None:
        super().clear()
        self.returned = 0


class PriorityStore:
    """One :class:`FifoStore` per priority level 0..max_priority, highest level served first."""

    __slots__ = ("_levels", "_count", "max_priority")

    def __init__(self, max_priority: int) -> None:
        self.max_priority = max_priority
        self._levels = [FifoStore() for _ in range(max_priority + 1)]
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[Entry]:
        for level in reversed(self._levels):
            yield from level

    def __getitem__(self, index: int) -> Entry:
        if index != 0:
            raise IndexError("a priority store can only be peeked at its head")
        head = self.head()
        if head is None:
            raise IndexError("the store is empty")
        return head

    def head(self) -> Entry | None:
        for level in reversed(self._levels):
            if level:
                return level[0]
        return None

    def append(self, entry: Entry) -> None:
        self._levels[entry.priority].append(entry)
        self._count += 1

    def requeue(self, entry: Entry) -> None:
        self._levels[entry.priority].requeue(entry)
        self._count += 1

    def popleft(self) -> Entry:
        for level in reversed(self._levels):
            if level:
                self._count -= 1
                return level.popleft()
        raise IndexError("pop from an empty priority store")

    def clear(self) -> None:
        for level in self._levels:
            level.clear()
        self._count = 0


ReadyStore = FifoStore | QuorumStore | PriorityStore
