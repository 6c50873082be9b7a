"""Bounded buffers with a named overflow policy.

Every queue has a limit: either it is chosen and planned for, or memory runs
out and the process is killed. A :class:`BoundedBuffer` holds at most
``capacity`` items and, when a put finds it full, applies its policy:

* ``block``: the producer waits until there is room (a Kafka producer blocks up
  to ``max.block.ms`` when ``buffer.memory`` is full; a RabbitMQ publisher is
  blocked by flow control or a resource alarm);
* ``fail``: the put fails with :class:`~mqlab.flow.errors.BufferFull`
  (RabbitMQ ``x-overflow: reject-publish`` nacks the publish);
* ``drop_oldest``: the oldest item is discarded to make room (RabbitMQ's
  default ``x-overflow: drop-head`` once ``x-max-length`` is reached);
* ``drop_newest``: the new item is discarded (a full socket buffer; Akka's
  ``OverflowStrategy.dropNew``). RabbitMQ has no such policy.

Each outcome is counted, and :meth:`BoundedBuffer.statistics` balances:
``offered == accepted + refused + dropped_newest + waiting`` and
``accepted == taken + depth + dropped_oldest``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_choice, check_count
from mqlab.flow.errors import BufferEmpty, BufferFull

if TYPE_CHECKING:
    from mqlab.sim import Event, Simulation

__all__ = ["BoundedBuffer", "BufferStatistics", "OverflowPolicy"]


class OverflowPolicy(Enum):
    """What a put does when the buffer is full."""

    BLOCK = "block"
    FAIL = "fail"
    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"


@dataclass(frozen=True)
class BufferStatistics:
    capacity: int
    policy: str
    depth: int
    max_depth: int
    offered: int
    accepted: int
    taken: int
    refused: int
    dropped_oldest: int
    dropped_newest: int
    blocked: int
    waiting: int

    def balances(self) -> bool:
        return (
            self.offered == self.accepted + self.refused + self.dropped_newest + self.waiting
            and self.accepted == self.taken + self.depth + self.dropped_oldest
        )


class BoundedBuffer:
    """A FIFO of at most ``capacity`` items with an overflow ``policy`` (an :class:`OverflowPolicy` or its name).

    ``put`` / ``get`` return events for processes; ``put_nowait`` /
    ``get_nowait`` act at once or raise. Blocked putters are served in order.
    """

    def __init__(
        self, sim: Simulation, capacity: int, policy: OverflowPolicy | str = "block", *, name: str = "buffer"
    ) -> None:
        self.sim = sim
        self.capacity = check_count("capacity", capacity, minimum=1)
        self.policy: OverflowPolicy = check_choice("policy", policy, OverflowPolicy)  # type: ignore[assignment]
        self.name = name
        self._items: deque[Any] = deque()
        self._putters: deque[tuple[Event, Any]] = deque()
        self._getters: deque[Event] = deque()
        self.offered = self.accepted = self.taken = self.refused = 0
        self.dropped_oldest = self.dropped_newest = self.blocked = self.max_depth = 0

    def __len__(self) -> int:
        return len(self._items)

    def is_full(self) -> bool:
        return len(self._items) >= self.capacity

    # -- putting ----------------------------------------------------------------------
    def put_nowait(self, item: Any) -> bool:
        """Put now. Returns True if stored, False if a drop policy discarded the new item.

        Raises :class:`BufferFull` when full under ``fail`` or ``block`` (the
        non-blocking twin of a blocking put cannot wait).
        """
        self.offered += 1
        if len(self._items) < self.capacity:
            self._store(item)
            return True
        policy = self.policy
        if policy is OverflowPolicy.DROP_OLDEST:
            self._items.popleft()
            self.dropped_oldest += 1
            self._log("drop-oldest")
            self._store(item)
            return True
        if policy is OverflowPolicy.DROP_NEWEST:
            self.dropped_newest += 1
            self._log("drop-newest")
            return False
        self.refused += 1
        self._log("refuse")
        raise BufferFull(
            f"buffer {self.name!r} is full ({self.capacity} items) and its policy is {policy.value!r}: "
            f"the put is refused; slow the producer down, add consumers, or choose another overflow policy"
        )

    def put(self, item: Any) -> Event:
        """An event that succeeds once ``item`` is stored (or dropped by a drop policy).

        Under ``block`` it waits for room; under ``fail`` it fails with :class:`BufferFull`.
        """
        event = self.sim.event()
        if len(self._items) >= self.capacity and self.policy is OverflowPolicy.BLOCK:
            self.offered += 1
            self.blocked += 1
            self._putters.append((event, item))
            self._log("block")
            return event
        try:
            event.succeed(self.put_nowait(item))
        except BufferFull as error:
            event.fail(error)
        return event

    def _store(self, item: Any) -> None:
        self.accepted += 1
        getters = self._getters
        if getters:
            self.taken += 1
            getters.popleft().succeed(item)
            return
        self._items.append(item)
        if len(self._items) > self.max_depth:
            self.max_depth = len(self._items)

    # -- getting ----------------------------------------------------------------------
    def get_nowait(self) -> Any:
        if not self._items:
            raise BufferEmpty(f"buffer {self.name!r} is empty; use get() to wait for an item")
        item = self._items.popleft()
        self.taken += 1
        self._admit_blocked()
        return item

    def get(self) -> Event:
        event = self.sim.event()
        if self._items:
            event.succeed(self.get_nowait())
        else:
            self._getters.append(event)
        return event

    def _admit_blocked(self) -> None:
        while self._putters and len(self._items) < self.capacity:
            event, item = self._putters.popleft()
            self._store(item)
            event.succeed(True)

    def _log(self, action: str) -> None:
        if self.sim.tracing:
            self.sim.log(self.name, action, depth=len(self._items), policy=self.policy.value)

    def statistics(self) -> BufferStatistics:
        return BufferStatistics(
            capacity=self.capacity,
            policy=self.policy.value,
            depth=len(self._items),
            max_depth=self.max_depth,
            offered=self.offered,
            accepted=self.accepted,
            taken=self.taken,
            refused=self.refused,
            dropped_oldest=self.dropped_oldest,
            dropped_newest=self.dropped_newest,
            blocked=self.blocked,
            waiting=len(self._putters),
        )
